"""How Demo Telecom prices a call, a text or a data session, and how a bill adds them up.

Calls are charged per minute started, data per megabyte (10^6 bytes) started, texts each;
in the Europe zone the first use of each day buys a day's roaming pass and the rest of the
day is covered by it. A bill's usage lines are the sums of its period's rated usage by
tariff, so the bill reconciles with the usage, and its amount due is the sum of its lines.
Everything here is Decimal; the TMF JSON numbers are written only at the edge (``money``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_telco.customer import (
    LANDLINE,
    LONDON,
    MOBILE_ID,
    MSISDN,
    PREMIUM,
    RATES,
    SHORT_CODES,
    US_NUMBERS,
    VAT,
    at,
    local,
    money,
    pounds,
    ref,
    utc,
    without_vat,
)

ZERO = Decimal("0.00")
RATES_PATH = "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
_FOR_A_PERIOD = ("recurringCharge", "appliedBillingCredit")
"""Charges that pay for a period carry its coverage; usage and one-off charges are for events."""
SPECIFICATIONS = {
    "voice": ("voice-call", "Voice call"),
    "sms": ("sms", "Text message"),
    "data": ("data-session", "Mobile data session"),
}


@dataclass
class Event:
    """One call, text or data session before it becomes a TMF635 Usage."""

    when: datetime
    kind: str
    direction: str
    other: str | None
    product_id: str
    country: str
    zone: str
    network: str
    order: float = 0.0
    seconds: int | None = None
    volume: int | None = None
    tariff: str = "included"
    charge: Decimal = ZERO


@dataclass(frozen=True)
class Charge:
    """One applied charge of a bill, VAT included, before it becomes a TMF678 rate."""

    kind: str
    product_id: str
    name: str
    amount: Decimal
    quantity: int
    unit: str = "month"


def _tariff(event: Event) -> str:
    outgoing = event.direction == "outgoing"
    if event.product_id != MOBILE_ID:  # the home phone, on the broadband contract
        return "landlineMobile" if event.other and event.other.startswith("+447") else "landlineUk"
    if event.zone == "world":
        if event.kind == "voice":
            return "roamingWorldCall" if outgoing else "roamingWorldAnswer"
        if event.kind == "sms":
            return "roamingWorldSms" if outgoing else "included"
        return "roamingWorldData"
    if event.zone == "europe":
        return "roamingIncluded"  # the day's first use is switched to the pass afterwards
    if not outgoing or event.kind == "data":
        return "included"
    if event.other in PREMIUM:
        return "premiumRate"
    if event.other in US_NUMBERS:
        return "international" if event.kind == "voice" else "internationalSms"
    if event.other in SHORT_CODES:
        return "shortCode"
    return "included"


def quantity(event: Event, tariff: str) -> int:
    """How many of the tariff's units the event used: minutes started, MB started, or one."""
    unit = RATES[tariff][1] if tariff in RATES else None
    if unit == "minute":
        return math.ceil((event.seconds or 0) / 60)
    if unit == "MB":
        return math.ceil((event.volume or 0) / 1_000_000)
    return 1


def rate_all(events: list[Event]) -> None:
    """Price every event, in time order; the first European use of a day buys that day's pass."""
    passes: set[date] = set()
    for event in events:
        event.tariff = _tariff(event)
        if event.tariff == "roamingIncluded":
            day = event.when.astimezone(LONDON).date()
            # Receiving a text abroad is free and does not start a day's pass.
            if day not in passes and not (event.kind == "sms" and event.direction == "incoming"):
                passes.add(day)
                event.tariff = "roamingDailyPass"
        if event.tariff in RATES:
            event.charge = pounds(RATES[event.tariff][0] * quantity(event, event.tariff))
        else:
            event.charge = ZERO


def _characteristic(name: str, value: Any) -> dict[str, Any]:
    kinds = {bool: "boolean", int: "integer", str: "string"}
    return {"name": name, "valueType": kinds[type(value)], "value": value}


def usage_item(usage_id: str, event: Event) -> dict[str, Any]:
    """A TMF635 Usage, rated but not yet billed."""
    served = MSISDN if event.product_id == MOBILE_ID else LANDLINE
    spec_id, spec_name = SPECIFICATIONS[event.kind]
    characteristics = [
        _characteristic("servedNumber", served),
        _characteristic("direction", event.direction),
    ]
    if event.other:
        characteristics.append(_characteristic("otherParty", event.other))
    if event.seconds is not None:
        characteristics.append(_characteristic("duration", event.seconds))
    if event.volume is not None:
        characteristics.append(_characteristic("dataVolume", event.volume))
    characteristics += [
        _characteristic("roaming", event.zone != "home"),
        _characteristic("visitedCountry", event.country),
        _characteristic("roamingZone", event.zone),
        _characteristic("servingNetwork", event.network),
    ]
    charged = event.charge != ZERO
    return {
        "id": usage_id,
        "href": f"/tmf-api/usageManagement/v4/usage/{usage_id}",
        "description": _describe(event),
        "usageDate": utc(event.when),
        "usageType": event.kind,
        "status": "rated",
        "usageSpecification": {
            "id": spec_id,
            "href": f"/tmf-api/usageManagement/v4/usageSpecification/{spec_id}",
            "name": spec_name,
        },
        "usageCharacteristic": characteristics,
        "ratedProductUsage": [
            {
                "ratingDate": utc(event.when + timedelta(seconds=(event.seconds or 0) + 7)),
                "usageRatingTag": "usage" if charged else "includedUsage",
                "isBilled": False,
                "ratingAmountType": "total",
                "taxIncludedRatingAmount": money(event.charge),
                "taxExcludedRatingAmount": money(without_vat(event.charge)),
                "taxRate": float(VAT * 100),
                "isTaxExempt": False,
                "offerTariffType": event.tariff,
                "productRef": {
                    "id": event.product_id,
                    "href": f"/tmf-api/productInventory/v4/product/{event.product_id}",
                },
            }
        ],
        "@type": "Usage",
    }


