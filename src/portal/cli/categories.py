"""``portal categories``: what was spent per category, and the person's own rules."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from portal.understand.spent import SpendingReport


@cli.group(name="categories", invoke_without_command=True)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="First day (YYYY-MM-DD).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day, included.")
@click.pass_context
def categories(ctx: click.Context, since: datetime | None, until: datetime | None) -> None:
    """What you spent per category (groceries, eating out, transport, ...), over your whole
    history or the days you choose; income and transfers between your own accounts are left
    out.

    Each transaction's category comes from your rules first (portal categories rule), then a
    transfer between your own accounts, the card's merchant category code, the bank's code
    for the transaction, and words in the payee's name.
    """
    if ctx.invoked_subcommand is not None:
        return
    from datetime import timedelta

    from portal.understand.spent import spending

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        zone = person_zone(ctx)
        start = _midnight(since.date(), zone) if since else None
        end = _midnight(until.date() + timedelta(days=1), zone) if until else None
        print_spending(spending(portal.store, start, end), zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def print_spending(report: SpendingReport, zone: ZoneInfo) -> None:
    """The spending table, in plain words, amounts as the person's locale writes them."""
    from portal.understand.spending import label
    from portal.view.formats import money

    if not report.spent:
        output.echo("No spending to show: sync or import a bank account first.")
        return
    assert report.first is not None and report.last is not None
    first, last = report.first.astimezone(zone).date(), report.last.astimezone(zone).date()
    output.echo(f"Spending from {first:%d %b %Y} to {last:%d %b %Y}:")
    table = output.table("Category", "Spent", "Transactions")
    for row in report.spent:
        table.add_row(label(row.category), money(row.spent, row.currency), str(row.transactions))
    output.console().print(table)
    for currency, total in sorted(report.income.items()):
        output.echo(f"Income over the same days: {money(total, currency)}")


@categories.command(name="rule")
@click.argument("pattern")
@click.argument("category")
@click.pass_context
def rule_command(ctx: click.Context, pattern: str, category: str) -> None:
    """Give every transaction whose payee, merchant or description matches PATTERN (a glob:
    * any text, ? one character; case is ignored) the CATEGORY, now and on every later sync.

    Example: portal categories rule 'NETFLIX*' subscriptions
    """
    from portal.understand.rules import add_rule, category_named
    from portal.understand.spending import label

    with friendly_errors(ctx.obj["verbose"]):
        chosen = category_named(category)
        count = add_rule(_open(ctx).store, pattern, chosen)
        output.echo(
            f"Rule kept: {shown(pattern.strip())} is {label(chosen)};"
            f" {count} transactions match it now."
        )


@categories.command(name="rules")
@click.pass_context
def rules_command(ctx: click.Context) -> None:
    """List your category rules."""
    from portal.understand.rules import rules
    from portal.understand.spending import label

    with friendly_errors(ctx.obj["verbose"]):
        found = rules(_open(ctx).store)
        if not found:
            output.echo("No rules yet: add one with portal categories rule PATTERN CATEGORY.")
            return
        zone = person_zone(ctx)
        table = output.table("Pattern", "Category", "Made")
        for rule in found:
            made = rule.created_at.astimezone(zone)
            table.add_row(rule.pattern, label(rule.category), f"{made:%d %b %Y %H:%M}")
        output.console().print(table)


@categories.command(name="unrule")
@click.argument("pattern")
@click.pass_context
def unrule_command(ctx: click.Context, pattern: str) -> None:
    """Forget the rule for PATTERN; what it categorised is worked out again without it."""
    from portal.errors import UserError
    from portal.understand.rules import remove_rule

    with friendly_errors(ctx.obj["verbose"]):
        count = remove_rule(_open(ctx).store, pattern)
        if count is None:
            raise UserError(
                f"There is no rule for {pattern.strip()!r}.",
                hint="portal categories rules lists them.",
            )
        output.echo(
            f"Rule removed: {shown(pattern.strip())}; {count} transactions worked out again."
        )
