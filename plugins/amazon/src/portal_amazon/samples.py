"""Amazon's "Request your data" download, as a test double: ``AmazonExport``.

It writes what a person gets back from Amazon's privacy centre, laid out as the public
sources cited in the plugin's README show it, from a seeded history of its own:

- ``Your Orders.zip``, an Amazon.com account's export in the layout used until 2025:
  ``Retail.OrderHistory.1/Retail.OrderHistory.1.csv`` and ``….2`` (the history split over
  numbered files, one order's rows across both), ``Retail.OrdersReturned.1/…`` and
  ``Retail.OrdersReturned.Payments.1/…``, and a digital-orders file the importer does not
  read. A UTF-8 BOM, CRLF line ends and every cell quoted; ``Not Available`` and ``Not
  Applicable`` for no value; amounts as ``1,299.00``, ``'-0.68'`` and ``$14.52``; times in
  ISO 8601 UTC with and without milliseconds, and the older ``01/05/2024 10:15:00 UTC``;
  an order over several rows and two shipments, its rows apart; an item of quantity 2
  shipped one at a time (a row per shipment); a cancelled line (quantity 0, nothing owed);
  two ship dates, statuses and carriers joined by `` and ``; no ASIN and no unit price;
  an order status and a disbursement type portal has no words for;
  orders on Amazon.com in USD and on Amazon.de in EUR; a refund not paid yet.
- ``Your Orders (1).zip``, the same person's Amazon.fr account exported in the layout
  used since 2025 (the name a browser gives a second download of the same name):
  ``Your Amazon Orders/Order History.csv`` (columns in alphabetical order, ``Original
  Quantity``, ``Total Amount``, cells quoted only where needed, decimal commas such as
  ``1.250,00``), an order cancelled whole, a gift message over two lines, and ``Your
  Returns & Refunds/Refund Details.csv`` (no ``ReversalID``; two
  refunds of one order; one not paid yet). A separate account's export: its orders are
  none of the first's, so neither file restates the other.

Free text carries what a hostile or careless seller writes: markup, a spreadsheet formula,
a right-to-left override, and (in a gift message, which the record keeps aside) a terminal
escape; each is stated exactly as it must be stored. (A control character in a product
name, which becomes a line's description, refuses the file: portal's text fields hold none.)

What each item must become is stated in ``expected_records`` from this history and the
format's rules (``portal_amazon.rules``: columns, status words), never from the importer's
reading code: amounts and times are held here as numbers and moments and *written* in the
file's notation, so the importer's reading of that notation is what is checked. What the
record makes of them (an order's kind and channel words, what ``extra`` holds per line and
per shipment, the notes on a line with no amount and on the card) is the plugin README's
"What it reads", restated here; the one value taken from the plugin is the id it derives
for a 2025 refund, which has none of Amazon's (``stable_refund_id``). ``scale``
repeats the history further back in time (each copy 30 days earlier, with ids of its own).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal.samples import SampleExport
from portal_amazon import rules

D = Decimal
NA = "Not Available"
ZERO = D(0)
ZIP_TIME = (2024, 11, 20, 9, 30, 0)
"""The time stamped on every ZIP member (a fixed one: the same folder for the same scale)."""
SHIFT = timedelta(days=30)
"""How much earlier each further copy of the history is, at ``scale`` above 1."""

OLD_ORDER_HEADER = rules.HEADERS["orders until 2025"]
NEW_ORDER_HEADER = rules.HEADERS["orders since 2025"]
RETURN_HEADER = rules.HEADERS["returns until 2025"]
OLD_REFUND_HEADER = rules.HEADERS["refunds until 2025"]
NEW_REFUND_HEADER = rules.HEADERS["refunds since 2025"]

RENAMED_2025 = {
    "Total Owed": "Total Amount",
    "Quantity": "Original Quantity",
    "Payment Instrument Type": "Payment Method Type",
    "Gift Recipient Contact Details": "Gift Recipient Contact",
}
"""The order columns the 2025 layout names otherwise (``rules.ORDER_COLUMNS``' aliases)."""

MAPPED = (
    "Website",
    "Order ID",
    "Order Date",
    "Currency",
    "Unit Price",
    "Total Owed",
    "ASIN",
    "Quantity",
    "Product Name",
)
"""The order columns with a place of their own in the record (the plugin README's "What
it reads"); every other column is kept per line in ``extra["lines"]``, as written, but
the payment card (``extra["not_kept"]`` says why)."""
SHIPMENT = (
    "Ship Date",
    "Shipment Status",
    "Carrier Name & Tracking Number",
    "Shipment Item Subtotal",
    "Shipment Item Subtotal Tax",
)
"""What a row says of the parcel it went in: the same on each row of one shipment."""
WHY = (
    "Which card paid (its network and last four digits) is not kept: portal keeps no payment"
    " card details."
)
RETURN_MONEY = (
    "A return moves no money itself: what was paid back is the refund {reversal}"
    " (Retail.OrdersReturned.Payments), if Amazon has paid it."
)
NOT_STATED = "{column} is Not Available: the line is counted as 0."
DERIVED = "From the order, refund date and amount."

US_HOME = "Alex Example 1 Sample Street SPRINGFIELD IL 62701-0001 United States"
GIFT_TO = "Sam Example 2 Other Road PORTLAND OR 97201-0002 United States"
DE_HOME = "Alex Beispiel Musterstraße 1 10115 Berlin Deutschland"
FR_HOME = "Alex Exemple 3 rue de l'Essai 75001 Paris France"


# -- how Amazon writes values ----------------------------------------------------------


def amount(value: Decimal | None, style: str = "plain") -> str:
    """``value`` as Amazon writes it: ``plain`` 12.49, ``grouped`` 1,299.00, ``quoted``
    '-0.68', ``dollar`` $14.52, ``comma`` 1.250,00 (the 2025 layout in EUR), ``quoted
    comma`` '-1,00'; None is Not Available."""
    if value is None:
        return NA
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    if value == value.to_integral_value() and style == "bare":
        return f"{sign}{whole}"
    grouped = f"{int(whole):,}"
    if style == "plain":
        return f"{sign}{whole}.{cents}"
    if style == "grouped":
        return f"{sign}{grouped}.{cents}"
    if style == "quoted":
        return f"'{sign}{whole}.{cents}'"
    if style == "dollar":
        return f"${sign}{grouped}.{cents}"
    euro = f"{sign}{grouped.replace(',', '.')},{cents}"
    if style == "comma":
        return euro
    if style == "quoted comma":
        return f"'{euro}'"
    raise ValueError(style)


def moment(value: datetime | None, style: str = "iso") -> str:
    """A UTC time as Amazon writes it: ``iso`` 2024-03-02T14:05:09Z, ``ms`` with
    milliseconds, ``us`` the older 01/05/2024 10:15:00 UTC; None is ``Not Applicable``."""
    if value is None:
        return "Not Applicable"
    if style == "ms":
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if style == "us":
        return value.strftime("%m/%d/%Y %H:%M:%S UTC")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- the history -----------------------------------------------------------------------


@dataclass
class Parcel:
    """A shipment: what each of its rows says of it."""

    date: str = NA
    status: str = NA
    carrier: str = NA
    subtotal: Decimal | None = None
    tax: Decimal | None = None


@dataclass
class Line:
    """One row of an order: an item (or an item's share of a shipment)."""

    name: str
    asin: str | None
    quantity: int
    price: Decimal | None
    owed: Decimal | None
    tax: Decimal = ZERO
    status: str = "Closed"
    parcel: Parcel = field(default_factory=Parcel)
    shipping: Decimal = ZERO
    discount: Decimal = ZERO
    styles: dict[str, str] = field(default_factory=dict)
    """How a money column is written, where not plainly (``amount``'s styles)."""
    cells: dict[str, str] = field(default_factory=dict)
    """Other columns as written, where not their usual value."""
    part: int = 1
    """Which ``Retail.OrderHistory.N`` file the row is in."""


@dataclass
class Order:
    """An order: its id, site, currency, time and rows."""

    order_id: str
    site: str
    currency: str
    placed: datetime
    lines: list[Line]
    date_style: str = "iso"
    payment: str = "Visa - 0000"
    home: str = US_HOME
    option: str = "std-us"


@dataclass
class Return:
    """A row of ``Retail.OrdersReturned``: goods going back."""

    order_id: str
    reversal: str
    created: datetime
    currency: str
    reason: str
    status: str = "Completed"
    quantity: int = 1
    date_style: str = "iso"


@dataclass
class Refund:
    """A refund row: money paid back (``paid`` None: not paid yet)."""

    order_id: str
    reversal: str | None
    paid: datetime | None
    currency: str
    amount: Decimal
    style: str = "plain"
    status: str = "Completed"
    disbursement: str = "Refund"
    created: datetime | None = None
    reason: str = "Customer return"
    quantity: int = 1
    site: str = ""


@dataclass
class History:
    """One copy of the person's history in both accounts."""

    us: list[Order]
    returns: list[Return]
    refunds: list[Refund]
    fr: list[Order]
    fr_refunds: list[Refund]


def _ids(copy: int) -> tuple[str, str, str, str]:
    """The id stems of one copy: Amazon.com, Amazon.de and Amazon.fr orders, reversals."""
    return (f"112-{copy:07d}", f"302-{copy:07d}", f"403-{copy:07d}", f"R-{copy:04d}")


def history(copy: int) -> History:
    """The history of copy ``copy`` (0 is the latest), every time ``copy * SHIFT`` earlier."""
    us, de, fr, rev = _ids(copy)
    back = SHIFT * copy

    def at(text: str) -> datetime:
        return _at(text) - back

    def day(text: str) -> str:
        return moment(at(text))

    cable_box = Parcel(
        day("2024-03-03T01:16:56"), "Shipped", "AMZN_US(TBA100000000001)", D("27.97"), D("2.24")
    )
    notes_box = Parcel(day("2024-04-19T10:00:00"), "Shipped", "UPS(1Z0000000000000001)")
    notes_box.subtotal, notes_box.tax = D("12.49"), D("1.00")
    laptop_boxes = Parcel(
        f"{day('2023-12-11T09:00:00')} and {day('2023-12-12T09:00:00')}",
        "Shipped and Shipped",
        "UPS(1Z0000000000000002) and AMZN_US(TBA100000000003)",
        D("1299.00"),
        D("107.17"),
    )
    scarf_box = Parcel(day("2023-12-02T08:00:00"), "Shipped", "USPS(9400100000000000000001)")
    scarf_box.subtotal, scarf_box.tax = D("24.00"), D("1.98")
    desk_first = Parcel(day("2024-06-08T07:00:00"), "Shipped", "AMZN_US(TBA100000000005)")
    desk_first.subtotal, desk_first.tax = D("21.99"), D("1.76")
    desk_second = Parcel(day("2024-06-11T15:30:00"), "Shipped", "AMZN_US(TBA100000000006)")
    desk_second.subtotal, desk_second.tax = D("19.99"), D("1.60")
    battery_first = Parcel(day("2024-08-10T09:00:00"), "Shipped", "AMZN_US(TBA100000000007)")
    battery_first.subtotal, battery_first.tax = D("17.99"), D("1.44")
    battery_second = Parcel(day("2024-08-14T09:00:00"), "Shipped", "AMZN_US(TBA100000000008)")
    battery_second.subtotal, battery_second.tax = D("17.99"), D("1.44")
    grouped = {
        "Unit Price": "grouped",
        "Total Owed": "grouped",
        "Shipment Item Subtotal": "grouped",
    }
    orders = [
        Order(
            f"{us}-0000001",
            "Amazon.com",
            "USD",
            at("2024-03-02T14:05:09.128"),
            [
                Line(
                    "USB-C Cable, 6 ft, 2-Pack",
                    "B0US000001",
                    2,
                    D("9.99"),
                    D("21.58"),
                    D("0.80"),
                    parcel=cable_box,
                ),
                Line(
                    "Phone Stand <b>Adjustable</b>",
                    "B0US000002",
                    1,
                    D("7.99"),
                    D("8.63"),
                    D("0.64"),
                    parcel=cable_box,
                ),
            ],
            date_style="ms",
        ),
        Order(
            f"{us}-0000002",
            "Amazon.com",
            "USD",
            at("2024-04-18T09:41:00"),
            [
                Line(
                    "Sticky Notes, 3x3 in, 12 Pads",
                    "B0US000003",
                    1,
                    D("12.49"),
                    D("13.49"),
                    D("1.00"),
                    parcel=notes_box,
                ),
                # Cancelled before it shipped: quantity 0, nothing owed, no parcel.
                Line("Desk Lamp, LED", "B0US000004", 0, D("34.99"), None, status="Cancelled"),
            ],
        ),
        Order(
            f"{us}-0000003",
            "Amazon.com",
            "USD",
            at("2023-12-10T16:45:12"),
            [
                Line(
                    'Laptop, 14-inch, 16GB RAM "Pro" Edition',
                    "B0US000005",
                    1,
                    D("1299.00"),
                    D("1406.17"),
                    D("107.17"),
                    parcel=laptop_boxes,
                    styles=grouped,
                ),
            ],
            payment="Gift Certificate/Card and Visa - 0000",
        ),
        Order(
            f"{us}-0000004",
            "Amazon.com",
            "USD",
            at("2023-12-01T20:00:00"),
            [
                Line(
                    "Knitted Scarf, Wool",
                    "B0US000006",
                    1,
                    D("24.00"),
                    D("25.98"),
                    D("1.98"),
                    parcel=scarf_box,
                    shipping=D("5.99"),
                    discount=D("-5.99"),
                    styles={"Total Discounts": "quoted"},
                    cells={
                        "Gift Message": "Happy holidays!\nWith love, Alex \x1b[31mx\x1b[0m",
                        "Gift Sender Name": "Alex",
                        "Gift Recipient Contact Details": GIFT_TO,
                        "Shipping Address": GIFT_TO,
                    },
                ),
            ],
        ),
        Order(
            f"{us}-0000005",
            "Amazon.com",
            "USD",
            at("2024-06-07T11:22:33"),
            [
                Line(
                    "Notebook A5, Dotted",
                    "B0US000007",
                    2,
                    D("6.50"),
                    D("14.04"),
                    D("0.52"),
                    parcel=desk_first,
                ),
                Line(
                    "Gel Pens, 10 Colours",
                    "B0US000008",
                    1,
                    D("8.99"),
                    D("9.71"),
                    D("0.72"),
                    parcel=desk_first,
                ),
                # The last row of the order is in the next file of the history.
                Line(
                    'Desk Organiser =HYPERLINK("http://example.invalid","open")',
                    "B0US000009",
                    1,
                    D("19.99"),
                    D("21.59"),
                    D("1.60"),
                    parcel=desk_second,
                    part=2,
                ),
            ],
        ),
        Order(
            f"{us}-0000006",
            "Amazon.com",
            "USD",
            at("2024-11-18T22:10:05.500"),
            [
                Line(
                    "Blue Diamond, Dark Chocolate Almond Snack Nuts, 40oz Bag",
                    "B0US000010",
                    1,
                    D("13.57"),
                    D("12.89"),
                    status="Authorized",
                    discount=D("-0.68"),
                    styles={"Total Discounts": "quoted"},
                    cells={
                        "Purchase Order Number": "PO-7731",
                        "Product Condition": "Used - Like New",
                        "Shipping Option": "std-sns-us",
                    },
                ),
            ],
            date_style="ms",
        ),
        Order(
            f"{us}-0000007",
            "Amazon.com",
            "USD",
            at("2024-11-19T08:00:00"),
            [
                # No ASIN and no unit price stated; a status portal has no words for.
                Line("Gift wrap service", None, 1, None, D("15.00"), status="Held"),
            ],
        ),
        Order(
            f"{us}-0000008",
            "Amazon.com",
            "USD",
            at("2024-08-09T17:45:00"),
            [
                # One item of quantity 2 shipped one at a time: a row per shipment.
                Line(
                    "AA Batteries, 48 Pack",
                    "B0US000011",
                    1,
                    D("17.99"),
                    D("19.43"),
                    D("1.44"),
                    parcel=battery_first,
                ),
                Line(
                    "AA Batteries, 48 Pack",
                    "B0US000011",
                    1,
                    D("17.99"),
                    D("19.43"),
                    D("1.44"),
                    parcel=battery_second,
                ),
            ],
        ),
    ]
    de_first = Parcel(day("2024-09-02T07:00:00"), "Shipped", "DHL(000000000001)")
    de_first.subtotal, de_first.tax = D("25.20"), D("4.79")
    de_second = Parcel(day("2024-09-03T07:00:00"), "Shipped", "DHL(000000000002)")
    de_cable = Parcel(day("2024-10-06T07:00:00"), "Shipped", "DHL(000000000003)")
    de_cable.subtotal, de_cable.tax = D("12.60"), D("2.39")
    orders += [
        Order(
            f"{de}-0000001",
            "Amazon.de",
            "EUR",
            at("2024-09-01T18:02:11"),
            [
                Line(
                    "Druckerpatronen XL, 4er-Pack",
                    "B0DE000001",
                    1,
                    D("25.20"),
                    D("29.99"),
                    D("4.79"),
                    parcel=de_first,
                    part=2,
                ),
                Line(
                    "Kabelbinder, 100 Stück \u2013 schwarz",
                    "B0DE000002",
                    1,
                    D("8.39"),
                    D("9.99"),
                    D("1.60"),
                    parcel=de_second,
                    styles={"Total Owed": "quoted"},
                    part=2,
                ),
            ],
            home=DE_HOME,
            option="std-de",
        ),
        Order(
            f"{de}-0000002",
            "Amazon.de",
            "EUR",
            at("2024-10-05T07:30:00"),
            [
                Line(
                    "Ladekabel \u202eLSU\u202c, 2 m",
                    "B0DE000003",
                    1,
                    D("12.60"),
                    D("14.99"),
                    D("2.39"),
                    parcel=de_cable,
                    part=2,
                ),
            ],
            home=DE_HOME,
            option="std-de",
        ),
    ]
    returns = [
        Return(
            f"{us}-0000001", f"{rev}000001", at("2024-03-12T11:00:00"), "USD", "Customer return"
        ),
        Return(
            f"{us}-0000003",
            f"{rev}000002",
            at("2024-01-05T10:15:00"),
            "USD",
            "Defective, does not work",
            date_style="us",
        ),
        Return(
            f"{de}-0000001",
            f"{rev}000003",
            at("2024-09-20T08:00:00"),
            "EUR",
            "Falsche Größe <i>zu klein</i>",
            status="Pending",
        ),
    ]
    refunds = [
        Refund(f"{us}-0000001", f"{rev}000001", at("2024-03-15T15:30:00"), "USD", D("8.63")),
        Refund(
            f"{us}-0000003",
            f"{rev}000002",
            at("2024-01-09T09:15:00"),
            "USD",
            D("1406.17"),
            style="grouped",
        ),
        # Not paid yet: no completion date. Listed by portal import, not kept.
        Refund(f"{de}-0000001", f"{rev}000003", None, "EUR", D("9.99"), status="Pending"),
        # A refund with no return (a price adjustment), to a code portal has no words for.
        Refund(
            f"{us}-0000004",
            f"{rev}000004",
            at("2023-12-20T12:00:00"),
            "USD",
            D("14.52"),
            style="dollar",
            disbursement="GiftCardBalance",
        ),
    ]
    fr_box = Parcel(day("2025-03-15T06:01:02"), "Shipped", "Colissimo - 000000000001")
    fr_box.subtotal, fr_box.tax = D("29.16"), D("5.83")
    drill_box = Parcel(day("2025-06-03T08:00:00"), "Shipped", "Colissimo - 000000000002")
    drill_box.subtotal, drill_box.tax = D("1041.66"), D("208.34")
    desk_box = Parcel(day("2025-07-22T09:00:00"), "Shipped", "Chronopost - 000000000003")
    desk_box.subtotal, desk_box.tax = D("15.49"), D("3.10")
    gift_box = Parcel(day("2025-08-31T10:00:00"), "Shipped", "Colissimo - 000000000004")
    gift_box.subtotal, gift_box.tax = D("16.66"), D("3.33")
    fr_orders = [
        Order(
            f"{fr}-0000001",
            "Amazon.fr",
            "EUR",
            at("2025-03-14T09:12:40.512"),
            [
                Line(
                    "Bouilloire 1,7 L, inox",
                    "B0FR000001",
                    1,
                    D("29.16"),
                    D("34.99"),
                    D("5.83"),
                    parcel=fr_box,
                )
            ],
            date_style="ms",
            payment="Mastercard - 0000",
            home=FR_HOME,
            option="std-fr",
        ),
        Order(
            f"{fr}-0000002",
            "Amazon.fr",
            "EUR",
            at("2025-06-02T20:00:00"),
            [
                Line(
                    "Perceuse-visseuse 18 V",
                    "B0FR000002",
                    2,
                    D("520.83"),
                    D("1250.00"),
                    D("104.17"),
                    parcel=drill_box,
                )
            ],
            payment="Mastercard - 0000",
            home=FR_HOME,
            option="std-fr",
        ),
        Order(
            f"{fr}-0000003",
            "Amazon.fr",
            "EUR",
            at("2025-07-21T15:03:00"),
            [
                Line(
                    "Cahier A4 <script>alert(1)</script>",
                    "B0FR000003",
                    3,
                    D("3.50"),
                    D("12.60"),
                    D("0.70"),
                    parcel=desk_box,
                ),
                Line(
                    "Stylos, lot de 10",
                    "B0FR000004",
                    1,
                    D("4.99"),
                    D("4.99"),
                    D("1.00"),
                    parcel=desk_box,
                    discount=D("-1.00"),
                    styles={"Total Discounts": "quoted comma"},
                ),
            ],
            payment="Mastercard - 0000",
            home=FR_HOME,
            option="std-fr",
        ),
        Order(
            f"{fr}-0000004",
            "Amazon.fr",
            "EUR",
            at("2025-08-30T12:00:00"),
            [
                Line(
                    "Puzzle 1000 pièces",
                    "B0FR000005",
                    1,
                    D("16.66"),
                    D("19.99"),
                    D("3.33"),
                    parcel=gift_box,
                    cells={
                        "Gift Message": "Joyeux anniversaire !\r\nBises, Alex",
                        "Gift Sender Name": "Alex",
                        "Gift Recipient Contact Details": "Camille Exemple",
                    },
                )
            ],
            payment="Mastercard - 0000",
            home=FR_HOME,
            option="std-fr",
        ),
    ]
    # Cancelled before it shipped, the whole order: quantity 0, no amount, no parcel.
    fr_orders.append(
        Order(
            f"{fr}-0000005",
            "Amazon.fr",
            "EUR",
            at("2025-09-02T07:15:00"),
            [Line("Lampe de bureau", "B0FR000006", 0, D("24.99"), None, status="Cancelled")],
            payment="Mastercard - 0000",
            home=FR_HOME,
            option="std-fr",
        )
    )
    fr_refunds = [
        Refund(
            f"{fr}-0000002",
            None,
            at("2025-06-12T16:02:06.468"),
            "EUR",
            D("625.00"),
            style="comma",
            created=at("2025-06-10T22:00:52.027"),
            site="Amazon.fr",
        ),
        Refund(
            f"{fr}-0000002",
            None,
            at("2025-06-20T09:00:00"),
            "EUR",
            D("625.00"),
            style="comma",
            created=at("2025-06-18T10:00:00"),
            site="Amazon.fr",
            reason="Défectueux",
        ),
        Refund(
            f"{fr}-0000003",
            None,
            None,
            "EUR",
            D("12.60"),
            style="comma",
            status="Pending",
            created=at("2025-07-30T10:00:00"),
            site="Amazon.fr",
        ),
    ]
    return History(orders, returns, refunds, fr_orders, fr_refunds)


_US_SEQUENCE = (
    (5, 0), (6, 0), (7, 1), (1, 0), (4, 0), (0, 0), (0, 1), (7, 0), (2, 0), (1, 1), (3, 0),
    (4, 1),
)  # fmt: skip
"""The order the rows of the Amazon.com orders are written in (order, line): about newest
first, but with orders' rows apart (a cancelled line later than its order's other line, a
second shipment's row before the first's), which nothing in the export rules out."""


# -- the files -------------------------------------------------------------------------


def order_row(order: Order, line: Line, new_layout: bool) -> dict[str, str]:
    """One row of an order history file, by column as that layout names it."""
    style = "comma" if new_layout else "plain"

    def money(column: str, value: Decimal | None) -> str:
        chosen = line.styles.get(column, style)
        return amount(value, "bare" if value == 0 and chosen in ("plain", "comma") else chosen)

    parcel = line.parcel
    row = {
        "Website": order.site,
        "Order ID": order.order_id,
        "Order Date": moment(order.placed, order.date_style),
        "Purchase Order Number": "Not Applicable",
        "Currency": order.currency,
        "Unit Price": money("Unit Price", line.price),
        "Unit Price Tax": money("Unit Price Tax", line.tax),
        "Shipping Charge": money("Shipping Charge", line.shipping),
        "Total Discounts": money("Total Discounts", line.discount),
        "Total Owed": money("Total Owed", line.owed),
        "Shipment Item Subtotal": money("Shipment Item Subtotal", parcel.subtotal),
        "Shipment Item Subtotal Tax": money("Shipment Item Subtotal Tax", parcel.tax),
        "ASIN": line.asin or NA,
        "Product Condition": "New",
        "Quantity": str(line.quantity),
        "Payment Instrument Type": order.payment,
        "Order Status": line.status,
        "Shipment Status": parcel.status,
        "Ship Date": parcel.date,
        "Shipping Option": order.option,
        "Shipping Address": order.home,
        "Billing Address": order.home,
        "Carrier Name & Tracking Number": parcel.carrier,
        "Product Name": line.name,
        "Gift Message": NA,
        "Gift Sender Name": NA,
        "Gift Recipient Contact Details": NA,
        "Item Serial Number": NA,
    } | line.cells
    if new_layout:
        row = {RENAMED_2025.get(k, k): v for k, v in row.items()}
    return row


def _csv(header: Sequence[str], rows: Sequence[dict[str, str]], quote_all: bool) -> bytes:
    """A CSV as Amazon writes it: a BOM, CRLF, every cell quoted (until 2025) or only
    where needed (since)."""
    text = io.StringIO()
    if quote_all:
        writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    else:
        writer = csv.writer(text, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row[name] for name in header])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def return_row(item: Return) -> dict[str, str]:
    """A row of ``Retail.OrdersReturned.N.csv``."""
    return {
        "OrderID": item.order_id,
        "ReversalID": item.reversal,
        "CreationDate": moment(item.created, item.date_style),
        "Currency": item.currency,
        "DirectDebitRefundAmount": "0",
        "ReversalAmountState": "Final",
        "ReversalReason": item.reason,
        "ReversalStatus": item.status,
        "Quantity": str(item.quantity),
    }


