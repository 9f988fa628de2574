"""Ways of serving Demo Telecom's bills that TMF678 allows but the usual sandbox does not use.

TMF678 makes almost everything of a bill optional, lets Money be in any currency, and lets
any object be a sub-class (``@type``, ``@baseType``, ``@schemaLocation``, properties of its
own); ``portal_telco.rules`` writes that down. Each ``Variant`` serves the same bills one such
way (``TelcoSandbox(variant=name)``); the ground truth states them as served. Every variant
but ``faulty`` is valid TMF678.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Change = Callable[[dict[str, Any], str], dict[str, Any]]
"""Rewrites one served object (a bill or a rate, as its kind says)."""


@dataclass(frozen=True)
class Variant:
    """One way of serving the same bills and applied rates."""

    name: str
    description: str
    change: Change | None = None
    rejected_bills: int = 0
    """How many bills a correct plugin rejects (``faulty`` only)."""

    def serve(self, items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        """``items`` (``bill``, ``rate`` or ``product`` objects) as this variant serves them."""
        if self.change is None:
            return items
        return [self.change(copy.deepcopy(item), kind) for item in items]


_SPARSE_BILL = (
    "href", "billDate", "billNo", "category", "lastUpdate", "paymentDueDate", "runType",
    "state", "amountDue", "remainingAmount", "taxIncludedAmount", "taxItem", "paymentMethod",
)  # fmt: skip
_SPARSE_RATE = ("href", "name", "description", "date", "isBilled", "taxIncludedAmount")
_SPARSE_PRODUCT = (
    "href", "name", "description", "isBundle", "isCustomerVisible", "productSerialNumber",
    "relatedParty",
)  # fmt: skip
_SPARSE = {"bill": _SPARSE_BILL, "rate": _SPARSE_RATE, "product": _SPARSE_PRODUCT}


def _sparse(item: dict[str, Any], kind: str) -> dict[str, Any]:
    for name in _SPARSE[kind]:
        item.pop(name, None)
    if kind == "product":  # nor does the offering it refers to need a name
        item.get("productOffering", {}).pop("name", None)
    return item


def _subclassed(item: dict[str, Any], kind: str) -> dict[str, Any]:
    base = item.get("@type", _BASES[kind])
    own = {"bill": "DemoTelecomBill", "rate": "DemoTelecomCharge", "product": "DemoTelecomPlan"}[
        kind
    ]
    item.update(
        {
            "@type": own,
            "@baseType": base,
            "@schemaLocation": f"https://api.demo-telecom.example/schemas/{own}.schema.json",
        }
    )
    if kind == "bill":
        item["loyaltyPointsEarned"] = 120  # a property of the sub-class
        item["relatedParty"] = [{"id": "CUS-5519204", "role": "customer"}]
    return item


_BASES = {"bill": "CustomerBill", "rate": "AppliedCustomerBillingRate", "product": "Product"}


def _in_euros(item: dict[str, Any], kind: str) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"unit", "value"}:
                return {"unit": "EUR", "value": value["value"]}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    changed: dict[str, Any] = walk(item)
    return changed


def _unidentified(item: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind == "bill":
        item.pop("id", None)
        item.pop("href", None)
    return item


def _faulty(item: dict[str, Any], kind: str) -> dict[str, Any]:
    # Not valid: the first bill's date is not an RFC 3339 date-time.
    if kind == "bill" and item.get("id") == _FIRST_BILL:
        item["billDate"] = "26/05/2026"
    return item


_FIRST_BILL = "CB-31877204-202605"

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("standard", "Every property Demo Telecom has."),
        Variant(
            "sparse",
            "Only the bill's id, account, period and tax-excluded amounts; rates without"
            " name, date or tax-included amount (their tax in appliedTax); products without"
            " a name (nor their offering's).",
            _sparse,
        ),
        Variant(
            "subclassed",
            "Bills, rates and products as Demo Telecom's own sub-classes: @type, @baseType,"
            " @schemaLocation and properties of their own, with relatedParty.",
            _subclassed,
        ),
        Variant("euros", "Every amount of every bill in euros.", _in_euros),
        Variant(
            "unidentified",
            "Bills without an id (TMF678 allows it), so their charges cannot be asked for by"
            " bill; portal derives each bill's id from its contract and period.",
            _unidentified,
        ),
        Variant(
            "faulty",
            "Not valid TMF678: one bill's billDate is not a date-time; portal must reject that"
            " bill, saying why, and keep the rest.",
            _faulty,
            rejected_bills=1,
        ),
    )
}
"""Every variant the sandbox can serve, by name."""


def variant(name: str) -> Variant:
    """The variant called ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}: {', '.join(VARIANTS)}.")
    return VARIANTS[name]
