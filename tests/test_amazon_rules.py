"""Amazon's export against the rules written down from the public sources (portal_amazon.rules).

Amazon's export has no sandbox: it is a file. So the fixtures are held to the rules (each
header exactly as the sources show it, every value of the format its column allows), and
the importer is run on every shape the rules allow that the fixtures do not show: optional
columns left out or Not Available, codes portal has no words for, other currencies, files
with no rows, orders on page boundaries and split across files.
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portal.app import Portal
from portal.importing import FilePage, import_file
from portal.record import Purchase
from portal_amazon import reader, rules
from portal_amazon.values import parse_amount, parse_quantity, parse_timestamp

DATA = Path(__file__).parent / "data" / "amazon"
FIXTURES = {
    "orders until 2025": [
        DATA / "Retail.OrderHistory.1.csv",
        DATA / "amazon-de/Retail.OrderHistory.1.csv",
    ],
    "orders since 2025": [DATA / "amazon-de/Your Amazon Orders/Order History.csv"],
    "returns until 2025": [DATA / "Retail.OrdersReturned.1.csv"],
    "refunds until 2025": [DATA / "Retail.OrdersReturned.Payments.1.csv"],
    "refunds since 2025": [DATA / "amazon-de/Your Returns & Refunds/Refund Details.csv"],
}
ORDERS = DATA / "Retail.OrderHistory.1.csv"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Portal]:
    with Portal.open(home=tmp_path / "home") as portal:
        yield portal


def table(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as text:
        header, *body = list(csv.reader(text))
    return header, body


def write(path: Path, header: list[str], body: list[list[str]]) -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows([header, *body])
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8", newline="")
    return path


def stored(portal: Portal) -> dict[str, dict]:
    return {row["provider_id"]: row for row in portal.store.rows(Purchase, "amazon")}


@pytest.mark.parametrize(("layout", "path"), [(k, p) for k, ps in FIXTURES.items() for p in ps])
def test_every_fixture_has_its_header_exactly_and_obeys_the_rules(layout: str, path: Path) -> None:
    header, body = table(path)
    assert tuple(header) == rules.HEADERS[layout]
    kind = rules.kind_of(header)
    assert kind is not None and layout.startswith(kind.name)
    positions = rules.columns_of(kind, header)
    assert body
    for cells in body:
        row = {name: cells[at] for name, at in positions.items()}
        assert rules.check_row(kind, row) == [], cells
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # as Amazon writes them


def test_the_fixtures_show_the_quirks_the_sources_document() -> None:
    text = ORDERS.read_text(encoding="utf-8-sig")
    for quirk in ("Not Available", "Not Applicable", "'-0.68'", "1,234.50", " and ", '""Heavy'):
        assert quirk in text, quirk
    _, body = table(ORDERS)
    assert any("\n" in cell for row in body for cell in row)  # a gift message on two lines
    assert any(row[14] == "0" for row in body)  # a cancelled line
    ids = [row[1] for row in body]
    assert ids.index("113-0000002-0000002") + 1 < len(ids) - ids[::-1].index("113-0000002-0000002")


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12.89", "12.89"),
        ("0", "0"),
        ("'-0.68'", "-0.68"),
        ("'1,495'", "1495"),
        ("1,234.50", "1234.50"),
        ("$14.52", "14.52"),
        ("-$3.00", "-3.00"),
        ("€ 12,34", "12.34"),
        ("12,34", "12.34"),
        ("-1,50", "-1.50"),
        ("1.234,56", "1234.56"),
        ("1.234.567", "1234567"),
        ("1,811", "1811"),
        ("£1,049.58", "1049.58"),
        ("EUR 9.99", "9.99"),
        ("(4.00)", "-4.00"),
    ],
)
def test_amounts_as_the_files_write_them(text: str, amount: str) -> None:
    assert parse_amount(text) == Decimal(amount)
    assert str(parse_amount(text)) == amount  # exact, the scale as written


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12.3.4,5", "1e999999", "--1", "1 2"])
def test_what_is_no_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("2023-05-31T13:00:59.799Z", datetime(2023, 5, 31, 13, 0, 59, 799000, tzinfo=UTC)),
        ("2024-08-15T12:00:00Z", datetime(2024, 8, 15, 12, tzinfo=UTC)),
        ("2024-08-15T14:00:00+02:00", datetime(2024, 8, 15, 12, tzinfo=UTC)),
        ("2025-06-30T03:50:57.8321234Z", datetime(2025, 6, 30, 3, 50, 57, 832123, tzinfo=UTC)),
        ("05/31/2023 13:00:59 UTC", datetime(2023, 5, 31, 13, 0, 59, tzinfo=UTC)),
        ("2024-03-05", datetime(2024, 3, 5, tzinfo=UTC)),
    ],
)
def test_timestamps_as_the_files_write_them(text: str, when: datetime) -> None:
    assert parse_timestamp(text) == when


@pytest.mark.parametrize("text", ["2023-13-45T10:00:00Z", "31/05/2023", "March 5, 2024", "soon"])
def test_what_is_no_timestamp_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a date and time"):
        parse_timestamp(text)


def test_quantities_are_whole_numbers() -> None:
    assert parse_quantity("'2'") == 2 and parse_quantity("0") == 0
    with pytest.raises(ValueError):
        parse_quantity("-1")


def test_every_optional_column_may_be_left_out(app: Portal, tmp_path: Path) -> None:
    header, body = table(ORDERS)
    keep = [i for i, name in enumerate(header) if rules.ORDERS.column(name).required]
    path = write(
        tmp_path / "bare.csv", [header[i] for i in keep], [[r[i] for i in keep] for r in body]
    )
    import_file(app, path)
    order = stored(app)["order:113-0000002-0000002"]
    assert order["total"] == Decimal("39.01") and order["lines"][0]["sku"] is None
    assert (order["status"], order["state"]) == ("not_stated", "unknown")
    assert order["channel_label"] == "Online at Amazon (the site is not stated)"


def test_every_column_that_may_be_absent_may_say_not_available(app: Portal, tmp_path: Path) -> None:
    header, body = table(ORDERS)
    absent = [rules.ORDERS.column(name).may_be_absent for name in header]
    body = [
        [("Not Available" if a else cell) for a, cell in zip(absent, row, strict=True)]
        for row in body
    ]
    import_file(app, write(tmp_path / "sparse.csv", header, body))
    order = stored(app)["order:114-0000001-0000001"]
    assert order["total"] == Decimal(0) and order["lines"][0]["description"] == "Item 1"
    assert order["lines"][0]["unit_price"] is None


def test_codes_portal_has_no_words_for_still_arrive_labelled(app: Portal, tmp_path: Path) -> None:
    header, body = table(ORDERS)
    status = header.index("Order Status")
    for row in body:
        row[status] = "Teleported"
    import_file(app, write(tmp_path / "codes.csv", header, body))
    order = stored(app)["order:114-0000001-0000001"]
    assert order["status"] == "Teleported" and order["state"] == "unknown"
    assert order["status_label"] == "Order status 'Teleported' (a code portal has no words for)"
    refunds_header, refunds = table(DATA / "Retail.OrdersReturned.Payments.1.csv")
    refunds[0][refunds_header.index("Status")] = "Reversed"
    refunds[0][refunds_header.index("DisbursementType")] = "GiftCard"
    import_file(app, write(tmp_path / "refunds.csv", refunds_header, refunds[:1]))
    refund = stored(app)["refund:R-0000000001"]
    assert refund["state"] == "unknown" and "Reversed" in refund["status_label"]
    assert refund["lines"][0]["category_label"].startswith("Disbursement type 'GiftCard'")


@pytest.mark.parametrize(
    ("currency", "website"), [("JPY", "Amazon.co.jp"), ("GBP", "Amazon.co.uk")]
)
def test_other_currencies_are_kept_as_stated(
    app: Portal, tmp_path: Path, currency: str, website: str
) -> None:
    header, body = table(ORDERS)
    for row in body:
        row[header.index("Currency")], row[header.index("Website")] = currency, website
    import_file(app, write(tmp_path / "other.csv", header, body))
    order = stored(app)["order:111-0000004-0000004"]
    assert (order["currency"], order["channel"], order["total"]) == (
        currency,
        website,
        Decimal("1234.50"),
    )


def test_an_order_in_two_currencies_is_refused_naming_it(app: Portal, tmp_path: Path) -> None:
    header, body = table(ORDERS)
    body[3][header.index("Currency")] = "EUR"  # the second row of order 113-0000002-0000002
    with pytest.raises(Exception, match="order 113-0000002-0000002 states more than one currency"):
        import_file(app, write(tmp_path / "mixed.csv", header, body))


@pytest.mark.parametrize("layout", list(rules.HEADERS))
def test_a_file_with_a_header_and_no_rows_brings_nothing(
    app: Portal, tmp_path: Path, layout: str
) -> None:
    path = write(tmp_path / "empty.csv", list(rules.HEADERS[layout]), [])
    result = import_file(app, path)
    assert result.importer.name == "amazon" and result.records == {}


@pytest.mark.parametrize("count", [reader.PAGE - 1, reader.PAGE, reader.PAGE + 1])
def test_orders_on_page_boundaries_all_arrive(app: Portal, tmp_path: Path, count: int) -> None:
    header, body = table(ORDERS)
    first = body[0]
    rows = []
    for n in range(count):
        row = list(first)
        row[1] = f"114-{n:07d}-0000001"
        rows.append(row)
    # The last order's second row comes last of all, a page after its first.
    tail = list(rows[0])
    rows.append(tail)
    path = write(tmp_path / "many.csv", header, rows)
    pages = [p for p in reader.read(path) if isinstance(p, FilePage)]
    assert sum(len(p.items) for p in pages) == count
    assert max(len(p.items) for p in pages) <= reader.PAGE
    import_file(app, path)
    orders = stored(app)
    assert len(orders) == count
    assert len(orders["order:114-0000000-0000001"]["lines"]) == 2


def test_an_order_split_across_two_files_of_one_export_is_one_order(
    app: Portal, tmp_path: Path
) -> None:
    header, body = table(ORDERS)
    first = [r for r in body if r[1] == "113-0000002-0000002"]
    zip_path = tmp_path / "Your Orders.zip"
    with zipfile.ZipFile(zip_path, "w") as archive:
        for n, part in enumerate(([first[0]], [first[1]]), 1):
            csv_path = write(tmp_path / f"part{n}.csv", header, part)
            archive.write(csv_path, f"Retail.OrderHistory.{n}/Retail.OrderHistory.{n}.csv")
    import_file(app, zip_path)
    [order] = stored(app).values()
    assert len(order["lines"]) == 2 and order["total"] == Decimal("39.01")