def refund_row(item: Refund) -> dict[str, str]:
    """A row of ``Retail.OrdersReturned.Payments.N.csv``, or of ``Refund Details.csv``."""
    if item.reversal is not None:
        return {
            "OrderID": item.order_id,
            "ReversalID": item.reversal,
            "RefundCompletionDate": moment(item.paid),
            "Currency": item.currency,
            "AmountRefunded": amount(item.amount, item.style),
            "Status": item.status,
            "DisbursementType": item.disbursement,
        }
    return {
        "Creation Date": moment(item.created, "ms"),
        "Currency": item.currency,
        "Direct Debit Refund Amount": "0",
        "Disbursement Type": item.disbursement,
        "Order ID": item.order_id,
        "Payment Status": item.status,
        "Quantity": str(item.quantity),
        "Refund Amount": amount(item.amount, item.style),
        "Refund Date": NA if item.paid is None else moment(item.paid, "ms"),
        "Reversal Amount State": "Final",
        "Reversal Reason": item.reason,
        "Reversal Status": "Completed" if item.paid else "Pending",
        "Website": item.site,
    }


def _zip(path: Path, members: dict[str, bytes]) -> None:
    """A ZIP of ``members``, byte for byte the same each time (fixed times and modes)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)


class AmazonExport(SampleExport):
    """Two "Request your data" downloads of one person, and what each item must become."""

    def __init__(self, folder: Path, scale: int = 1) -> None:
        super().__init__(folder, scale)
        self.histories = [history(copy) for copy in range(scale)]
        older = folder / "Your Orders.zip"
        newer = folder / "Your Orders (1).zip"
        _zip(older, self._older_members())
        _zip(newer, self._newer_members())
        self.files = (older, newer)

    # -- what the files hold -------------------------------------------------------------

    def _rows_in(self, part: int) -> list[tuple[Order, Line]]:
        found = []
        for each in self.histories:
            us = [o for o in each.us if o.site == "Amazon.com"]
            sequence = [(us[o], us[o].lines[n]) for o, n in _US_SEQUENCE]
            sequence += [
                (o, line)
                for o in us
                for n, line in enumerate(o.lines)
                if (us.index(o), n) not in _US_SEQUENCE
            ]
            sequence += [(o, line) for o in each.us if o.site != "Amazon.com" for line in o.lines]
            found += [(o, line) for o, line in sequence if line.part == part]
        return found

    def _older_members(self) -> dict[str, bytes]:
        parts = {
            part: _csv(
                OLD_ORDER_HEADER,
                [order_row(o, line, False) for o, line in self._rows_in(part)],
                True,
            )
            for part in (1, 2)
        }
        returns = [return_row(r) for h in self.histories for r in h.returns]
        refunds = [refund_row(r) for h in self.histories for r in h.refunds]
        return {
            "Retail.OrderHistory.1/Retail.OrderHistory.1.csv": parts[1],
            "Retail.OrderHistory.2/Retail.OrderHistory.2.csv": parts[2],
            "Retail.OrdersReturned.1/Retail.OrdersReturned.1.csv": _csv(
                RETURN_HEADER, returns, True
            ),
            "Retail.OrdersReturned.Payments.1/Retail.OrdersReturned.Payments.1.csv": _csv(
                OLD_REFUND_HEADER, refunds, True
            ),
            # Not an order, return or refund file: counted by portal import as not read.
            "Digital-Ordering.1/Digital Items.csv": _csv(
                ("ASIN", "ProductName", "OrderId"),
                [{"ASIN": "B0KINDLE01", "ProductName": "A Novel", "OrderId": "D01-0000001"}],
                True,
            ),
        }

    def _newer_members(self) -> dict[str, bytes]:
        orders = [
            order_row(o, line, True) for h in self.histories for o in h.fr for line in o.lines
        ]
        refunds = [refund_row(r) for h in self.histories for r in h.fr_refunds]
        return {
            "Your Amazon Orders/Order History.csv": _csv(NEW_ORDER_HEADER, orders, False),
            "Your Returns & Refunds/Refund Details.csv": _csv(NEW_REFUND_HEADER, refunds, False),
        }

    # -- what each item must become --------------------------------------------------------

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every order, return and refund paid, as the record must hold it."""
        purchases: dict[str, dict[str, Any]] = {}
        # An order's lines are its rows in the order the files hold them (.1, then .2).
        in_files: dict[str, list[Line]] = {}
        for order, line in self._rows_in(1) + self._rows_in(2):
            in_files.setdefault(order.order_id, []).append(line)
        for each in self.histories:
            for order in each.us:
                lines = in_files[order.order_id]
                purchases[f"order:{order.order_id}"] = expected_order(order, lines, False)
            for order in each.fr:
                purchases[f"order:{order.order_id}"] = expected_order(order, order.lines, True)
            for item in each.returns:
                purchases[f"return:{item.reversal}"] = expected_return(item)
            for refund in [*each.refunds, *each.fr_refunds]:
                if refund.paid is not None:
                    key, fields = expected_refund(refund)
                    purchases[key] = fields
        return {"purchases": purchases}


