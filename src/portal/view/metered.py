"""Metered usage read for the Energy and Phone pages: summed in SQL by the person's local
day or month, a page of bills at a time, never a whole table read into Python.

Three choices every query here shares:

- **Local days.** A reading belongs to the day (or month) its start falls in, in the
  person's time zone (the one ``local_time`` shows moments in): a half-hour starting at
  23:30 UTC in a London summer belongs to the next day. SQLite knows no time zones, so a
  range of days is cut into stretches of days that begin and end at one UTC offset, each
  grouped with its own shift (``date(started_at, '+3600 seconds')``); a day whose clock
  changes is summed over its own range. Such a day has as many readings as it has hours:
  46 half-hours in spring, 50 in autumn. Months are few, and each is summed over its own
  range of moments.
- **Exact sums.** Quantities are stored as exact text today and as numbers once the store
  keeps them numeric; ``SUM(CAST(quantity AS DOUBLE))`` (REAL affinity) reads both, and the
  sum is turned back into a Decimal to the millionth, which every stored value fits.
- **Units kept apart.** Every figure is per (account, kind, unit): kWh are never added to
  m3, nor minutes to megabytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Double, Table, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from portal.record.tables import AccountRow, UsageRow
from portal.store import Store
from portal.view.zone import local_midnight

USAGE: Table = UsageRow.__table__  # type: ignore[attr-defined]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]

ESTIMATED_QUALITIES = ("8", "9", "12", "estimated", "E")
"""The quality codes that say a value was estimated rather than measured: Green Button's
QualityOfReading 8 (estimated from a reference day), 9 (interpolated) and 12 (projected),
and the plain word or letter file formats use. The record keeps the provider's code in
``Usage.quality`` and its words in ``quality_label``, which the page shows beside it."""

_MILLIONTH = Decimal("0.000001")
_NUMBER: Double[float] = Double()
"""What quantities are summed as: REAL on SQLite, DOUBLE PRECISION (not PostgreSQL's
four-byte REAL, which keeps only six digits) elsewhere."""


DAY = "%Y-%m-%d"
MONTH = "%Y-%m"


@dataclass(frozen=True)
class Stretch:
    """Consecutive local days that all begin and end at one UTC offset, or one day whose
    clock changes."""

    start: datetime
    end: datetime
    """Exclusive: the next stretch's start."""
    shift: str | None
    """SQLite's modifier turning a UTC time of these days into their local date, or None
    for a day whose clock changes: no one shift maps all of its 23 or 25 hours onto it."""
    day: date
    """The stretch's first day (its only one when ``shift`` is None)."""


def stretches(first: date, last: date) -> list[Stretch]:
    """The local days ``first`` to ``last`` (both included) as stretches of one offset."""
    found: list[Stretch] = []
    day = first
    while day <= last:
        offset, end = _offset(day), day + timedelta(days=1)
        if _offset(end) != offset:  # the clocks change during ``day``
            found.append(Stretch(local_midnight(day), local_midnight(end), None, day))
        else:
            while end <= last and _offset(end + timedelta(days=1)) == offset:
                end += timedelta(days=1)
            shift = f"{offset:+d} seconds"
            found.append(Stretch(local_midnight(day), local_midnight(end), shift, day))
        day = end
    return found


def _offset(day: date) -> int:
    midnight = datetime.combine(day, time())
    return round((midnight - local_midnight(day).replace(tzinfo=None)).total_seconds())


def _local(form: str, shift: str) -> ColumnElement[Any]:
    # The stored text is fixed-width UTC ("2026-07-01T22:30:00.000000+00:00"); its first 19
    # characters are what SQLite's date functions read.
    return func.strftime(form, func.substr(USAGE.c.started_at, 1, 19), shift)


def _estimated() -> ColumnElement[Any]:
    return USAGE.c.quality.in_(ESTIMATED_QUALITIES)


def exact(value: float | int | None) -> Decimal:
    """A sum SQLite gave as a float, as an exact Decimal to the millionth.

    Every stored value has at most six decimals, so the exact sum has too; a float sum of
    even a million of them strays from it by far less than half a millionth.
    """
    return Decimal(repr(float(value or 0))).quantize(_MILLIONTH)


# -- what a meter or a line is --------------------------------------------------------------


