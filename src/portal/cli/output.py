"""Everything the ``portal`` command prints goes through here.

Text a provider, a plugin or a file controls (display names, URLs, scopes, OAuth error
codes, device codes, rejection reasons, file names, error messages built from any of
these) must never reach the terminal as control: an escape sequence can retitle the
window, plant a hyperlink or clear the screen, a bidi override can reverse what a person
reads, and rich markup such as ``[link=...]`` becomes a live link. So the commands print
only through this module:

- ``echo`` prints a line; the whole line passes through ``portal.shown`` (keeping the
  newlines portal itself wrote), so no escape sequence, C1 control or bidi control in it
  reaches the terminal, however the line was built. Values interpolated into it should
  still be ``shown(value)``, which also turns a provider's own newline into ``\\n`` so it
  cannot start a line that looks like portal's.
- ``console`` is a rich console that reads no string as markup or emoji: a table cell or
  a printed string is always literal text. ``table`` builds a rich table whose headers and
  cells pass through ``shown``; ``line`` prints one neutralised line on a console.
- ``SafeFormatter`` does the same for log records, so ``-v`` output is safe too.

``tests/test_output_sweep.py`` holds the commands to this: it plants hostile values in
every place it can reach and runs every command. ``tests/test_cli_output.py`` fails if a
module of the CLI prints any other way.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from portal.shown import shown

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

WHOLE = 1_000_000
"""The length limit for a whole message or a traceback: only single values are cut short."""


def safe(text: object) -> str:
    """``text`` with every control neutralised and portal's own line breaks kept."""
    return shown(text, multiline=True, limit=WHOLE)


def echo(text: object = "", *, err: bool = False) -> None:
    """Print one message (to stderr with ``err``), neutralised."""
    click.echo(safe(text), err=err)


def console(*, err: bool = False) -> Console:
    """A rich console that never reads a string as markup, emoji or something to highlight."""
    from rich.console import Console

    class SafeConsole(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1 ("internal error"): end like every other command instead.
            raise BrokenPipeError

    return SafeConsole(stderr=err, markup=False, emoji=False, highlight=False)


def line(target: Console, text: object, *, style: str | None = None) -> None:
    """Print ``text`` on a rich console as one literal, neutralised piece of text."""
    from rich.text import Text

    target.print(Text(safe(text), style=style or ""))


def styled(text: object, style: str) -> Text:
    """``text`` (neutralised) in a rich style, for a table cell."""
    from rich.text import Text

    return Text(shown(text), style=style)


def table(*headers: object, **options: Any) -> Table:
    """A rich table whose headers, title and every cell added later are neutralised."""
    from rich.table import Table

    class SafeTable(Table):
        def add_row(self, *cells: Any, **kwargs: Any) -> None:
            super().add_row(*[_cell(cell) for cell in cells], **kwargs)

    if "title" in options:
        options["title"] = _cell(options["title"])
    no_wrap = set(options.pop("no_wrap", ()))
    made = SafeTable(**options)
    for header in headers:
        made.add_column(header=_cell(header), no_wrap=header in no_wrap)
    return made


def _cell(value: Any) -> Any:
    from rich.text import Text

    # Already-built rich text is portal's own (``styled`` neutralised its words).
    return value if isinstance(value, Text) or value is None else Text(shown(value))


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines carry no control: the message is one neutralised line,
    and a traceback keeps its lines but loses any escape sequence in them."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return shown(super().formatMessage(record), limit=WHOLE)

    def formatException(self, ei: Any) -> str:
        return safe(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return safe(super().formatStack(stack_info))


def log_handler() -> logging.Handler:
    """The handler the CLI logs through: stderr, one safe line per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    return handler


def quiet_broken_pipe() -> None:
    """The reader of our output went away (``portal status | head -1``): stop quietly.

    Whatever is still buffered for stdout can no longer be written; point stdout at
    /dev/null so that flushing it at exit raises nothing either.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is not a real file (click's test runner)
        pass
