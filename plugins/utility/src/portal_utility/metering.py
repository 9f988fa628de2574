"""ESPI usage mapped to the record: supply points, interval readings, usage summaries (bills).

ESPI counts time in seconds since the epoch and money in 10^-5 of the currency unit; a
reading's value is an integer in the ReadingType's unit times ten to its
``powerOfTenMultiplier``. Everything here is exact: Decimal ``scaleb``, never a float.
Local dates (a bill's period) come from the usage point's LocalTimeParameters. What ESPI
leaves optional (``portal_utility.rules``) may be absent; what portal cannot read without
(a reading's time or value, a bill's period or currency) is rejected with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pycountry

from portal.errors import SkippableError
from portal.record import (
    Account,
    AccountIdentifier,
    Bill,
    BillLine,
    Entity,
    Origin,
    Unit,
    Usage,
)
from portal.record.extra import rest
from portal.record.vocab import State, state_of
from portal_utility import labels
from portal_utility.espi import link, resource_id
from portal_utility.items import delivery_point
from portal_utility.units import measurement, quantity

Ref = Callable[[type[Entity], str], str]
ENTRY_FIELDS = ("id", "title", "published", "updated", "links", "resource")
"""The Atom envelope of an entry, kept in ``extra`` as ``entry``."""


def envelope(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's Atom envelope (id, title, dates, links)."""
    return {k: entry[k] for k in ENTRY_FIELDS if k in entry}


