"""The OFX/QFX and midata importers (plugins/files) on realistic downloads in tests/data.

Samples: an OFX 1.02 SGML current account in Windows-1252 (Barclays style, value elements
left unclosed), a QFX credit card statement with Intuit's INTU.BID and US time zones, an
OFX 2.2 XML download holding two accounts, and a midata CSV in Windows-1252, newest first,
with spreadsheet-guard apostrophes and an arranged-overdraft line.
"""

import itertools
import re
import shutil
import sqlite3
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.cli import ExitCode, cli
from portal.errors import UserError
from portal.importing import BadFile, import_file, undo_import
from portal.record import Account, Balance, Bill, Transaction, Usage
from portal.understand.tables import DERIVED_TABLES

DATA = Path(__file__).parent / "data"
OFX1 = DATA / "barclays-current-2026-02.ofx"
QFX = DATA / "chase-card-2026-02.qfx"
OFX2 = DATA / "nationwide-2026-03.ofx"
MIDATA = DATA / "midata-current-account.csv"
OFXPARSE = DATA / "ofxparse"  # real banks' files from ofxparse's tests (MIT; see its README)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Portal]:
    with Portal.open(home=tmp_path / "home") as portal:
        yield portal


def dump(portal: Portal) -> str:
    """Every table's contents as SQL text: equal dumps mean an unchanged store."""
    with sqlite3.connect(portal.store.engine.url.database) as db:
        # The import counter (sqlite_sequence) moves on after an undo: numbers are not reused.
        # The search index by what it holds, not its FTS5 segments or its record numbers.
        # What the understanding layer derived (its marks, its facts) is worked out again
        # from the records, not put back by an undo.
        internal = ("sqlite_sequence", '"search_index_', '"search_keys"')
        internal += tuple(f'"{table}"' for table in DERIVED_TABLES)
        lines = [line for line in db.iterdump() if not any(t in line for t in internal)]
        index = db.execute(
            "SELECT k.category, k.id, s.body FROM search_keys AS k"
            " JOIN search_index AS s ON s.rowid = k.rowid ORDER BY 1, 2"
        )
        return "\n".join(lines + [repr(entry) for entry in index])


def rows(portal: Portal, entity: type, provider: str) -> list[dict]:
    return list(portal.store.rows(entity, provider))


def broken(tmp_path: Path, source: Path, name: str, old: bytes, new: bytes) -> Path:
    data = source.read_bytes()
    assert old in data, old
    path = tmp_path / name
    path.write_bytes(data.replace(old, new, 1))
    return path


def test_ofx1_sgml_current_account(app: Portal) -> None:
    result = import_file(app, OFX1)
    assert (result.importer.name, result.provider) == ("ofx", "ofx")
    assert result.records == {"accounts": 1, "balances": 2, "transactions": 13}
    [account] = rows(app, Account, "ofx")
    assert account["name"] == "Barclays Bank PLC current account ending 7713"
    assert account["identifiers"][0]["identification"] == "203206 40457713"
    assert account["currency"] == "GBP" and account["extra"]["FI"]["FID"] == "20-32-06"
    transactions = {t["description"]: t for t in rows(app, Transaction, "ofx")}
    assert "CAFÉ NERO" in transactions  # byte E9 in Windows-1252, as CHARSET:1252 says
    assert "M&S SIMPLY FOOD" in transactions  # &amp; in SGML
    rent = transactions["HARBOUR LETTINGS"]
    assert (
        rent["amount"] == Decimal("-1450.00") and rent["reference"] == "RENT FLAT 3 27 ELMWOOD RD"
    )
    assert rent["category_code"] == "REPEATPMT"
    assert rent["category_label"] == "Standing order or repeating payment"
    assert transactions["CREDIT INTEREST"]["amount"] == Decimal("0.12")  # a MEMO but no NAME
    total = sum((t["amount"] for t in transactions.values()), Decimal(0))
    ledger = next(b for b in rows(app, Balance, "ofx") if b["balance_type"] == "LEDGERBAL")
    assert ledger["amount"] == Decimal("1904.18") + total  # the statement reconciles


