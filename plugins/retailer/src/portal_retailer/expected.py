"""What each item Demo Mart serves must say in the customer's record, field by field.

The sandbox's side of the conformance suite's ``values`` check (``Sandbox.expected_records``):
Demo Mart's double states the meaning of its own data, as its API documentation
(``plugins/retailer/README.md``) and schema.org's ``Order`` give it, from the items exactly
as served. Nothing here comes from the plugin's mapping: the words for a code are the API's
published code lists (``portal_retailer.labels``), and every other value is read here from
the served item.

A field that refers to another record (``account_id``) is stated as the provider's id of
that record (the membership number). Fields with no column of their own are stated as
``extra.<key>``, holding exactly what was served. Each status means one of portal's common
states (``STATES``: this double's own reading, never the plugin's table).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from portal.record.vocab import State
from portal_retailer import labels

Expected = dict[str, dict[str, dict[str, Any]]]

STATES: dict[str, dict[str, State]] = {
    # An order's or a return's status, as the README gives them, read through schema.org's
    # OrderStatus: OrderDelivered is done; OrderProcessing and OrderInTransit are not yet;
    # OrderReturned is goods sent back, in part too (schema.org has no member for a part
    # return, and the order is no longer simply delivered); OrderCancelled is called off.
    # A return's own status, refunded, says the money went back: the return is done.
    "purchase": {
        "completed": State.completed,
        "delivered": State.completed,
        "processing": State.pending,
        "dispatched": State.pending,
        "partially_returned": State.returned,
        "returned": State.returned,
        "cancelled": State.cancelled,
        "refunded": State.completed,
    },
    # A Rewards membership: suspended may resume, closed has ended.
    "membership": {"active": State.active, "suspended": State.suspended, "closed": State.closed},
    # A marketing permission: opted out was never given, withdrawn was taken back.
    "consent": {
        "opted_in": State.active,
        "opted_out": State.declined,
        "withdrawn": State.withdrawn,
    },
}
"""What each status Demo Mart serves means in portal's common states, by code list."""


def state(code_list: str, code: str | None) -> State:
    """The state a served status ``code`` means. None served (schema.org leaves an order's
    status optional), or a code outside the list, says nothing: ``unknown``."""
    return STATES[code_list].get(code or "", State.unknown)


_ORDER_FIELDS = ("id", "type", "number", "placed_at", "status", "total", "currency", "lines")
_RETURN_FIELDS = (
    "id", "number", "order_number", "returned_at", "channel", "status", "total", "currency",
    "lines",
)  # fmt: skip


def expected(served: dict[str, Any]) -> Expected:
    """Every served item's expected record, ``{category: {provider id: {field: value}}}``.

    ``served`` is the sandbox's ground truth: the items exactly as served, by category.
    A purchase served without an id (schema.org allows it) is left out: which id the
    plugin derives for it is the plugin's, not the shop's, to say.
    """
    return {
        "party": {p["customer_id"]: _party(p) for p in served["party"]},
        "accounts": {a["membership_number"]: _account(a) for a in served["accounts"]},
        "balances": {b["id"]: _balance(b) for b in served["balances"]},
        "purchases": {p["id"]: _purchase(p) for p in served["purchases"] if p.get("id")},
        "consents": {c["id"]: _consent(c) for c in served["consents"]},
        "inferences": {i["id"]: _inference(i) for i in served["inferences"]},
        "processing": {p["id"]: _processing(p) for p in served["processing"]},
    }


def _utc(stamp: str | None) -> datetime | None:
    """An ISO 8601 time with its offset as the same instant in UTC (the record stores UTC)."""
    return datetime.fromisoformat(stamp).astimezone(UTC) if stamp else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _extra(item: dict[str, Any], used: tuple[str, ...]) -> dict[str, Any]:
    """The fields the record has no column for, stated as ``extra.<key>``, as served."""
    return {f"extra.{k}": v for k, v in item.items() if k not in used}


def _party(item: dict[str, Any]) -> dict[str, Any]:
    used = ("customer_id", "first_name", "last_name", "email", "mobile", "date_of_birth")
    return {
        "full_name": " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p),
        "customer_number": item["customer_id"],
        "birth_date": _day(item.get("date_of_birth")),
        "email": item.get("email"),
        "mobile": item.get("mobile"),  # the README: her mobile, never a landline
        "phone": None,
        "addresses": [
            {
                "kind": labels.ADDRESS_TYPES[a["type"]],
                "lines": [a[k] for k in ("line1", "line2") if a.get(k)],
                "town": a.get("city"),
                "postcode": a.get("postcode"),
                "country": a.get("country"),
            }
            for a in item.get("addresses", [])
        ],
        **_extra(item, (*used, "addresses")),
    }


def _account(item: dict[str, Any]) -> dict[str, Any]:
    number = item["membership_number"]
    return {
        "name": item["programme"],
        "account_type": "loyalty",
        "account_type_label": "Loyalty scheme",
        "status": item["status"],
        "status_label": labels.MEMBERSHIP_STATUSES[item["status"]],
        "state": state("membership", item["status"]),
        "opened_on": _day(item.get("joined_on")),
        "currency": None,  # it holds points, not money
        "identifiers": [
            {
                "scheme": "membership_number",
                "scheme_label": "Rewards card number",
                "identification": number,
                "name": None,
            }
        ],
        **_extra(item, ("membership_number", "programme", "status", "joined_on")),
    }


