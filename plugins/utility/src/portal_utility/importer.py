"""Green Button *Download My Data* files: the same ESPI feed, read from disk.

A Download My Data file is the Batch/Subscription feed a utility's website offers as an
XML download. It is read with the same parser as Connect My Data (``portal_utility.espi``:
defusedxml, no entities, no DTD) and turned into the same raw items (``portal_utility.items``),
so ``normalise`` cannot tell a file from a fetch. The hierarchy is rebuilt from each entry's
links (``.../UsagePoint/1/MeterReading/1/IntervalBlock/7``).

Files put entries in any order: the Green Button Alliance's own sample lists the
ReadingType after the readings that use it, and a UsagePoint before its local time. The
file is therefore read twice, as a stream both times: first for the small entries that
give context (usage points, meter readings, reading types, local time, supply
agreements), then for the readings and summaries, which are handed on as they come. Memory
holds the context, never the readings. Each item gets the context a sync gives it
(``portal_utility.items``), so a file and a fetch of the same data store the same records.

Records are filed under the ``greenbutton`` provider, not Demo Energy's: a file can come
from any utility in the world.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from portal.importing import BadFile, FileNote, FilePage
from portal_utility import espi, items

USAGE_SUMMARIES = ("UsageSummary", "ElectricPowerUsageSummary")
"""ESPI 1.1 names the summary ElectricPowerUsageSummary; later versions UsageSummary."""
CUSTOMER_RESOURCES = ("CustomerAccount", "CustomerAgreement")


def sniff(head: bytes, filename: str) -> bool:
    """An Atom feed or entry holding ESPI resources."""
    return espi.ESPI.encode() in head and (b"<feed" in head or b"<entry" in head)


NOT_RECORDED = {
    "ElectricPowerQualitySummary": "power-quality measurements (flicker, voltage dips and"
    " swells) have no place in portal's record yet",
}
"""ESPI resources portal reads but keeps no record of: named in the import's notes."""

CONTEXT = ("LocalTimeParameters", "UsagePoint", "MeterReading", "ReadingType", "CustomerAgreement")
_POINT = re.compile(r"^(.*?/UsagePoint/[^/]+)")


