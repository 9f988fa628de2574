"""Text from providers and files, made safe to show a person.

Anything a provider or a file controls (error bodies, URLs, scopes, OAuth error codes and
descriptions, device codes, rejection reasons, file names and headers, record values) is
hostile until shown otherwise: an escape sequence can rewrite the terminal's title, plant
a hyperlink (OSC 8) or hide lines (CSI); a bidi override can make ``evil.example/moc.knab``
read as something else; rich markup such as ``[link=...]`` becomes a live link in rich's
output. ``shown`` is the one function that neutralises such text at the output boundary,
whatever prints it: every control character (C0, DEL, C1), every bidi embedding, override
and isolate, and the other invisible format characters become a visible escape (``\\x1b``,
``\\u202e``), and the text is bounded in length. ``for_rich`` does the same and then
escapes rich's markup, for text that goes into a rich table or a rich ``print``.

Both are pure functions of their input: the same hostile text reads the same way in the
terminal, in an error and in a log, so a person can still see (and report) what the
provider sent.
"""

from __future__ import annotations

import re
import unicodedata

LIMIT = 2000
"""Characters shown of one value at most; the rest is cut with a note of how much."""

# Bidi embeddings, overrides and isolates, and marks (Trojan Source, CVE-2021-42574), and the
# Arabic letter mark.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029\ufeff\ufff9-\ufffb]")
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029\ufeff\ufff9-\ufffb]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _format_chars(text: str) -> str:
    # Other invisible format characters (Cf: zero-width joiners, tag characters, ...) are
    # rare in honest provider text and can hide content; show them too. Checked only when
    # the text is not plain ASCII, which most values are.
    if text.isascii():
        return text
    return "".join(
        f"\\u{ord(c):04x}" if unicodedata.category(c) == "Cf" and c not in "\u200d" else c
        for c in text
    )


def shown(value: object, *, multiline: bool = False, limit: int = LIMIT) -> str:
    """``value`` as text a terminal, a log line or a page prints literally.

    Control characters, bidi controls and other invisible format characters become visible
    escapes; with ``multiline`` a newline (and a tab) is kept as it is, otherwise it is
    shown as ``\\n`` so that a provider cannot start a line of its own in portal's output.
    Text longer than ``limit`` characters is cut, saying how much was left out.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        text = f"{text[:limit]}... ({len(text) - limit} more characters)"
    pattern = _UNSAFE if multiline else _UNSAFE_LINE
    return _format_chars(pattern.sub(_visible, text))


def for_rich(value: object, *, multiline: bool = False, limit: int = LIMIT) -> str:
    """``shown(value)`` with rich's markup escaped, for a rich table cell or ``print``."""
    # Imported here: the CLI imports this module at start, and ``portal --help`` stays fast.
    from rich.markup import escape

    return escape(shown(value, multiline=multiline, limit=limit))
