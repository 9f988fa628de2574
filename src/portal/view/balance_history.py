"""Balances over time, for the Money page: a line per account, a chart per currency.

Where the provider states the balance after each transaction (Open Banking's
``Balance`` on a transaction, kept as ``balance_after``), the line is that balance at the
end of each of the person's days, read with one index seek per day ("the last transaction
before midnight"), so a line costs the same with a hundred transactions or a million. A
long history is drawn every few days, never more than ``MOST_POINTS`` points a line.

Where it does not, the line is the provider's own balance snapshots, of the kind it gave
most often, and the note under the chart says how many there are: a bank that serves only
today's balance draws one point, honestly, rather than a line portal made up.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, column, func, select, values

from portal.record import Balance
from portal.record.tables import TABLES
from portal.record.types import UTCDateTime
from portal.store import Store
from portal.view import transactions
from portal.view.charts import Series
from portal.view.zone import here, local_midnight

MOST_POINTS = 1000
"""The most points one account's line has: a day each, or every few days for a long history."""


@dataclass(frozen=True)
class BalanceChart:
    """Balances over time of the accounts of one currency, a line per account."""

    currency: str
    series: list[Series]
    notes: list[str]
    """Where each line comes from, in words ("the balance after ... on 629 days")."""


def balance_charts(store: Store, names: dict[str, str]) -> list[BalanceChart]:
    """Balances over time of the accounts ``names`` names (id to name), a chart per currency."""
    lines: dict[str, list[Series]] = defaultdict(list)
    notes: dict[str, list[str]] = defaultdict(list)
    with store.engine.connect() as db:
        for account, name in names.items():
            found = _stated_after_transactions(db, account)
            if found is not None:
                currency, points, days = found
                lines[currency].append(Series(name, points))
                every = "day" if days == 1 else f"{days} days"
                notes[currency].append(
                    f"{name}: the balance after the last transaction of every {every}, "
                    f"as the provider states it ({len(points):,} points)."
                )
                continue
            for currency, points, label in _snapshots(db, account):
                lines[currency].append(Series(name, points))
                many = "snapshot" if len(points) == 1 else "snapshots"
                notes[currency].append(
                    f"{name}: {len(points):,} balance {many} ({label}), as the provider gave them."
                )
    return [BalanceChart(c, lines[c], notes[c]) for c in sorted(lines)]


def _stated_after_transactions(
    db: Any, account: str
) -> tuple[str, list[tuple[datetime, Decimal]], int] | None:
    """The account's currency, its end-of-day balances from ``balance_after``, and how many
    days apart they are; None if the provider states no balance after its transactions."""
    t = transactions.table()
    stated = (t.c.account_id == account, t.c.balance_after.is_not(None))
    # Ordered and limited rather than MIN/MAX: with the condition on balance_after, SQLite
    # would read every index entry of the account for MIN/MAX, and stops at the first here.
    ends_of = select(t.c.booked_at).where(*stated).limit(1)
    first = db.execute(ends_of.order_by(t.c.booked_at)).scalar()
    if first is None:
        return None
    last = db.execute(ends_of.order_by(t.c.booked_at.desc())).scalar_one()
    start = here(first).date()
    length = (here(last).date() - start).days + 1
    step = max(1, -(-length // MOST_POINTS))
    ends = [
        local_midnight(start + timedelta(days=day + step))
        for day in range(0, length + step - 1, step)
    ]
    stops = values(column("stop", UTCDateTime()), name="stops").data([(end,) for end in ends]).cte()
    latest = (
        select(t.c.id)
        .where(*stated, t.c.booked_at < stops.c.stop)
        .order_by(t.c.booked_at.desc(), t.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    chosen = select(latest.label("id")).select_from(stops).subquery()
    query = (
        select(t.c.booked_at, t.c.balance_after, t.c.currency)
        .join(chosen, t.c.id == chosen.c.id)
        .distinct()
        .order_by(t.c.booked_at)
    )
    rows = list(db.execute(query))
    points = [(here(at), amount) for at, amount, _ in rows]
    return rows[0][2], points, step


def _snapshots(db: Any, account: str) -> list[tuple[str, list[tuple[datetime, Decimal]], str]]:
    """The account's money balance snapshots of the kind it has most of (of those, the one
    stated last), per currency."""
    b: Table = TABLES[Balance].__table__  # type: ignore[attr-defined]
    kinds = (
        select(b.c.currency, b.c.balance_type, func.count())
        .where(b.c.account_id == account, b.c.currency.is_not(None))
        .group_by(b.c.currency, b.c.balance_type)
        .order_by(b.c.currency, func.count().desc(), func.max(b.c.as_of).desc(), b.c.balance_type)
    )
    chosen: dict[str, str] = {}
    for currency, kind, _ in db.execute(kinds):
        chosen.setdefault(currency, kind)
    found = []
    for currency, kind in chosen.items():
        query = (
            select(b.c.as_of, b.c.amount, b.c.balance_type_label)
            .where(b.c.account_id == account, b.c.currency == currency, b.c.balance_type == kind)
            .order_by(b.c.as_of)
        )
        rows = list(db.execute(query))
        points = [(here(at), amount) for at, amount, _ in rows]
        found.append((currency, points, rows[0][2]))
    return found