def moment(seconds: str) -> datetime:
    """An ESPI TimeType (seconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(int(seconds), UTC)


def local_day(seconds: int, point: dict[str, str]) -> date:
    """The local date an ESPI boundary (a local midnight) starts.

    Shifting by the standard offset plus the DST offset lands inside the right local day
    whether or not summer time is in force at that midnight, so no DST rule is needed.
    Without LocalTimeParameters the offsets are unknown; a local midnight anywhere from
    UTC-12 to UTC+12 is then nearest to the UTC midnight of its own date, so that is taken.
    """
    if point.get("tzOffset", "") == "":
        return moment(str(seconds + 12 * 3600)).date()
    shift = int(point.get("tzOffset") or 0) + int(point.get("dstOffset") or 0)
    return moment(str(seconds + shift)).date()


def currency(numeric: str) -> str:
    """An ISO 4217 numeric code (ESPI's) as the alphabetic one."""
    found = pycountry.currencies.get(numeric=numeric.zfill(3))
    if found is None:
        raise SkippableError(f"currency {numeric!r} is not an ISO 4217 numeric code")
    return str(found.alpha_3)


def money(value: str) -> Decimal:
    """ESPI money (an integer count of 10^-5 of the unit) as an exact amount."""
    return Decimal(int(value)).scaleb(-5)


def usage_point(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A UsagePoint (with its LocalTimeParameters) to a supply-point Account."""
    entry = item["UsagePoint"]
    content = entry["content"]
    kind = (content.get("ServiceCategory") or {}).get("kind", "")
    delivery = delivery_point(content)
    supply = labels.label(labels.SERVICE_KINDS, kind, "service")
    account_type = labels.SUPPLY_TYPES.get(kind, "supply_point")
    number = delivery.get("name")
    identifiers = []
    if number:
        scheme = "mpan" if kind == "0" else "mprn" if kind == "1" else "supply_number"
        scheme_label = {
            "mpan": "Electricity supply number (MPAN)",
            "mprn": "Gas meter point reference (MPRN)",
        }.get(scheme, "Supply number")
        identifiers.append(
            AccountIdentifier(scheme=scheme, scheme_label=scheme_label, identification=number)
        )
    if delivery.get("customerAgreement"):
        identifiers.append(
            AccountIdentifier(
                scheme="agreement",
                scheme_label="Supply agreement number",
                identification=delivery["customerAgreement"],
            )
        )
    status = content.get("status")
    local_time = item.get("LocalTimeParameters")
    agreement = item.get("CustomerAgreement")
    return [
        Account(
            provider_id=f"usage-point:{resource_id(link(entry, 'self') or entry['id'])}",
            origin=Origin.observed,
            name=f"{supply} supply {number}" if number else entry.get("title") or supply,
            account_type=account_type,
            account_type_label=labels.label(labels.ACCOUNT_TYPES, account_type, "account type"),
            status=status,
            status_label=labels.label(labels.USAGE_POINT_STATUSES, status, "status")
            if status
            else None,
            state=state_of(labels.USAGE_POINT_STATES, status) if status else None,
            # The agreement this point is supplied under says what currency it is billed in.
            currency=agreement["content"].get("currency") if agreement else None,
            identifiers=identifiers,
            extra={
                "entry": envelope(entry),
                "agreement": envelope(agreement) if agreement else None,
                "local_time": envelope(local_time) if local_time else None,
                "service_kind": kind,
                "service_kind_label": supply,
                **rest(content, ["ServiceCategory", "status"]),
                "LocalTimeParameters": local_time["content"] if local_time else None,
            },
        )
    ]


def reading(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One IntervalReading, read with its ReadingType, to a Usage."""
    point, reading_type, raw = item["UsagePoint"], item["ReadingType"], item["IntervalReading"]
    start, duration = _reading_time(item)
    if not isinstance(raw, dict) or "value" not in raw:
        raise SkippableError(
            f"an IntervalReading of IntervalBlock {item.get('IntervalBlock')} has no value"
        )
    amount, unit = quantity(
        raw["value"], reading_type.get("uom", ""), reading_type.get("powerOfTenMultiplier", "0")
    )
    # Without ReadingQuality a reading has the ReadingType's default quality, else is valid.
    default = reading_type.get("defaultQuality") or "0"
    qualities = raw.get("ReadingQuality") or [{"quality": default}]
    quality = qualities[0].get("quality", default)
    kind, kind_label = labels.USAGE_KINDS.get(point["kind"], ("energy", "Energy used"))
    cost, cost_currency = raw.get("cost"), reading_type.get("currency")
    flow = reading_type.get("flowDirection", "")
    priced = bool(cost and cost_currency)
    return [
        Usage(
            provider_id=f"{point['id']}:{item['MeterReading']}:{start}",
            account_id=ref(Account, f"usage-point:{point['id']}"),
            origin=Origin.observed,
            kind=kind,
            kind_label=kind_label,
            started_at=moment(str(start)),
            duration_seconds=duration,
            quantity=amount,
            unit=unit,
            quality=quality,
            quality_label=labels.label(labels.QUALITY, quality, "reading quality"),
            meter_id=point.get("supply_number") or None,
            charge=money(str(cost)) if priced else None,
            currency=currency(cost_currency) if priced else None,
            extra={
                "interval_block": item.get("IntervalBlock"),
                "flow_direction": flow,
                "flow_direction_label": labels.label(labels.FLOW_DIRECTIONS, flow, "direction"),
                "reading_type": reading_type,
                **({"ReadingQuality": qualities} if len(qualities) > 1 else {}),
                **(
                    {"cost": cost, "cost_note": "The ReadingType names no currency for it."}
                    if cost and not priced
                    else {}
                ),
                **rest(raw, ["timePeriod", "value", "ReadingQuality", "cost"]),
            },
        )
    ]


def _reading_time(item: dict[str, Any]) -> tuple[int, int | None]:
    """A reading's start and duration: its timePeriod, or its place in the block."""
    period = (item["IntervalReading"] or {}).get("timePeriod") or {}
    if period.get("start"):
        return int(period["start"]), int(period["duration"]) if period.get("duration") else None
    length = item["ReadingType"].get("intervalLength")
    block = item.get("interval") or {}
    if "position" not in item or not length or not block.get("start"):
        raise SkippableError(
            f"an IntervalReading of IntervalBlock {item.get('IntervalBlock')} has no timePeriod,"
            " and its block's interval start or its ReadingType's intervalLength is missing,"
            " so when it was measured is unknown"
        )
    return int(block["start"]) + int(item["position"]) * int(length), int(length)


def summary(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A UsageSummary (a billing period's consumption and charges) to a Bill."""
    point, entry = item["UsagePoint"], item["UsageSummary"]
    content = entry["content"]
    number = resource_id(link(entry, "self") or entry["id"])
    period = content.get("billingPeriod") or {}
    if not period.get("start") or not period.get("duration"):
        raise SkippableError(
            f"UsageSummary {number} has no billingPeriod (ESPI allows that), so which days"
            " it bills is unknown and it cannot be a bill"
        )
    start = int(period["start"])
    end = start + int(period["duration"])
    found = content.get("costAdditionalDetailLastPeriod", [])
    # ESPI lets a LineItem leave out its amount: such a line is kept, but not as a charge.
    unpriced = [line for line in found if not (isinstance(line, dict) and line.get("amount"))]
    unread: list[Any] = []  # measurements in units portal does not record, kept as served
    lines = [_line(line, point, unread) for line in found if line not in unpriced]
    total, derived = _total(content, lines, number)
    code = content.get("currency") or item.get("ReadingTypeCurrency")
    if not code:
        raise SkippableError(
            f"UsageSummary {number} names no currency and no ReadingType of its usage point"
            " does, so its amounts cannot be given one"
        )
    overall = measurement(content.get("overallConsumptionLastPeriod"))
    consumption = {"quantity": str(overall[0]), "unit": overall[1].value} if overall else None
    quality = content.get("qualityOfReading")
    return [
        Bill(
            provider_id=f"{point['id']}:{number}",
            account_id=ref(Account, f"usage-point:{point['id']}"),
            origin=Origin.observed,
            bill_number=number,
            issued_on=local_day(int(content.get("statusTimeStamp") or end), point),
            period_start=local_day(start, point),
            period_end=local_day(end, point) - timedelta(days=1),
            total=total,
            currency=currency(code),
            status="issued",
            status_label="Issued (Green Button does not say whether it is paid)",
            state=State.issued,
            lines=lines,
            extra={
                "entry": envelope(entry),
                "consumption": consumption,
                "quality": quality,
                "quality_label": labels.label(labels.QUALITY, quality, "quality")
                if quality
                else None,
                **({"total_derived": derived} if derived else {}),
                **({"unpriced_lines": unpriced} if unpriced else {}),
                **({"unread_measurements": unread} if unread else {}),
                **rest(
                    content,
                    [
                        "billingPeriod",
                        "billLastPeriod",
                        *(f"costAdditionalDetailLastPeriod[].{f}" for f in _LINE_FIELDS),
                        "currency",
                        "statusTimeStamp",
                        "qualityOfReading",
                    ],
                ),
            },
        )
    ]


def _total(content: dict[str, Any], lines: list[BillLine], number: str) -> tuple[Decimal, str]:
    """The bill's total, and how it was found when the summary does not state it."""
    if content.get("billLastPeriod"):
        return money(content["billLastPeriod"]), ""
    if lines:
        return (
            sum((line.amount for line in lines), Decimal(0)),
            "The sum of the lines: the summary states no billLastPeriod (ESPI allows that).",
        )
    raise SkippableError(
        f"UsageSummary {number} states neither billLastPeriod nor any priced line, so the"
        " amount billed is unknown"
    )


_LINE_FIELDS = ("itemKind", "itemPeriod", "measurement", "note", "amount")
"""What a bill line maps of a LineItem; the rest (unit cost, rounding...) stays in extra."""


def _line(line: dict[str, Any], point: dict[str, str], unread: list[Any]) -> BillLine:
    kind = line.get("itemKind", "")
    period = line.get("itemPeriod") or {}
    first = last = None
    if period.get("start"):
        start = int(period["start"])
        first = local_day(start, point)
        last = local_day(start + int(period.get("duration") or 0), point) - timedelta(days=1)
    amount: Decimal | None = None
    unit: Unit | None = None
    measured = measurement(line.get("measurement"))
    if measured is not None:
        amount, unit = measured
    elif line.get("measurement"):
        unread.append(line["measurement"])
    elif kind == "2" and first and last:  # a standing charge: priced per day
        amount, unit = Decimal((last - first).days + 1), Unit.day
    label = labels.label(labels.ITEM_KINDS, kind, "charge")
    return BillLine(
        description=line.get("note") or label,
        amount=money(line["amount"]),
        category_code=kind or None,
        category_label=label if kind else None,
        quantity=amount,
        unit=unit,
        period_start=first,
        period_end=last,
    )