@dataclass(frozen=True)
class Metered:
    """One account's usage of one kind in one unit: a meter, or a phone line's calls."""

    provider: str
    account_id: str
    account_name: str
    kind: str
    kind_label: str
    unit: str
    meter_id: str | None
    first: datetime
    """When its earliest reading began."""
    last: datetime
    """When its latest reading began."""


def metered(store: Store, kinds: Sequence[str]) -> list[Metered]:
    """Every (account, kind, unit) with usage of one of ``kinds``, by provider and account."""
    found = []
    t = USAGE
    with store.engine.connect() as db:
        for account_id, kind, unit in _groups(db):
            if kind not in kinds:
                continue
            same = (t.c.account_id == account_id, t.c.kind == kind, t.c.unit == unit)
            first = db.execute(select(func.min(t.c.started_at)).where(*same)).scalar()
            latest = db.execute(
                select(t.c.provider, t.c.meter_id, t.c.kind_label, t.c.started_at)
                .where(*same)
                .order_by(t.c.started_at.desc())
                .limit(1)
            ).one()
            # Its name from its latest use at home: a telco's label for a use abroad names
            # the roaming zone too ("Call, roaming: Europe"), which says nothing of the rest.
            named = db.execute(
                select(t.c.kind_label)
                .where(*same, t.c.roaming.is_not(True))
                .order_by(t.c.started_at.desc())
                .limit(1)
            ).scalar()
            found.append(
                Metered(
                    provider=latest.provider,
                    account_id=account_id,
                    account_name=_account_name(db, account_id),
                    kind=kind,
                    kind_label=named or latest.kind_label or kind,
                    unit=unit,
                    meter_id=latest.meter_id,
                    first=_moment(first),
                    last=latest.started_at,
                )
            )
    return sorted(found, key=lambda m: (m.provider, m.account_name, m.account_id, m.kind, m.unit))


def _groups(db: Any) -> Iterator[tuple[str, str, str]]:
    """Each distinct (account, kind, unit) of the usage table, in order.

    A loose index scan over ``ix_usage_account_kind_unit``: each next group is one seek
    past the last (same account and kind with a later unit, else the same account with a
    later kind, else a later account), so a meter with a million readings costs what one
    with ten does. GROUP BY, or one row-value comparison, would read every index entry.
    """
    t = USAGE
    order = (t.c.account_id, t.c.kind, t.c.unit)

    def first(*where: ColumnElement[bool]) -> tuple[str, str, str] | None:
        query = select(*order).where(*where).order_by(*order).limit(1)
        row = db.execute(query).first()
        return None if row is None else (row[0], row[1], row[2])

    group = first()
    while group is not None:
        yield group
        account_id, kind, unit = group
        group = (
            first(t.c.account_id == account_id, t.c.kind == kind, t.c.unit > unit)
            or first(t.c.account_id == account_id, t.c.kind > kind)
            or first(t.c.account_id > account_id)
        )


def _account_name(db: Any, account_id: str) -> str:
    name = db.execute(select(ACCOUNTS.c.name).where(ACCOUNTS.c.id == account_id)).scalar()
    return str(name) if name else "An account the store does not hold"


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


# -- sums over time -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sum:
    """How much was used in one local day or month (the ``when``), and how much of it was
    estimated or roaming."""

    when: str
    """A local date "2026-04-17" or month "2026-04"."""
    total: Decimal
    readings: int
    estimated: Decimal
    estimated_readings: int
    roaming: Decimal
    roaming_readings: int


def sums(
    store: Store, account_id: str, kind: str, unit: str, first: date, last: date, *, form: str
) -> list[Sum]:
    """``account_id``'s ``kind`` in ``unit`` from local day ``first`` to ``last``, summed
    per local day (``form`` DAY) or month (MONTH), oldest first; periods with no use left out.

    Days are grouped in SQL, a stretch of one offset at a time. Months are few, so each is
    summed over its own range of the index instead: with a million rows in a year,
    computing a month for every row costs more than the sums themselves.
    """
    t = USAGE
    same = (t.c.account_id == account_id, t.c.kind == kind, t.c.unit == unit)
    found: list[Sum] = []
    with store.engine.connect() as db:
        if form == MONTH:
            for month, start, end in months(first, last):
                query = select(*_totals()).where(
                    *same, t.c.started_at >= start, t.c.started_at < end
                )
                row = db.execute(query).one()
                if row[1]:
                    found.append(_sum(month, row))
            return found
        for stretch in stretches(first, last):
            during = (*same, t.c.started_at >= stretch.start, t.c.started_at < stretch.end)
            if stretch.shift is None:
                row = db.execute(select(*_totals()).where(*during)).one()
                if row[1]:
                    found.append(_sum(stretch.day.isoformat(), row))
                continue
            when = _local(form, stretch.shift).label("when")
            query = select(when, *_totals()).where(*during).group_by(when).order_by(when)
            found.extend(_sum(row[0], row[1:]) for row in db.execute(query))
    return found


