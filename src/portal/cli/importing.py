"""``portal import``: files people already download (OFX, midata CSV, Green Button XML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors
from portal.shown import shown

if TYPE_CHECKING:
    from portal.importing import ImportResult

EPILOG = """\b
Exit codes:
  0    the whole file was imported (or was already in the store)
  3    the file is missing, of a kind no importer reads, or has an error
       (the line or element is named; nothing was imported)
  5    an importer plugin is broken"""


@cli.command(name="import", epilog=EPILOG)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option(
    "--as",
    "as_name",
    metavar="NAME",
    help="Read the file with this importer instead of recognising it by its content.",
)
@click.option(
    "--account",
    metavar="NAME",
    help="For files that do not say which account they are for (midata CSV): a name for"
    " it. Files imported with the same name go to the same account.",
)
@click.option("--list", "list_only", is_flag=True, help="List the installed importers and stop.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def import_command(
    ctx: click.Context,
    file: Path | None,
    as_name: str | None,
    account: str | None,
    list_only: bool,
    as_json: bool,
) -> None:
    """Import FILE, a statement or data file you downloaded from a provider.

    portal recognises the kind of file by its content, whatever it is called (an OFX or
    QFX statement, a midata current-account CSV, a Green Button "Download My Data" XML,
    ... see --list), turns it into records as a sync would, and stores the whole file in
    one transaction. A file with an error is refused whole, with the line or element
    named, and the store is left exactly as it was. Importing the same file again, or
    one that overlaps it, adds nothing twice.
    """
    from portal.importing import import_file, importers

    if file is None and not list_only:
        raise click.UsageError("Give the FILE to import (or --list to see the importers).")
    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        if list_only:
            known = importers(portal.plugins)
            if not known:
                output.echo("No importer is installed (pip install portal-files).")
            for importer in known.values():
                output.echo(shown(importer.describe()))
                if importer.description:
                    output.echo(f"    {shown(importer.description)}")
            return
        assert file is not None
        result = import_file(portal, file, importer=as_name, account=account)
        _report(result, portal.store.url, as_json)


def _report(result: ImportResult, where: str, as_json: bool) -> None:
    from portal.record import CATEGORY_LABELS, Category

    if as_json:
        # json.dumps escapes every control and non-ASCII character: the text is safe.
        output.echo(
            json.dumps(
                {
                    "file": str(result.path),
                    "sha256": result.digest,
                    "importer": result.importer.name,
                    "provider": result.provider,
                    "items": result.items,
                    "records": result.records,
                    "added": result.added,
                    "store": where,
                },
                indent=2,
            )
        )
        return
    output.echo(
        f"Imported {shown(result.path.name)} as {shown(result.importer.display_name)}"
        f" ({result.items} items, filed under provider {shown(repr(result.provider))}):"
    )
    for name, count in result.records.items():
        label = CATEGORY_LABELS.get(Category(name), name)
        new = result.added.get(name, 0)
        output.echo(f"  {shown(label)}: {count} ({new} new)")
    if not any(result.added.values()):
        output.echo("Everything in the file was already in the store.")
    output.echo(f"Store: {shown(where)}")
