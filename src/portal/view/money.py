"""What the Money page says: each account with its balance now, balances over time, money
in and out per month, and every transaction (searched and filtered in
``portal.view.transactions``).

Everything is read with SQL aggregates over the store's tables (never every row), so the
page answers in well under a second with a million transactions. Amounts of different
currencies are never added together: each currency has its own chart.

Months are the person's months: a month starts at midnight on its first day where they
are (this machine's time zone, as every moment on the page is shown), turned into the UTC
text the store keeps. A transaction at 00:30 on 1 July in London (23:30 UTC on 30 June)
counts in July.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.numbers import get_currency_precision
from sqlalchemy import REAL, ColumnElement, Table, and_, case, cast, func, literal, or_, select

from portal.record import Account, Balance
from portal.record.tables import TABLES
from portal.record.vocab import State
from portal.store import Store
from portal.view import transactions
from portal.view.charts import Series
from portal.view.transactions import local_midnight

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

NOT_MOVED = (State.pending.value, State.rejected.value)
"""Transactions whose money has not moved (yet): left out of the monthly sums."""


def _table(entity: type[Any]) -> Table:
    found: Table = TABLES[entity].__table__  # type: ignore[attr-defined]
    return found


@dataclass(frozen=True)
class AccountNow:
    """One account that holds money, with its latest balances."""

    id: str
    name: str
    kind: str
    provider: str
    currency: str | None
    balances: list[Balance]
    """Its balances at the latest moment the provider stated one (booked, available...)."""
    transactions: int


@dataclass(frozen=True)
class BalanceChart:
    """Balances over time of the accounts of one currency, a line per account."""

    currency: str
    series: list[Series]
    notes: list[str]
    """Where each line comes from, in words ("42 balances after a transaction")."""


@dataclass(frozen=True)
class MonthlyChart:
    """Money in and out per month, in one currency."""

    currency: str
    months: list[str]
    """Each month as ``YYYY-MM``, oldest first."""
    money_in: list[Decimal]
    money_out: list[Decimal]
    """What left, as a positive amount (so the bars stand side by side)."""

    @property
    def series(self) -> list[Series]:
        """The two bar series of the chart."""
        return [
            Series("Money in", list(zip(self.months, self.money_in, strict=True))),
            Series("Money out", list(zip(self.months, self.money_out, strict=True))),
        ]

    @property
    def labels(self) -> list[str]:
        """Each month as a person reads it (Jul 2026)."""
        return [date.fromisoformat(f"{m}-01").strftime("%b %Y") for m in self.months]


def accounts(store: Store) -> list[AccountNow]:
    """Every account with money balances or transactions, with its latest balances."""
    a, b, t = _table(Account), _table(Balance), transactions.table()
    latest = (
        select(b.c.account_id, func.max(b.c.as_of).label("as_of"))
        .where(b.c.currency.is_not(None))
        .group_by(b.c.account_id)
        .subquery()
    )
    with store.engine.connect() as db:
        per_account = select(t.c.account_id, func.count()).group_by(t.c.account_id)
        counts: dict[str, int] = {key: n for key, n in db.execute(per_account)}
        now: dict[str, list[Balance]] = defaultdict(list)
        query = (
            select(b)
            .join(latest, and_(b.c.account_id == latest.c.account_id, b.c.as_of == latest.c.as_of))
            .where(b.c.currency.is_not(None))
            .order_by(b.c.account_id, b.c.balance_type)
        )
        for row in db.execute(query):
            balance = Balance.model_validate(row._asdict())
            now[balance.account_id].append(balance)
        wanted = sorted(set(now) | set(counts))
        rows = db.execute(select(a).where(a.c.id.in_(wanted)).order_by(a.c.provider, a.c.name))
        found = [
            AccountNow(
                id=row.id,
                name=row.name,
                kind=row.account_type_label,
                provider=row.provider,
                currency=row.currency,
                balances=now.get(row.id, []),
                transactions=counts.get(row.id, 0),
            )
            for row in rows
        ]
    return found


def balance_charts(store: Store, names: dict[str, str]) -> list[BalanceChart]:
    """Balances over time, a chart per currency and a line per account.

    Where the provider states the balance after each transaction, the line is the balance
    at the end of each day (the last transaction's); otherwise it is the provider's own
    balance snapshots of the kind it gave most often. ``names`` names each account.
    """
    t, b = transactions.table(), _table(Balance)
    day = func.substr(t.c.booked_at, 1, 10)
    last = (
        select(t.c.account_id, func.max(t.c.booked_at).label("at"))
        .where(t.c.balance_after.is_not(None))
        .group_by(t.c.account_id, day)
        .subquery()
    )
    ends = (
        select(t.c.account_id, t.c.currency, t.c.booked_at, t.c.balance_after, t.c.id)
        .join(last, and_(t.c.account_id == last.c.account_id, t.c.booked_at == last.c.at))
        .order_by(t.c.account_id, t.c.booked_at, t.c.id)
    )
    points: dict[tuple[str, str], dict[datetime, Decimal]] = defaultdict(dict)
    notes: dict[str, list[str]] = defaultdict(list)
    with store.engine.connect() as db:
        for account, currency, at, after, _ in db.execute(ends):
            points[(currency, account)][at.astimezone()] = after  # the day's last wins
        for (currency, account), line in points.items():
            notes[currency].append(
                f"{names.get(account, account)}: the balance after the day's last transaction, "
                f"as the provider states it, on {len(line):,} days."
            )
        counts = (
            select(b.c.account_id, b.c.currency, b.c.balance_type, func.count().label("n"))
            .where(b.c.currency.is_not(None))
            .group_by(b.c.account_id, b.c.currency, b.c.balance_type)
            .order_by(b.c.account_id, func.count().desc(), b.c.balance_type)
        )
        chosen: dict[tuple[str, str], str] = {}
        for account, currency, kind, _n in db.execute(counts):
            if not any(key[1] == account for key in points):
                chosen.setdefault((currency, account), kind)
        for (currency, account), kind in chosen.items():
            query = (
                select(b.c.as_of, b.c.amount, b.c.balance_type_label)
                .where(b.c.account_id == account, b.c.balance_type == kind)
                .order_by(b.c.as_of)
            )
            snapshots = list(db.execute(query))
            points[(currency, account)] = {at.astimezone(): amount for at, amount, _ in snapshots}
            label = snapshots[0][2] if snapshots else kind
            many = "snapshot" if len(snapshots) == 1 else "snapshots"
            notes[currency].append(
                f"{names.get(account, account)}: {len(snapshots)} balance {many} "
                f"({label}) as the provider gave them."
            )
    charts: dict[str, list[Series]] = defaultdict(list)
    for (currency, account), line in sorted(points.items()):
        ordered = sorted(line.items())
        charts[currency].append(Series(names.get(account, account), ordered))
    return [BalanceChart(c, charts[c], notes[c]) for c in sorted(charts)]


def month_starts(first: datetime, last: datetime) -> list[tuple[str, datetime]]:
    """Each of the person's months from ``first``'s to ``last``'s, with the moment it
    starts (aware), oldest first."""
    here_first, here_last = first.astimezone(), last.astimezone()
    year, month = here_first.year, here_first.month
    found = []
    while (year, month) <= (here_last.year, here_last.month):
        found.append((f"{year:04d}-{month:02d}", local_midnight(date(year, month, 1))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def _month_of(column: ColumnElement[Any], starts: list[tuple[str, datetime]]) -> ColumnElement[Any]:
    """The month (of ``starts``: label and start) the moment ``column`` falls in, as a
    balanced tree of CASEs: about log2(months) text comparisons a row, rather than one per
    month, and exact at every month boundary whatever the time zone's offset."""
    if len(starts) == 1:
        return literal(starts[0][0])
    middle = len(starts) // 2
    return case(
        (column < starts[middle][1], _month_of(column, starts[:middle])),
        else_=_month_of(column, starts[middle:]),
    )


def monthly(store: Store) -> list[MonthlyChart]:
    """Money in and out per month, per currency, of the transactions whose money moved
    (pending and rejected ones are left out), as the transactions' own signs say."""
    t = transactions.table()
    moved = or_(t.c.state.is_(None), t.c.state.not_in(NOT_MOVED))
    with store.engine.connect() as db:
        first, last = db.execute(select(func.min(t.c.booked_at), func.max(t.c.booked_at))).one()
        if first is None:
            return []
        starts = month_starts(first, last)
        amount = cast(t.c.amount, REAL)
        rows = (
            select(
                t.c.currency,
                _month_of(t.c.booked_at, starts).label("month"),
                case((amount > 0, amount), else_=0.0).label("money_in"),
                case((amount < 0, -amount), else_=0.0).label("money_out"),
            )
            .where(moved)
            .subquery()
        )
        query = select(
            rows.c.currency, rows.c.month, func.sum(rows.c.money_in), func.sum(rows.c.money_out)
        ).group_by(rows.c.currency, rows.c.month)
        sums: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)
        for currency, label, money_in, money_out in db.execute(query):
            sums[currency][label] = (money_in or 0.0, money_out or 0.0)
    charts = []
    for currency in sorted(sums):
        months = [m for m, _ in starts]
        months = months[months.index(min(sums[currency])) : months.index(max(sums[currency])) + 1]
        per = sums[currency]
        charts.append(
            MonthlyChart(
                currency,
                months,
                [exact(per.get(m, (0.0, 0.0))[0], currency) for m in months],
                [exact(per.get(m, (0.0, 0.0))[1], currency) for m in months],
            )
        )
    return charts


def exact(total: float, currency: str) -> Decimal:
    """A SQL sum of amounts as an exact Decimal in ``currency``'s minor unit (pence).

    The amounts themselves are exact; the sum of doubles is off by far less than half a
    minor unit at any size a person's account reaches, so rounding gives the exact sum."""
    places = get_currency_precision(currency)
    return Decimal(repr(total)).quantize(Decimal(1).scaleb(-places))


def context(visit: Visit) -> dict[str, Any]:
    """The Money page's template context."""
    filters, problems = transactions.read_filters(visit.query)
    held = accounts(visit.store)
    names = {account.id: account.name for account in held}
    return {
        "accounts": held,
        "balance_charts": balance_charts(visit.store, names),
        "monthly": monthly(visit.store),
        "filters": filters,
        "problems": problems,
        "listing": transactions.listing(visit.store, filters),
        "counterparties": transactions.counterparties(visit.store),
        "sorts": transactions.SORTS,
        "fields": transactions.FIELD_TITLES,
        "is_pending": transactions.is_pending,
    }
