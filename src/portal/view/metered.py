"""Metered usage read for the Energy and Phone pages: summed in SQL by the person's local
day or month, a page of bills at a time, never a whole table read into Python.

Three choices every query here shares:

- **Local days.** A reading belongs to the day (or month) its start falls in, in the
  person's time zone (the one ``local_time`` shows moments in): a half-hour starting at
  23:30 UTC in a London summer belongs to the next day. SQLite knows no time zones, so a
  range of days is cut into stretches whose local midnights share one UTC offset, and each
  stretch is grouped with its own shift (``date(started_at, '+3600 seconds')``). Only the
  offset at midnight matters: a clock change at 01:00 moves no reading into another day.
  A day with a clock change has as many readings as it has hours: 46 half-hours in spring,
  50 in autumn.
- **Exact sums.** Quantities are stored as exact text today and as numbers once the store
  keeps them numeric; ``CAST(quantity AS REAL)`` reads both. Each value is scaled to
  millionths and rounded before it is summed, so a sum of values with at most six decimals
  (a meter's Wh, a session's bytes as MB) is an exact integer count of millionths, turned
  back into a Decimal here.
- **Units kept apart.** Every figure is per (account, kind, unit): kWh are never added to
  m3, nor minutes to megabytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import REAL, Table, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from portal.record.tables import AccountRow, UsageRow
from portal.store import Store

USAGE: Table = UsageRow.__table__  # type: ignore[attr-defined]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]

ESTIMATED_QUALITIES = ("8", "9", "12", "estimated", "E")
"""The quality codes that say a value was estimated rather than measured: Green Button's
QualityOfReading 8 (estimated from a reference day), 9 (interpolated) and 12 (projected),
and the plain word or letter file formats use. The record keeps the provider's code in
``Usage.quality`` and its words in ``quality_label``, which the page shows beside it."""

_MILLIONTHS = 1_000_000


def local_midnight(day: date) -> datetime:
    """When ``day`` begins in the person's time zone, as an aware UTC moment.

    The zone is the machine's, as ``overview.local_time`` shows moments; a naive datetime's
    ``astimezone`` asks the C library, which knows the zone's clock changes.
    """
    return datetime.combine(day, time()).astimezone(UTC)


def local_day(moment: datetime) -> date:
    """The person's local date of ``moment``."""
    return moment.astimezone().date()


@dataclass(frozen=True)
class Stretch:
    """Consecutive local days whose midnights share one UTC offset."""

    start: datetime
    end: datetime
    """Exclusive: the next stretch's start."""
    shift: str
    """SQLite's modifier turning a UTC time of this stretch into local wall-clock time."""


def stretches(first: date, last: date) -> list[Stretch]:
    """The local days ``first`` to ``last`` (both included) as stretches of one offset."""
    found: list[Stretch] = []
    day = first
    while day <= last:
        offset = _offset(day)
        end = day + timedelta(days=1)
        while end <= last and _offset(end) == offset:
            end += timedelta(days=1)
        found.append(Stretch(local_midnight(day), local_midnight(end), f"{offset:+d} seconds"))
        day = end
    return found


def _offset(day: date) -> int:
    midnight = datetime.combine(day, time())
    return round((midnight - local_midnight(day).replace(tzinfo=None)).total_seconds())


def _local(form: str, shift: str) -> ColumnElement[Any]:
    # The stored text is fixed-width UTC ("2026-07-01T22:30:00.000000+00:00"); its first 19
    # characters are what SQLite's date functions read.
    return func.strftime(form, func.substr(USAGE.c.started_at, 1, 19), shift)


