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

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from babel.numbers import get_currency_precision
from sqlalchemy import REAL, Table, and_, case, cast, exists, func, or_, select

from portal.record import Account, Balance
from portal.record.tables import TABLES
from portal.record.vocab import State
from portal.store import Store
from portal.view import balance_history, transactions
from portal.view.charts import Series
from portal.view.kept import kept
from portal.view.stored import stored
from portal.view.zone import current, here, local_midnight

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


@dataclass(frozen=True)
class MonthlyChart:
    """Money in and out per month, in one currency."""

    currency: str
    months: list[str]
    """Each month as ``YYYY-MM``, oldest first."""
    money_in: list[Decimal]
    money_out: list[Decimal]
    """What left, as a positive amount (so the bars stand side by side)."""

    @cached_property
    def series(self) -> list[Series]:
        """The two bar series of the chart."""
        return [
            Series("Money in", list(zip(self.months, self.money_in, strict=True))),
            Series("Money out", list(zip(self.months, self.money_out, strict=True))),
        ]

    @cached_property  # the template reads it once per month: made once, not once a row
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
    query = (
        select(b)
        .join(latest, and_(b.c.account_id == latest.c.account_id, b.c.as_of == latest.c.as_of))
        .where(b.c.currency.is_not(None))
        .order_by(b.c.account_id, b.c.balance_type)
    )
    # An index seek per account, where counting its transactions would read them all.
    moved = exists().where(t.c.account_id == a.c.id)
    with store.engine.connect() as db:
        now: dict[str, list[Balance]] = defaultdict(list)
        for row in db.execute(query):
            balance = stored(Balance, row._asdict())
            now[balance.account_id].append(balance)
        held = or_(a.c.id.in_(sorted(now)), moved)
        rows = db.execute(select(a).where(held).order_by(a.c.provider, a.c.name))
        return [
            AccountNow(
                id=row.id,
                name=row.name,
                kind=row.account_type_label,
                provider=row.provider,
                currency=row.currency,
                balances=now.get(row.id, []),
            )
            for row in rows
        ]


def month_starts(first: datetime, last: datetime) -> list[tuple[str, datetime]]:
    """Each of the person's months from ``first``'s to ``last``'s, with the moment it
    starts (aware), oldest first."""
    here_first, here_last = here(first), here(last)
    year, month = here_first.year, here_first.month
    found = []
    while (year, month) <= (here_last.year, here_last.month):
        found.append((f"{year:04d}-{month:02d}", local_midnight(date(year, month, 1))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def monthly(store: Store) -> list[MonthlyChart]:
    """Money in and out per month, per currency, of the transactions whose money moved
    (pending and rejected ones are left out), as the transactions' own signs say.

    One query per currency and month, each a range of the index on (currency, booked_at,
    state, amount), which holds every value the sums need: grouping a million rows by a
    computed month in one query sorted them all, which took seconds.
    """
    t = transactions.table()
    amount = cast(t.c.amount, REAL)
    moved = or_(t.c.state.is_(None), t.c.state.not_in(NOT_MOVED))
    sums = select(
        func.count(),
        func.sum(case((amount > 0, amount), else_=0.0)),
        func.sum(case((amount < 0, -amount), else_=0.0)),
    )
    charts = []
    with store.engine.connect() as db:
        for currency in _currencies(db, t):
            mine = t.c.currency == currency
            # Two queries: SQLite reads one end of the index for a lone MIN or MAX, but
            # every entry for both at once.
            first = db.execute(select(func.min(t.c.booked_at)).where(mine)).scalar_one()
            last = db.execute(select(func.max(t.c.booked_at)).where(mine)).scalar_one()
            starts = month_starts(first, last)
            stops = [at for _, at in starts[1:]] + [local_midnight(_next_month(starts[-1][1]))]
            found: dict[str, tuple[Decimal, Decimal]] = {}
            for (month, start), stop in zip(starts, stops, strict=True):
                during = (mine, t.c.booked_at >= start, t.c.booked_at < stop, moved)
                count, money_in, money_out = db.execute(sums.where(*during)).one()
                if count:
                    found[month] = (exact(money_in, currency), exact(money_out, currency))
            if found:
                months = [m for m, _ in starts]
                held = months[months.index(min(found)) : months.index(max(found)) + 1]
                nothing = (Decimal(0), Decimal(0))
                charts.append(
                    MonthlyChart(
                        currency,
                        held,
                        [found.get(m, nothing)[0] for m in held],
                        [found.get(m, nothing)[1] for m in held],
                    )
                )
    return charts


def _currencies(db: Any, t: Table) -> list[str]:
    """Every currency of the transactions, one index seek each (DISTINCT would read them all)."""
    found: list[str] = []
    while True:
        after = found[-1] if found else ""
        query = select(func.min(t.c.currency)).where(t.c.currency > after)
        if (currency := db.execute(query).scalar()) is None:
            break
        found.append(currency)
    return found


def _next_month(start: datetime) -> date:
    there = here(start)
    return date(there.year + 1, 1, 1) if there.month == 12 else date(there.year, there.month + 1, 1)


def exact(total: float, currency: str) -> Decimal:
    """A SQL sum of amounts as an exact Decimal in ``currency``'s minor unit (pence).

    The amounts themselves are exact; the sum of doubles is off by far less than half a
    minor unit at any size a person's account reaches, so rounding gives the exact sum."""
    places = get_currency_precision(currency)
    return Decimal(repr(total)).quantize(Decimal(1).scaleb(-places))


def account_names(held: list[AccountNow]) -> dict[str, str]:
    """Each account's name as the page shows it: with its provider where two share a name."""
    seen = Counter(account.name for account in held)
    return {a.id: a.name if seen[a.name] == 1 else f"{a.name} ({a.provider})" for a in held}


def unfiltered(store: Store) -> dict[str, Any]:
    """What the Money page shows whatever the filters say: accounts, balances over time,
    money in and out per month, the names to suggest (days and months in the page's zone)."""
    held = accounts(store)
    names = account_names(held)
    return {
        "accounts": held,
        "account_names": names,
        "balance_charts": balance_history.balance_charts(store, names),
        "monthly": monthly(store),
        "counterparties": transactions.counterparties(store),
    }


def context(visit: Visit) -> dict[str, Any]:
    """The Money page's template context (days and months in the person's zone); the parts
    no filter changes are kept until the store changes (``portal.view.kept``)."""
    filters, problems = transactions.read_filters(visit.query)
    store = visit.store
    return {
        **kept(store, ("money", str(current())), lambda: unfiltered(store)),
        "filters": filters,
        "problems": problems,
        "listing": transactions.listing(store, filters),
        "sorts": transactions.SORTS,
        "fields": transactions.FIELD_TITLES,
        "is_pending": transactions.is_pending,
    }