def test_qfx_credit_card_with_time_zones_and_foreign_spending(app: Portal) -> None:
    result = import_file(app, QFX)
    assert result.records == {"accounts": 1, "balances": 2, "transactions": 8}
    [account] = rows(app, Account, "ofx")
    assert account["account_type"] == "CREDITCARD" and account["currency"] == "USD"
    assert account["extra"]["INTU.BID"] == "10898"
    transactions = {t["provider_id"].rsplit(":", 1)[1]: t for t in rows(app, Transaction, "ofx")}
    coffee = transactions["2026020524692163036000208"]
    assert coffee["booked_at"].isoformat() == "2026-02-05T13:15:00+00:00"  # 08:15 EST
    hotel = transactions["2026021424692163045000519"]
    assert hotel["currency"] == "USD"  # ORIGCURRENCY: converted from EUR, kept in extra
    assert hotel["extra"]["ORIGCURRENCY"] == {"CURRATE": "1.0812", "CURSYM": "EUR"}
    assert transactions["2026021124692163042000402"]["amount"] == Decimal("129.99")  # refund


def test_ofx2_xml_with_two_accounts(app: Portal) -> None:
    result = import_file(app, OFX2)
    assert result.records == {"accounts": 2, "balances": 2, "transactions": 8}
    accounts = {a["account_type"]: a for a in rows(app, Account, "ofx")}
    assert set(accounts) == {"CHECKING", "SAVINGS"}
    savings = [
        t for t in rows(app, Transaction, "ofx") if t["account_id"] == accounts["SAVINGS"]["id"]
    ]
    assert sorted(t["amount"] for t in savings) == [Decimal("21.37"), Decimal("500.00")]
    by_name = {t["description"]: t for t in rows(app, Transaction, "ofx")}
    assert "Waitrose & Partners" in by_name and "Côte Brasserie" in by_name
    assert by_name["Côte Brasserie"]["booked_at"].isoformat() == "2026-03-31T18:45:00+00:00"


def test_midata_csv(app: Portal) -> None:
    result = import_file(app, MIDATA, account="Barclays current")
    assert (result.importer.name, result.provider) == ("midata", "midata")
    assert result.records == {"accounts": 1, "transactions": 17}
    [account] = rows(app, Account, "midata")
    assert account["name"] == "Barclays current"
    assert account["extra"]["overdraft"] == ["Arranged overdraft limit", "31/01/2026", "£500.00"]
    transactions = rows(app, Transaction, "midata")
    assert {t["currency"] for t in transactions} == {"GBP"}
    described = {t["description"] for t in transactions}
    # Windows-1252; the bank's spreadsheet-guard apostrophe is the bank's value: it is kept.
    assert "'2291 02JAN26 CD , CAFFÈ NERO , LONDON GB" in described
    salary = next(t for t in transactions if t["category_code"] == "BGC")
    assert salary["amount"] == Decimal("3318.70") and salary["category_label"] == "Bank giro credit"
    assert salary["balance_after"] == Decimal("3114.36")
    # Every running balance the bank printed follows from the one before it.
    ordered = sorted(transactions, key=lambda t: (t["booked_at"], -t["balance_after"]))
    ordered = _in_ledger_order(ordered)
    for before, after in itertools.pairwise(ordered):
        assert before["balance_after"] + after["amount"] == after["balance_after"]


def _in_ledger_order(transactions: list[dict]) -> list[dict]:
    """Chain same-day rows by balance, since a date-only file does not order them."""
    chain = [transactions[0]]
    rest = transactions[1:]
    while rest:
        following = next(
            t for t in rest if chain[-1]["balance_after"] + t["amount"] == t["balance_after"]
        )
        chain.append(following)
        rest.remove(following)
    return chain