# -- the record each item must become -------------------------------------------------------

ORDER_STATES = {
    # This double's reading of the codes the sources show (rules.ORDER_STATUSES): Closed is
    # done; Authorized, New, Pending and Shipped are not yet; Cancelled was called off.
    "Closed": "completed",
    "Cancelled": "cancelled",
    "Authorized": "pending",
    "New": "pending",
    "Pending": "pending",
    "Shipped": "pending",
}
REFUND_STATES = {"Completed": "completed", "Pending": "pending"}
RETURN_STATES = {"Completed": "returned", "Pending": "pending"}


def _state(table: dict[str, str], code: str) -> Any:
    from portal.record.vocab import State

    return State(table.get(code, "unknown"))


def _words(table: dict[str, str], code: str, what: str) -> str:
    return table.get(code) or f"{what} {code!r} (a code portal has no words for)"


def _status(lines: list[Line]) -> tuple[str, str, Any]:
    statuses = [line.status for line in lines]
    distinct = sorted(set(statuses))
    if len(distinct) == 1:
        code = distinct[0]
        return (
            code,
            _words(rules.ORDER_STATUSES, code, "Order status"),
            _state(ORDER_STATES, code),
        )
    words = "Lines differ: " + "; ".join(
        f"{statuses.count(d)} {_words(rules.ORDER_STATUSES, d, 'order status')}" for d in distinct
    )
    # Some of it was delivered (Closed): the order is done, and its label says the rest.
    done = "Closed" in distinct
    return "+".join(distinct), words, _state({"x": "completed" if done else "pending"}, "x")


