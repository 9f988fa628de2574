"""``portal understand``: work out again what the records mean together, and the lines the
sync and import summaries print about it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors
from portal.shown import shown

if TYPE_CHECKING:
    from portal.understand import Finding


@cli.command(name="understand")
@click.option(
    "--again",
    is_flag=True,
    help="Go over every record in the store, not only those fetched since the last run"
    " (after a change of rules, or an upgrade of portal).",
)
@click.pass_context
def understand_command(ctx: click.Context, again: bool) -> None:
    """Work out what the records mean together: spending categories, recurring payments,
    bills matched to the payments that paid them, bills checked against usage.

    Every sync and import does this on what it brought; run it by hand with --again to go
    over the whole store.
    """
    from portal.understand import understand

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        findings = understand(portal.store, again=again)
        if not print_findings(findings):
            output.echo("Nothing new to work out.")
        if any(f.failed for f in findings):
            raise SystemExit(1)


SHOWN_WARNINGS = 20
"""Warnings printed per step; the rest are counted (``portal understand`` lists the same)."""


def print_findings(findings: list[Finding]) -> bool:
    """Print what each step did and the warnings it raised; whether anything was printed."""
    said = False
    for finding in findings:
        if finding.summary:
            where = output.echo if not finding.failed else _error
            where(
                f"{'Understood' if not finding.failed else 'Could not understand'}:"
                f" {shown(finding.step)}: {shown(finding.summary)}"
            )
            said = True
        for warning in finding.warnings[:SHOWN_WARNINGS]:
            output.echo(f"  Warning: {shown(warning)}")
            said = True
        if len(finding.warnings) > SHOWN_WARNINGS:
            output.echo(f"  ... and {len(finding.warnings) - SHOWN_WARNINGS} more warnings.")
    return said


def _error(message: str) -> None:
    output.echo(message, err=True)
