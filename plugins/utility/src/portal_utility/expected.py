"""What each resource Demo Energy serves must say in the customer's record, field by field.

The sandbox's side of the conformance suite's ``values`` check (``Sandbox.expected_records``):
the Data Custodian's double states the meaning of its own resources as NAESB ESPI (REQ.21)
defines it, from the entries exactly as served. Nothing here comes from the plugin's
mapping; the words for a code are ESPI's published code lists (``portal_utility.labels``).

How ESPI values read: a time (TimeType) is seconds since the epoch, an instant stored in
UTC; a day is the London day such an instant falls in (Demo Energy bills London days, and
a period's end is the midnight after its last day); money is an integer count of 10^-5 of
the currency, named by its ISO 4217 numeric code; a reading is an integer in its
ReadingType's ``uom`` times ten to ``powerOfTenMultiplier``, Wh recorded as kWh. Fields with
no column of their own are stated as ``extra.<key>``: the Atom envelope as ``entry``, and
the elements the record has no column for, as served (links as paths: a raw item keeps
them without the host, which moves with the sandbox's port); the words a plugin adds
beside a code kept there (``<code>_label``) are legibility's to judge, not stated here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from portal.record.extra import rest
from portal.record.vocab import State
from portal_utility import expected_customer as of_customer
from portal_utility import labels
from portal_utility.customer import METERS, Meter
from portal_utility.feeds import Entry
from portal_utility.resources import Resources
from portal_utility.served import (
    as_read,
    delivery,
    envelope,
    extra,
    instant,
    london_day,
    money,
    resource_id,
    state,
)

Expected = dict[str, dict[str, dict[str, Any]]]

CURRENCIES = {"826": "GBP", "840": "USD", "978": "EUR"}
"""ISO 4217 numeric codes (ESPI's ``currency``) of the currencies Demo Energy bills in."""
_UNITS = {"72": (-3, "kWh"), "42": (0, "m3")}
"""UnitSymbolKind to (power of ten into the record's unit, the record's unit)."""

Serve = Callable[[Entry], Entry | None]
"""An entry as the sandbox's variant serves it (None: not served)."""


def expected(resources: Resources, serve: Serve) -> Expected:
    """Every served resource's expected record, ``{category: {provider id: {field: value}}}``.

    ``resources`` are the sandbox's, at its current address and clock; ``serve`` gives each
    entry as served.
    """
    utility = resources.utility
    out = of_customer.records(resources)
    out |= {"usage": {}, "bills": {}}
    # A delivery point names the agreement it is supplied under by the agreement's number.
    agreements = {
        entry["content"]["agreementId"]: entry
        for entry in map(as_read, resources.customer_entries())
        if entry["resource"] == "CustomerAgreement"
    }
    served_time = serve(resources.local_time())
    local_time = as_read(served_time) if served_time else None
    for meter in METERS:
        point = as_read(serve(resources.usage_point(meter)))
        supplied_under = agreements.get(delivery(point["content"]).get("customerAgreement", ""))
        up = f"usage-point:{meter.usage_point}"
        out["accounts"][up] = _usage_point(point, local_time, supplied_under)
        reading_type = serve(resources.reading_type(meter))
        assert reading_type is not None  # every variant serves ReadingTypes
        kinds = as_read(reading_type)["content"]
        for day in utility.days():
            block = serve(resources.block(meter, day))
            if block is not None:
                out["usage"] |= _readings(meter, up, kinds, as_read(block))
        for first, last in utility.periods():
            summary = serve(resources.summary(meter, first, last))
            if summary is not None:
                read = as_read(summary)
                number = resource_id(read)
                out["bills"][f"{meter.usage_point}:{number}"] = _bill(up, number, read)
    return out


# -- usage ------------------------------------------------------------------------------


def _usage_point(
    entry: dict[str, Any], local_time: dict[str, Any] | None, agreement: dict[str, Any] | None
) -> dict[str, Any]:
    content = entry["content"]
    kind = content["ServiceCategory"]["kind"]
    supply = labels.SERVICE_KINDS[kind]
    point = delivery(content)
    number = point.get("name")
    account_type = labels.SUPPLY_TYPES[kind]
    identifiers = []
    if number:
        scheme, label = {
            "0": ("mpan", "Electricity supply number (MPAN)"),
            "1": ("mprn", "Gas meter point reference (MPRN)"),
        }[kind]
        identifiers.append(
            {"scheme": scheme, "scheme_label": label, "identification": number, "name": None}
        )
    if point.get("customerAgreement"):
        identifiers.append(
            {
                "scheme": "agreement",
                "scheme_label": "Supply agreement number",
                "identification": point["customerAgreement"],
                "name": None,
            }
        )
    status = content.get("status")
    return {
        "name": f"{supply} supply {number}" if number else entry["title"],
        "account_type": account_type,
        "account_type_label": labels.ACCOUNT_TYPES[account_type],
        "status": status,
        "status_label": labels.USAGE_POINT_STATUSES[status] if status else None,
        "state": state("usage_point", status),
        # The agreement the point is supplied under says what currency it is billed in.
        "currency": agreement["content"].get("currency") if agreement else None,
        "opened_on": None,
        "identifiers": identifiers,
        "extra.entry": envelope(entry),
        "extra.agreement": envelope(agreement) if agreement else None,
        "extra.local_time": envelope(local_time) if local_time else None,
        "extra.service_kind": kind,
        **extra(rest(content, ["ServiceCategory", "status"])),
        "extra.LocalTimeParameters": local_time["content"] if local_time else None,
    }


def _quantity(value: str, reading_type: Mapping[str, Any]) -> tuple[Decimal, str]:
    shift, unit = _UNITS[reading_type["uom"]]
    power = int(reading_type.get("powerOfTenMultiplier") or 0)
    return Decimal(int(value)).scaleb(power + shift), unit


def _readings(
    meter: Meter, up: str, reading_type: dict[str, Any], block: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The expected Usage of each IntervalReading of one served IntervalBlock."""
    out = {}
    block_id = resource_id(block)
    start = int(block["content"]["interval"]["start"])
    length = int(reading_type["intervalLength"])
    kind, kind_label = labels.USAGE_KINDS[meter.service_kind]
    default = reading_type.get("defaultQuality") or "0"  # no ReadingQuality: it passed
    flow = reading_type.get("flowDirection", "")
    for position, raw in enumerate(block["content"]["IntervalReading"]):
        period = raw.get("timePeriod") or {}
        begins = int(period["start"]) if period else start + position * length
        qualities = raw.get("ReadingQuality") or [{"quality": default}]
        quality = qualities[0]["quality"]
        amount, unit = _quantity(raw["value"], reading_type)
        out[f"{meter.usage_point}:{meter.meter_reading}:{begins}"] = {
            "account_id": up,
            "kind": kind,
            "kind_label": kind_label,
            "started_at": instant(str(begins)),
            "duration_seconds": int(period["duration"]) if period else length,
            "quantity": amount,
            "unit": unit,
            "quality": quality,
            "quality_label": labels.QUALITY[quality],
            "meter_id": meter.supply_number,
            "direction": None,
            "counterparty": None,
            "roaming": None,
            "country": None,
            "charge": None,
            "currency": None,
            "extra.interval_block": block_id,
            "extra.flow_direction": flow,
            "extra.reading_type": reading_type,
            **({"extra.ReadingQuality": qualities} if len(qualities) > 1 else {}),
            **extra(rest(raw, ["timePeriod", "value", "ReadingQuality", "cost"])),
        }
    return out


_LINE_FIELDS = ("itemKind", "itemPeriod", "measurement", "note", "amount")


def _bill(up: str, number: str, entry: dict[str, Any]) -> dict[str, Any]:
    content = entry["content"]
    start = int(content["billingPeriod"]["start"])
    end = start + int(content["billingPeriod"]["duration"])
    overall = content["overallConsumptionLastPeriod"]
    used, unit = _quantity(overall["value"], overall)
    quality = content.get("qualityOfReading")
    return {
        "account_id": up,
        "bill_number": number,
        "issued_on": london_day(content.get("statusTimeStamp") or end),
        "due_on": None,
        "period_start": london_day(start),
        # A period ends at the midnight after its last day.
        "period_end": london_day(end) - timedelta(days=1),
        "total": money(content["billLastPeriod"]),
        "currency": CURRENCIES[content["currency"]],
        "status": "issued",
        "status_label": "Issued (Green Button does not say whether it is paid)",
        "state": State.issued,  # a summary of a period: nothing says it is paid or due
        "lines": [_line(line) for line in content["costAdditionalDetailLastPeriod"]],
        "extra.entry": envelope(entry),
        "extra.consumption": {"quantity": str(used), "unit": unit},
        "extra.quality": quality,
        **extra(
            rest(
                content,
                [
                    "billingPeriod",
                    "billLastPeriod",
                    "currency",
                    "statusTimeStamp",
                    "qualityOfReading",
                    *(f"costAdditionalDetailLastPeriod[].{f}" for f in _LINE_FIELDS),
                ],
            )
        ),
    }


def _line(line: dict[str, Any]) -> dict[str, Any]:
    kind = line["itemKind"]
    period = line["itemPeriod"]
    first = london_day(period["start"])
    last = london_day(int(period["start"]) + int(period["duration"])) - timedelta(days=1)
    quantity: Decimal | None = None
    unit: str | None = None
    if line.get("measurement"):
        quantity, unit = _quantity(line["measurement"]["value"], line["measurement"])
    elif kind == "2":  # a standing charge is a price per day: the days it covers
        quantity, unit = Decimal((last - first).days + 1), "day"
    return {
        "description": line.get("note") or labels.ITEM_KINDS[kind],
        "amount": money(line["amount"]),
        "category_code": kind,
        "category_label": labels.ITEM_KINDS[kind],
        "quantity": quantity,
        "unit": unit,
        "period_start": first,
        "period_end": last,
    }