def expected_order(order: Order, lines: list[Line], new_layout: bool) -> dict[str, Any]:
    """An order: a line per row, its total the sum of what each row owed."""
    rows = [order_row(order, line, new_layout) for line in lines]
    mapped = set(MAPPED) | {RENAMED_2025.get(name, name) for name in MAPPED}
    card = {"Payment Instrument Type", "Payment Method Type"}
    details = []
    for line, row in zip(lines, rows, strict=True):
        detail = {k: v for k, v in row.items() if k not in mapped and k not in card}
        if line.owed is None:
            column = RENAMED_2025["Total Owed"] if new_layout else "Total Owed"
            detail["amount_not_stated"] = NOT_STATED.format(column=column)
        details.append(detail)
    parcels: dict[tuple[str, ...], dict[str, Any]] = {}
    for n, row in enumerate(rows, 1):
        said = {name: row[name] for name in SHIPMENT}
        parcels.setdefault(tuple(said.values()), {**said, "lines": []})["lines"].append(n)
    status, status_label, state = _status(lines)
    return {
        "account_id": None,
        "kind": "order",
        "kind_label": "Online order",
        "order_number": order.order_id,
        "purchased_at": order.placed,
        "channel": order.site,
        "channel_label": f"Online at {order.site}",
        "store": None,
        "status": status,
        "status_label": status_label,
        "state": state,
        "total": sum((line.owed or D(0) for line in lines), D(0)),
        "currency": order.currency,
        "lines": [
            {
                "description": line.name,
                "sku": line.asin,
                "quantity": D(line.quantity),
                "unit": "item",
                "unit_price": line.price,
                "amount": line.owed or D(0),
                "points_earned": None,
                "category_code": None,
                "category_label": None,
            }
            for line in lines
        ],
        "points_earned": None,
        "points_spent": None,
        "original_order_number": None,
        "extra": {
            "lines": details,
            "shipments": list(parcels.values()),
            # Said under the name the file gives the card's column.
            "not_kept": {"Payment Method Type" if new_layout else "Payment Instrument Type": WHY},
        },
    }


