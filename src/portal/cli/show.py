"""``portal show ID``: one record by its portal id, every field with its title, and its
links to records at other providers, both ways, in words."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from datetime import tzinfo

    from portal.view.record import Value


@cli.command(name="show")
@click.argument("record_id")
@click.pass_context
def show_command(ctx: click.Context, record_id: str) -> None:
    """Show one record (any kind) by its portal id: its fields, with their titles, and the
    records it is linked to (the payment that paid a bill, the order a card payment paid).

    Portal ids are in exports, on the view's record pages and in this command's links.
    """
    from portal.errors import UserError
    from portal.understand.linked import find, links_of
    from portal.view.record import record_page

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        zone = person_zone(ctx)
        with portal.store.engine.connect() as db:
            found = find(db, record_id)
            if found is None:
                raise UserError(
                    f"Your store holds no record with the id {shown(record_id)}.",
                    hint="Copy the id from an export, the view's record page or portal show.",
                )
            table, _ = found
            links = links_of(db, table, record_id, zone)
        page = record_page(portal.store, table, record_id)
        output.echo(f"{page.label}: {shown(page.name)} ({shown(page.provider)})")
        for item in page.fields:
            output.echo(f"  {item.title}: {_words(item.value, zone)}")
        output.echo(f"  Portal id: {shown(record_id)}")
        if not links:
            output.echo("Linked records: none found.")
            return
        output.echo("Linked records:")
        for linked in links:
            output.echo(
                f"  {linked.role}: {shown(linked.words)} (rule: {linked.rule}, {linked.confidence})"
            )
            output.echo(f"    portal show {shown(linked.key)}")


def _words(value: Value, zone: tzinfo) -> str:
    """A field's value on one line: a moment in the person's zone, a table row by row."""
    if value.moment is not None:
        return value.moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    if value.table is not None:
        rows = ["; ".join(shown(c.text) for c in row) for row in value.table.rows]
        return " | ".join(rows) if rows else "none"
    code = f" ({shown(value.code)})" if value.code and value.code != value.text else ""
    return f"{shown(value.text)}{code}"
