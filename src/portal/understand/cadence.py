"""Whether a payee's payments recur: a regular cadence, a steady amount, and its changes.

Pure functions over one payee's payments (a few dozen at most), so the rules read and test
on their own; ``portal.understand.recurring`` feeds them from the store.

The rules, chosen so that a subscription is found and a shop paid often is not:

- **Cadence**: weekly, monthly, quarterly or yearly. Each gap between two payments must be
  one period, or two or three (a payment or two missed, as council tax skips February and
  March), within the cadence's tolerance per period (banks move a payment off a weekend);
  at least three gaps in four must be a single period, and there must be enough payments
  to call it a habit (``Cadence.least``). The shortest cadence that fits wins.
- **Amount**: steady, with changes. Consecutive payments of the same amount are the norm;
  a change (9.99 to 10.99) is recorded with its day, and at most one gap in three may hold
  one. A grocer paid 45 times, each time a different sum at irregular days, fails both.
"""

from __future__ import annotations

import calendar
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


@dataclass(frozen=True)
class Cadence:
    """How often a payment recurs, and how loosely portal reads it."""

    name: str
    days: Decimal
    """The period's mean length in days."""
    tolerance: int
    """Days a payment may fall either side of its due day, per period."""
    months: int
    """The period in calendar months (0: counted in days, as weekly is)."""
    per_year: int
    """Payments a year, for the cost per year."""
    least: int
    """Fewest payments that make a habit of it."""


CADENCES = (
    Cadence("weekly", Decimal(7), 2, 0, 52, 4),
    Cadence("monthly", Decimal("30.44"), 5, 1, 12, 3),
    Cadence("quarterly", Decimal("91.31"), 10, 3, 4, 3),
    Cadence("yearly", Decimal("365.25"), 15, 12, 1, 2),
)
"""From the shortest: the first that fits a payee's payments is theirs."""

BY_NAME = {cadence.name: cadence for cadence in CADENCES}

MOST_PERIODS_MISSED = 3
"""A gap of up to this many periods still continues the series."""


@dataclass(frozen=True)
class Payment:
    """One payment of a payee: its day (the person's), amount (positive) and transaction id."""

    on: date
    amount: Decimal
    transaction_id: str


@dataclass(frozen=True)
class Change:
    """The amount changed: from the first payment on ``on``."""

    on: date
    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class Series:
    """A payee's payments read as one recurring payment."""

    payments: Sequence[Payment]
    """Oldest first."""
    cadence: Cadence | None
    changes: Sequence[Change]

    @property
    def amount(self) -> Decimal:
        """The latest amount paid."""
        return self.payments[-1].amount

    @property
    def first(self) -> date:
        """The first payment's day."""
        return self.payments[0].on

    @property
    def last(self) -> date:
        """The latest payment's day."""
        return self.payments[-1].on

    @property
    def next_expected(self) -> date | None:
        """One period after the latest payment, on the payee's usual day of the month."""
        if self.cadence is None:
            return None
        if not self.cadence.months:
            return self.last + timedelta(days=int(self.cadence.days))
        usual = Counter(p.on.day for p in self.payments).most_common(1)[0][0]
        return add_months(self.last, self.cadence.months, usual)

    @property
    def lapses_after(self) -> date | None:
        """The next expected day plus the cadence's tolerance."""
        due = self.next_expected
        if due is None or self.cadence is None:
            return None
        return due + timedelta(days=self.cadence.tolerance)

    @property
    def cost_per_year(self) -> Decimal | None:
        """The latest amount times the payments a year of its cadence."""
        return None if self.cadence is None else self.amount * self.cadence.per_year


def add_months(day: date, months: int, on_day: int | None = None) -> date:
    """``day`` moved ``months`` calendar months on, to ``on_day`` of that month (default
    ``day``'s own), or its last day if the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(on_day or day.day, last))


def cadence_of(days: Sequence[date]) -> Cadence | None:
    """The cadence of payments on ``days`` (oldest first), or None if none fits.

    Payments on one day are one collection (a supplier collecting two bills, electricity
    and gas, on the same day): the cadence is that of the days.
    """
    days = sorted(set(days))
    gaps = [(later - earlier).days for earlier, later in itertools.pairwise(days)]
    for cadence in CADENCES:
        if len(days) < cadence.least:
            continue
        single = 0
        for gap in gaps:
            periods = _periods(gap, cadence)
            if periods is None:
                break
            single += periods == 1
        else:
            if 4 * single >= 3 * len(gaps):
                return cadence
    return None


def _periods(gap: int, cadence: Cadence) -> int | None:
    """How many periods of ``cadence`` a gap of ``gap`` days is, within tolerance."""
    for periods in range(1, MOST_PERIODS_MISSED + 1):
        if abs(gap - cadence.days * periods) <= cadence.tolerance * periods:
            return periods
    return None


def changes_of(payments: Sequence[Payment]) -> list[Change]:
    """Each change of amount between consecutive payments."""
    return [
        Change(later.on, earlier.amount, later.amount)
        for earlier, later in itertools.pairwise(payments)
        if later.amount != earlier.amount
    ]


def steady(payments: Sequence[Payment], changes: Sequence[Change]) -> bool:
    """At most one gap in three changes the amount."""
    return 3 * len(changes) <= max(len(payments) - 1, 1)


def series_of(payments: Sequence[Payment], *, declared: bool = False) -> Series | None:
    """``payments`` (oldest first) as a recurring payment, or None if they do not recur.

    A mandate the bank ``declared`` is one whatever its payments look like: its cadence is
    read where there is one, and its amounts may vary (an energy bill's direct debit).
    """
    if not payments:
        return None
    cadence = cadence_of([p.on for p in payments])
    changes = changes_of(payments)
    if declared:
        return Series(payments, cadence, changes)
    if cadence is None or not steady(payments, changes):
        return None
    return Series(payments, cadence, changes)