def _describe(event: Event) -> str:
    if event.kind == "data":
        return f"Data session, {event.volume / 1_000_000:.1f} MB" if event.volume else "Data"
    what = "Call" if event.kind == "voice" else "Text"
    return f"{what} {'to' if event.direction == 'outgoing' else 'from'} {event.other}"


def local_day(item: dict[str, Any]) -> date:
    """The London date a usage item happened on (bills are cut on London days)."""
    return datetime.fromisoformat(item["usageDate"]).astimezone(LONDON).date()


def mark_billed(item: dict[str, Any]) -> None:
    """The usage item has been put on an issued bill."""
    item["status"] = "billed"
    item["ratedProductUsage"][0]["isBilled"] = True


def usage_charges(items: Iterable[dict[str, Any]]) -> list[Charge]:
    """One bill line per charged tariff: its quantity in the tariff's unit and its total."""
    totals: dict[str, tuple[Decimal, int, str]] = {}
    for item in items:
        rated = item["ratedProductUsage"][0]
        amount = Decimal(str(rated["taxIncludedRatingAmount"]["value"]))
        tariff = rated["offerTariffType"]
        if amount == ZERO:
            continue
        total, count, product = totals.get(tariff, (ZERO, 0, rated["productRef"]["id"]))
        totals[tariff] = (total + amount, count + _units(item, tariff), product)
    return [
        Charge("usageCharge", product, RATES[t][2], amount, count, unit=RATES[t][1])
        for t, (amount, count, product) in sorted(
            totals.items(), key=lambda kv: list(RATES).index(kv[0])
        )
    ]


def _units(item: dict[str, Any], tariff: str) -> int:
    values = {c["name"]: c["value"] for c in item["usageCharacteristic"]}
    unit = RATES[tariff][1]
    if unit == "minute":
        return math.ceil(values["duration"] / 60)
    if unit == "MB":
        return math.ceil(values["dataVolume"] / 1_000_000)
    return 1


def customer_bill(
    bill_id: str,
    product: dict[str, Any],
    start: date,
    end: date,
    issued: date,
    charges: list[Charge],
    settled: bool,
    first_rate: int,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A TMF678 CustomerBill and its AppliedCustomerBillingRates; amountDue = sum of charges."""
    account = product["billingAccount"]
    period = {"startDateTime": local(at(start, 0)), "endDateTime": local(at(end, 23, 59, 59))}
    bill_ref = {"id": bill_id, "href": f"/tmf-api/customerBillManagement/v4/customerBill/{bill_id}"}
    rates = []
    for n, charge in enumerate(charges, first_rate + 1):
        excluded = without_vat(charge.amount)
        rates.append(
            {
                "id": f"ACBR-{n:06d}",
                "href": f"{RATES_PATH}/ACBR-{n:06d}",
                "name": charge.name,
                "date": local(at(issued, 6)),
                "type": charge.kind,
                "isBilled": True,
                "bill": bill_ref,
                "billingAccount": account,
                "product": {
                    "id": charge.product_id,
                    "href": f"/tmf-api/productInventory/v4/product/{charge.product_id}",
                },
                **({"periodCoverage": period} if charge.kind in _FOR_A_PERIOD else {}),
                "characteristic": [
                    _characteristic("quantity", charge.quantity),
                    _characteristic("unitOfMeasure", charge.unit),
                ],
                "taxExcludedAmount": money(excluded),
                "taxIncludedAmount": money(charge.amount),
                "appliedTax": [
                    {
                        "taxCategory": "VAT",
                        "taxRate": float(VAT * 100),
                        "taxAmount": money(charge.amount - excluded),
                    }
                ],
                "@type": "AppliedCustomerBillingRate",
            }
        )
    due = sum((c.amount for c in charges), ZERO)
    excluded = sum((without_vat(c.amount) for c in charges), ZERO)
    bill = {
        "id": bill_id,
        "href": bill_ref["href"],
        "billNo": f"{account['id'][3:]}-{end:%y%m}",
        "billDate": local(at(issued, 6)),
        "lastUpdate": local(at(issued + timedelta(days=14 if settled else 0), 6)),
        "paymentDueDate": local(at(issued + timedelta(days=14), 0)),
        "category": "normal",
        "runType": "onCycle",
        "state": "settled" if settled else "sent",
        "amountDue": money(due),
        "remainingAmount": money(ZERO if settled else due),
        "taxExcludedAmount": money(excluded),
        "taxIncludedAmount": money(due),
        "taxItem": [
            {"taxCategory": "VAT", "taxRate": float(VAT * 100), "taxAmount": money(due - excluded)}
        ],
        "billingAccount": account,
        "billingPeriod": period,
        "paymentMethod": ref("BankAccountDebit", "PM-2209741", "paymentMethods/v4/paymentMethod"),
        "@type": "CustomerBill",
    }
    return bill, rates


__all__ = [
    "Charge",
    "Event",
    "customer_bill",
    "local_day",
    "mark_billed",
    "rate_all",
    "usage_charges",
    "usage_item",
]
