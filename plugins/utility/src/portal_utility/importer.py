"""Green Button *Download My Data* files: the same ESPI feed, read from disk.

A Download My Data file is the Batch/Subscription feed a utility's website offers as an
XML download. It is read with the same parser as Connect My Data (``portal_utility.espi``:
defusedxml, no entities, no DTD) and turned into the same raw items (``portal_utility.items``),
so ``normalise`` cannot tell a file from a fetch. The hierarchy is rebuilt from each entry's
``self`` link (``.../UsagePoint/1/MeterReading/1/IntervalBlock/7``), since a file may list a
ReadingType after the MeterReading that links it, but always before that meter's readings.

Records are filed under the ``greenbutton`` provider, not Demo Energy's: a file can come
from any utility in the world.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from portal.importing import BadFile, FilePage
from portal_utility import espi, items

USAGE_SUMMARIES = ("UsageSummary", "ElectricPowerUsageSummary")
"""ESPI 1.1 names the summary ElectricPowerUsageSummary; later versions UsageSummary."""
CUSTOMER_RESOURCES = ("CustomerAccount", "CustomerAgreement")


def sniff(head: bytes, filename: str) -> bool:
    """An Atom feed or entry holding ESPI resources."""
    return espi.ESPI.encode() in head and (b"<feed" in head or b"<entry" in head)


def read(path: Path) -> Iterator[FilePage]:
    """The file's raw items, page by page, each item with the entry it came from."""
    reader = _Reader(path)
    with path.open("rb") as source:
        try:
            for number, entry in enumerate(espi.entries(source, "the file"), 1):
                yield from reader.entry(number, items.portable(entry))
        except espi.FeedError as error:
            raise BadFile(path, None, error.message.removeprefix("the file").lstrip(": ")) from None
    yield from reader.customer()


class _Reader:
    """What has been seen so far: the context the next entries need."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.local_times: dict[str, dict[str, Any]] = {}
        self.points: dict[str, dict[str, Any]] = {}
        self.meter_readings: dict[str, dict[str, Any]] = {}
        self.reading_types: dict[str, dict[str, Any]] = {}
        self.customers: list[tuple[str, dict[str, Any]]] = []
        self.locations: list[dict[str, Any]] = []

    def entry(self, number: int, entry: dict[str, Any]) -> Iterator[FilePage]:
        resource = entry["resource"]
        href = espi.link(entry, "self") or ""
        where = f"entry {number} ({resource})"
        if resource == "LocalTimeParameters":
            self.local_times[href] = entry
        elif resource == "ReadingType":
            self.reading_types[href] = entry["content"]
        elif resource == "MeterReading":
            self.meter_readings[href] = entry
        elif resource == "UsagePoint":
            self.points[href] = entry
            local_time = self.local_times.get(espi.link(entry, "related", "/LocalTime") or "")
            item = {"UsagePoint": entry, "LocalTimeParameters": local_time}
            yield FilePage("usage_points", [item], locators=[where])
        elif resource == "IntervalBlock":
            yield self._block(entry, href, where)
        elif resource in USAGE_SUMMARIES:
            point = self._point(href, "/UsageSummary/", where)
            yield FilePage("usage_summaries", [items.summary_item(point, entry)], locators=[where])
        elif resource in CUSTOMER_RESOURCES:
            stream = "customer_accounts" if resource == "CustomerAccount" else "agreements"
            yield FilePage(stream, [entry], locators=[where])
        elif resource == "Customer":
            self.customers.append((where, entry))
        elif resource == "ServiceLocation":
            self.locations.append(entry)
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
                          " the file does not hold before it")  # fmt: skip
        type_href = espi.link(meter_reading, "related", "/ReadingType/") or ""
        reading_type = self.reading_types.get(type_href)
        if reading_type is None:
            raise BadFile(
                self.path,
                where,
                f"has readings whose ReadingType {type_href!r} the file does not hold before"
                " them, so their unit is unknown",
            )
        point = self._point(reading_href, "/MeterReading/", where)
        meter = items.meter_reading_id(meter_reading)
        found = list(items.reading_items(point, meter, reading_type, entry))
        stream = items.readings_stream(point, meter)
        return FilePage(
            stream,
            found,
            locators=[f"{where}, IntervalReading {i}" for i in range(1, len(found) + 1)],
        )

    def _point(self, href: str, below: str, where: str) -> dict[str, str]:
        point_href = href.split(below, 1)[0]
        point = self.points.get(point_href)
        if point is None:
            raise BadFile(
                self.path, where, f"belongs to UsagePoint {point_href!r}, which the file does"
                " not hold before it",
            )  # fmt: skip
        local_time = self.local_times.get(espi.link(point, "related", "/LocalTime") or "")
        return items.usage_point_context(point, local_time)