@pytest.mark.parametrize("sample", [OFX1, QFX, OFX2, MIDATA], ids=lambda p: p.suffix + ":" + p.stem)
def test_importing_a_file_again_adds_and_changes_nothing(app: Portal, sample: Path) -> None:
    first = import_file(app, sample)
    before = dump(app)
    again = import_file(app, sample)
    assert sum(first.added.values()) == sum(first.records.values())
    assert set(again.added.values()) == {0}
    assert dump(app) == before


@pytest.mark.parametrize(
    ("source", "old", "new", "message"),
    [
        (
            MIDATA,
            b"19/01/2026,POS,\"'2291 18JAN26",
            b"31/02/2026,POS,\"'2291 18JAN26",
            "midata-bad.csv, line 8: column 'Date': '31/02/2026' is not a date (DD/MM/YYYY)",
        ),
        (
            MIDATA,
            b"-\xa398.00",
            b"-\xa398.O0",
            "midata-bad.csv, line 9: column 'Debit/Credit': '-£98.O0' is not an amount",
        ),
        (
            OFX1,
            b"<DTPOSTED>20260205",
            b"<DTPOSTED>20260235",
            "barclays-bad.ofx, element OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKTRANLIST/STMTTRN[4]"
            "/DTPOSTED (line 69): '20260235' is not a real date and time",
        ),
        (
            OFX1,
            b"<STMTRS>\r\n<CURDEF>GBP",
            b"<STMTRS>\r\n<CURDEF>XYZ",
            "barclays-bad.ofx, element OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKACCTFROM (line 35):"
            " Account.currency: Value error, 'XYZ' is not an ISO 4217 currency code",
        ),
        (
            OFX2,
            b"</NAME>",
            b"</NAM>",
            "nationwide-bad.ofx, line 31, column 34: is not well-formed XML (mismatched tag)",
        ),
        (
            OFX2,
            b"<TRNAMT>-61.25",
            b"<TRNAMT>-61,2.5",
            "nationwide-bad.ofx, element OFX/BANKMSGSRSV1/STMTTRNRS[1]/STMTRS/BANKTRANLIST"
            "/STMTTRN[3]/TRNAMT (line 43): '-61,2.5' is not an amount",
        ),
    ],
    ids=[
        "midata-date",
        "midata-amount",
        "ofx1-date",
        "ofx1-currency",
        "ofx2-tag",
        "ofx2-amount",
    ],
)
def test_a_bad_file_names_the_line_or_element_and_changes_nothing(
    app: Portal, tmp_path: Path, source: Path, old: bytes, new: bytes, message: str
) -> None:
    for sample in (OFX1, QFX, OFX2, MIDATA):
        import_file(app, sample)
    before = dump(app)
    name = source.stem.split("-")[0] + "-bad" + source.suffix
    with pytest.raises(BadFile) as error:
        import_file(app, broken(tmp_path, source, name, old, new))
    assert error.value.message.startswith(message)
    assert "store is unchanged" in error.value.hint
    assert dump(app) == before


def test_a_cut_short_download_and_a_bank_error_are_refused(app: Portal, tmp_path: Path) -> None:
    data = OFX1.read_bytes()
    cut = tmp_path / "cut.ofx"
    cut.write_bytes(data[: data.index(b"<TRNAMT>-27.80") + 5])
    with pytest.raises(
        BadFile, match=r"cut.ofx, line 86: ends inside a tag: the download looks cut short"
    ):
        import_file(app, cut)
    cut.write_bytes(data[: data.index(b"<STMTTRN>", 2000)])
    with pytest.raises(
        BadFile,
        match=r"BANKTRANLIST \(line 40\): <BANKTRANLIST> is never closed \(the file ends too early\)",
    ):
        import_file(app, cut)
    failed = broken(
        tmp_path, QFX, "failed.qfx", b"<CODE>0</CODE>\n<SEVERITY>INFO</SEVERITY>\n</STATUS>\n<CCSTMTRS>",
        b"<CODE>2000</CODE>\n<SEVERITY>ERROR</SEVERITY>\n<MESSAGE>Account unavailable</MESSAGE>\n</STATUS>\n<CCSTMTRS>",
    )  # fmt: skip
    with pytest.raises(
        BadFile, match=r"CCSTMTTRNRS/STATUS \(line 30\): the bank reported error 2000"
    ):
        import_file(app, failed)
    assert rows(app, Transaction, "ofx") == []


