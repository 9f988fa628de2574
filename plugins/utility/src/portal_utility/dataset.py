"""Demo Energy's state: the readings of two meters, the bills they add up to, and the clock.

Nothing depends on the wall clock. Each day's readings are a pure function of the seed, the
meter and the day, so any day can be produced on demand without holding the whole history;
the clock (``DemoUtility.now``) decides what has been published. A day's IntervalBlock is
published at 06:00 the next morning; a billing period's UsageSummary three days after it
ends. A summary's consumption is the sum of that period's readings, and its cost lines
(energy at each tariff in force, standing charge, VAT) add up to its total.

Resources are held as plain dicts of strings, exactly as the feeds serve them (see
``portal_utility.feeds``), so ``ground_truth`` can state what was served.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_utility.customer import (
    CURRENCY_NUMERIC,
    ESTIMATED,
    FIRST_DAY,
    METERS,
    NOW,
    VAT_RATE,
    Meter,
    atom_time,
    billing_periods,
    day_bounds,
    espi_money,
    gas_kwh,
    midnight,
    pounds,
    seeded,
    tariff_on,
)
from portal_utility.variants import VARIANTS, Variant

PUBLISH_DELAY = timedelta(hours=6)
"""A day's readings are published this long after the day ends."""
BILL_DELAY = timedelta(days=3)
"""A billing period's summary is issued this long after the period ends."""

# Half-hourly electricity in Wh by local hour: night, morning, day, evening peak, late.
_PROFILE = [70] * 6 + [150, 240, 230, 160] + [120] * 7 + [330, 420, 460, 400, 330] + [190, 140]


@dataclass(frozen=True)
class Reading:
    """One interval reading: start (ESPI seconds), duration, value in the meter's unit, quality."""

    start: int
    duration: int
    value: int
    quality: str | None

    def served(self, meter: Meter, variant: Variant) -> dict[str, Any]:
        """The IntervalReading as the feed serves it (ReadingQuality only when not valid).

        A variant with ``implicit_times`` leaves out the timePeriod of a reading as long as
        the meter's interval: ESPI then places it by its order in the block.
        """
        item: dict[str, Any] = {}
        cost = variant.cost(meter.fuel, self.value)
        if cost is not None:
            item["cost"] = cost
        if self.quality is not None:
            item["ReadingQuality"] = [{"quality": self.quality}]
        if not (variant.implicit_times and self.duration == meter.interval):
            item["timePeriod"] = {"duration": str(self.duration), "start": str(self.start)}
        item["value"] = str(variant.value(meter.fuel, self.value))
        return item


