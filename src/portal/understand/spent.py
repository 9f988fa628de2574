"""What was spent per category over a period, summed in SQL (``portal categories``).

Spending is money out less what came back in the same category (a refund lowers shopping);
income and transfers between the person's own accounts are left out, and so is money in
that nothing categorised (a friend paying back is not negative spending). Pending and
rejected transactions are left out too: their money has not moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from babel.numbers import get_currency_precision
from sqlalchemy import and_, func, not_, or_, select

from portal.record.vocab import State
from portal.understand.categories import DECIDED, TRANSACTIONS
from portal.understand.spending import NOT_SPENDING, Spending

if TYPE_CHECKING:
    from portal.store import Store

NOT_MOVED = (State.pending.value, State.rejected.value)


@dataclass(frozen=True)
class Spent:
    """What went on one category in one currency."""

    category: str
    """A ``Spending`` code (or one a later portal wrote: shown as it is)."""
    currency: str
    spent: Decimal
    """Money out less money back, positive when money went out."""
    transactions: int


@dataclass(frozen=True)
class SpendingReport:
    """Spending per category over a period, the largest first, and what the period held."""

    spent: list[Spent]
    income: dict[str, Decimal]
    """Money in categorised as income, per currency."""
    first: datetime | None
    last: datetime | None
    """The first and last booking among the transactions counted."""


def exact(total: float | int | Decimal, currency: str) -> Decimal:
    """A SQL sum of amounts as an exact Decimal in ``currency``'s minor unit: the amounts
    are exact, and the doubles' sum is off by far less than half a minor unit."""
    places = get_currency_precision(currency)
    return Decimal(repr(total) if isinstance(total, float) else total).quantize(
        Decimal(1).scaleb(-places)
    )


def spending(
    store: Store, since: datetime | None = None, until: datetime | None = None
) -> SpendingReport:
    """What was spent per category on transactions booked from ``since`` to before ``until``
    (either open)."""
    t, k = TRANSACTIONS.c, DECIDED.c
    moved = [or_(t.state.is_(None), t.state.not_in(NOT_MOVED))]
    if since is not None:
        moved.append(t.booked_at >= since)
    if until is not None:
        moved.append(t.booked_at < until)
    joined = TRANSACTIONS.join(DECIDED, k.transaction_id == t.id)
    spent_rows = (
        select(k.category, t.currency, func.sum(t.amount), func.count())
        .select_from(joined)
        .where(
            *moved,
            k.category.not_in([c.value for c in NOT_SPENDING]),
            not_(and_(k.category == Spending.uncategorised.value, t.amount > 0)),
        )
        .group_by(k.category, t.currency)
    )
    income_rows = (
        select(t.currency, func.sum(t.amount))
        .select_from(joined)
        .where(*moved, k.category == Spending.income.value)
        .group_by(t.currency)
    )
    period = (
        select(func.min(t.booked_at), func.max(t.booked_at))
        .select_from(joined)
        .where(*moved, k.category != Spending.own_transfer.value)
    )
    with store.engine.connect() as db:
        spent = [
            Spent(category, currency, -exact(total, currency), count)
            for category, currency, total, count in db.execute(spent_rows)
        ]
        income = {currency: exact(total, currency) for currency, total in db.execute(income_rows)}
        first, last = db.execute(period).one()
    spent.sort(key=lambda s: (s.currency, -s.spent, s.category))
    return SpendingReport(spent, income, first, last)
