"""Amazon's order, return and refund rows mapped to the customer record's purchases.

An order arrives as its rows (one per item, or per item and shipment), grouped by the
reader (``portal_amazon.reader``); it becomes one ``Purchase`` whose lines are the rows and
whose total is the sum of what each row says was owed (``Total Owed``, ``Total Amount``
since 2025: each row's share of the order with its tax, postage and discounts). A refund is
a ``Purchase`` of kind ``return`` with negative amounts; a return (the goods going back)
is one too, with no money of its own: its refund is the refund row with the same
``ReversalID``, so counting both would count the money twice.

Every column is mapped, kept in ``extra`` (per line, for an order's rows), or named in
``extra["not_kept"]`` with the reason: the payment card Amazon charged is not kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import Entity, Purchase, PurchaseLine
from portal.record.vocab import State, state_of
from portal_amazon import rules
from portal_amazon.values import absent, parse_amount, parse_quantity, parse_timestamp

Ref = Callable[[type[Entity], str], str]

NOT_KEPT = {
    "Payment Instrument Type": "Which card paid (its network and last four digits) is not"
    " kept: portal keeps no payment card details."
}
ORDER_STATES = {
    "Closed": State.completed,
    "Cancelled": State.cancelled,
    "Authorized": State.pending,
    "New": State.pending,
    "Pending": State.pending,
    "Shipped": State.pending,
}
REFUND_STATES = {"Completed": State.completed, "Pending": State.pending}
RETURN_STATES = {"Completed": State.returned, "Pending": State.pending}
NO_CURRENCY = "XXX"
"""ISO 4217's code for "no currency involved": a return row that states none moves no money."""


def _get(kind: rules.FileKind, row: Mapping[str, str], name: str) -> str | None:
    """The value of column ``name`` (any of its layouts' names), or None if absent."""
    for each in kind.column(name).names:
        if each in row:
            return None if absent(row[each]) else row[each].strip()
    return None


def _label(table: Mapping[str, str], code: str, what: str) -> str:
    return table.get(code) or f"{what} {code!r} (a code portal has no words for)"


def _shop(website: str | None) -> tuple[str, str]:
    """The channel code and its words: the Amazon site the order was placed on."""
    if not website:
        return "amazon", "Online at Amazon (the site is not stated)"
    return website, f"Online at {website}"


