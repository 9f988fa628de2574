"""portal.shown: provider- and file-controlled text neutralised at the output boundary."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from portal.shown import for_rich, shown

HOSTILE = [
    "\x1b]0;pwned\x07",  # OSC: window title
    "\x1b]8;;https://evil.example\x07click\x1b]8;;\x07",  # OSC 8 hyperlink
    "\x1b[2J\x1b[1;1H",  # CSI: clear the screen, move home
    "\x9b31m",  # C1 CSI
    "bank\u202egro.live",  # bidi override
    "\u2066isolate\u2069",
    "zero\u200bwidth",
    "line\nFAKE: Connected",
    "over\rwrite",
    "\x00nul\x7fdel",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_no_control_or_bidi_character_survives(text: str) -> None:
    out = shown(text)
    assert all(ch.isprintable() for ch in out), repr(out)
    assert "\u202e" not in out and "\u2066" not in out and "\x1b" not in out


def test_what_was_sent_stays_readable() -> None:
    assert shown("a\x1bb\u202ec\nd") == "a\\x1bb\\u202ec\\nd"
    assert shown("Café 👨\u200d👩\u200d👧 £12.50") == "Café 👨\u200d👩\u200d👧 £12.50"


def test_multiline_keeps_newlines_but_not_carriage_returns() -> None:
    assert shown("a\nb\tc\rd", multiline=True) == "a\nb\tc\\rd"


def test_long_text_is_cut_saying_how_much() -> None:
    assert shown("x" * 50, limit=10) == "x" * 10 + "... (40 more characters)"


def test_rich_markup_is_printed_literally() -> None:
    sink = io.StringIO()
    console = Console(file=sink, width=200, force_terminal=True, color_system="truecolor")
    console.print(for_rich("[link=https://evil.example]Your bank[/link] [bold red]x"), highlight=False)
    printed = sink.getvalue()
    assert "[link=https://evil.example]Your bank[/link] [bold red]x" in printed
    assert "\x1b]8" not in printed  # no hyperlink escape was emitted
