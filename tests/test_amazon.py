"""Amazon's "Request your data" export (plugins/amazon) through ``portal import``.

Fixtures in tests/data/amazon are shaped as the real files (their README names the public
sources): the US order history in the layout exported until 2025 (BOM, CRLF, every cell
quoted, Not Available, apostrophe-wrapped discounts, quoted commas and quotes, a gift
message holding a newline, an order's rows apart, a cancelled line of quantity 0, two ship
dates joined by "and"), its returns and refunds (one refund not paid yet), and an Amazon.de
export in EUR in both layouts (the 2025 one with decimal commas and 1.234,56).
"""

import io
import shutil
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.cli import ExitCode, cli
from portal.importing import BadFile, import_file
from portal.record import Purchase

DATA = Path(__file__).parent / "data" / "amazon"
ORDERS = DATA / "Retail.OrderHistory.1.csv"
RETURNS = DATA / "Retail.OrdersReturned.1.csv"
REFUNDS = DATA / "Retail.OrdersReturned.Payments.1.csv"
DE_ORDERS = DATA / "amazon-de" / "Retail.OrderHistory.1.csv"
DE_2025 = DATA / "amazon-de" / "Your Amazon Orders" / "Order History.csv"
DE_REFUNDS = DATA / "amazon-de" / "Your Returns & Refunds" / "Refund Details.csv"
BAD_DATE = DATA / "broken" / "Retail.OrderHistory.1.csv"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Portal]:
    with Portal.open(home=tmp_path / "home") as portal:
        yield portal