def order(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An order's rows to one Purchase, a line per row."""
    kind = rules.ORDERS
    rows: list[dict[str, str]] = item["rows"]
    order_id = item["order_id"]
    currencies = {_get(kind, row, "Currency") for row in rows}
    if len(currencies) != 1:
        raise SkippableError(
            f"order {order_id} states more than one currency"
            f" ({', '.join(sorted(map(str, currencies)))})"
        )
    lines, details = [], []
    for n, row in enumerate(rows, 1):
        line, detail = _line(kind, row, n)
        lines.append(line)
        details.append(detail)
    statuses = [_get(kind, row, "Order Status") or "" for row in rows]
    status, status_label, state = _order_status(statuses)
    channel, channel_label = _shop(_get(kind, rows[0], "Website"))
    total = sum((line.amount for line in lines), Decimal(0))
    return [
        Purchase(
            provider_id=f"order:{order_id}",
            kind="order",
            kind_label="Online order",
            order_number=order_id,
            purchased_at=min(parse_timestamp(row["Order Date"]) for row in rows),
            channel=channel,
            channel_label=channel_label,
            status=status,
            status_label=status_label,
            state=state,
            total=total,
            currency=str(currencies.pop()),
            lines=lines,
            extra={
                "lines": details,
                "shipments": _shipments(kind, rows),
                "not_kept": _not_kept(kind, rows[0]),
            },
        )
    ]


_LINE_COLUMNS = {"Order ID", "Order Date", "Currency", "Product Name", "ASIN", "Quantity"}
_LINE_COLUMNS |= {"Unit Price", "Total Owed", "Website"}


def _line(kind: rules.FileKind, row: dict[str, str], n: int) -> tuple[PurchaseLine, dict[str, str]]:
    owed = _get(kind, row, "Total Owed")
    price = _get(kind, row, "Unit Price")
    asin = _get(kind, row, "ASIN")
    quantity = _get(kind, row, "Quantity")
    line = PurchaseLine(
        description=_get(kind, row, "Product Name") or asin or f"Item {n}",
        sku=asin,
        quantity=parse_quantity(quantity) if quantity is not None else Decimal(1),
        unit="item",
        unit_price=parse_amount(price) if price is not None else None,
        amount=parse_amount(owed) if owed is not None else Decimal(0),
    )
    mapped = {name for c in kind.columns if c.name in _LINE_COLUMNS for name in c.names}
    detail = {k: v for k, v in row.items() if k not in mapped and k not in _not_kept_names(kind)}
    if owed is None:  # a cancelled line: Amazon states nothing owed
        column = _name(kind, row, "Total Owed")  # Total Amount since 2025
        said = row[column].strip() or "empty"
        detail["amount_not_stated"] = f"{column} is {said}: the line is counted as 0."
    return line, detail


SHIPMENT_COLUMNS = (
    "Ship Date",
    "Shipment Status",
    "Carrier Name & Tracking Number",
    "Shipment Item Subtotal",
    "Shipment Item Subtotal Tax",
)
"""What a row says of the shipment it went in: the same on every row of one shipment."""


def _shipments(kind: rules.FileKind, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The order's shipments: its rows grouped by what they say of their shipment.

    Amazon states a shipment's subtotal on each of its rows (not a share of it), so it is
    listed once here, with the lines (numbered from 1) that went in it. Values as written;
    a shipment not shipped (cancelled) says Not Available.
    """
    shipments: dict[tuple[str, ...], dict[str, Any]] = {}
    for n, row in enumerate(rows, 1):
        said = {
            name: row[name]
            for c in SHIPMENT_COLUMNS
            for name in kind.column(c).names
            if name in row
        }
        key = tuple(said.values())
        shipments.setdefault(key, {**said, "lines": []})["lines"].append(n)
    return list(shipments.values())


def _not_kept(kind: rules.FileKind, row: Mapping[str, str]) -> dict[str, str]:
    """Why each column not kept is not, by the name the file gives it (Payment Method Type
    since 2025)."""
    return {
        name: NOT_KEPT[c.name]
        for c in kind.columns
        if c.name in NOT_KEPT
        for name in c.names
        if name in row
    }


def _not_kept_names(kind: rules.FileKind) -> set[str]:
    return {name for c in kind.columns if c.name in NOT_KEPT for name in c.names}


def _order_status(statuses: list[str]) -> tuple[str, str, State]:
    """One status for the order; where its rows differ, all of them, and what they mean."""
    distinct = sorted(set(statuses))
    if len(distinct) == 1:
        code = distinct[0] or "not_stated"
        words = _label(rules.ORDER_STATUSES, code, "Order status")
        return code, words, state_of(ORDER_STATES, distinct[0])
    code = "+".join(d or "not_stated" for d in distinct)
    words = "Lines differ: " + "; ".join(
        f"{statuses.count(d)} {_label(rules.ORDER_STATUSES, d, 'order status')}" for d in distinct
    )
    states = {state_of(ORDER_STATES, d) for d in distinct}
    # Something was delivered if any line was: the order is done, its label says the rest.
    state = State.completed if State.completed in states else State.pending
    return code, words, state


_REFUND_MAPPED = {
    "OrderID",
    "ReversalID",
    "RefundCompletionDate",
    "AmountRefunded",
    "Currency",
    "Status",
    "DisbursementType",
}
"""The refund columns with a field of their own (the status, and the line's category for
how it was paid back): not kept again in ``extra``, where a code would have no words."""


def refund(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A refund paid to the person: a Purchase of kind return, its amount negative."""
    kind = rules.REFUNDS
    row: dict[str, str] = item["row"]
    order_id = _get(kind, row, "OrderID") or ""
    amount = parse_amount(row[_name(kind, row, "AmountRefunded")])
    when = _get(kind, row, "RefundCompletionDate")
    if when is None:
        raise SkippableError(f"the refund of order {order_id} has no refund date")
    reversal = _get(kind, row, "ReversalID")
    provider_id = f"refund:{reversal}" if reversal else stable_refund_id(order_id, when, row)
    status = _get(kind, row, "Status") or _get(kind, row, "ReversalStatus") or "not_stated"
    how = _get(kind, row, "DisbursementType")
    reason = _get(kind, row, "ReversalReason")
    quantity = _get(kind, row, "Quantity")
    channel, channel_label = _shop(_get(kind, row, "Website"))
    described = f"Refund for order {order_id}" + (f": {reason}" if reason else "")
    used = {n for c in kind.columns if c.name in _REFUND_MAPPED for n in c.names}
    return [
        Purchase(
            provider_id=provider_id,
            kind="return",
            kind_label="Refund",
            order_number=reversal or order_id,  # the 2025 layout numbers no refund
            purchased_at=parse_timestamp(when),
            channel=channel,
            channel_label=channel_label,
            status=status,
            status_label=_label(rules.REFUND_STATUSES, status, "Refund status"),
            state=state_of(REFUND_STATES, status),
            total=-amount,
            currency=row[_name(kind, row, "Currency")].strip(),
            lines=[
                PurchaseLine(
                    description=described,
                    quantity=parse_quantity(quantity) if quantity else Decimal(1),
                    unit="item",
                    amount=-amount,
                    category_code=how,
                    category_label=_label(rules.DISBURSEMENT_TYPES, how, "Disbursement type")
                    if how
                    else None,
                )
            ],
            original_order_number=order_id,
            extra={k: v for k, v in row.items() if k not in used}
            | ({} if reversal else {"id_derived": "From the order, refund date and amount."}),
        )
    ]


def stable_refund_id(order_id: str, when: str, row: Mapping[str, str]) -> str:
    """An id for a refund row without a ReversalID (the layout since 2025): the same for
    the same refund in every export, different for two refunds of one order."""
    amount = row.get("Refund Amount") or row.get("AmountRefunded") or ""
    digest = hashlib.sha256(f"{order_id}\x00{when}\x00{amount}".encode()).hexdigest()[:16]
    return f"refund:{order_id}:{digest}"


def give_back(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A return of items (the goods going back): a Purchase of kind return, no money."""
    kind = rules.RETURNS
    row: dict[str, str] = item["row"]
    order_id = row["OrderID"].strip()
    reversal = row["ReversalID"].strip()
    reason = _get(kind, row, "ReversalReason")
    status = _get(kind, row, "ReversalStatus") or "not_stated"
    quantity = _get(kind, row, "Quantity")
    used = {"OrderID", "ReversalID", "CreationDate", "Currency", "ReversalStatus"}
    extra: dict[str, Any] = {k: v for k, v in row.items() if k not in used}
    extra["money"] = (
        f"A return moves no money itself: what was paid back is the refund {reversal}"
        " (Retail.OrdersReturned.Payments), if Amazon has paid it."
    )
    currency = _get(kind, row, "Currency") or NO_CURRENCY
    return [
        Purchase(
            provider_id=f"return:{reversal}",
            kind="return",
            kind_label="Return",
            order_number=reversal,
            purchased_at=parse_timestamp(row["CreationDate"]),
            channel="amazon",
            channel_label="Returned to Amazon",
            status=status,
            status_label=_label(rules.RETURN_STATUSES, status, "Return status"),
            state=state_of(RETURN_STATES, status),
            total=Decimal(0),
            currency=currency,
            lines=[
                PurchaseLine(
                    description=f"Items returned from order {order_id}"
                    + (f": {reason}" if reason else ""),
                    quantity=parse_quantity(quantity) if quantity else Decimal(1),
                    unit="item",
                    amount=Decimal(0),
                )
            ],
            original_order_number=order_id,
            extra=extra,
        )
    ]


def _name(kind: rules.FileKind, row: Mapping[str, str], name: str) -> str:
    """The name column ``name`` has in this row's layout."""
    return next(n for n in kind.column(name).names if n in row)


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "orders": order,
    "refunds": refund,
    "returns": give_back,
}
"""The normalise function of each stream."""
