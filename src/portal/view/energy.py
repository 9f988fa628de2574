"""What the Energy page says: each meter's use per day and per reading of one day, the
readings that were estimated, the tariffs, and each bill with its lines and its readings.

A meter is one account's usage of one kind in one unit (``metered.metered``): electricity in
kWh and gas in m3 are two meters, never one sum. Days are the person's local days, summed in
SQL (``portal.view.metered``); only the readings of the one day charted are read as rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, select

from portal.record import Bill, Product
from portal.record.tables import ProductRow
from portal.store import Store
from portal.view import charts, metered, query, zone
from portal.view.bills import BillPage, bills
from portal.view.metered import Metered, Reading, Sum
from portal.view.overview import local_time
from portal.view.stored import stored

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

KINDS = ("energy", "gas", "water")
"""The usage kinds this page shows (calls, messages and data are the Phone page's)."""
DEFAULT_DAYS = 90
"""How many days the daily chart shows when the person chooses none."""
BILLS_PER_PAGE = 12
STEP = Decimal("0.001")
"""Meters read to the Wh or the litre: sums are shown to three decimals."""
PRODUCTS: Table = ProductRow.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MeterView:
    """One meter as the page shows it: its days in the chosen range, and one day's readings."""

    meter: Metered
    first: date
    last: date
    days: list[Sum]
    day: date
    readings: list[Reading]

    @property
    def total(self) -> Decimal:
        """What was used from ``first`` to ``last``."""
        return sum((d.total for d in self.days), Decimal(0)).quantize(STEP)

    @property
    def estimated_readings(self) -> int:
        """How many readings from ``first`` to ``last`` were estimated, not measured."""
        return sum(d.estimated_readings for d in self.days)

    @property
    def daily(self) -> list[charts.Series]:
        """Use per day, and beside it the part of each day that was estimated."""
        used = charts.Series("Used", [(d.when, d.total.quantize(STEP)) for d in self.days])
        estimated = charts.Series(
            "of which estimated",
            [(d.when, d.estimated.quantize(STEP)) for d in self.days if d.estimated_readings],
        )
        return [used, estimated]

    @property
    def each_reading(self) -> list[charts.Series]:
        """Each reading of ``day``, and beside it those that were estimated."""
        used = charts.Series(
            "Used", [(r.started_at, r.quantity.quantize(STEP)) for r in self.readings]
        )
        estimated = charts.Series(
            "Estimated",
            [(r.started_at, r.quantity.quantize(STEP)) for r in self.readings if r.estimated],
        )
        return [used, estimated]

    @property
    def reading_labels(self) -> list[str]:
        """Each reading's local start time; with the zone's name on a day whose clock
        changed, since 01:00 then comes twice (autumn) or not at all (spring)."""
        form = "%H:%M %Z" if self.clock_change else "%H:%M"
        return [local_time(r.started_at, form) for r in self.readings]

    @property
    def hours(self) -> int:
        """How many hours ``day`` has where the person is: 24, or 23 or 25 when the clocks
        change."""
        length = zone.local_midnight(self.day + timedelta(days=1)) - zone.local_midnight(self.day)
        return round(length.total_seconds() / 3600)

    @property
    def clock_change(self) -> bool:
        """Whether the clocks changed on ``day``."""
        return self.hours != 24


@dataclass(frozen=True)
class BillReadings:
    """A bill's meter readings: how many there are in its period, and what they add up to."""

    meter: Metered
    readings: int
    total: Decimal
    estimated_readings: int
    first: date
    last: date


@dataclass(frozen=True)
class BillView:
    """One bill with its lines (in the record) and the readings of its period."""

    bill: Bill
    account_name: str
    readings: list[BillReadings]


@dataclass(frozen=True)
class Energy:
    """Everything the Energy page shows."""

    meters: list[MeterView]
    tariffs: list[Product]
    bills: list[BillView]
    page: BillPage
    first: date | None
    last: date | None
    day: date | None


def energy(store: Store, asked: Mapping[str, str]) -> Energy:
    """The Energy page of ``store`` for the query ``asked`` (``from``, ``to``, ``day``,
    ``page``): the range and the day apply to every meter, each defaulting to its own latest
    day with readings."""
    found = metered.metered(store, KINDS)
    chosen_day = query.date_parameter(asked, "day", "The day to show each reading of")
    number = query.page_number(asked)
    views = []
    for meter in found:
        latest = zone.local_day(meter.last)
        first, last = query.date_range(asked, latest, DEFAULT_DAYS)
        day = chosen_day or min(latest, last)
        days = metered.sums(
            store, meter.account_id, meter.kind, meter.unit, first, last, form=metered.DAY
        )
        readings = metered.readings(store, meter.account_id, meter.kind, meter.unit, day)
        views.append(MeterView(meter, first, last, days, day, readings))
    page = bills(store, sorted({m.account_id for m in found}), number, BILLS_PER_PAGE)
    return Energy(
        meters=views,
        tariffs=tariffs(store, sorted({m.provider for m in found})),
        bills=_bills(store, page.bills, found),
        page=page,
        first=views[0].first if views else None,
        last=views[0].last if views else None,
        day=views[0].day if views else None,
    )


def _bills(store: Store, bills: Sequence[Bill], meters: Sequence[Metered]) -> list[BillView]:
    """Each bill with the readings of its period: each meter's local days over the page's
    bills summed once in SQL, then added up per bill (a bill's period is whole days)."""
    daily: dict[Metered, dict[date, Sum]] = {}
    for meter in meters:
        mine = [b for b in bills if b.account_id == meter.account_id]
        if mine:
            first = min(b.period_start for b in mine)
            last = max(b.period_end for b in mine)
            found = metered.sums(
                store, meter.account_id, meter.kind, meter.unit, first, last, form=metered.DAY
            )
            daily[meter] = {date.fromisoformat(d.when): d for d in found}
    views = []
    for bill in bills:
        readings = []
        for meter, days in daily.items():
            if meter.account_id != bill.account_id:
                continue
            inside = [d for day, d in days.items() if bill.period_start <= day <= bill.period_end]
            readings.append(
                BillReadings(
                    meter=meter,
                    readings=sum(d.readings for d in inside),
                    total=sum((d.total for d in inside), Decimal(0)).quantize(STEP),
                    estimated_readings=sum(d.estimated_readings for d in inside),
                    first=bill.period_start,
                    last=bill.period_end,
                )
            )
        name = next((m.account_name for m in meters if m.account_id == bill.account_id), "")
        views.append(BillView(bill, name, readings))
    return views


def tariffs(store: Store, providers: Sequence[str]) -> list[Product]:
    """The products (tariffs) of ``providers``, by kind and then by when they began."""
    t = PRODUCTS
    query = (
        select(t)
        .where(t.c.provider.in_(list(providers)))
        .order_by(t.c.provider, t.c.product_type, t.c.valid_from, t.c.id)
    )
    with store.engine.connect() as db:
        return [stored(Product, row._asdict()) for row in db.execute(query)]


def context(visit: Visit) -> dict[str, Any]:
    """The Energy page's template context."""
    return {"energy": energy(visit.store, visit.query)}