def test_xml_entities_are_refused_not_expanded(app: Portal, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.ofx"
    bomb.write_bytes(
        b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n'
        b'<!DOCTYPE OFX [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>\n'
        b"<OFX>&b;</OFX>\n"
    )
    with pytest.raises(BadFile, match="declares a DTD or XML entities"):
        import_file(app, bomb)


@pytest.mark.parametrize(
    ("sample", "renamed", "importer"),
    [
        (OFX1, "statement.csv", "ofx"),
        (QFX, "download", "ofx"),
        (OFX2, "export.xml", "ofx"),
        (MIDATA, "transactions.ofx", "midata"),
    ],
)
def test_content_decides_the_importer_whatever_the_name(
    app: Portal, tmp_path: Path, sample: Path, renamed: str, importer: str
) -> None:
    path = tmp_path / renamed
    shutil.copy(sample, path)
    assert import_file(app, path).importer.name == importer


def test_an_unknown_file_lists_the_importers(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "statement.ofx"
    path.write_text("Date;Amount\n2026-01-01;12\n", encoding="utf-8")
    with pytest.raises(UserError) as error:
        import_file(app, path)
    assert "does not recognise the content of statement.ofx" in error.value.message
    assert "ofx: OFX/QFX statement (.ofx, .qfx)" in error.value.hint
    assert "midata: midata current-account CSV (.csv)" in error.value.hint
    assert "--as NAME" in error.value.hint


def test_midata_accounts_are_kept_apart_by_name_and_ofx_refuses_a_name(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, MIDATA, account="Barclays current")
    joint = tmp_path / "joint.csv"  # another account's file: its own bytes
    joint.write_bytes(MIDATA.read_bytes().replace(b"Arranged overdraft", b"ARRANGED OVERDRAFT"))
    import_file(app, joint, account="Joint account")
    names = sorted(a["name"] for a in rows(app, Account, "midata"))
    assert names == ["Barclays current", "Joint account"]
    assert len(rows(app, Transaction, "midata")) == 34
    with pytest.raises(UserError, match="--account does not apply"):
        import_file(app, OFX1, account="Mine")


def test_midata_header_variants(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "midata.csv"
    path.write_text(
        "Account,Current account 20-32-06 40457713\n"
        "Date,Type,Merchant / Description,Debit/Credit Amount,Balance\n"
        '02/03/2026,DEB,TESCO,-12.00,"£1,000.00"\n'
        '03/03/2026,FPI,REFUND,£2.00,"£1,002.00"\n',
        encoding="utf-8",
    )
    result = import_file(app, path)
    assert result.records == {"accounts": 1, "transactions": 2}
    [account] = rows(app, Account, "midata")
    assert account["extra"]["preamble"] == ["Account,Current account 20-32-06 40457713"]
    amounts = sorted(t["amount"] for t in rows(app, Transaction, "midata"))
    assert amounts == [Decimal("-12.00"), Decimal("2.00")]


def _records(portal: Portal, entity: type, provider: str) -> dict[str, dict]:
    """Rows by provider id, without what ties them to one file (its digest)."""
    drop = {"connection_id", "fetched_at"}
    return {
        r["provider_id"]: {k: v for k, v in r.items() if k not in drop}
        for r in rows(portal, entity, provider)
    }


def test_a_real_banks_sgml_without_end_tags_imports_exactly(app: Portal) -> None:
    result = import_file(app, OFXPARSE / "bank_medium.ofx")
    assert result.records == {"accounts": 1, "balances": 2, "transactions": 3}
    [account] = rows(app, Account, "ofx")
    assert account["currency"] == "CAD" and account["extra"]["INTU.BID"] == "00024"
    assert account["identifiers"][0]["identification"] == "160000100 12300 000012345678"
    paid = {t["description"]: t["amount"] for t in rows(app, Transaction, "ofx")}
    assert paid == {
        "MCDONALD'S #112": Decimal("-6.60"),
        "Joe's Bald Hairstyles": Decimal("-316.67"),
        "CONNIE'S HAIR D": Decimal("-22.00"),
    }
    balances = {b["balance_type"]: b["amount"] for b in rows(app, Balance, "ofx")}
    assert balances == {"LEDGERBAL": Decimal("382.34"), "AVAILBAL": Decimal("682.34")}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "signon_fail.ofx",
            "signon_fail.ofx, element OFX/SIGNONMSGSRSV1/SONRS/STATUS (line 11): the bank"
            " reported error 15500 when signing on: Your request could not be processed because"
            " you supplied an invalid identification code or your password was incorrect",
        ),
        (
            "error_message.ofx",
            "error_message.ofx, element OFX/BANKMSGSRSV1/STMTTRNRS/STATUS (line 22): the bank"
            " reported error 2000 for this statement: General Server Error",
        ),
    ],
)
def test_the_banks_own_error_in_a_file_is_what_the_person_is_told(
    app: Portal, name: str, message: str
) -> None:
    with pytest.raises(BadFile) as error:
        import_file(app, OFXPARSE / name)
    assert error.value.message == message  # not "holds no statement", its consequence
    assert "the bank's own message" in error.value.hint
    assert app.store.counts() == {}


