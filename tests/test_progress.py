"""Sync progress shows plugin and provider text inert, on a real terminal too."""

import io
import re

from rich.console import Console

from portal.progress import RichProgress

HOSTILE = "\x1b]0;pwned\x07[link=https://evil.example]x[/link]\u202e\x9b2J"


def test_progress_shows_provider_stream_and_retry_text_inert() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=300, color_system="standard")
    with RichProgress(console) as progress:
        progress.page("evil" + HOSTILE, HOSTILE + ":party", records=3, rejected=1)
        progress.retry("evil" + HOSTILE, "evil answered 503" + HOSTILE, 0.5)
    # rich's own colours and its live display's line handling are the only sequences left.
    text = re.sub(r"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|[0-9]*A)|\r", "", screen.getvalue())
    assert "\\x1b]0;pwned" in text and "[link=https://evil.example]x[/link]" in text
    assert not any(c in text for c in "\x1b\x9b\u202e"), repr(text)