def export_zip(path: Path, members: dict[str, Path | bytes]) -> Path:
    """A ZIP laid out as Amazon's 'Your Orders.zip', with the given members."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in members.items():
            archive.writestr(name, source.read_bytes() if isinstance(source, Path) else source)
    return path


def full_export(tmp_path: Path, name: str = "Your Orders.zip") -> Path:
    return export_zip(
        tmp_path / name,
        {
            "Retail.OrderHistory.1/Retail.OrderHistory.1.csv": ORDERS,
            "Retail.OrderHistory.2/Retail.OrderHistory.2.csv": DE_ORDERS,
            "Retail.OrdersReturned.1/Retail.OrdersReturned.1.csv": RETURNS,
            "Retail.OrdersReturned.Payments.1/Retail.OrdersReturned.Payments.1.csv": REFUNDS,
            "Digital-Ordering.1/Digital Items.csv": b'"ASIN","ProductName","OrderId"\r\n',
            "Retail.TransactionalInvoicing.1/Retail.TransactionalInvoicing.1.pdf": b"%PDF-1.4",
        },
    )


def purchases(portal: Portal) -> dict[str, dict]:
    return {row["provider_id"]: row for row in portal.store.rows(Purchase, "amazon")}


def dump(portal: Portal) -> list[tuple]:
    with sqlite3.connect(portal.store.engine.url.database) as db:
        return db.execute("SELECT * FROM purchases ORDER BY id").fetchall()


def test_the_whole_zip_brings_orders_with_their_lines_returns_and_refunds(
    app: Portal, tmp_path: Path
) -> None:
    result = import_file(app, full_export(tmp_path))
    assert (result.importer.name, result.provider) == ("amazon", "amazon")
    assert result.records == {"purchases": 9}  # 5 orders, 2 returns, 2 refunds paid
    stored = purchases(app)
    assert sorted(stored) == [
        "order:111-0000004-0000004",
        "order:112-0000003-0000003",
        "order:113-0000002-0000002",
        "order:114-0000001-0000001",
        "order:302-0000011-0000011",
        "refund:R-0000000001",
        "refund:R-0000000002",
        "return:R-0000000001",
        "return:R-0000000002",
    ]
    # What portal keeps nowhere is said: the refund not paid yet, and the other files.
    assert any("line 4" in note and "113-0000002-0000002" in note for note in result.notes)
    assert any("2 other files were not read" in note for note in result.notes)


def test_an_order_is_its_rows_grouped_whatever_their_order_in_the_file(app: Portal) -> None:
    import_file(app, ORDERS)
    order = purchases(app)["order:113-0000002-0000002"]  # rows 3 and 5 of the file
    assert order["kind"] == "order" and order["order_number"] == "113-0000002-0000002"
    assert order["purchased_at"] == datetime(2023, 5, 23, 19, 14, 7, tzinfo=UTC)
    assert [(line["description"], line["sku"]) for line in order["lines"]] == [
        ("Magnetic LED Towing Light Kit, 12V", "B000000002"),
        ('Zip Ties "Heavy Duty" 100 Pack', "B000000004"),
    ]
    assert [line["amount"] for line in order["lines"]] == ["32.97", "6.04"]  # lines are JSON
    assert order["total"] == Decimal("39.01") and order["currency"] == "USD"
    assert (order["status"], order["state"]) == ("Closed", "completed")
    assert (order["channel"], order["channel_label"]) == ("Amazon.com", "Online at Amazon.com")
    [shipment] = order["extra"]["shipments"]  # both items in one parcel
    assert shipment["lines"] == [1, 2] and shipment["Shipment Item Subtotal"] == "35.46"
    first = order["extra"]["lines"][0]
    assert first["Unit Price Tax"] == "3" and first["Ship Date"] == "2023-05-24T01:16:56Z"
    assert first["Carrier Name & Tracking Number"] == "AMZN_US(TBA000000000001)"


def test_quantities_unit_prices_discounts_and_thousands(app: Portal) -> None:
    import_file(app, ORDERS)
    stored = purchases(app)
    sticky, lamp = stored["order:112-0000003-0000003"]["lines"]
    assert (sticky["quantity"], sticky["unit_price"], sticky["amount"]) == ("2", "9.99", "21.58")
    # A cancelled line: quantity 0, nothing owed ("Not Available"), said so in extra.
    assert (lamp["quantity"], lamp["amount"]) == ("0", "0")
    order = stored["order:112-0000003-0000003"]
    assert order["extra"]["lines"][1]["amount_not_stated"].startswith("Total Owed is Not")
    assert order["status"] == "Cancelled+Closed" and order["state"] == "completed"
    assert order["status_label"].startswith("Lines differ: 1 Cancelled; 1 Closed")
    nuts = stored["order:114-0000001-0000001"]
    assert nuts["total"] == Decimal("12.89")  # 13.57 less the '-0.68' discount
    assert nuts["extra"]["lines"][0]["Total Discounts"] == "'-0.68'"  # kept as written
    assert (nuts["status"], nuts["state"]) == ("Authorized", "pending")
    assert nuts["lines"][0]["description"] == (
        "Blue Diamond, Dark Chocolate Almond Snack Nuts, 40oz Bag"
    )
    laptop = stored["order:111-0000004-0000004"]
    assert laptop["total"] == Decimal("1234.50") and laptop["lines"][0]["unit_price"] == "1149.00"
    [shipment] = laptop["extra"]["shipments"]  # shipped in two parcels, said on one row
    assert shipment["Shipment Status"] == "Shipped and Shipped" and shipment["lines"] == [1]
    ink = stored["order:112-0000003-0000003"]["extra"]["shipments"]
    assert [(s["Shipment Item Subtotal"], s["lines"]) for s in ink] == [
        ("19.98", [1]),
        ("Not Available", [2]),
    ]
    detail = laptop["extra"]["lines"][0]
    assert detail["Ship Date"] == "2022-12-11T09:00:00Z and 2022-12-12T09:00:00Z"
    assert detail["Gift Message"] == "Happy holidays!\nWith love, Alex"


def test_the_payment_card_is_not_kept_and_says_why(app: Portal) -> None:
    import_file(app, ORDERS)
    with sqlite3.connect(app.store.engine.url.database) as db:
        everything = "\n".join(str(row) for row in db.execute("SELECT * FROM purchases"))
    assert "Visa - 0000" not in everything and "Gift Certificate/Card" not in everything
    order = purchases(app)["order:113-0000002-0000002"]
    assert "payment card" in order["extra"]["not_kept"]["Payment Instrument Type"]


def test_another_marketplace_in_euros_in_both_layouts(app: Portal) -> None:
    import_file(app, DE_ORDERS)
    import_file(app, DE_2025)
    stored = purchases(app)
    ink = stored["order:302-0000011-0000011"]
    assert (ink["currency"], ink["total"], ink["channel"]) == ("EUR", Decimal("39.98"), "Amazon.de")
    assert ink["lines"][1]["description"] == "Kabelbinder, 100 Stück \u2013 schwarz"
    parcels = ink["extra"]["shipments"]
    assert [p["Carrier Name & Tracking Number"] for p in parcels] == [
        "DHL(000000000001)",
        "DHL(000000000002)",
    ]
    drill = stored["order:303-0000022-0000022"]  # 2025 layout: decimal commas, 1.249,00
    assert drill["lines"][0]["quantity"] == "2"  # "Original Quantity"
    assert drill["lines"][0]["unit_price"] == "524.79"
    assert drill["total"] == Decimal("1249.00") and drill["currency"] == "EUR"
    kettle = stored["order:303-0000021-0000021"]
    assert kettle["lines"][0]["description"] == "Wasserkocher 1,7 L, Edelstahl"
    assert kettle["total"] == Decimal("34.99")
    assert kettle["purchased_at"] == datetime(2025, 3, 14, 9, 12, 40, 512000, tzinfo=UTC)
    assert "Mastercard" not in str(kettle["extra"])  # the card, "Payment Method Type" since 2025
    assert "payment card" in kettle["extra"]["not_kept"]["Payment Method Type"]


def test_returns_and_refunds_point_back_at_their_orders(app: Portal) -> None:
    import_file(app, RETURNS)
    result = import_file(app, REFUNDS)
    stored = purchases(app)
    refund = stored["refund:R-0000000002"]
    assert (refund["kind"], refund["kind_label"]) == ("return", "Refund")
    assert refund["total"] == Decimal("-1234.50") and refund["currency"] == "USD"
    assert refund["original_order_number"] == "111-0000004-0000004"
    assert refund["purchased_at"] == datetime(2023, 1, 9, 9, 15, tzinfo=UTC)
    assert (refund["status"], refund["state"]) == ("Completed", "completed")
    assert refund["lines"][0]["category_code"] == "Refund"
    back = stored["return:R-0000000002"]
    assert back["total"] == Decimal(0) and "refund R-0000000002" in back["extra"]["money"]
    assert back["purchased_at"] == datetime(2023, 1, 5, 10, 15, tzinfo=UTC)  # 01/05/2023 UTC
    assert back["lines"][0]["description"] == (
        "Items returned from order 111-0000004-0000004: Defective, does not work"
    )
    assert (back["status"], back["state"]) == ("Completed", "returned")
    assert "refund:R-0000000003" not in stored  # not paid yet: said, not kept
    assert any("not paid yet" in note for note in result.notes)


def test_refund_details_of_2025_without_a_reversal_id_get_a_stable_id(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, DE_REFUNDS)
    [refund] = purchases(app).values()
    assert refund["provider_id"].startswith("refund:303-0000022-0000022:")
    assert refund["order_number"] == refund["original_order_number"] == "303-0000022-0000022"
    assert refund["total"] == Decimal("-624.50") and refund["currency"] == "EUR"
    assert refund["lines"][0]["description"] == (
        "Refund for order 303-0000022-0000022: Customer return"
    )
    again = tmp_path / "Refund Details (1).csv"
    shutil.copy(DE_REFUNDS, again)
    assert import_file(app, again).added == {"purchases": 0}


def test_files_are_recognised_by_content_whatever_they_are_called(
    app: Portal, tmp_path: Path
) -> None:
    for source, name in [(ORDERS, "orders.txt"), (REFUNDS, "download"), (DE_2025, "x.csv")]:
        renamed = tmp_path / name
        shutil.copy(source, renamed)
        assert import_file(app, renamed).importer.name == "amazon"
    renamed_zip = full_export(tmp_path, "export (3).bin")
    assert import_file(app, renamed_zip).importer.name == "amazon"


def test_importing_the_same_or_an_overlapping_export_again_adds_nothing(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, full_export(tmp_path))
    before = dump(app)
    again = import_file(app, full_export(tmp_path, "Your Orders (1).zip"))
    assert again.added == {"purchases": 0} and again.import_id is None
    overlapping = export_zip(
        tmp_path / "later.zip",
        {"Retail.OrderHistory.1/Retail.OrderHistory.1.csv": ORDERS, "x/Order History.csv": DE_2025},
    )
    result = import_file(app, overlapping)
    assert result.added == {"purchases": 2}  # only the two 2025 orders are new
    assert not result.changed
    assert set(dump(app)) >= set(before)


def test_an_order_amazon_later_states_differently_is_changed_not_doubled(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, ORDERS)
    later = tmp_path / "later.csv"
    later.write_bytes(ORDERS.read_bytes().replace(b'"Authorized"', b'"Closed"'))
    result = import_file(app, later)
    assert result.added == {"purchases": 0}
    [change] = result.changed
    assert change.provider_id == "order:114-0000001-0000001"
    assert change.fields["status"] == ("Authorized", "Closed")


def test_a_bad_date_names_the_line_and_the_column_and_changes_nothing(app: Portal) -> None:
    with pytest.raises(BadFile) as error:
        import_file(app, BAD_DATE)
    assert str(error.value).startswith(
        "Retail.OrderHistory.1.csv, line 3: column 'Order Date': '2023-13-45T10:00:00Z'"
        " is not a date and time"
    )
    assert purchases(app) == {}


def test_an_error_in_a_zip_member_names_the_member_and_the_line(
    app: Portal, tmp_path: Path
) -> None:
    path = export_zip(
        tmp_path / "Your Orders.zip",
        {
            "Retail.OrderHistory.1/Retail.OrderHistory.1.csv": ORDERS,
            "Retail.OrderHistory.2/Retail.OrderHistory.2.csv": BAD_DATE,
        },
    )
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert str(error.value).startswith(
        "Your Orders.zip, member Retail.OrderHistory.2/Retail.OrderHistory.2.csv, line 3:"
        " column 'Order Date'"
    )
    assert purchases(app) == {}  # the good member is not kept either: all or nothing


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        (b'"12.89"', b'"12.89 dollars"', "column 'Total Owed': '12.89 dollars' is not an amount"),
        (b'"USD","13.57"', b'"US$","13.57"', "column 'Currency': 'US$' is not a currency code"),
        (b'"New","1","Visa', b'"New","1.5","Visa', "column 'Quantity': '1.5' is not a whole"),
        (b'"114-0000001-0000001"', b'"Not Available"', "column 'Order ID': is empty"),
    ],
)
def test_values_outside_the_rules_are_refused_naming_line_and_column(
    app: Portal, tmp_path: Path, old: bytes, new: bytes, problem: str
) -> None:
    path = tmp_path / "orders.csv"
    data = ORDERS.read_bytes()
    assert old in data
    path.write_bytes(data.replace(old, new, 1))
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert f"orders.csv, line 2: {problem}" in str(error.value)


def test_a_file_without_a_required_column_is_refused_naming_it(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(ORDERS.read_bytes().replace(b'"Currency",', b'"Devise",', 1))
    with pytest.raises(BadFile, match="line 1: has no column 'Currency'"):
        import_file(app, path)


def test_a_row_cut_short_is_refused(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    lines = ORDERS.read_bytes().split(b"\r\n")
    lines[2] = lines[2].rsplit(b",", 3)[0]
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(BadFile, match="line 3: has 25 columns where the header has 28"):
        import_file(app, path)


def test_a_product_name_with_a_control_character_is_refused_naming_its_line(
    app: Portal, tmp_path: Path
) -> None:
    path = tmp_path / "orders.csv"
    path.write_bytes(ORDERS.read_bytes().replace(b"Magnetic LED", b"\x1b]0;pwned\x07LED", 1))
    with pytest.raises(BadFile, match=r"orders.csv, line 3 \(and 1 more rows of the order\)"):
        import_file(app, path)


def test_hostile_text_is_stored_as_sent_and_shown_neutralised(tmp_path: Path) -> None:
    hostile = "Zip Ties \u202egnp.exe [link=https://evil.example]x[/link]"
    path = tmp_path / "orders.csv"
    path.write_bytes(ORDERS.read_bytes().replace(b"Zip Ties", hostile.encode(), 1))
    with Portal.open(home=tmp_path / "home") as portal:
        import_file(portal, path)
        order = purchases(portal)["order:113-0000002-0000002"]
        assert order["lines"][1]["description"].startswith(hostile)  # stored as sent
    # A member's name is the archive's text too: shown with its escapes made visible.
    member = "\x1b]0;pwned\x07\u202e/Retail.OrderHistory.1.csv"
    archive = export_zip(tmp_path / "x.zip", {member: BAD_DATE})
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(archive)])
    assert result.exit_code == ExitCode.USER_ERROR
    assert "member \\x1b]0;pwned\\x07\\u202e/Retail.OrderHistory.1.csv, line 3" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr


def test_the_cli_imports_the_zip_and_says_what_it_did_not_read(tmp_path: Path) -> None:
    path = full_export(tmp_path)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Amazon 'Request your data' order history" in result.stdout
    assert "2 other files were not read" in result.stdout
    bad = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", str(BAD_DATE)])
    assert bad.exit_code == ExitCode.USER_ERROR
    assert "line 3: column 'Order Date'" in bad.stderr


def test_an_archive_without_any_amazon_file_is_not_taken_for_one(
    app: Portal, tmp_path: Path
) -> None:
    path = export_zip(tmp_path / "photos.zip", {"a.jpg": b"\xff\xd8", "notes.csv": b"a,b\r\n"})
    with pytest.raises(Exception, match="no installed importer reads this kind of ZIP archive"):
        import_file(app, path)
    named_like = export_zip(tmp_path / "fake.zip", {"Retail.OrderHistory.1.csv": b"a,b\r\n1,2\r\n"})
    with pytest.raises(BadFile, match="holds no Amazon order history, return or refund file"):
        import_file(app, named_like)


def test_an_empty_returns_file_imports_nothing(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "returns.csv"
    path.write_bytes(RETURNS.read_bytes().split(b"\r\n")[0] + b"\r\n")
    result = import_file(app, path)
    assert result.records == {} and result.import_id is None


def test_reading_holds_a_page_not_the_file(tmp_path: Path) -> None:
    """Memory stays flat: 4 times the orders cost (almost) no more to read."""
    import tracemalloc

    from portal_amazon import reader

    header, row = ORDERS.read_bytes().split(b"\r\n")[0:2]
    peaks = []
    for count in (60, 300, 1200):
        path = tmp_path / f"orders-{count}.csv"
        body = io.BytesIO()
        body.write(header + b"\r\n")
        for n in range(count):
            body.write(row.replace(b"114-0000001-0000001", f"114-{n:07d}-0000001".encode()))
            body.write(b"\r\n")
        path.write_bytes(body.getvalue())
        tracemalloc.start()
        total = sum(len(page.items) for page in reader.read(path) if hasattr(page, "items"))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert total == count
    _, small, large = peaks
    assert large < small * 1.5, f"{small / 1e6:.2f} MB for 300 orders, {large / 1e6:.2f} for 1200"
