"""One bill checked against the usage it charges for and the tariff that applied.

Three comparisons, each in the bill's own terms:

- **quantity**: what a line charges for in a metered unit (kWh, m3...) against what the
  account's usage records of the same unit add up to over the bill's period (local days of
  the provider's calendar, half-open: from the first day's midnight to the midnight after
  the last day); for a bill that charges usage by the event (calls, texts, data beyond a
  plan, in another unit than the usage is measured in), the amount of those lines against
  what the usage records of the period were rated at; a standing charge's days against the
  days of its period;
- **tariff**: each line with a quantity priced again at the rate its product (tariff, plan)
  states for that unit over the line's period: rate x quantity, rounded to the minor unit;
- **total**: the lines as the tariff prices them (taxes as the bill states them) summed,
  against the bill's total.

Rounding: a bill rounds each line to the minor unit, so an amount may be half a minor unit
off per line it sums; a quantity may be half a unit of the last digit the bill writes
("329.470 kWh": 0.0005 kWh). Anything beyond is a difference, said in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import format_currency, format_decimal
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.engine import Connection as DBConnection

from portal.record.types import UTCDateTime

METERED = ("kWh", "Wh", "m3", "therm")
"""Units a meter measures and a bill charges for as they are: compared quantity to quantity."""
BY_THE_EVENT = ("minute", "second", "message", "MB", "GB", "day")
"""Units a telco charges calls, texts, data and roaming days in, each rated as it happens."""
MICRO = 1_000_000
"""Usage is summed in SQL (the queries spell it out) as whole millionths: exact for the
units meters count in (Wh in kWh, bytes in MB, litres in m3), where a sum of doubles is not;
a reading finer than that (cubic feet in m3) is rounded to the millionth, and the check
allows for it."""
GAS_VOLUME_CORRECTION = Decimal("1.02264")
GAS_CALORIFIC_RANGE = (Decimal("37.5"), Decimal("43.0"))
"""A bill that charges gas by volume at a price per kWh converts with the volume correction
and the gas's calorific value (MJ/m3), which varies by day and region within this range (UK
Gas (Calculation of Thermal Energy) Regulations); a conversion outside it is a difference."""
LOCALE = "en_GB"
"""The words are stored with the check, so they are written in one locale."""

AGREES, DIFFERS, CANNOT = "agrees", "differs", "cannot_check"


@dataclass
class Bill:
    """What the check reads of a bill row."""

    id: str
    provider: str
    account_id: str
    account_name: str
    bill_number: str
    period_start: date
    period_end: date
    total: Decimal
    currency: str
    lines: list[dict[str, Any]]
    local_time_not_utc: bool = False
    """The account states a local time other than UTC (Green Button LocalTimeParameters)."""


@dataclass
class Comparison:
    """One comparison; ``differs`` when beyond rounding, ``missing`` when it could not be made."""

    sentence: str
    differs: bool = False
    missing: bool = False
    unit: str | None = None
    used: Decimal | None = None
    billed_quantity: Decimal | None = None
    expected: Decimal | None = None
    billed: Decimal | None = None


@dataclass
class Check:
    """The outcome of checking one bill, with the numbers of the comparison that decided it."""

    outcome: str
    message: str
    decisive: Comparison | None

    def row(self, bill: Bill, checked_at: datetime) -> dict[str, Any]:
        """The ``bill_checks`` row of this check."""
        c = self.decisive or Comparison("")
        amounts = c.expected is not None and c.billed is not None
        quantities = c.used is not None and c.billed_quantity is not None
        difference = (
            c.billed - c.expected  # type: ignore[operator]
            if amounts
            else c.billed_quantity - c.used  # type: ignore[operator]
            if quantities
            else None
        )
        return {
            "bill_id": bill.id,
            "checked_at": checked_at,
            "outcome": self.outcome,
            "unit": c.unit,
            "usage_quantity": c.used,
            "billed_quantity": c.billed_quantity,
            "expected_amount": c.expected,
            "billed_amount": c.billed,
            "difference": difference,
            "currency": bill.currency,
            "message": self.message,
        }


def check(db: DBConnection, bill: Bill, zone: ZoneInfo | None) -> Check:
    """Check ``bill``: its usage, its tariff, its total; say what was found. ``zone`` is
    the zone its days are in; None when that is unknown, and the bill cannot be checked."""
    head = f"Your bill {bill.bill_number} for {bill.account_name}, {period(bill)},"
    if zone is None:
        return Check(
            CANNOT,
            f"{head} cannot be checked: its provider does not say in which time zone its"
            " billing days begin, so which readings fall in its period is unknown.",
            None,
        )
    start, end = _bounds(bill.period_start, bill.period_end, zone)
    comparisons = _quantities(db, bill, start, end)
    comparisons += _priced(db, bill)
    differing = [c for c in comparisons if c.differs]
    missing = [c for c in comparisons if c.missing]
    if differing:
        return Check(DIFFERS, f"{head} {' '.join(c.sentence for c in differing)}", differing[0])
    if missing:
        return Check(CANNOT, f"{head} cannot be checked: {missing[0].sentence}", missing[0])
    # The usage compared, else the rated usage's amount: what the bill is mostly about.
    main = next((c for c in comparisons if c.used is not None), None) or next(
        (c for c in comparisons if c.sentence.startswith("charges")), None
    )
    said = main.sentence if main else "agrees with its tariff."
    return Check(AGREES, f"{head} {said}", main)


# -- usage -------------------------------------------------------------------------------


def _quantities(db: DBConnection, bill: Bill, start: datetime, end: datetime) -> list[Comparison]:
    found: list[Comparison] = []
    billed: dict[str, tuple[Decimal, Decimal]] = {}  # unit: (quantity, tolerance)
    for line in bill.lines:
        quantity, unit = _decimal(line.get("quantity")), line.get("unit")
        if quantity is None or unit not in METERED:
            continue
        had, tolerance = billed.get(unit, (Decimal(0), Decimal(0)))
        billed[unit] = (had + quantity, tolerance + _half_digit(line.get("quantity")))
    for unit, (quantity, tolerance) in billed.items():
        count, used = _usage(db, bill.account_id, unit, start, end)
        if not count:
            found.append(
                Comparison(
                    f"no usage in {unit} was released for {period(bill)}.",
                    missing=True,
                    unit=unit,
                    billed_quantity=quantity,
                )
            )
            continue
        # Each reading was summed to the millionth: as many half-millionths more of leeway.
        leeway = tolerance + Decimal(count) / (2 * MICRO)
        found.append(_compare_quantity(unit, quantity, used, leeway))
    found += _days(bill)
    if not billed:
        found += _rated(db, bill, start, end)
    return found


def _compare_quantity(unit: str, billed: Decimal, used: Decimal, tolerance: Decimal) -> Comparison:
    said = (
        f"charges {_number(billed)} {unit}; your meter readings for that period add up to"
        f" {_number(used)} {unit}"
    )
    gap = billed - used
    if abs(gap) <= tolerance:
        return Comparison(f"{said}, as billed.", unit=unit, used=used, billed_quantity=billed)
    more = "more billed than used" if gap > 0 else "less billed than used"
    return Comparison(
        f"{said} ({_number(abs(gap))} {unit} {more}).",
        differs=True,
        unit=unit,
        used=used,
        billed_quantity=billed,
    )


def _usage(
    db: DBConnection, account: str, unit: str, start: datetime, end: datetime
) -> tuple[int, Decimal]:
    count, micro = db.execute(
        _within(
            "SELECT count(*), sum(CAST(round(quantity * 1000000) AS BIGINT)) FROM usage"
            " WHERE account_id = :account AND unit = :unit"
        ),
        {"account": account, "unit": unit, "start": start, "end": end},
    ).one()
    return int(count), (Decimal(int(micro or 0)) / MICRO).normalize()


def _within(query: str) -> TextClause:
    """``query`` over the usage that started from ``:start`` to before ``:end``."""
    moments = (bindparam("start", type_=UTCDateTime), bindparam("end", type_=UTCDateTime))
    return text(query + " AND started_at >= :start AND started_at < :end").bindparams(*moments)


def _rated(db: DBConnection, bill: Bill, start: datetime, end: datetime) -> list[Comparison]:
    """Usage charged by the event: the lines for events against what the usage was rated at."""
    events = [
        ln
        for ln in bill.lines
        if _decimal(ln.get("quantity")) is not None
        and ln.get("unit") in BY_THE_EVENT
        and not ln.get("period_start")
    ]
    count, charged, micro = db.execute(
        _within(
            "SELECT count(*), count(NULLIF(charge, 0)),"
            " sum(CAST(round(coalesce(charge, 0) * 1000000) AS BIGINT)) FROM usage"
            " WHERE account_id = :account"
        ),
        {"account": bill.account_id, "start": start, "end": end},
    ).one()
    if not events and not charged:
        return []
    if not count:
        return [Comparison(f"no usage was released for {period(bill)}.", missing=True)]
    rated = Decimal(int(micro or 0)) / MICRO
    billed = sum((Decimal(str(ln["amount"])) for ln in events), Decimal(0))
    tolerance = _minor(bill.currency) / 2 * max(len(events), 1)
    said = (
        f"charges {_money(billed, bill.currency)} for usage beyond the plan; the"
        f" {charged} calls, texts and sessions charged in that period were rated at"
        f" {_money(rated, bill.currency)}"
    )
    gap = billed - rated
    if abs(gap) <= tolerance:
        return [Comparison(f"{said}, as billed.", expected=rated, billed=billed)]
    more = "more billed than rated" if gap > 0 else "less billed than rated"
    return [
        Comparison(
            f"{said} ({_money(abs(gap), bill.currency)} {more}).",
            differs=True,
            expected=rated,
            billed=billed,
        )
    ]


def _days(bill: Bill) -> list[Comparison]:
    """A charge by the day over a period (a standing charge) is for the days of the period."""
    found = []
    for line in bill.lines:
        quantity = _decimal(line.get("quantity"))
        if line.get("unit") != "day" or quantity is None or not line.get("period_start"):
            continue
        first = date.fromisoformat(line["period_start"])
        last = date.fromisoformat(line.get("period_end") or line["period_start"])
        days = (last - first).days + 1
        if quantity != days:
            found.append(
                Comparison(
                    f"charges \u201c{line.get('description')}\u201d for {_number(quantity)} days of"
                    f" a period of {days} days.",
                    differs=True,
                    unit="day",
                    used=Decimal(days),
                    billed_quantity=quantity,
                )
            )
    return found


# -- tariff and total --------------------------------------------------------------------


def _priced(db: DBConnection, bill: Bill) -> list[Comparison]:
    from portal.understand.tariffs import Tariffs

    tariffs = Tariffs.of(db, bill)
    found: list[Comparison] = []
    expected_total = Decimal(0)
    minor = _minor(bill.currency)
    for line in bill.lines:
        amount = Decimal(str(line["amount"]))
        priced = tariffs.expected(line, bill)
        if priced is None:
            expected_total += amount  # a tax, a one-off: as the bill states it
            continue
        expected, missing, sentence = priced
        if missing:
            found.append(Comparison(sentence, missing=True, billed=amount))
            expected_total += amount
            continue
        expected_total += expected
        if abs(amount - expected) > minor / 2:
            found.append(
                Comparison(
                    f"charges {_money(amount, bill.currency)} for \u201c{line.get('description')}"
                    f"\u201d, where {sentence} comes to {_money(expected, bill.currency)}.",
                    differs=True,
                    expected=expected,
                    billed=amount,
                )
            )
    tolerance = minor / 2 * max(len(bill.lines), 1)
    gap = bill.total - expected_total
    if abs(gap) > tolerance:
        more = "more" if gap > 0 else "less"
        found.append(
            Comparison(
                f"totals {_money(bill.total, bill.currency)}; its lines at the tariff come to"
                f" {_money(expected_total, bill.currency)} ({_money(abs(gap), bill.currency)}"
                f" {more} than they add up to).",
                differs=True,
                expected=expected_total,
                billed=bill.total,
            )
        )
    return found


# -- words and numbers -------------------------------------------------------------------


def period(bill: Bill) -> str:
    """The bill's period as a person writes it: "15 Oct\u201314 Nov 2025"."""
    first, last = bill.period_start, bill.period_end
    if first.year != last.year:
        return f"{first.day} {first:%b %Y}\u2013{last.day} {last:%b %Y}"
    return f"{first.day} {first:%b}\u2013{last.day} {last:%b %Y}"


def _bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, float):
        return None if value is None else Decimal(repr(value))
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _half_digit(value: Any) -> Decimal:
    """Half a unit of the last digit ``value`` is written to ("329.470": 0.0005)."""
    exponent = Decimal(str(value)).as_tuple().exponent
    return Decimal(5).scaleb(int(exponent) - 1) if isinstance(exponent, int) else Decimal(0)


def _minor(currency: str) -> Decimal:
    from portal.record.types import _MINOR_UNITS

    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency, 2))


def rounded(amount: Decimal, currency: str) -> Decimal:
    """``amount`` rounded half up to its currency's minor unit, as a bill rounds a line."""
    return amount.quantize(_minor(currency), rounding=ROUND_HALF_UP)


def _money(amount: Decimal, currency: str) -> str:
    return str(format_currency(amount, currency, locale=LOCALE))


def _number(value: Decimal) -> str:
    return str(format_decimal(value, locale=LOCALE, decimal_quantization=False))


def lines_of(raw: Any) -> list[dict[str, Any]]:
    """A bill's lines as stored (JSON text on SQLite, a list elsewhere)."""
    found = json.loads(raw) if isinstance(raw, str) else raw
    return [line for line in found or [] if isinstance(line, dict)]
