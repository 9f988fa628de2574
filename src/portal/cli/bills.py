"""``portal bills``: each bill with its check against the usage and the tariff, in words."""

from __future__ import annotations

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, known_provider
from portal.shown import shown

OUTCOME_WORDS = {
    "agrees": "Agrees",
    "differs": "DIFFERS",
    "cannot_check": "Cannot check",
}
"""How each outcome of ``bill_checks`` starts its line."""


@cli.command(name="bills")
@click.option(
    "--problems", is_flag=True, help="Only the bills that differ from their usage or tariff."
)
@click.option("--provider", help="Only this provider's bills.")
@click.pass_context
def bills_command(ctx: click.Context, problems: bool, provider: str | None) -> None:
    """Each bill checked against the usage it charges for (kWh, minutes, MB) and the tariff
    that applied, in plain words.

    Every sync checks the bills it brought; this first checks any the store holds that
    were not checked yet, then lists them, oldest first.
    """
    from sqlalchemy import text

    from portal.understand import understand

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        if provider is not None:
            known_provider(portal, provider, "name one of those")
        understand(portal.store, only=["bills"])
        query = (
            "SELECT b.provider, c.outcome, c.message FROM bill_checks c"
            " JOIN bills b ON b.id = c.bill_id"
            " WHERE (:every = 1 OR c.outcome = 'differs')"
            " AND (:anyone = 1 OR b.provider = :provider)"
            " ORDER BY b.provider, b.period_start, b.bill_number"
        )
        wanted = {
            "every": int(not problems),
            "anyone": int(not provider),
            "provider": provider or "",
        }
        with portal.store.engine.connect() as db:
            rows = db.execute(text(query), wanted)
            shown_any = False
            for name, outcome, message in rows:
                words = OUTCOME_WORDS.get(outcome, outcome)
                output.echo(f"{shown(name)}: {words}: {shown(message)}")
                shown_any = True
        if not shown_any:
            output.echo(
                "No bill differs from its usage or tariff."
                if problems
                else "No bills to check: sync a utility or telco first (portal sync)."
            )