def _entries(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as source:
        try:
            for number, entry in enumerate(espi.entries(source, "the file"), 1):
                yield number, items.portable(entry)
        except espi.FeedError as error:
            raise BadFile(path, None, error.message.removeprefix("the file").lstrip(": ")) from None


def read(path: Path) -> Iterator[FilePage | FileNote]:
    """The file's raw items, page by page, each item with the entry it came from."""
    reader = _Reader(path)
    for _, entry in _entries(path):
        if entry["resource"] in CONTEXT:
            reader.context(entry)
    for number, entry in _entries(path):
        yield from reader.entry(number, entry)
    yield from reader.customer()


class _Reader:
    """The context entries of the file, and what the second pass has seen so far."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local_times: dict[str, dict[str, Any]] = {}
        self.points: dict[str, dict[str, Any]] = {}
        self.meter_readings: dict[str, dict[str, Any]] = {}
        self.reading_types: dict[str, dict[str, Any]] = {}
        self.agreements: dict[str, dict[str, Any]] = {}
        self.customers: list[tuple[str, dict[str, Any]]] = []
        self.locations: list[dict[str, Any]] = []

    def context(self, entry: dict[str, Any]) -> None:
        if entry["resource"] == "CustomerAgreement":
            self.agreements[items.agreement_number(entry)] = entry
            return
        href = espi.link(entry, "self") or ""
        known = {
            "LocalTimeParameters": self.local_times,
            "UsagePoint": self.points,
            "MeterReading": self.meter_readings,
            "ReadingType": self.reading_types,
        }[entry["resource"]]
        known[href] = entry["content"] if entry["resource"] == "ReadingType" else entry

    def entry(self, number: int, entry: dict[str, Any]) -> Iterator[FilePage | FileNote]:
        resource = entry["resource"]
        where = f"entry {number} ({resource})"
        if resource in ("LocalTimeParameters", "MeterReading", "ReadingType"):
            return
        if resource == "UsagePoint":
            local_time = self.local_times.get(espi.link(entry, "related", "LocalTime") or "")
            item = {"UsagePoint": entry, "LocalTimeParameters": local_time}
            # As a sync does: the agreement the point is supplied under, when the file has it.
            agreement = self.agreements.get(items.usage_point_context(entry)["customerAgreement"])
            if agreement is not None:
                item["CustomerAgreement"] = agreement
            yield FilePage("usage_points", [item], locators=[where])
        elif resource == "IntervalBlock":
            yield self._block(entry, espi.link(entry, "self") or "", where)
        elif resource in USAGE_SUMMARIES:
            href = self._point_href(entry, where)
            item = items.summary_item(self._point(href), entry, self._currency(href))
            yield FilePage("usage_summaries", [item], locators=[where])
        elif resource in CUSTOMER_RESOURCES:
            stream = "customer_accounts" if resource == "CustomerAccount" else "agreements"
            yield FilePage(stream, [entry], locators=[where])
        elif resource == "Customer":
            self.customers.append((where, entry))
        elif resource == "ServiceLocation":
            self.locations.append(entry)
        elif resource in NOT_RECORDED:
            yield FileNote(where, f"not imported: {NOT_RECORDED[resource]}")
        else:
            raise BadFile(
                self.path,
                where,
                f"is a {resource}, which portal does not import yet; nothing was imported",
                hint="Report the file's kind to portal's authors, or import a file without it.",
            )

    def customer(self) -> Iterator[FilePage]:
        for where, entry in self.customers:
            item = {"Customer": entry, "ServiceLocation": self.locations}
            yield FilePage("customer", [item], locators=[where])

    def _block(self, entry: dict[str, Any], href: str, where: str) -> FilePage:
        reading_href = href.split("/IntervalBlock", 1)[0]
        meter_reading = self.meter_readings.get(reading_href)
        if meter_reading is None:
            raise BadFile(self.path, where, f"belongs to MeterReading {reading_href!r}, which"
                          " the file does not hold")  # fmt: skip
        type_href = espi.link(meter_reading, "related", "ReadingType/") or ""
        reading_type = self.reading_types.get(type_href)
        if reading_type is None:
            raise BadFile(
                self.path,
                where,
                f"has readings whose ReadingType {type_href!r} the file does not hold, so"
                " their unit is unknown",
            )
        point = self._point(self._point_href(meter_reading, where))
        meter = items.meter_reading_id(meter_reading)
        found = list(items.reading_items(point, meter, reading_type, entry))
        stream = items.readings_stream(point, meter)
        return FilePage(
            stream,
            found,
            locators=[f"{where}, IntervalReading {i}" for i in range(1, len(found) + 1)],
        )

    def _point_href(self, entry: dict[str, Any], where: str) -> str:
        """The UsagePoint an entry belongs to, from its self link or else its up link.

        ESPI 1.1 files link a summary as ``RetailCustomer/1/ElectricPowerUsageSummary/1``,
        under the customer, with only its ``up`` link under the UsagePoint.
        """
        found = self._points_named(entry)
        href = next((h for h in found if h in self.points), None)
        if href is None:
            named = repr(found[0]) if found else "no UsagePoint"
            raise BadFile(self.path, where, f"belongs to {named}, which the file does not hold")
        return href

    @staticmethod
    def _points_named(entry: dict[str, Any]) -> list[str]:
        hrefs = [espi.link(entry, "self") or "", espi.link(entry, "up") or ""]
        return [m.group(1) for h in hrefs if (m := _POINT.match(h))]

    def _point(self, href: str) -> dict[str, str]:
        point = self.points[href]
        local_time = self.local_times.get(espi.link(point, "related", "LocalTime") or "")
        return items.usage_point_context(point, local_time)

    def _currency(self, point: str) -> str | None:
        """The currency of the point's summaries that name none, as the sync finds it: from
        the ReadingTypes of the point's MeterReadings, in the order the file lists them."""
        return items.summary_currency(
            self.reading_types.get(espi.link(reading, "related", "ReadingType/") or "", {})
            for reading in self.meter_readings.values()
            if point in self._points_named(reading)
        )
