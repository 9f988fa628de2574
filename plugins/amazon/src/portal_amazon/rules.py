"""The rules of Amazon's "Request your data" order files, written down from public sources.

Amazon publishes no specification of these files. What is written here is what the open
projects that read real exports document (the plugin's README cites each): the files, their
columns, which columns a record cannot do without, each column's format, and the codes
seen in them. Two layouts are known: the one exported until 2025 (``Retail.OrderHistory.1``
and its ``Retail.OrdersReturned`` siblings, columns in a fixed order), and the one since
(``Your Amazon Orders/Order History.csv``, ``Your Returns & Refunds/Refund Details.csv``,
columns in alphabetical order, a few renamed). Each column is known by its name in the
older layout; ``aliases`` are its names elsewhere.

``check_row`` says what in a row breaks these rules; the reader refuses such a row naming
its line and column, and the tests hold every fixture to them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from portal_amazon.values import absent, parse_amount, parse_quantity, parse_timestamp

TEXT, ID, TIMESTAMP, AMOUNT, QUANTITY, CURRENCY, CODE = (
    "text",
    "id",
    "timestamp",
    "amount",
    "quantity",
    "currency",
    "code",
)


@dataclass(frozen=True)
class Column:
    """One column: its name, its format, and whether a record needs it.

    ``required``: the file is refused without this column. ``may_be_absent``: a row may
    say ``Not Available`` (or ``Not Applicable``) in it.
    """

    name: str
    format: str = TEXT
    required: bool = False
    may_be_absent: bool = True
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Every name the column goes by."""
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class FileKind:
    """A kind of file in the export: the stream its rows feed and its columns."""

    name: str
    stream: str
    description: str
    columns: tuple[Column, ...]
    signature: tuple[str, ...]
    """Header names that together tell this kind from every other (the sniff)."""
    member: re.Pattern[str]
    """How its file is named in the ZIP (only to recognise an archive; rows are read by
    header, whatever the name)."""
    key: str = ""
    """The column that identifies a row's record (grouped on, for orders)."""

    def column(self, name: str) -> Column:
        """The column called ``name`` (in the older layout)."""
        return next(c for c in self.columns if c.name == name)


def _c(
    name: str, fmt: str = TEXT, *aliases: str, required: bool = False, absent: bool = True
) -> Column:
    return Column(name, fmt, required, absent, aliases)


ORDER_COLUMNS = (
    _c("Website", TEXT),
    _c("Order ID", ID, required=True, absent=False),
    _c("Order Date", TIMESTAMP, required=True, absent=False),
    _c("Purchase Order Number", TEXT),
    _c("Currency", CURRENCY, required=True, absent=False),
    _c("Unit Price", AMOUNT),
    _c("Unit Price Tax", AMOUNT),
    _c("Shipping Charge", AMOUNT),
    _c("Total Discounts", AMOUNT),
    _c("Total Owed", AMOUNT, "Total Amount", required=True),
    _c("Shipment Item Subtotal", AMOUNT),
    _c("Shipment Item Subtotal Tax", AMOUNT),
    _c("ASIN", TEXT),
    _c("Product Condition", TEXT),
    _c("Quantity", QUANTITY, "Original Quantity", required=True, absent=False),
    _c("Payment Instrument Type", TEXT, "Payment Method Type"),
    _c("Order Status", CODE),
    _c("Shipment Status", TEXT),
    _c("Ship Date", TEXT),  # "A and B" when shipped twice: kept as written
    _c("Shipping Option", TEXT),
    _c("Shipping Address", TEXT),
    _c("Billing Address", TEXT),
    _c("Carrier Name & Tracking Number", TEXT),
    _c("Product Name", TEXT, required=True),
    _c("Gift Message", TEXT),
    _c("Gift Sender Name", TEXT),
    _c("Gift Recipient Contact Details", TEXT, "Gift Recipient Contact"),
    _c("Item Serial Number", TEXT),
)