def _millionths(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.round(cast(column, REAL) * _MILLIONTHS)


def _estimated() -> ColumnElement[Any]:
    return USAGE.c.quality.in_(ESTIMATED_QUALITIES)


def exact(millionths: float | int | None) -> Decimal:
    """A sum of millionths (an integer, possibly as a float) as an exact Decimal."""
    return Decimal(int(millionths or 0)).scaleb(-6)


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
            found.append(
                Metered(
                    provider=latest.provider,
                    account_id=account_id,
                    account_name=_account_name(db, account_id),
                    kind=kind,
                    kind_label=_kind_label(kind, latest.kind_label),
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


def _kind_label(kind: str, label: str) -> str:
    # A telco's label can name the roaming zone of its latest call ("Call, roaming: Europe");
    # the group is every call, so its name is the label's first part.
    return label.split(",")[0] if label else kind


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
    per local day (``form`` "%Y-%m-%d") or month ("%Y-%m"), oldest first."""
    t = USAGE
    found: dict[str, Sum] = {}
    with store.engine.connect() as db:
        for stretch in stretches(first, last):
            when = _local(form, stretch.shift).label("when")
            amount = _millionths(t.c.quantity)
            roaming = t.c.roaming.is_(True)
            query = (
                select(
                    when,
                    func.sum(amount),
                    func.count(),
                    func.sum(case((_estimated(), amount), else_=0)),
                    func.sum(case((_estimated(), 1), else_=0)),
                    func.sum(case((roaming, amount), else_=0)),
                    func.sum(case((roaming, 1), else_=0)),
                )
                .where(
                    and_(
                        t.c.account_id == account_id,
                        t.c.kind == kind,
                        t.c.unit == unit,
                        t.c.started_at >= stretch.start,
                        t.c.started_at < stretch.end,
                    )
                )
                .group_by(when)
            )
            for row in db.execute(query):
                _add(
                    found,
                    Sum(
                        row[0], exact(row[1]), row[2], exact(row[3]), row[4], exact(row[5]), row[6]
                    ),
                )
    return [found[key] for key in sorted(found)]


def _add(found: dict[str, Sum], one: Sum) -> None:
    # A month spans stretches (a clock change inside it): its parts add up.
    was = found.get(one.when)
    if was is None:
        found[one.when] = one
        return
    found[one.when] = Sum(
        one.when,
        was.total + one.total,
        was.readings + one.readings,
        was.estimated + one.estimated,
        was.estimated_readings + one.estimated_readings,
        was.roaming + one.roaming,
        was.roaming_readings + one.roaming_readings,
    )


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


def roaming(
    store: Store, account_id: str, kinds: Sequence[str], first: date, last: date
) -> list[Roaming]:
    """``account_id``'s usage while roaming from local day ``first`` to ``last``, per local
    month, country, kind and unit, with what it was charged (per currency)."""
    t = USAGE
    found: dict[tuple[str, str | None, str, str, str | None], Roaming] = {}
    with store.engine.connect() as db:
        for stretch in stretches(first, last):
            month = _local("%Y-%m", stretch.shift).label("month")
            query = (
                select(
                    month,
                    t.c.country,
                    t.c.kind,
                    t.c.unit,
                    t.c.currency,
                    func.count(),
                    func.sum(_millionths(t.c.quantity)),
                    func.sum(_millionths(t.c.charge)),
                )
                .where(
                    t.c.account_id == account_id,
                    t.c.kind.in_(kinds),
                    t.c.roaming.is_(True),
                    t.c.started_at >= stretch.start,
                    t.c.started_at < stretch.end,
                )
                .group_by(month, t.c.country, t.c.kind, t.c.unit, t.c.currency)
            )
            for when, country, kind, unit, currency, uses, total, charge in db.execute(query):
                key = (when, country, kind, unit, currency)
                was = found.get(key)
                one = Roaming(
                    when, country, kind, unit, uses, exact(total),
                    None if charge is None else exact(charge), currency,
                )  # fmt: skip
                if was is not None:
                    one = Roaming(
                        when, country, kind, unit, was.uses + uses, was.total + one.total,
                        _plus(was.charge, one.charge), currency,
                    )  # fmt: skip
                found[key] = one
    return [found[key] for key in sorted(found, key=lambda k: tuple(str(p) for p in k))]


def _plus(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    return None if a is None and b is None else (a or Decimal(0)) + (b or Decimal(0))


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
