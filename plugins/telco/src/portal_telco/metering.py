"""TMF678 bills and TMF635 usage mapped to the customer record.

A bill item is a CustomerBill with its AppliedCustomerBillingRates attached under
``appliedCustomerBillingRate`` (TMF678 serves them as two resources; ``fetch`` joins them,
since the record keeps a bill's lines inside the bill). The bills stream is named
``bills:<contract id>``: a bill names its billing account, and fetch knows which contract
each billing account bills.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from portal import SkippableError
from portal.record import Account, Bill, BillLine, Entity, Origin, Unit, Usage
from portal.record.extra import rest
from portal_telco import labels
from portal_telco.values import (
    amount,
    characteristics,
    day,
    leftover_characteristics,
    quantity,
    unit,
)

Ref = Callable[[type[Entity], str], str]
MEGABYTE = Decimal(1_000_000)
"""The record's MB is the SI megabyte, 10^6 bytes."""


def bill(item: dict[str, Any], ref: Ref, contract: str) -> list[Entity]:
    """A TMF678 CustomerBill, with its applied charges as lines, to a Bill."""
    if not contract:
        raise SkippableError("a bill arrived on a stream that names no contract")
    where = f"bill {item.get('id')}"
    # The bill's own charges: amountDue may also carry an unpaid balance brought forward.
    total, currency = amount(item.get("taxIncludedAmount"), f"{where} taxIncludedAmount")
    period = item.get("billingPeriod") or {}
    period_start, period_end = day(period.get("startDateTime")), day(period.get("endDateTime"))
    issued = day(item.get("billDate"))
    if period_start is None or period_end is None or issued is None:
        raise SkippableError(f"{where} has no billDate or billingPeriod")
    rates = item.get("appliedCustomerBillingRate") or []
    return [
        Bill(
            provider_id=item["id"],
            origin=Origin.observed,
            account_id=ref(Account, contract),
            bill_number=item.get("billNo") or item["id"],
            issued_on=issued,
            due_on=day(item.get("paymentDueDate")),
            period_start=period_start,
            period_end=period_end,
            total=total,
            currency=currency,
            status=item["state"],
            status_label=labels.label(labels.BILL_STATES, item["state"], "bill state"),
            lines=[_line(rate, f"{where} rate {rate.get('id')}") for rate in rates],
            extra=rest(
                item,
                [
                    "id",
                    "billNo",
                    "billDate",
                    "paymentDueDate",
                    "billingPeriod",
                    "state",
                    "taxIncludedAmount",
                    "appliedCustomerBillingRate",
                ],
            )
            | {"appliedCustomerBillingRate": [_rate_rest(rate) for rate in rates]},
        )
    ]


def _line(rate: dict[str, Any], where: str) -> BillLine:
    value, _ = amount(rate.get("taxIncludedAmount"), f"{where} taxIncludedAmount")
    kind = rate.get("type") or ""
    counted = characteristics(rate.get("characteristic"))
    coverage = rate.get("periodCoverage") or {}
    return BillLine(
        description=rate.get("name")
        or rate.get("description")
        or labels.CHARGE_TYPES.get(kind, kind),
        amount=value,
        category_code=kind or None,
        category_label=labels.label(labels.CHARGE_TYPES, kind, "charge type") if kind else None,
        quantity=quantity(counted["quantity"], f"{where} quantity")
        if "quantity" in counted
        else None,
        unit=unit(counted["unitOfMeasure"], f"{where} unitOfMeasure")
        if "unitOfMeasure" in counted
        else None,
        period_start=day(coverage.get("startDateTime")),
        period_end=day(coverage.get("endDateTime")),
    )


def _rate_rest(rate: dict[str, Any]) -> dict[str, Any]:
    # The rate's own id, product, tax split and so on: kept, since a line has no column for them.
    left = rest(rate, ["name", "taxIncludedAmount", "type", "periodCoverage", "characteristic"])
    others = leftover_characteristics(rate.get("characteristic"), ["quantity", "unitOfMeasure"])
    return left | ({"characteristic": others} if others else {})


_MAPPED_CHARACTERISTICS = (
    "direction",
    "otherParty",
    "duration",
    "dataVolume",
    "roaming",
    "visitedCountry",
)


def usage(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF635 Usage (a call, text or data session, as rated) to a Usage."""
    where = f"usage {item.get('id')}"
    usage_type = item.get("usageType") or ""
    if usage_type not in labels.USAGE_KINDS:
        known = ", ".join(labels.USAGE_KINDS)
        raise SkippableError(f"{where} has usageType {usage_type!r}, not one of {known}")
    values = characteristics(item.get("usageCharacteristic"))
    rated = item.get("ratedProductUsage") or []
    if not rated or not (rated[0].get("productRef") or {}).get("id"):
        raise SkippableError(f"{where} is not rated against a product (no ratedProductUsage)")
    charges = [
        amount(r["taxIncludedRatingAmount"], f"{where} taxIncludedRatingAmount")
        for r in rated
        if "taxIncludedRatingAmount" in r
    ]
    measured, measure = _measure(usage_type, values, where)
    roaming = values.get("roaming")
    return [
        Usage(
            provider_id=item["id"],
            origin=Origin.observed,
            account_id=ref(Account, rated[0]["productRef"]["id"]),
            kind=labels.USAGE_KINDS[usage_type],
            kind_label=_kind_label(usage_type, values),
            started_at=item["usageDate"],
            duration_seconds=values.get("duration"),
            quantity=measured,
            unit=measure,
            direction=values.get("direction"),
            counterparty=values.get("otherParty"),
            roaming=roaming if isinstance(roaming, bool) else None,
            country=values.get("visitedCountry"),
            charge=sum((c for c, _ in charges), Decimal("0")) if charges else None,
            currency=charges[0][1] if charges else None,
            extra=rest(item, ["id", "usageDate", "usageType", "usageCharacteristic"])
            | {
                "usageCharacteristic": leftover_characteristics(
                    item.get("usageCharacteristic"), _MAPPED_CHARACTERISTICS
                ),
                "ratedProductUsage": [rest(r, ["taxIncludedRatingAmount"]) for r in rated],
            },
        )
    ]


def _measure(usage_type: str, values: dict[str, Any], where: str) -> tuple[Decimal, Unit]:
    if usage_type == "voice":
        return quantity(values.get("duration"), f"{where} duration"), Unit.second
    if usage_type == "data":
        return quantity(values.get("dataVolume"), f"{where} dataVolume") / MEGABYTE, Unit.MB
    return Decimal(1), Unit.message


def _kind_label(usage_type: str, values: dict[str, Any]) -> str:
    # Roaming is worth saying where a person reads the kind: it is what costs money abroad.
    kind = labels.USAGE_TYPES[usage_type]
    zone = values.get("roamingZone")
    if values.get("roaming") and zone:
        return f"{kind}, roaming: {labels.label(labels.ROAMING_ZONES, zone, 'roaming zone')}"
    return kind
