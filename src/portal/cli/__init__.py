"""The ``portal`` command: a thin layer over ``portal.app.Portal``.

Heavy imports happen inside commands, so ``portal --help`` stays fast whatever is installed.
"""

import sys

import portal.cli.conformance  # registers `portal conformance`
import portal.cli.scaffold  # noqa: F401 - registers `portal plugin new`
from portal.cli import connections, importing, records  # noqa: F401 - registers the commands
from portal.cli.base import EXIT_CODE_MEANINGS, ExitCode, cli, exit_code_for

__all__ = ["EXIT_CODE_MEANINGS", "ExitCode", "cli", "exit_code_for", "main"]


def main() -> None:
    """Entry point of the ``portal`` console script."""
    from portal.cli.output import quiet_broken_pipe

    try:
        cli(prog_name="portal")
    finally:
        # Output still buffered is written now, not at interpreter exit where a reader
        # that went away (`portal status | head -1`) would print a BrokenPipeError.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            quiet_broken_pipe()
            sys.exit(ExitCode.BROKEN_PIPE)
