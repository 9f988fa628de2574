"""TMF678 bills mapped to the customer record (TMF635 usage: ``portal_telco.usage``).

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
from portal.record import Account, Bill, BillLine, Entity, Origin
from portal.record.extra import rest
from portal.record.vocab import state_of
from portal_telco import labels
from portal_telco.usage import usage as usage  # where it was; tests import it from here
from portal_telco.values import (
    amount,
    characteristics,
    day,
    leftover_characteristics,
    quantity,
    unit,
)

Ref = Callable[[type[Entity], str], str]


def bill(item: dict[str, Any], ref: Ref, contract: str) -> list[Entity]:
    """A TMF678 CustomerBill, with its applied charges as lines, to a Bill.

    TMF678 makes every property of a bill optional. What the record needs is found where
    the bill allows: the total from ``taxIncludedAmount``, else from its priced lines; the
    issue date from ``billDate``, else the end of its period; each said so in ``extra``. A
    bill with no period, or no amount anywhere, is rejected with the reason.
    """
    if not contract:
        raise SkippableError("a bill arrived on a stream that names no contract")
    period = item.get("billingPeriod") or {}
    provider_id = item.get("id") or stable_bill_id(contract, item)
    where = f"bill {provider_id}"
    period_start = day(period.get("startDateTime"), f"{where} billingPeriod.startDateTime")
    period_end = day(period.get("endDateTime"), f"{where} billingPeriod.endDateTime")
    if period_start is None or period_end is None:
        raise SkippableError(f"{where} has no billingPeriod, so which days it bills is unknown")
    issued = day(item.get("billDate"), f"{where} billDate")
    notes: dict[str, str] = {}
    if not item.get("id"):
        notes["id_derived"] = "From its contract and billing period: the bill has no id."
    if issued is None:
        issued = period_end
        notes["issued_on_from"] = "The end of the billing period: the bill has no billDate."
    rates = item.get("appliedCustomerBillingRate") or []
    lines = [(rate, _line(rate, f"{where} rate {rate.get('id')}")) for rate in rates]
    priced = [line for _, line in lines if line is not None]
    unpriced = [rate for rate, line in lines if line is None]
    currencies = {currency for _, currency in priced}
    if item.get("taxIncludedAmount") is not None:
        # The bill's own charges: amountDue may also carry an unpaid balance brought forward.
        total, currency = amount(item["taxIncludedAmount"], f"{where} taxIncludedAmount")
    elif len(currencies) == 1:
        total, currency = sum((line.amount for line, _ in priced), Decimal(0)), currencies.pop()
        notes["total_from"] = "The sum of the lines: the bill has no taxIncludedAmount."
    else:
        raise SkippableError(
            f"{where} has no taxIncludedAmount, and no priced charges in one currency to sum"
        )
    state = item.get("state") or ""
    return [
        Bill(
            provider_id=provider_id,
            origin=Origin.observed,
            account_id=ref(Account, contract),
            bill_number=item.get("billNo") or provider_id,
            issued_on=issued,
            due_on=day(item.get("paymentDueDate"), f"{where} paymentDueDate"),
            period_start=period_start,
            period_end=period_end,
            total=total,
            currency=currency,
            status=state or "not_stated",
            status_label=labels.label(labels.BILL_STATES, state, "bill state")
            if state
            else "Not stated (TMF678 leaves a bill's state optional)",
            state=state_of(labels.BILL_STATE_MEANINGS, state),
            lines=[line for line, _ in priced],
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
            | {"appliedCustomerBillingRate": [_rate_rest(rate) for rate in rates]}
            | notes
            | ({"unpriced_rates": [r.get("id") for r in unpriced]} if unpriced else {}),
        )
    ]


def stable_bill_id(contract: str, item: dict[str, Any]) -> str:
    """An id for a bill the telco gave none: one contract has one bill per billing period."""
    period = item.get("billingPeriod") or {}
    return f"{contract}:{period.get('startDateTime')}:{period.get('endDateTime')}"


def _line(rate: dict[str, Any], where: str) -> tuple[BillLine, str] | None:
    """A rate as a bill line and its currency, or None if TMF678's optional amounts left it
    unpriced."""
    priced = _rate_amount(rate, where)
    if priced is None:
        return None
    value, currency = priced
    kind = rate.get("type") or ""
    counted = characteristics(rate.get("characteristic"))
    coverage = rate.get("periodCoverage") or {}
    line = BillLine(
        description=rate.get("name")
        or rate.get("description")
        or labels.CHARGE_TYPES.get(kind, kind)
        or "Charge",
        amount=value,
        category_code=kind or None,
        category_label=labels.label(labels.CHARGE_TYPES, kind, "charge type") if kind else None,
        quantity=quantity(counted["quantity"], f"{where} quantity")
        if "quantity" in counted
        else None,
        unit=unit(counted["unitOfMeasure"], f"{where} unitOfMeasure")
        if "unitOfMeasure" in counted
        else None,
        period_start=day(coverage.get("startDateTime"), f"{where} periodCoverage"),
        period_end=day(coverage.get("endDateTime"), f"{where} periodCoverage"),
    )
    return line, currency


def _rate_amount(rate: dict[str, Any], where: str) -> tuple[Decimal, str] | None:
    # taxIncludedAmount, else taxExcludedAmount plus the appliedTax amounts (TMF678 makes all
    # of them optional); None when the rate states neither.
    if rate.get("taxIncludedAmount") is not None:
        return amount(rate["taxIncludedAmount"], f"{where} taxIncludedAmount")
    if rate.get("taxExcludedAmount") is None:
        return None
    value, currency = amount(rate["taxExcludedAmount"], f"{where} taxExcludedAmount")
    for n, tax in enumerate(rate.get("appliedTax") or []):
        if tax.get("taxAmount") is not None:
            taxed, also = amount(tax["taxAmount"], f"{where} appliedTax[{n}].taxAmount")
            if also != currency:
                raise SkippableError(f"{where} taxes in {also} an amount in {currency}")
            value += taxed
    return value, currency


def _rate_rest(rate: dict[str, Any]) -> dict[str, Any]:
    # The rate's own id, product, tax split and so on: kept, since a line has no column for them.
    left = rest(rate, ["name", "taxIncludedAmount", "type", "periodCoverage", "characteristic"])
    others = leftover_characteristics(rate.get("characteristic"), ["quantity", "unitOfMeasure"])
    return left | ({"characteristic": others} if others else {})