RETURN_COLUMNS = (
    _c("OrderID", ID, required=True, absent=False),
    _c("ReversalID", ID, required=True, absent=False),
    _c("CreationDate", TIMESTAMP, required=True, absent=False),
    _c("Currency", CURRENCY),
    _c("DirectDebitRefundAmount", AMOUNT),
    _c("ReversalAmountState", CODE),
    _c("ReversalReason", TEXT),
    _c("ReversalStatus", CODE),
    _c("Quantity", QUANTITY),
)

REFUND_COLUMNS = (
    _c("OrderID", ID, "Order ID", required=True, absent=False),
    _c("ReversalID", ID),
    _c("RefundCompletionDate", TIMESTAMP, "Refund Date", required=True),
    _c("Currency", CURRENCY, required=True, absent=False),
    _c("AmountRefunded", AMOUNT, "Refund Amount", required=True, absent=False),
    _c("Status", CODE, "Payment Status"),
    _c("DisbursementType", CODE, "Disbursement Type"),
    # Only in the layout since 2025, where one file holds the return and its refund:
    _c("CreationDate", TIMESTAMP, "Creation Date"),
    _c("DirectDebitRefundAmount", AMOUNT, "Direct Debit Refund Amount"),
    _c("ReversalAmountState", CODE, "Reversal Amount State"),
    _c("ReversalReason", TEXT, "Reversal Reason"),
    _c("ReversalStatus", CODE, "Reversal Status"),
    _c("Quantity", QUANTITY),
    _c("Website", TEXT),
)

ORDERS = FileKind(
    "orders",
    "orders",
    "Order history: a row per item of each order (Retail.OrderHistory.N.csv, or Order"
    " History.csv since 2025)",
    ORDER_COLUMNS,
    ("Order ID", "Order Date", "Total Owed", "Product Name"),
    re.compile(r"(?:^|/)(?:Retail\.OrderHistory\.\d+\.csv|Order History(?:\.\d+)?\.csv)$", re.I),
    key="Order ID",
)
RETURNS = FileKind(
    "returns",
    "returns",
    "Returns: a row per return of items from an order (Retail.OrdersReturned.N.csv)",
    RETURN_COLUMNS,
    ("OrderID", "ReversalID", "CreationDate"),
    re.compile(r"(?:^|/)Retail\.OrdersReturned\.\d+\.csv$", re.I),
    key="ReversalID",
)
REFUNDS = FileKind(
    "refunds",
    "refunds",
    "Refunds: a row per refund paid (Retail.OrdersReturned.Payments.N.csv, or Refund"
    " Details.csv since 2025)",
    REFUND_COLUMNS,
    ("RefundCompletionDate", "AmountRefunded"),
    re.compile(r"(?:^|/)(?:Retail\.OrdersReturned\.Payments\.\d+\.csv|Refund Details\.csv)$", re.I),
    key="ReversalID",
)
KINDS = (ORDERS, REFUNDS, RETURNS)
"""Every kind, the most specific signature first (a refunds header also names ReversalID)."""


def _has(header: Sequence[str], kind: FileKind, name: str) -> bool:
    names = kind.column(name).names if any(c.name == name for c in kind.columns) else (name,)
    return any(n in header for n in names)


def kind_of(header: Sequence[str]) -> FileKind | None:
    """Which kind of file a header row (BOM and spaces already stripped) is, if any."""
    cells = [cell.strip().lstrip("\ufeff") for cell in header]
    for kind in KINDS:
        if all(_has(cells, kind, name) for name in kind.signature):
            return kind
    return None


def columns_of(kind: FileKind, header: Sequence[str]) -> dict[str, int]:
    """Where each of the kind's columns is in ``header``, by its (older-layout) name.

    Raises ``ValueError`` naming the first required column the header lacks.
    """
    cells = [cell.strip().lstrip("\ufeff") for cell in header]
    found: dict[str, int] = {}
    for column in kind.columns:
        at = next((cells.index(n) for n in column.names if n in cells), None)
        if at is not None:
            found[column.name] = at
        elif column.required:
            raise ValueError(f"has no column {column.name!r}, which every {kind.name} file has")
    return found