def expected_return(item: Return) -> dict[str, Any]:
    """Goods going back: a return of no money of its own (its refund holds the money)."""
    row = return_row(item)
    used = {"OrderID", "ReversalID", "CreationDate", "Currency", "ReversalStatus"}
    return {
        "account_id": None,
        "kind": "return",
        "kind_label": "Return",
        "order_number": item.reversal,
        "purchased_at": item.created,
        "channel": "amazon",
        "channel_label": "Returned to Amazon",
        "store": None,
        "status": item.status,
        "status_label": _words(rules.RETURN_STATUSES, item.status, "Return status"),
        "state": _state(RETURN_STATES, item.status),
        "total": D(0),
        "currency": item.currency,
        "lines": [
            {
                "description": f"Items returned from order {item.order_id}: {item.reason}",
                "sku": None,
                "quantity": D(item.quantity),
                "unit": "item",
                "unit_price": None,
                "amount": D(0),
                "points_earned": None,
                "category_code": None,
                "category_label": None,
            }
        ],
        "points_earned": None,
        "points_spent": None,
        "original_order_number": item.order_id,
        "extra": {k: v for k, v in row.items() if k not in used}
        | {"money": RETURN_MONEY.format(reversal=item.reversal)},
    }


def expected_refund(item: Refund) -> tuple[str, dict[str, Any]]:
    """Money paid back: a return whose amounts are negative; its id and its record."""
    row = refund_row(item)
    if item.reversal is not None:
        key = f"refund:{item.reversal}"
        used = {"OrderID", "ReversalID", "RefundCompletionDate", "AmountRefunded", "Currency"}
        used |= {"Status", "DisbursementType"}  # the record's status, the line's category
        extra = {k: v for k, v in row.items() if k not in used}
    else:
        # The 2025 layout numbers no refund: the plugin's id for it, from the order, the
        # refund date and the amount (plugin README, "Ids"), is the plugin's to derive.
        from portal_amazon.mapping import stable_refund_id

        key = stable_refund_id(item.order_id, row["Refund Date"], row)
        used = {"Order ID", "Refund Date", "Refund Amount", "Currency"}
        used |= {"Payment Status", "Disbursement Type"}
        extra = {k: v for k, v in row.items() if k not in used} | {"id_derived": DERIVED}
    site = item.site
    return key, {
        "account_id": None,
        "kind": "return",
        "kind_label": "Refund",
        "order_number": item.reversal or item.order_id,
        "purchased_at": item.paid,
        "channel": site or "amazon",
        "channel_label": f"Online at {site}"
        if site
        else "Online at Amazon (the site is not stated)",
        "store": None,
        "status": item.status,
        "status_label": _words(rules.REFUND_STATUSES, item.status, "Refund status"),
        "state": _state(REFUND_STATES, item.status),
        "total": -item.amount,
        "currency": item.currency,
        "lines": [
            {
                "description": f"Refund for order {item.order_id}"
                + (f": {item.reason}" if item.reversal is None else ""),
                "sku": None,
                "quantity": D(item.quantity),
                "unit": "item",
                "unit_price": None,
                "amount": -item.amount,
                "points_earned": None,
                "category_code": item.disbursement,
                "category_label": _words(
                    rules.DISBURSEMENT_TYPES, item.disbursement, "Disbursement type"
                ),
            }
        ],
        "points_earned": None,
        "points_spent": None,
        "original_order_number": item.order_id,
        "extra": extra,
    }
