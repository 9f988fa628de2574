"""``portal recurring``: every recurring payment, declared by a bank or found in the history,
with what it costs now, how often, when it is next due, what it costs a year, and each
change of its amount."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors
from portal.shown import shown

if TYPE_CHECKING:
    from portal.understand.recurring_list import Listed


@cli.command(name="recurring")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON (for scripts).")
@click.pass_context
def recurring_command(ctx: click.Context, as_json: bool) -> None:
    """List recurring payments: direct debits, standing orders, card subscriptions and other
    payments that recur, with the total they cost a year.

    Found after every sync; run `portal understand --again` to work them out afresh.
    """
    from portal.record.types import in_minor_units
    from portal.understand.recurring_list import recurring_payments, worked_out, yearly_totals

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        with portal.store.engine.connect() as db:
            listed = recurring_payments(db)
            found_yet = worked_out(db)
        totals = yearly_totals(listed)
        if as_json:
            # json.dumps escapes every control and non-ASCII character: the text is safe.
            document = {
                "recurring_payments": [_as_json(entry) for entry in listed],
                "cost_per_year": {
                    currency: str(in_minor_units(total, currency))
                    for currency, total in totals.items()
                },
            }
            output.echo(json.dumps(document, indent=2))
            return
        _print(listed, totals)
        if not found_yet:
            output.line(
                output.console(),
                "Payments found in the history show after the next sync, or now with:"
                " portal understand --again",
            )


def _print(listed: list[Listed], totals: dict[str, Any]) -> None:
    from portal.view.formats import money

    console = output.console()
    if not listed:
        output.line(console, "No recurring payments found. Sync a bank, then look again.")
        return
    table = output.table("Payee", "Kind", "Amount", "Every", "Next", "A year", "Status", "Changes")
    for entry in listed:
        changes = ""
        if entry.changes:
            latest = entry.changes[-1]
            changes = (
                f"{money(latest.before, entry.currency)} to {money(latest.after, entry.currency)}"
                f" on {latest.on.isoformat()}"
            )
            if len(entry.changes) > 1:
                changes += f" ({len(entry.changes)} changes)"
        table.add_row(
            shown(entry.payee) + (" (!)" if entry.inconsistent else ""),
            entry.kind_label,
            money(entry.amount, entry.currency),
            entry.cadence or "",
            entry.next_on.isoformat() if entry.next_on else "",
            money(entry.cost_per_year, entry.currency),
            entry.status,
            changes,
        )
    console.print(table)
    for currency, total in sorted(totals.items()):
        output.line(console, f"Total a year, active payments: {money(total, currency)}")
    for entry in listed:
        if entry.inconsistent:
            output.line(
                console,
                f"(!) {entry.kind_label} to {entry.payee}: {entry.inconsistent}.",
                style="yellow",
            )


def _as_json(entry: Listed) -> dict[str, Any]:
    from portal.record.types import in_minor_units

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    def amount(value: Decimal | None) -> str | None:
        return None if value is None else str(in_minor_units(value, entry.currency))

    return {
        "payee": entry.payee,
        "kind": entry.kind,
        "kind_label": entry.kind_label,
        "amount": amount(entry.amount),
        "currency": entry.currency,
        "cadence": entry.cadence,
        "next_on": text(entry.next_on),
        "cost_per_year": amount(entry.cost_per_year),
        "status": entry.status,
        "payments": entry.payments,
        "last_paid_on": text(entry.last_paid_on),
        "changes": [
            {"on": c.on.isoformat(), "from": amount(c.before), "to": amount(c.after)}
            for c in entry.changes
        ],
        "series_id": entry.series_id,
        "declared_id": entry.declared_id,
        "inconsistent": entry.inconsistent,
    }