def test_unclosed_aggregates_import_as_the_closed_file_does(app: Portal, tmp_path: Path) -> None:
    import_file(app, OFX1)
    expected = _records(app, Transaction, "ofx"), _records(app, Balance, "ofx")
    data = OFX1.read_bytes()
    for aggregate in (b"STMTTRN", b"BANKACCTFROM", b"STATUS", b"LEDGERBAL", b"AVAILBAL", b"FI"):
        data = data.replace(b"</" + aggregate + b">\r\n", b"")
    assert b"</STMTTRN>" not in data and b"</BANKACCTFROM>" not in data
    unclosed = tmp_path / "unclosed.ofx"
    unclosed.write_bytes(data)
    with Portal.open(home=tmp_path / "other") as other:
        assert import_file(other, unclosed).records == {
            "accounts": 1,
            "balances": 2,
            "transactions": 13,
        }
        assert (_records(other, Transaction, "ofx"), _records(other, Balance, "ofx")) == expected


def _sgml(body: str, charset: str = "1252") -> bytes:
    header = (
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\n"
        f"ENCODING:USASCII\r\nCHARSET:{charset}\r\nCOMPRESSION:NONE\r\n"
        "OLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
    )
    return (header + body).encode("latin-1")


def _statement(name: str, amount: str = "-1.00") -> str:
    return (
        "<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>"
        "<DTSERVER>20260301<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>\r\n"
        "<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>\r\n"
        "<STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>1<ACCTID>42<ACCTTYPE>CHECKING\r\n"
        "<BANKTRANLIST><DTSTART>20260301<DTEND>20260302\r\n"
        f"<STMTTRN><TRNTYPE>POS<DTPOSTED>20260301<TRNAMT>{amount}<FITID>1<NAME>{name}\r\n"
        "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\r\n"
    )