def _totals() -> list[ColumnElement[Any]]:
    # Total, count, estimated total and count, roaming total and count.
    t = USAGE
    amount = cast(t.c.quantity, _NUMBER)
    roaming = t.c.roaming.is_(True)
    return [
        func.sum(amount),
        func.count(),
        func.sum(case((_estimated(), amount))),
        func.sum(case((_estimated(), 1))),
        func.sum(case((roaming, amount))),
        func.sum(case((roaming, 1))),
    ]


def _sum(when: str, row: Sequence[Any]) -> Sum:
    return Sum(
        when,
        exact(row[0]),
        row[1],
        exact(row[2]),
        int(row[3] or 0),
        exact(row[4]),
        int(row[5] or 0),
    )


def months(first: date, last: date) -> Iterator[tuple[str, datetime, datetime]]:
    """Each local month from day ``first`` to ``last`` ("2026-04"), with the moments (UTC) it
    begins and ends within them."""
    month = date(first.year, first.month, 1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        start, end = max(month, first), min(following, last + timedelta(days=1))
        yield month.strftime("%Y-%m"), local_midnight(start), local_midnight(end)
        month = following


@dataclass(frozen=True)
class Roaming:
    """Usage abroad of one kind in one unit, in one country and local month."""

    month: str
    country: str | None
    kind: str
    unit: str
    uses: int
    total: Decimal
    charge: Decimal | None
    currency: str | None


def roaming(store: Store, use: Metered, first: date, last: date) -> list[Roaming]:
    """``use`` (one account's kind in one unit) while roaming from local day ``first`` to
    ``last``, per local month and country, with what it was charged (per currency).

    One kind and unit at a time, so each month is a range of the index."""
    t = USAGE
    found = []
    with store.engine.connect() as db:
        for month, start, end in months(first, last):
            query = (
                select(t.c.country, t.c.kind, t.c.unit, t.c.currency, func.count())
                .add_columns(
                    func.sum(cast(t.c.quantity, _NUMBER)), func.sum(cast(t.c.charge, _NUMBER))
                )
                .where(
                    t.c.account_id == use.account_id,
                    t.c.kind == use.kind,
                    t.c.unit == use.unit,
                    t.c.roaming.is_(True),
                    t.c.started_at >= start,
                    t.c.started_at < end,
                )
                .group_by(t.c.country, t.c.kind, t.c.unit, t.c.currency)
                .order_by(t.c.country, t.c.kind, t.c.unit, t.c.currency)
            )
            for country, kind, unit, currency, uses, total, charge in db.execute(query):
                paid = None if charge is None else exact(charge)
                found.append(
                    Roaming(month, country, kind, unit, uses, exact(total), paid, currency)
                )
    return found


@dataclass(frozen=True)
class Reading:
    """One reading as a chart of one day shows it."""

    id: str
    started_at: datetime
    duration_seconds: int | None
    quantity: Decimal
    estimated: bool
    quality_label: str | None


def readings(store: Store, account_id: str, kind: str, unit: str, day: date) -> list[Reading]:
    """Every reading of ``account_id``'s ``kind`` in ``unit`` starting on local ``day``."""
    t = USAGE
    query = (
        select(t.c.id, t.c.started_at, t.c.duration_seconds, t.c.quantity, t.c.quality)
        .add_columns(t.c.quality_label)
        .where(
            t.c.account_id == account_id,
            t.c.kind == kind,
            t.c.unit == unit,
            t.c.started_at >= local_midnight(day),
            t.c.started_at < local_midnight(day + timedelta(days=1)),
        )
        .order_by(t.c.started_at)
    )
    with store.engine.connect() as db:
        return [
            Reading(
                r.id,
                r.started_at,
                r.duration_seconds,
                r.quantity,
                r.quality in ESTIMATED_QUALITIES,
                r.quality_label,
            )
            for r in db.execute(query)
        ]