def _balance(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": item["membership_number"],
        "amount": Decimal(item["points"]),
        "unit": "point",
        "currency": None,
        "balance_type": item["type"],
        "balance_type_label": labels.BALANCE_TYPES[item["type"]],
        "as_of": _utc(item["as_of"]),
        **_extra(item, ("id", "membership_number", "points", "type", "as_of")),
    }


def _line(line: dict[str, Any], n: int) -> dict[str, Any]:
    category = line.get("category")
    points = line.get("points")
    return {
        "description": line.get("description") or line.get("sku") or f"Item {n + 1}",
        "sku": line.get("sku"),
        "quantity": Decimal(line.get("quantity", 1)),  # schema.org: absent means one
        "unit": line.get("unit") or "item",
        "unit_price": Decimal(line["unit_price"]) if line.get("unit_price") else None,
        "amount": Decimal(line["amount"]),
        "points_earned": Decimal(points) if points is not None else None,
        "category_code": category,
        "category_label": labels.PRODUCT_CATEGORIES[category] if category else None,
    }


def _purchase(item: dict[str, Any]) -> dict[str, Any]:
    is_return = "returned_at" in item or "order_number" in item
    loyalty = item.get("loyalty")
    status = item.get("status")
    lines = [_line(line, n) for n, line in enumerate(item.get("lines") or [])]
    total = (
        Decimal(item["total"])
        if item.get("total")
        else sum((line["amount"] for line in lines), Decimal(0))
    )
    common = {
        "account_id": loyalty["membership_number"] if loyalty else None,
        "order_number": item.get("number") or item["id"],
        "store": item["store"]["name"] if item.get("store") else None,
        "status": status or "not_stated",
        "status_label": labels.STATUSES[status]
        if status
        else "Not stated (schema.org leaves an order's status optional)",
        "state": state("purchase", status),
        "total": total,
        "currency": item["currency"],
        "lines": lines,
    }
    if is_return:
        channel = item.get("channel") or "not_stated"
        return {
            **common,
            "kind": "return",
            "kind_label": labels.PURCHASE_KINDS["return"],
            "purchased_at": _utc(item["returned_at"]),
            "channel": channel,
            "channel_label": labels.label(labels.CHANNELS, channel, "channel"),
            # Points a return takes back count against what was earned.
            "points_earned": -Decimal(loyalty["points_reversed"]) if loyalty else None,
            "points_spent": None,
            "original_order_number": item.get("order_number"),
            **_extra(item, _RETURN_FIELDS),
        }
    kind = item["type"]
    return {
        **common,
        "kind": labels.KINDS[kind],
        "kind_label": labels.PURCHASE_KINDS[kind],
        "purchased_at": _utc(item["placed_at"]),
        "channel": kind,
        "channel_label": labels.CHANNELS[kind],
        "points_earned": Decimal(loyalty["points_earned"]) if loyalty else None,
        "points_spent": Decimal(loyalty["points_redeemed"]) if loyalty else None,
        "original_order_number": None,
        **_extra(item, _ORDER_FIELDS),
    }


def _consent(item: dict[str, Any]) -> dict[str, Any]:
    # Personalised offers are consent to the notice's profiling purpose, not marketing.
    kind, kind_label = {
        "personalised_offers": ("profiling", "Personalised offers and profiling")
    }.get(item.get("topic") or "", ("marketing", "Marketing"))
    return {
        "kind": kind,
        "kind_label": kind_label,
        "purpose": item["wording"],
        "channel": item["channel"],
        "channel_label": labels.CHANNEL_CONSENTS[item["channel"]],
        "status": item["status"],
        "status_label": labels.CONSENT_STATUSES[item["status"]],
        "state": state("consent", item["status"]),
        "permissions": frozenset(),
        "granted_at": _utc(item.get("granted_at")),
        "status_updated_at": _utc(item.get("updated_at")),
        "expires_at": None,
        "grantee": "Demo Mart",
        **_extra(item, ("id", "channel", "status", "wording", "granted_at", "updated_at")),
    }


def _inference(item: dict[str, Any]) -> dict[str, Any]:
    score = item.get("score")
    return {
        "name": item["name"],
        "kind": item["type"],
        "kind_label": labels.INSIGHT_TYPES[item["type"]],
        "value": item["value"],
        "score": Decimal(score) if score is not None else None,
        "derived_at": _utc(item.get("computed_at")),
        "explanation": item.get("explanation"),
        **_extra(item, ("id", "name", "type", "value", "score", "computed_at", "explanation")),
    }


def _processing(item: dict[str, Any]) -> dict[str, Any]:
    automated = item["automated_decision"]
    used = (
        "id", "purpose", "legal_basis", "data_categories", "recipients",
        "third_country_safeguards", "retention", "source", "automated_decision",
    )  # fmt: skip
    return {
        "purpose": item["purpose"],
        "purpose_code": item["id"],
        "legal_basis": item["legal_basis"],
        "legal_basis_label": labels.LEGAL_BASES[item["legal_basis"]],
        "data_categories": item["data_categories"],
        "recipients": [
            {
                "name": r["name"],
                "kind": r.get("role"),
                "country": r.get("country"),
                "safeguard": r.get("safeguard"),
            }
            for r in item["recipients"]
        ],
        "third_country_safeguards": item.get("third_country_safeguards"),
        "retention": item["retention"],
        "source": item["source"],
        "automated_decision": automated["used"],
        "automated_logic": automated.get("logic"),
        "automated_consequences": automated.get("consequences"),
        **_extra(item, used),
    }
