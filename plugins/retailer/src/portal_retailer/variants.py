"""Ways of serving Demo Mart's purchases that schema.org's Order allows but the usual sandbox
does not use (``portal_retailer.rules``): ``RetailerSandbox(variant=name)`` serves the orders
and returns one such way, and its ground truth states them as served. Every variant but
``faulty`` is valid.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Change = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Variant:
    """One way of serving the same orders and returns."""

    name: str
    description: str
    change: Change | None = None
    rejected: int = 0
    """How many purchases a correct plugin rejects (``faulty`` only)."""

    def serve(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``items`` (orders or returns) as this variant serves them."""
        if self.change is None:
            return items
        return [self.change(copy.deepcopy(item)) for item in items]


_SPARSE = (
    "id", "updated_at", "status", "store", "fulfilment", "payment", "loyalty", "refund", "reason",
    "total",
)  # fmt: skip
_SPARSE_LINE = ("sku", "category", "unit", "unit_price", "points")


def _sparse(item: dict[str, Any]) -> dict[str, Any]:
    # No id (portal derives one), no change date, status, seller, delivery, payment, loyalty
    # or total; lines without sku, category, unit, price or points, nor a quantity of one.
    for name in _SPARSE:
        item.pop(name, None)
    for line in item.get("lines", []):
        for name in _SPARSE_LINE:
            line.pop(name, None)
        if line.get("quantity") == 1:
            del line["quantity"]
    return item


def _faulty(item: dict[str, Any]) -> dict[str, Any]:
    # Not valid: one receipt's total written with a decimal comma.
    if item.get("number") == FAULTY_NUMBER:
        item["total"] = item["total"].replace(".", ",")
    return item


FAULTY_NUMBER = "R0107-20250104-0029"

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("standard", "Every field Demo Mart's API v2 documents."),
        Variant(
            "sparse",
            "Only number, date, channel, currency and lines of description and amount:"
            " schema.org requires nothing of an Order, and an item's quantity is one unless"
            " it says otherwise.",
            _sparse,
        ),
        Variant(
            "faulty",
            "Not valid: one receipt's total has a decimal comma; portal must reject it,"
            " saying why, and keep the rest.",
            _faulty,
            rejected=1,
        ),
    )
}
"""Every variant the sandbox can serve, by name."""


def variant(name: str) -> Variant:
    """The variant called ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}: {', '.join(VARIANTS)}.")
    return VARIANTS[name]
