"""What the Phone page says: for each line (a mobile contract, a home phone), its calls,
messages and data per month with what was used abroad, where it roamed, and its bills with
their charges.

Months are the person's local months, summed in SQL (``portal.view.metered``). Each kind
of use keeps its own unit: calls are stored in seconds and shown in minutes, data in MB and
shown in GB once a month reaches a gigabyte; minutes are never added to megabytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portal.record import Bill
from portal.store import Store
from portal.view import charts, formats, metered, query, zone
from portal.view.bills import BillPage, bills
from portal.view.metered import Metered, Roaming, Sum

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

KINDS = ("call", "message", "data")
"""The usage kinds this page shows (meter readings are the Energy page's)."""
DEFAULT_MONTHS = 12
BILLS_PER_PAGE = 12
KIND_TITLES = {"call": "Calls", "message": "Messages", "data": "Mobile data"}


@dataclass(frozen=True)
class Shown:
    """How a stored unit is shown: divided by ``divisor`` into ``unit``, to ``step``."""

    unit: str
    divisor: Decimal
    step: Decimal
    short: str = ""
    """The unit on a chart's axis, where a long word would not fit ("min"); the chart's
    title names the unit in full."""

    @property
    def on_chart(self) -> str:
        """The unit as a chart's axis and marks write it."""
        return self.short or self.unit

    def of(self, value: Decimal) -> Decimal:
        """``value`` (in the stored unit) as shown."""
        return (value / self.divisor).quantize(self.step)


def shown_as(unit: str, largest: Decimal) -> Shown:
    """How to show quantities in ``unit`` whose largest month is ``largest``."""
    if unit == "second":
        return Shown("minutes", Decimal(60), Decimal("0.1"), "min")
    if unit == "minute":
        return Shown("minutes", Decimal(1), Decimal("0.1"), "min")
    if unit == "message":
        return Shown("messages", Decimal(1), Decimal(1), "msg")
    if unit == "MB" and largest >= 1000:
        return Shown("GB", Decimal(1000), Decimal("0.01"))
    if unit == "MB":
        return Shown("MB", Decimal(1), Decimal("0.1"))
    return Shown(unit, Decimal(1), Decimal("0.001"))


@dataclass(frozen=True)
class Use:
    """One kind of use on one line, per month: the chart and its totals."""

    metered: Metered
    months: list[Sum]
    shown: Shown

    @property
    def title(self) -> str:
        """The kind in words ("Calls")."""
        return KIND_TITLES.get(self.metered.kind, self.metered.kind_label)

    @property
    def series(self) -> list[charts.Series]:
        """Use at home per month, and beside it use abroad where there was any."""
        home = charts.Series(
            "At home", [(m.when, self.shown.of(m.total - m.roaming)) for m in self.months]
        )
        abroad = charts.Series(
            "Roaming abroad",
            [(m.when, self.shown.of(m.roaming)) for m in self.months if m.roaming_readings],
        )
        return [home, abroad]

    @property
    def labels(self) -> list[str]:
        """Each month as a person reads it ("Apr 2026")."""
        return [date.fromisoformat(m.when + "-01").strftime("%b %Y") for m in self.months]

    @property
    def total(self) -> Decimal:
        """All of it over the months shown, in the shown unit."""
        return self.shown.of(sum((m.total for m in self.months), Decimal(0)))

    @property
    def uses(self) -> int:
        """How many calls, messages or sessions."""
        return sum(m.readings for m in self.months)

    @property
    def roaming_uses(self) -> int:
        """How many of them were abroad."""
        return sum(m.roaming_readings for m in self.months)


@dataclass(frozen=True)
class RoamingRow:
    """Use abroad as the page lists it, in the shown unit."""

    roaming: Roaming
    title: str
    total: Decimal
    unit: str
    month: str
    """The local month as a person reads it ("Jul 2026")."""
    country: str
    """The country's name in the person's language, with its code ("Spain (ES)")."""


@dataclass(frozen=True)
class Line:
    """One phone line or contract: its uses per month and where it roamed."""

    account_id: str
    name: str
    provider: str
    uses: list[Use]
    roaming: list[RoamingRow]


@dataclass(frozen=True)
class Phone:
    """Everything the Phone page shows."""

    lines: list[Line]
    bills: list[tuple[Bill, str]]
    """Each bill with the name of the line it bills."""
    page: BillPage
    first: date | None
    last: date | None


def phone(store: Store, asked: Mapping[str, str]) -> Phone:
    """The Phone page of ``store`` for the query ``asked`` (``from``, ``to``, ``page``)."""
    found = metered.metered(store, KINDS)
    number = query.page_number(asked)
    lines: dict[str, Line] = {}
    first = last = None
    latest = max((zone.local_day(m.last) for m in found), default=None)
    if latest is not None:
        first, last = query.date_range(asked, latest, _twelve_months(latest))
    for meter in found:
        assert first is not None and last is not None
        months = metered.sums(
            store, meter.account_id, meter.kind, meter.unit, first, last, form=metered.MONTH
        )
        largest = max((m.total for m in months), default=Decimal(0))
        use = Use(meter, months, shown_as(meter.unit, largest))
        line = lines.get(meter.account_id)
        if line is None:
            line = lines[meter.account_id] = Line(
                meter.account_id, meter.account_name, meter.provider, [], []
            )
        line.uses.append(use)
    for line in lines.values():
        line.uses.sort(key=lambda use: KINDS.index(use.metered.kind))
        assert first is not None and last is not None
        line.roaming.extend(_roaming(store, line, first, last))
    page = bills(store, sorted(lines), number, BILLS_PER_PAGE)
    names = {account: line.name for account, line in lines.items()}
    return Phone(
        lines=list(lines.values()),
        bills=[(bill, names.get(bill.account_id, "")) for bill in page.bills],
        page=page,
        first=first,
        last=last,
    )


def _twelve_months(latest: date) -> int:
    """Days from the first of the month eleven months before ``latest`` to ``latest``."""
    month = latest.year * 12 + latest.month - 1 - (DEFAULT_MONTHS - 1)
    return (latest - date(month // 12, month % 12 + 1, 1)).days + 1


def _roaming(store: Store, line: Line, first: date, last: date) -> list[RoamingRow]:
    rows = []
    found_all = [r for use in line.uses for r in metered.roaming(store, use.metered, first, last)]
    for found in sorted(found_all, key=lambda r: (r.month, r.country or "", KINDS.index(r.kind))):
        # Each row in its own measure: a few megabytes abroad read badly as 0.03 GB.
        how = shown_as(found.unit, found.total)
        title = KIND_TITLES.get(found.kind, found.kind)
        month = date.fromisoformat(found.month + "-01").strftime("%b %Y")
        rows.append(
            RoamingRow(found, title, how.of(found.total), how.unit, month, _country(found.country))
        )
    return rows


def _country(code: str | None) -> str:
    if not code:
        return "not stated"
    name = formats.locale().territories.get(code)
    return f"{name} ({code})" if name else code


def context(visit: Visit) -> dict[str, Any]:
    """The Phone page's template context."""
    return {"phone": phone(visit.store, visit.query)}
