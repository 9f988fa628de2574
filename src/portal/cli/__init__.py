"""The ``portal`` command: a thin layer over ``portal.app.Portal``.

Heavy imports happen inside commands, so ``portal --help`` stays fast whatever is installed.
"""

import portal.cli.conformance  # registers `portal conformance`
import portal.cli.scaffold  # noqa: F401 - registers `portal plugin new`
from portal.cli import (  # noqa: F401 - registers the commands
    bills,
    browse,
    categories,
    changes,
    config,
    connections,
    control,
    documents,
    importing,
    migrate,
    records,
    recurring,
    report,
    show,
    understand,
    view,
)
from portal.cli.base import EXIT_CODE_MEANINGS, ExitCode, cli, exit_code_for

__all__ = ["EXIT_CODE_MEANINGS", "ExitCode", "cli", "exit_code_for", "main"]


def main() -> None:
    """Entry point of the ``portal`` console script."""
    cli(prog_name="portal")
