"""Raw items from ESPI entries: what ``fetch`` (and the Download My Data importer) hand over.

An IntervalReading cannot be read alone: its unit and multiplier are in the ReadingType,
its meter and service in the UsagePoint. Each raw item therefore carries, beside the
resource exactly as released, the small context it needs (``UsagePoint``, ``ReadingType``),
so that ``normalise`` works one item at a time, and a bad reading is rejected alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from portal_utility.espi import link, resource_id

READINGS = "readings"
"""Prefix of the readings streams: ``readings:{usage point}:{meter reading}``."""


def portable(value: Any) -> Any:
    """``value`` with each absolute URL cut to its path and query, for a raw item.

    The host is the provider's API host, known from its declaration; kept in a raw item it
    would make the same resource a different payload on a sandbox's next port, or after a
    provider moves host, and so a re-sync would store it again.
    """
    if isinstance(value, dict):
        return {k: portable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [portable(v) for v in value]
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return urlsplit(value)._replace(scheme="", netloc="").geturl()
    return value


def delivery_point(content: dict[str, Any]) -> dict[str, Any]:
    """A UsagePoint's delivery point: ``serviceDeliveryPoint`` in ESPI 3.3 and 4.0,
    ``ServiceDeliveryPoint`` in ESPI 1.x; optional in both."""
    found = content.get("serviceDeliveryPoint") or content.get("ServiceDeliveryPoint")
    return found if isinstance(found, dict) else {}


def usage_point_context(
    entry: dict[str, Any], local_time: dict[str, Any] | None = None
) -> dict[str, str]:
    """What a reading or summary needs to know about its UsagePoint and its local time.

    Without LocalTimeParameters (a UsagePoint need not link one) the offsets are empty, and
    local dates are read by ``metering.local_day``'s rule for that case.
    """
    content = entry["content"]
    delivery = delivery_point(content)
    offsets = (local_time or {}).get("content", {})
    return {
        "id": resource_id(link(entry, "self") or entry["id"]),
        "kind": (content.get("ServiceCategory") or {}).get("kind", ""),
        "supply_number": delivery.get("name", ""),
        "customerAgreement": delivery.get("customerAgreement", ""),
        "tzOffset": offsets.get("tzOffset", ""),
        "dstOffset": offsets.get("dstOffset", ""),
    }


def agreement_number(entry: dict[str, Any]) -> str:
    """A CustomerAgreement's number: its ``agreementId``, else its resource id. A
    UsagePoint's delivery point names its agreement by it (``customerAgreement``)."""
    return str(
        entry["content"].get("agreementId") or resource_id(link(entry, "self") or entry["id"])
    )


def meter_reading_id(entry: dict[str, Any]) -> str:
    """The id of a MeterReading entry."""
    return resource_id(link(entry, "self") or entry["id"])


def readings_stream(usage_point: dict[str, str], meter_reading: str) -> str:
    """The stream of one MeterReading's interval readings."""
    return f"{READINGS}:{usage_point['id']}:{meter_reading}"


def reading_items(
    usage_point: dict[str, str],
    meter_reading: str,
    reading_type: dict[str, Any],
    block: dict[str, Any],
) -> Iterator[dict[str, Any]]:
    """Each IntervalReading of an IntervalBlock entry, with the context to read it."""
    block_id = resource_id(link(block, "self") or block["id"])
    interval = block["content"].get("interval")
    for position, reading in enumerate(block["content"].get("IntervalReading", [])):
        item: dict[str, Any] = {
            "UsagePoint": usage_point,
            "MeterReading": meter_reading,
            "ReadingType": reading_type,
            "IntervalBlock": block_id,
            "IntervalReading": reading,
        }
        if not isinstance(reading, dict) or "timePeriod" not in reading:
            # ESPI: without a timePeriod, readings follow each other from the block's start
            # at the ReadingType's intervalLength, so the reading's place is its time.
            item["position"] = position
            item["interval"] = interval
        yield item


def summary_currency(reading_types: Iterable[dict[str, Any]]) -> str | None:
    """The currency of a UsagePoint's summaries that name none: ESPI counts them in the
    ReadingType's, so the first of the point's ReadingTypes (in the order served) that
    names one."""
    return next((str(t["currency"]) for t in reading_types if t.get("currency")), None)


def summary_item(
    usage_point: dict[str, str], entry: dict[str, Any], currency: str | None = None
) -> dict[str, Any]:
    """A UsageSummary entry with its UsagePoint.

    ``currency`` is the ReadingType's, added only when the summary names none: ESPI counts
    a summary's amounts in the ReadingType's currency then.
    """
    item: dict[str, Any] = {"UsagePoint": usage_point, "UsageSummary": entry}
    if currency and not entry["content"].get("currency"):
        item["ReadingTypeCurrency"] = currency
    return item