def test_character_references_and_latin_1_are_decoded(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "refs.ofx"
    path.write_bytes(_sgml(_statement("Caf\xe9 A&#38;B &amp; C &lt;D&gt; &#x26; E"), "ISO-8859-1"))
    import_file(app, path)
    [transaction] = rows(app, Transaction, "ofx")
    assert transaction["description"] == "Café A&B & C <D> & E"


@pytest.mark.parametrize(
    ("amount", "problem"),
    [
        ("1e999999", "'1e999999' is too large or too precise to be an amount"),
        ("9" * 10_000, "'" + "9" * 40 + "...' is too large or too precise to be an amount"),
        ("-0." + "1" * 40, "is too large or too precise to be an amount"),
    ],
    ids=["exponent", "10000-digits", "precision"],
)
def test_absurd_numbers_are_refused_naming_the_element(
    app: Portal, tmp_path: Path, amount: str, problem: str
) -> None:
    path = tmp_path / "absurd.ofx"
    path.write_bytes(_sgml(_statement("Shop", amount)))
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert "element OFX/BANKMSGSRSV1/STMTTRNRS/STMTRS/BANKTRANLIST/STMTTRN/TRNAMT (line 15)" in (
        error.value.message
    )
    assert problem in error.value.message
    midata = tmp_path / "absurd.csv"
    midata.write_text(
        f"Date,Type,Merchant/Description,Debit/Credit,Balance\n01/03/2026,POS,Shop,{amount},1.00\n",
        encoding="utf-8",
    )
    with pytest.raises(
        BadFile, match=r"absurd.csv, line 2: column 'Debit/Credit': '.*' is (too|not)"
    ):
        import_file(app, midata)
    assert app.store.counts() == {}


@pytest.mark.parametrize("version", ["sgml", "xml"])
def test_deep_nesting_is_refused_naming_the_line(app: Portal, tmp_path: Path, version: str) -> None:
    depth = 100_000
    if version == "sgml":
        # SGML ends an unknown empty element at the next tag: aggregates are what nest.
        data = _sgml("<OFX>\r\n" + "<STATUS>" * depth + "</STATUS>" * depth + "</OFX>\r\n")
        line, tag = 12, "STATUS"
    else:
        data = (
            b'<?xml version="1.0"?>\n<?OFX OFXHEADER="200" VERSION="220"?>\n<OFX>\n'
            + b"<A>" * depth + b"</A>" * depth + b"</OFX>\n"
        )  # fmt: skip
        line, tag = 4, "A"
    path = tmp_path / "deep.ofx"
    path.write_bytes(data)
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert error.value.message == (
        f"deep.ofx, line {line}: nests elements more than 64 deep (at <{tag}>), which no statement"
        " or data file needs"
    )


GREEN_BUTTON = DATA / "greenbutton" / "test_usage_data-trimmed.xml"  # the GBA's sample (Apache-2.0)


def test_the_green_button_alliances_sample_imports_exactly(app: Portal) -> None:
    text = GREEN_BUTTON.read_text(encoding="utf-8")
    values = [int(v) for v in re.findall(r"<value>(\d+)</value>\s*</IntervalReading>", text)]
    costs = [int(c) for c in re.findall(r"<cost>(\d+)</cost>", text)]
    result = import_file(app, GREEN_BUTTON)
    assert (result.importer.name, result.provider) == ("greenbutton", "greenbutton")
    assert (
        result.records == {"accounts": 1, "usage": len(values), "bills": 1} and len(values) == 114
    )
    assert result.notes == [
        "entry 8 (ElectricPowerQualitySummary): not imported: power-quality measurements"
        " (flicker, voltage dips and swells) have no place in portal's record yet"
    ]
    usage = sorted(rows(app, Usage, "greenbutton"), key=lambda u: u["started_at"])
    assert {u["unit"] for u in usage} == {"kWh"} and {u["currency"] for u in usage} == {"USD"}
    assert [u["quantity"] for u in usage] == [Decimal(v).scaleb(-3) for v in values]  # Wh
    assert sum(u["charge"] for u in usage) == Decimal(sum(costs)).scaleb(-5)
    assert usage[0]["started_at"].isoformat() == "2012-03-01T05:00:00+00:00"
    assert usage[-1]["started_at"].isoformat() == "2012-03-02T09:15:00+00:00"
    assert {u["duration_seconds"] for u in usage} == {900}
    [bill] = rows(app, Bill, "greenbutton")  # from an ElectricPowerUsageSummary
    assert (bill["total"], bill["currency"]) == (Decimal("153.03"), "USD")
    assert (bill["period_start"].isoformat(), bill["period_end"].isoformat()) == (
        "2012-03-01",  # local time from LocalTimeParameters (UTC-5), listed after its point
        "2012-03-13",
    )
    assert bill["extra"]["consumption"] == {"quantity": "1304.716", "unit": "kWh"}
    [account] = rows(app, Account, "greenbutton")
    assert account["name"] == "Front Electric Meter"
    assert account["extra"]["LocalTimeParameters"]["tzOffset"] == "-18000"


def test_a_green_button_summary_without_currency_is_in_its_reading_types(
    app: Portal, tmp_path: Path
) -> None:
    """ESPI counts such a summary in the ReadingType's currency, as a sync does; here the
    summary is filed under the customer, its UsagePoint named by its up link only."""
    summary = b"<currency>840</currency>\n                <overallConsumptionLastPeriod>"
    path = broken(tmp_path, GREEN_BUTTON, "sample.xml", summary, b"<overallConsumptionLastPeriod>")
    import_file(app, path)
    [bill] = rows(app, Bill, "greenbutton")
    assert (bill["total"], bill["currency"]) == (Decimal("153.03"), "USD")


def test_a_deeply_nested_green_button_file_is_refused_by_name(app: Portal, tmp_path: Path) -> None:
    path = tmp_path / "deep.xml"
    depth = 100_000
    path.write_bytes(
        b'<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><entry><content>'
        b'<UsagePoint xmlns="http://naesb.org/espi">'
        + b"<a>" * depth + b"</a>" * depth
        + b"</UsagePoint></content></entry></feed>\n"
    )  # fmt: skip
    with pytest.raises(BadFile) as error:
        import_file(app, path)
    assert error.value.message == (
        "deep.xml: nests elements more than 64 deep (at <a>), which no ESPI feed needs."
    )


def test_equal_midata_rows_are_all_kept_in_or_out_of_date_order(
    app: Portal, tmp_path: Path
) -> None:
    header = "Date,Type,Merchant/Description,Debit/Credit,Balance\n"
    coffee = "02/03/2026,POS,COFFEE,-£2.50,\n"
    for name, body in (
        ("ordered.csv", coffee + coffee + "01/03/2026,POS,TEA,-£1.00,\n"),
        ("unordered.csv", coffee + "01/03/2026,POS,TEA,-£1.00,\n" + coffee),
    ):
        path = tmp_path / name
        path.write_text(header + body, encoding="utf-8")
        import_file(app, path, account=name)
    for name in ("ordered.csv", "unordered.csv"):
        [account] = [a for a in rows(app, Account, "midata") if a["name"] == name]
        mine = [t for t in rows(app, Transaction, "midata") if t["account_id"] == account["id"]]
        assert sorted(t["description"] for t in mine) == ["COFFEE", "COFFEE", "TEA"]


def _big_ofx(path: Path, transactions: int) -> None:
    body = "".join(
        f"<STMTTRN><TRNTYPE>POS<DTPOSTED>2026030{1 + n % 9}<TRNAMT>-{n % 97}.{n % 100:02d}"
        f"<FITID>{n:09d}<NAME>SHOP {n % 500}<MEMO>CARD 2291 REF {n}</STMTTRN>\r\n"
        for n in range(transactions)
    )
    path.write_bytes(_sgml(_statement("Opening").replace("<STMTTRN>", body + "<STMTTRN>", 1)))


def _big_midata(path: Path, transactions: int) -> None:
    lines = "".join(
        f"{1 + n // 20 % 28:02d}/{1 + n // 560 % 12:02d}/{2025 + n // 6720},POS,SHOP {n % 500}"
        f" REF {n},-£{n % 97}.00,\n"  # in date order, twenty a day, as banks write them
        for n in range(transactions)
    )
    path.write_text("Date,Type,Merchant/Description,Debit/Credit,Balance\n" + lines, "utf-8")


def _big_greenbutton(path: Path, readings: int) -> None:
    def entry(href: str, resource: str, body: str, *related: str) -> str:
        links = "".join(f'<link rel="related" href="{r}"/>' for r in related)
        return (
            f'<entry><id>urn:uuid:{href}</id><link rel="self" href="{href}"/>{links}<content>'
            f'<{resource} xmlns="http://naesb.org/espi">{body}</{resource}></content></entry>\n'
        )

    # Four days a meter, so timestamps repeat across meters: the store's cache of their
    # texts is bounded (4,096) but would otherwise fill as a 2,400-reading file grows.
    point = "Subscription/1/UsagePoint/1"
    meters = [f"{point}/MeterReading/{m}" for m in range(readings // 96 + 1)]
    hour = "<IntervalReading><timePeriod><duration>3600</duration><start>{}</start></timePeriod>"
    blocks = (
        entry(
            f"{meters[block // 4]}/IntervalBlock/{block % 4}",
            "IntervalBlock",
            "".join(
                hour.format(1_700_000_000 + (block % 4 * 24 + h) * 3600)
                + f"<value>{(block * 7 + h) % 900}</value></IntervalReading>"
                for h in range(24)
            ),
        )
        for block in range(readings // 24)
    )
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0"?>\n<feed xmlns="http://www.w3.org/2005/Atom">')
        out.write(entry(point, "UsagePoint", "<ServiceCategory><kind>0</kind></ServiceCategory>"))
        out.writelines(entry(meter, "MeterReading", "", "ReadingType/1") for meter in meters)
        out.writelines(blocks)
        # The ReadingType after every reading that uses it, as in the Alliance's sample.
        unit = "<powerOfTenMultiplier>0</powerOfTenMultiplier><uom>72</uom>"
        out.write(entry("ReadingType/1", "ReadingType", unit) + "</feed>\n")


BIG = {"ofx": (_big_ofx, "ofx", "transactions"), "midata": (_big_midata, "csv", "transactions")}
BIG["greenbutton"] = (_big_greenbutton, "xml", "usage")


@pytest.mark.parametrize("kind", list(BIG))
def test_import_memory_does_not_grow_with_the_file(tmp_path: Path, kind: str) -> None:
    """The peak of Python's allocations while importing, for a file and one four times it.

    Read whole, the larger file's tree alone would add several times the smaller's peak;
    read as a stream, the peak is a page and the store's batch, whatever the file's size.
    """
    make, suffix, records = BIG[kind]
    peaks = []
    for size in (48, 600, 2_400):  # the first only loads what any import loads once
        path = tmp_path / f"{kind}-{size}.{suffix}"
        make(path, size)
        with Portal.open(home=tmp_path / f"home-{kind}-{size}") as portal:
            tracemalloc.start()
            result = import_file(portal, path)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        assert result.records[records] >= size
    _, small, large = peaks
    assert large < small * 1.3, f"{small / 1e6:.1f} MB for 600 rows, {large / 1e6:.1f} for 2,400"


def test_a_statement_downloaded_again_with_a_changed_transaction_says_what_changed(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, OFX2)
    before = dump(app)
    again = broken(tmp_path, OFX2, "again.ofx", b"<TRNAMT>-61.25", b"<TRNAMT>-62.25")
    result = import_file(app, again)
    assert set(result.added.values()) == {0}
    [change] = result.changed
    assert change.category == "transactions" and change.provider_id.endswith(":NW0307A7")
    assert change.fields == {"amount": (Decimal("-61.25"), Decimal("-62.25"))}
    assert result.import_id == 2
    undo_import(app, 2)
    assert dump(app) == before


def test_cli_shows_the_banks_error_and_what_a_file_holds_that_is_not_kept(tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(cli, ["--home", str(tmp_path / "home"), "import", *args])
        return result.exit_code, result.stdout, result.stderr

    code, _, err = run(str(OFXPARSE / "signon_fail.ofx"))
    assert code == ExitCode.USER_ERROR
    assert "the bank reported error 15500 when signing on: Your request could not be" in err
    code, out, _ = run(str(GREEN_BUTTON))
    assert code == ExitCode.OK
    assert "  entry 8 (ElectricPowerQualitySummary): not imported: power-quality" in out
    assert "This is import 1: portal import --undo 1 takes it back." in out
    code, _, err = run(str(GREEN_BUTTON), "--undo", "1")
    assert code == ExitCode.USAGE and "--history and --undo take no FILE" in err