class DemoUtility:
    """Demo Energy's state for one demo customer: meters, readings, bills, authorizations."""

    def __init__(
        self, seed: int = 2026, now: datetime = NOW, variant: Variant = VARIANTS["standard"]
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("Demo Energy's clock needs a time zone.")
        self.seed = seed
        self.variant = variant
        self.lock = threading.RLock()
        self.now: datetime = now
        self.authorizations: list[dict[str, Any]] = []

    # -- the clock --------------------------------------------------------------------

    def advance(self, days: int = 1) -> None:
        """Move Demo Energy's clock on: more days of readings, perhaps another bill."""
        with self.lock:
            self.now += timedelta(days=days)

    def last_day(self) -> date:
        """The last day whose readings have been published."""
        day = (self.now - PUBLISH_DELAY).date() - timedelta(days=1)
        while midnight(day + timedelta(days=1)) + PUBLISH_DELAY > self.now:
            day -= timedelta(days=1)
        return day

    def days(self) -> Iterator[date]:
        """Every day with published readings, oldest first."""
        day, last = FIRST_DAY, self.last_day()
        while day <= last:
            yield day
            day += timedelta(days=1)

    def periods(self) -> list[tuple[date, date]]:
        """The billing periods whose summary has been issued."""
        issued_by = (self.now - BILL_DELAY).date() - timedelta(days=1)
        return [
            (first, last)
            for first, last in billing_periods(issued_by)
            if midnight(last + timedelta(days=1)) + BILL_DELAY <= self.now
        ]

    # -- readings ---------------------------------------------------------------------

    def readings(self, meter: Meter, day: date) -> list[Reading]:
        """A meter's readings for one London day (46 or 50 half-hours on change days)."""
        actual = self._actual(meter, day)
        estimated = ESTIMATED.get((meter.usage_point, day))
        if estimated is None:
            return actual
        first, last, quality = estimated
        reference = self._actual(meter, day - timedelta(days=7))
        out = []
        for i, reading in enumerate(actual):
            if first <= i <= last:
                # Estimated from the same day a week before (or the nearest slot of it).
                value = reference[min(i, len(reference) - 1)].value
                reading = Reading(reading.start, reading.duration, value, quality)
            out.append(reading)
        return out

    def _actual(self, meter: Meter, day: date) -> list[Reading]:
        start, length = day_bounds(day)
        rng = seeded(self.seed, f"{meter.fuel}:{day.isoformat()}")
        if meter.interval == 86400:  # one reading a day, however long the day
            return [Reading(start, length, self._gas_litres(day, rng), None)]
        weekend = day.weekday() >= 5
        winter = 1.0 + 0.35 * _coldness(day)
        out = []
        for offset in range(0, length, meter.interval):
            local = datetime.fromtimestamp(start + offset, tz=midnight(day).tzinfo)
            base = _PROFILE[local.hour] * winter * (1.15 if weekend and 9 <= local.hour < 17 else 1)
            value = max(25, round(base * rng.uniform(0.75, 1.25)))
            out.append(Reading(start + offset, meter.interval, value, None))
        return out

    def _gas_litres(self, day: date, rng: random.Random) -> int:
        # Hot water all year, heating by how cold the day is: 3-8 m3 a day in winter.
        return round((2200 + 5200 * _coldness(day)) * rng.uniform(0.85, 1.15))

    def block_dates(self, day: date) -> dict[str, str]:
        """When a day's IntervalBlock was ``published`` and last ``updated`` (Atom dates)."""
        published = atom_time(midnight(day + timedelta(days=1)) + PUBLISH_DELAY)
        return {"published": published, "updated": published}

    def block(self, meter: Meter, day: date) -> dict[str, Any]:
        """The IntervalBlock of one day, as served, with its Atom dates."""
        start, length = day_bounds(day)
        return {
            "id": f"{meter.usage_point}-{day:%Y%m%d}",
            "day": day,
            **self.block_dates(day),
            "content": {
                "interval": {"duration": str(length), "start": str(start)},
                "IntervalReading": [
                    r.served(meter, self.variant) for r in self.readings(meter, day)
                ],
            },
        }

    # -- bills --------------------------------------------------------------------------

    def summary(self, meter: Meter, first: date, last: date) -> dict[str, Any]:
        """The UsageSummary of one billing period: consumption, cost lines and total."""
        readings = [r for day in _days(first, last) for r in self.readings(meter, day)]
        estimated = any(r.quality is not None for r in readings)
        issued = midnight(last + timedelta(days=1)) + BILL_DELAY
        start, _ = day_bounds(first)
        end, length = day_bounds(last)
        charges = self._charges(meter, first, last, issued)
        subtotal = sum((amount for amount, _ in charges), Decimal(0))
        vat = pounds(subtotal * VAT_RATE * 100)
        note = f"VAT at {VAT_RATE * 100:.0f}%"
        lines = [line for _, line in charges]
        lines.append(_line(vat, "5", note, issued, (first, last + timedelta(days=1))))
        total = subtotal + vat
        uom, multiplier, _ = self.variant.units[meter.fuel]
        used = self.variant.value(meter.fuel, sum(r.value for r in readings))
        return {
            "id": f"{meter.usage_point}-{first:%Y%m%d}",
            "published": atom_time(issued),
            "updated": atom_time(issued),
            "content": {
                "billingPeriod": {"duration": str(end + length - start), "start": str(start)},
                "billLastPeriod": espi_money(total),
                "costAdditionalDetailLastPeriod": lines,
                "currency": CURRENCY_NUMERIC,
                "overallConsumptionLastPeriod": {
                    "powerOfTenMultiplier": multiplier,
                    "timeStamp": str(end + length),
                    "uom": uom,
                    "value": str(used),
                },
                "qualityOfReading": "13" if estimated else "0",
                "statusTimeStamp": str(int(issued.timestamp())),
                "commodity": "1" if meter.fuel == "electricity" else "7",
                "tariffProfile": tariff_on(meter.fuel, last).code,
                "readCycle": "15",
            },
        }

    def _charges(
        self, meter: Meter, first: date, last: date, issued: datetime
    ) -> list[tuple[Decimal, dict[str, Any]]]:
        # One energy line and one standing-charge line per tariff in force during the period:
        # the January price change splits the December-January bill in two.
        charges = []
        for tariff, span in _by_tariff(meter.fuel, first, last):
            used = sum(r.value for day in span for r in self.readings(meter, day))
            period = (span[0], span[-1] + timedelta(days=1))
            quantity = Decimal(used).scaleb(-3)
            if meter.fuel == "electricity":
                kwh = quantity
                note = f"Electricity: {kwh} kWh at {tariff.unit_rate}p/kWh"
            else:
                kwh = gas_kwh(quantity)
                note = f"Gas: {quantity} m3 = {kwh} kWh at {tariff.unit_rate}p/kWh"
            energy = pounds(kwh * tariff.unit_rate)
            uom, multiplier, _ = self.variant.units[meter.fuel]
            served = str(self.variant.value(meter.fuel, used))
            measured = {"powerOfTenMultiplier": multiplier, "uom": uom, "value": served}
            rate = espi_money(tariff.unit_rate / 100)
            charges.append((energy, _line(energy, "3", note, issued, period, measured, rate)))
            standing = pounds(len(span) * tariff.standing_charge)
            note = f"Standing charge: {len(span)} days at {tariff.standing_charge}p/day"
            rate = espi_money(tariff.standing_charge / 100)
            charges.append((standing, _line(standing, "2", note, issued, period, None, rate)))
        return charges

    # -- authorizations -----------------------------------------------------------------

    def new_authorization(self, scope: str, urls: dict[str, str]) -> dict[str, Any]:
        """Record the ESPI Authorization a customer's approval creates; return it."""
        with self.lock:
            number = len(self.authorizations) + 1
            now = int(self.now.timestamp())
            authorization = {
                "id": str(number),
                "published": atom_time(self.now),
                "updated": atom_time(self.now),
                "content": {
                    "authorizedPeriod": {"duration": str(365 * 86400), "start": str(now)},
                    "publishedPeriod": {
                        "duration": str(now - int(midnight(FIRST_DAY).timestamp())),
                        "start": str(int(midnight(FIRST_DAY).timestamp())),
                    },
                    "status": "1",
                    "expires_at": str(now + 365 * 86400),
                    "grant_type": "authorization_code",
                    "scope": scope,
                    "token_type": "Bearer",
                    "resourceURI": urls["resourceURI"],
                    "authorizationURI": urls["authorizationURI"].format(id=number),
                    "customerResourceURI": urls["customerResourceURI"],
                },
            }
            self.authorizations.append(authorization)
            return authorization

    def revoke_authorizations(self) -> None:
        """The customer withdraws every authorization (ESPI status 0, revoked)."""
        with self.lock:
            for authorization in self.authorizations:
                authorization["content"]["status"] = "0"
                authorization["updated"] = atom_time(self.now)

    # -- ground truth -------------------------------------------------------------------

    def served_readings(self) -> Iterator[tuple[Meter, Reading]]:
        """Every published reading of every meter, oldest first per meter."""
        for meter in METERS:
            for day in self.days():
                for reading in self.readings(meter, day):
                    yield meter, reading


def _coldness(day: date) -> float:
    # 0 in mid-July, 1 in mid-January: a smooth seasonal curve.
    return (1 + math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)) / 2


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _by_tariff(fuel: str, first: date, last: date) -> Iterator[tuple[Any, list[date]]]:
    span: list[date] = []
    current = None
    for day in _days(first, last):
        tariff = tariff_on(fuel, day)
        if current is not None and tariff != current:
            yield current, span
            span = []
        current = tariff
        span.append(day)
    if current is not None:
        yield current, span


def _line(
    amount: Decimal,
    kind: str,
    note: str,
    issued: datetime,
    period: tuple[date, date],
    measurement: dict[str, str] | None = None,
    unit_cost: str | None = None,
) -> dict[str, Any]:
    """An ESPI LineItem, its elements in the schema's order."""
    start, _ = day_bounds(period[0])
    stop, _ = day_bounds(period[1])
    line: dict[str, Any] = {
        "amount": espi_money(amount),
        "rounding": "0",
        "dateTime": str(int(issued.timestamp())),
        "note": note,
    }
    if measurement is not None:
        line["measurement"] = measurement
    line["itemKind"] = kind
    if unit_cost is not None:
        line["unitCost"] = unit_cost
    line["itemPeriod"] = {"duration": str(stop - start), "start": str(start)}
    return line
