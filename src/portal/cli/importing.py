"""``portal import``: files people already download (OFX, midata CSV, Green Button XML)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from portal.app import Portal
    from portal.importing import ImportResult

EPILOG = """\b
Exit codes:
  0    the whole file was imported (or was already in the store),
       or the import named by --undo was undone
  3    the file is missing, of a kind no importer reads, or has an error
       (the line or element is named; nothing was imported); or the
       file was imported before under another --account; or --undo
       names no recorded import
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
@click.option(
    "--history", is_flag=True, help="List the imports recorded in the store, to --undo one."
)
@click.option(
    "--undo",
    "undo_id",
    type=int,
    metavar="ID",
    help="Remove what import ID brought (and put back what it changed), then stop.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def import_command(
    ctx: click.Context,
    file: Path | None,
    as_name: str | None,
    account: str | None,
    list_only: bool,
    history: bool,
    undo_id: int | None,
    as_json: bool,
) -> None:
    """Import FILE, a statement or data file you downloaded from a provider.

    portal recognises the kind of file by its content, whatever it is called (an OFX or
    QFX statement, a midata current-account CSV, a Green Button "Download My Data" XML,
    ... see --list), turns it into records as a sync would, and stores the whole file in
    one transaction. A file with an error is refused whole, with the line or element
    named, and the store is left exactly as it was. Importing the same file again, or
    one that overlaps it, adds nothing twice; a record the new file says differently is
    updated and listed, and --undo ID takes the whole import back (--history lists them).
    """
    from portal.importing import import_file, importers

    if file is None and not (list_only or history or undo_id is not None):
        raise click.UsageError("Give the FILE to import (or --list to see the importers).")
    if file is not None and (history or undo_id is not None):
        raise click.UsageError("--history and --undo take no FILE: run them on their own.")
    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        if history or undo_id is not None:
            _history_or_undo(portal, undo_id, as_json, person_zone(ctx))
            return
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
        if not as_json:
            from portal.cli.understand import print_findings

            print_findings(result.understood)


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
                    "changed": [
                        {
                            "category": c.category,
                            "provider_id": c.provider_id,
                            "fields": {k: [str(a), str(b)] for k, (a, b) in c.fields.items()},
                        }
                        for c in result.changed
                    ],
                    "import": result.import_id,
                    "notes": result.notes,
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
    changed = {name: per.get("changed", 0) for name, per in result.counts.items()}
    for name, count in result.records.items():
        label = CATEGORY_LABELS.get(Category(name), name)
        new = result.added.get(name, 0)
        more = f", {changed[name]} changed" if changed.get(name) else ""
        output.echo(f"  {shown(label)}: {count} ({new} new{more})")
    for change in result.changed[:SHOWN_CHANGES]:
        output.echo(
            f"  changed {change.category} {shown(change.provider_id)}: {shown(change.describe())}"
        )
    if sum(changed.values()) > SHOWN_CHANGES:
        output.echo(f"  ... and {sum(changed.values()) - SHOWN_CHANGES} more changed records.")
    for note in result.notes[:SHOWN_CHANGES]:
        output.echo(f"  {shown(note)}")
    if len(result.notes) > SHOWN_CHANGES:
        output.echo(f"  ... and {len(result.notes) - SHOWN_CHANGES} more entries not imported.")
    if result.import_id is None:
        output.echo("Everything in the file was already in the store, unchanged.")
    else:
        output.echo(f"This is import {result.import_id}: portal import --undo {result.import_id}"
                   " takes it back.")  # fmt: skip
    output.echo(f"Store: {shown(where)}")


SHOWN_CHANGES = 20
"""Changed records listed one by one; the rest are counted."""


def _history_or_undo(portal: Portal, undo_id: int | None, as_json: bool, zone: ZoneInfo) -> None:
    from portal.importing import import_history, undo_import
    from portal.localtime import MOMENT, local

    if undo_id is not None:
        undone = undo_import(portal, undo_id)
        if as_json:
            output.echo(json.dumps(undone, indent=2, default=str))
            return
        counts = sorted(undone["undone"].items(), key=lambda kv: (kv[0] == "raw_items", kv[0]))
        what = ", ".join(f"{n} {t.replace('raw_items', 'raw payloads')}" for t, n in counts)
        output.echo(
            f"Undid import {undo_id} of {shown(undone['file'])}: removed or restored {what}."
        )
        return
    found = import_history(portal)
    if as_json:
        output.echo(json.dumps(found, indent=2, default=str))
        return
    if not found:
        output.echo("No import is recorded in this store.")
    for entry in found:
        listed = ", ".join(
            f"{per['new']} new {table}" + (f", {per['changed']} changed" if per["changed"] else "")
            for table, per in entry["counts"].items()
        )
        account = f" as {shown(entry['account'])!r}" if entry["account"] else ""
        when = local(entry["imported_at"], zone)
        output.echo(
            f"{entry['id']:>4}  {when:{MOMENT}}  {shown(entry['file'])}"
            f" ({shown(entry['importer'])}{account}): {listed}"
        )