CURRENCY_CODE = re.compile(r"[A-Z]{3}")


def check_value(column: Column, value: str) -> str | None:
    """What is wrong with ``value`` in ``column``, or None if the rules allow it."""
    if absent(value):
        return None if column.may_be_absent else "is empty (Not Available), which it may not be"
    try:
        if column.format == TIMESTAMP:
            parse_timestamp(value)
        elif column.format == AMOUNT:
            parse_amount(value)
        elif column.format == QUANTITY:
            parse_quantity(value)
        elif column.format == CURRENCY and not CURRENCY_CODE.fullmatch(value.strip()):
            return f"{value!r} is not a currency code such as EUR"
    except ValueError as error:
        return str(error)
    return None


def check_row(kind: FileKind, row: Mapping[str, str]) -> list[tuple[str, str]]:
    """Every (column, problem) in a row, keyed by the kind's column names."""
    problems = []
    for column in kind.columns:
        if column.name in row and (problem := check_value(column, row[column.name])):
            problems.append((column.name, problem))
    return problems


ORDER_STATUSES = {
    "Closed": "Closed: every item shipped, or the order is otherwise done",
    "Cancelled": "Cancelled",
    "Authorized": "Payment authorised; not yet shipped",
    "New": "New: placed, not yet processed",
    "Pending": "Pending",
    "Shipped": "Shipped",
}
"""The ``Order Status`` codes seen in exports; any other is kept with its code as label."""

REFUND_STATUSES = {
    "Completed": "Completed: the refund was paid",
    "Pending": "Pending: the refund is not paid yet",
}
"""``Status`` (``Payment Status``) codes seen in exports, and ``ReversalStatus`` of a refund."""

RETURN_STATUSES = {
    "Completed": "Completed: the items were returned",
    "Pending": "Pending: the return is not complete yet",
}
"""``ReversalStatus`` of a return (the goods going back): the same codes, said of the goods,
not of the money (whose refund may not be paid yet)."""

DISBURSEMENT_TYPES = {"Refund": "Refund to the payment method"}
"""``DisbursementType`` codes seen in exports."""

AMOUNT_STATES = {"Final": "Final amount"}
"""``ReversalAmountState`` codes seen in exports."""

HEADERS = {
    "orders until 2025": tuple(c.name for c in ORDER_COLUMNS),
    "orders since 2025": (
        "ASIN",
        "Billing Address",
        "Carrier Name & Tracking Number",
        "Currency",
        "Gift Message",
        "Gift Recipient Contact",
        "Gift Sender Name",
        "Item Serial Number",
        "Order Date",
        "Order ID",
        "Order Status",
        "Original Quantity",
        "Payment Method Type",
        "Product Condition",
        "Product Name",
        "Purchase Order Number",
        "Ship Date",
        "Shipment Item Subtotal",
        "Shipment Item Subtotal Tax",
        "Shipment Status",
        "Shipping Address",
        "Shipping Charge",
        "Shipping Option",
        "Total Amount",
        "Total Discounts",
        "Unit Price",
        "Unit Price Tax",
        "Website",
    ),
    "returns until 2025": tuple(c.name for c in RETURN_COLUMNS),
    "refunds until 2025": tuple(c.name for c in REFUND_COLUMNS[:7]),
    "refunds since 2025": (
        "Creation Date",
        "Currency",
        "Direct Debit Refund Amount",
        "Disbursement Type",
        "Order ID",
        "Payment Status",
        "Quantity",
        "Refund Amount",
        "Refund Date",
        "Reversal Amount State",
        "Reversal Reason",
        "Reversal Status",
        "Website",
    ),
}
"""Each file's header row as the public sources show it, in order. The order of
``Retail.OrdersReturned.N.csv``'s columns is not shown by any source found: its names are."""
