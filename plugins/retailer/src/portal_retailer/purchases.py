"""Demo Mart's orders, receipts and returns mapped to the record, as schema.org's Order allows.

schema.org requires nothing of an ``Order`` or an ``OrderItem`` (``portal_retailer.rules``),
so what the record needs is found where it can be: a purchase with no id gets one derived
from what identifies it (its kind, number and date; else its content), the same on every
sync; an item with no quantity has a quantity of one; a purchase with no total has the sum
of its lines. What cannot be found (when, in which currency, for how much) is a rejection
naming it. Everything else released is kept in ``extra``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.errors import SkippableError
from portal.record import Account, Entity, Purchase, PurchaseLine
from portal.record.vocab import state_of
from portal_retailer import labels

Ref = Callable[[type[Entity], str], str]


def order(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An online order or an in-store receipt to a Purchase with its lines."""
    kind = item.get("type") or ""
    if kind not in labels.KINDS or kind == "return":
        raise SkippableError(f"order type {kind!r} is neither online nor in_store")
    loyalty = item.get("loyalty")
    used = ["id", "type", "number", "placed_at", "status", "total", "currency", "lines"]
    return [
        _purchase(
            item,
            ref,
            kind=labels.KINDS[kind],
            when=_required(item, "placed_at", kind),
            channel=kind,
            channel_label=labels.CHANNELS[kind],
            points_earned=loyalty["points_earned"] if loyalty else None,
            points_spent=loyalty["points_redeemed"] if loyalty else None,
            used=used,  # ``store`` (its id beside the name) and ``loyalty`` stay in extra
        )
    ]


def give_back(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A return to a Purchase of kind return: negative amounts, points taken back."""
    loyalty = item.get("loyalty")
    channel = item.get("channel") or "not_stated"
    used = ["id", "number", "order_number", "returned_at", "channel", "status", "total"]
    return [
        _purchase(
            item,
            ref,
            kind="return",
            when=_required(item, "returned_at", "return"),
            channel=channel,
            channel_label=labels.label(labels.CHANNELS, channel, "channel"),
            points_earned=_negated(loyalty["points_reversed"]) if loyalty else None,
            original_order_number=item.get("order_number"),
            used=[*used, "currency", "lines"],
        )
    ]


def _purchase(item: dict[str, Any], ref: Ref, *, used: list[str], **fields: Any) -> Purchase:
    kind = fields["kind"]
    provider_id, derived = item.get("id"), {}
    if not provider_id:
        provider_id = stable_id(kind, item)
        derived = {"id_derived": "From the purchase's kind, number and date: it has no id."}
    lines = _lines(item, provider_id)
    total, summed = _total(item, lines, provider_id)
    status = item.get("status") or ""
    loyalty, store = item.get("loyalty"), item.get("store")
    return Purchase(
        provider_id=provider_id,
        account_id=ref(Account, loyalty["membership_number"]) if loyalty else None,
        kind_label=labels.PURCHASE_KINDS[fields["channel"] if kind != "return" else "return"],
        order_number=item.get("number") or provider_id,
        store=store["name"] if store else None,
        status=status or "not_stated",
        status_label=labels.label(labels.STATUSES, status, "status")
        if status
        else "Not stated (schema.org leaves an order's status optional)",
        state=state_of(labels.STATES, status),
        total=total,
        currency=_required(item, "currency", provider_id),
        lines=lines,
        purchased_at=fields.pop("when"),
        extra={k: v for k, v in item.items() if k not in set(used)} | derived | summed,
        **fields,
    )


def stable_id(kind: str, item: dict[str, Any]) -> str:
    """An id for a purchase the shop gave none: the same whenever the same purchase is seen.

    Its kind, number and date identify it; without a number, a digest of what was served
    (less ``updated_at``, which changes without the purchase changing).
    """
    when = item.get("placed_at") or item.get("returned_at") or ""
    if item.get("number"):
        return f"{kind}:{item['number']}:{when}"
    content = {k: v for k, v in item.items() if k != "updated_at"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:20]
    return f"{kind}:{when}:{digest}"


def _required(item: dict[str, Any], name: str, where: str) -> Any:
    if item.get(name) in (None, ""):
        raise SkippableError(f"{where} has no {name}, which a purchase cannot be stored without")
    return item[name]


def _total(
    item: dict[str, Any], lines: list[PurchaseLine], where: str
) -> tuple[Any, dict[str, str]]:
    if item.get("total") not in (None, ""):
        return item["total"], {}
    if not lines:
        raise SkippableError(f"{where} has no total and no lines, so what it cost is unknown")
    summed = sum((Decimal(str(line.amount)) for line in lines), Decimal(0))
    return summed, {"total_derived": "The sum of the lines: the purchase states no total."}


def _lines(item: dict[str, Any], where: str) -> list[PurchaseLine]:
    lines = []
    for n, li in enumerate(item.get("lines") or []):
        if li.get("amount") in (None, ""):
            raise SkippableError(f"{where} line {n + 1} has no amount")
        category = li.get("category")
        lines.append(
            PurchaseLine(
                description=li.get("description") or li.get("sku") or f"Item {n + 1}",
                sku=li.get("sku"),
                quantity=li.get("quantity", 1),  # schema.org: no orderQuantity means one
                unit=li.get("unit") or "item",
                unit_price=li.get("unit_price"),
                amount=_decimal(li["amount"], f"{where} line {n + 1} amount"),
                points_earned=li.get("points"),
                category_code=category,
                category_label=labels.label(labels.PRODUCT_CATEGORIES, category, "category")
                if category
                else None,
            )
        )
    return lines


def _decimal(value: Any, where: str) -> Any:
    # Handed on as served, so the record's own validation names a bad value; a text that is
    # no number at all is named here, since summing it would fail first.
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            raise SkippableError(f"{where} {value!r} is not a decimal amount") from None
    return value


def _negated(points: Any) -> Decimal:
    # Points taken back by a return count against what was earned; a float is refused here
    # as the record would refuse it, rather than let Decimal(float) smuggle one in.
    if isinstance(points, float | bool):
        raise SkippableError(f"Purchase.points_earned: points_reversed {points!r} is not whole")
    return -Decimal(points)
