"""``portal plugin new``: start a provider plugin that passes the conformance suite."""

from __future__ import annotations

from pathlib import Path

import click

from portal.cli import output
from portal.cli.base import cli, friendly_errors
from portal.shown import shown


@cli.group()
def plugin() -> None:
    """Write provider plugins."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--sector",
    type=click.Choice(["bank", "utility", "telco", "retailer", "other"]),
    required=True,
    help="The provider's sector (words the demo account uses).",
)
@click.option("--display-name", help="The provider's name as people know it.")
@click.option(
    "--dir",
    "dest",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to write the package [default: ./portal-NAME].",
)
@click.pass_context
def new(
    ctx: click.Context, name: str, sector: str, display_name: str | None, dest: Path | None
) -> None:
    """Write a plugin package for provider NAME: declaration, hooks, sandbox, tests, CI."""
    from portal.scaffold import new_plugin

    with friendly_errors(ctx.obj["verbose"]):
        target = dest or Path(f"portal-{name.replace('_', '-')}")
        written = new_plugin(name, sector, target, display_name)
        output.echo(f"Wrote {len(written)} files to {shown(target)}. Next:")
        output.echo(f"  pip install -e '{shown(target)}[test]'")
        output.echo(f"  portal sync --demo {shown(name)}")
        output.echo(f"  portal conformance {shown(name)}")
