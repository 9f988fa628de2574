"""Demo Mart's orders and returns against schema.org's ``Order``: the rules, as data, and a checker.

No published standard covers a shop's customer-data API, and Demo Mart's v2 API follows none
(``plugins/retailer/README.md`` documents its own shape). Purchases are aligned here to the
published vocabulary closest to them, schema.org's ``Order`` and ``OrderItem``
(https://schema.org/Order, https://schema.org/OrderItem, https://schema.org/OrderStatus):
search engines and retailers' order e-mails already use it, and it says what an order *is*
without prescribing an API.

What the two say, in our words:

- schema.org requires no property of an ``Order`` or an ``OrderItem``. An order may lack its
  number, date, status, seller, customer or items; an item may lack its quantity, and then
  the quantity is one (``orderQuantity``: "if the property is not set, assume the quantity
  is one"). Its status, when given, is one of the ``OrderStatus`` members.
- Demo Mart's README says what its fields hold when present: amounts are decimal strings in
  the currency's unit, ``currency`` an ISO 4217 code, times ISO 8601 with their offset,
  points whole numbers, ``type`` ``online`` or ``in_store``, a return's ``channel``
  ``post`` or ``in_store``, and ``total`` the sum of the lines' amounts.

So portal needs, of a purchase, only what makes it a record (when, in which currency, for
how much: a total or priced lines), and derives the rest: an id from what identifies the
purchase when the shop gives none, a quantity of one, a total from the lines.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pycountry

SOURCE = "schema.org Order, OrderItem and OrderStatus; Demo Mart customer-data API v2 README"

ORDER: dict[str, tuple[str, str]] = {
    "id": ("identifier", "text"),
    "number": ("orderNumber", "text"),
    "type": ("(channel: online or in_store)", "order type"),
    "placed_at": ("orderDate", "date-time"),
    "updated_at": ("dateModified", "date-time"),
    "status": ("orderStatus", "text"),
    "store": ("seller", "object or null"),
    "fulfilment": ("orderDelivery (its method)", "text or null"),
    "currency": ("priceCurrency", "currency"),
    "lines": ("orderedItem (OrderItem)", "lines"),
    "loyalty": ("(none: the loyalty scheme's own block)", "object or null"),
    "payment": ("paymentMethod", "object"),
    "total": ("totalPaymentDue", "decimal"),
}
"""An order's fields: the schema.org property each aligns to, and what its value is."""

RETURN: dict[str, tuple[str, str]] = {
    **{k: ORDER[k] for k in ("id", "number", "updated_at", "status", "store", "currency")},
    **{k: ORDER[k] for k in ("lines", "loyalty", "total")},
    "order_number": ("(the Order returned from: its orderNumber)", "text"),
    "returned_at": ("orderDate", "date-time"),
    "channel": ("(post or in_store)", "return channel"),
    "reason": ("(none)", "object"),
    "refund": ("paymentMethod", "object or null"),
}
"""A return's fields (schema.org has no return; it is an Order of negative amounts)."""

LINE: dict[str, tuple[str, str]] = {
    "sku": ("orderedItem.sku", "text"),
    "description": ("orderedItem.name", "text"),
    "category": ("orderedItem.category", "text"),
    "quantity": ("orderQuantity (one when absent)", "number"),
    "unit": ("orderQuantity.unitCode", "text"),
    "unit_price": ("acceptedOffer.price", "decimal"),
    "amount": ("acceptedOffer.price times orderQuantity", "decimal"),
    "points": ("(none: loyalty points)", "whole"),
}
"""A line's fields: the schema.org property each aligns to, and what its value is."""

ORDER_STATUSES = {
    "completed": "OrderDelivered",
    "delivered": "OrderDelivered",
    "dispatched": "OrderInTransit",
    "processing": "OrderProcessing",
    "cancelled": "OrderCancelled",
    "partially_returned": "OrderDelivered",
    "returned": "OrderReturned",
    "refunded": "OrderReturned",
}
"""Demo Mart's status words and the schema.org OrderStatus member each is."""

_ENUMS = {"order type": {"online", "in_store"}, "return channel": {"post", "in_store"}}
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")


def problems(kind: str, item: Mapping[str, Any], where: str = "") -> list[str]:
    """What in ``item`` (an ``order`` or a ``return``) the two documents do not allow.

    A value not of its kind, an unknown type or channel, a total that is not the sum of
    the lines. Absent fields are allowed: schema.org requires none.
    """
    where = where or kind
    fields = ORDER if kind == "order" else RETURN
    found = [
        f"{where}.{name} is {item[name]!r}, not a {what}"
        for name, (_, what) in fields.items()
        if name in item and what != "lines" and not _valid(what, item[name])
    ]
    lines = item.get("lines")
    if lines is not None and not isinstance(lines, list):
        return [*found, f"{where}.lines is {lines!r}, not a list"]
    for n, line in enumerate(lines or []):
        found += [
            f"{where}.lines[{n}].{name} is {line[name]!r}, not a {what}"
            for name, (_, what) in LINE.items()
            if name in line and not _valid(what, line[name])
        ]
    amounts = [line.get("amount") for line in lines or []]
    priced = bool(amounts) and all(_valid("decimal", a) for a in [item.get("total"), *amounts])
    if priced and sum(Decimal(a) for a in amounts) != Decimal(item["total"]):
        found.append(f"{where}.total {item['total']} is not the sum of its lines")
    return found


def _valid(what: str, value: Any) -> bool:
    if what in _ENUMS:
        return value in _ENUMS[what]
    if what.endswith(" or null"):
        return value is None or _valid(what.removesuffix(" or null"), value)
    if what.startswith("object"):
        return isinstance(value, Mapping)
    if what == "whole":
        return isinstance(value, int) and not isinstance(value, bool)
    if what == "number":
        return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    if not isinstance(value, str):
        return False
    if what == "decimal":
        return _DECIMAL.fullmatch(value) is not None and _finite(value)
    if what == "currency":
        return pycountry.currencies.get(alpha_3=value) is not None
    if what == "date-time":
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return True


def _finite(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False
