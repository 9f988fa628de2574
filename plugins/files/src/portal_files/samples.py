"""The test doubles of the files banks let people download: OFX/QFX statements and midata CSVs.

``OfxExport`` writes what one person's two banks would give them: a current account's
statement in OFX 1.02 SGML (header lines, CRLF, Windows-1252, value elements and the
``STMTTRN`` aggregates left unclosed, character references), a credit card's in Quicken's
QFX (OFX 1.02 with every element closed and Intuit's ``INTU.BID``), and a later download
in OFX 2.1.1 XML holding two statements (the current account again, and a euro savings
account with ``BRANCHID`` and ``ACCTKEY``). ``MidataExport`` writes the UK midata
personal current-account CSV (Windows-1252, newest first, spreadsheet-guard apostrophes,
an ``Arranged overdraft limit`` line at the end).

Both are written from the published formats, not from the readers in this package:

- OFX 1.0.2 and 2.1.1 (ofx.net, "OFX Specification"): the SGML header, value elements
  that may be left unclosed in 1.x, character references; dates
  ``YYYYMMDD[HHMMSS[.XXX]][[gmt offset[:tz name]]]``, GMT where no zone is given; amounts
  signed from the customer's side, with ``.`` or ``,`` as the decimal mark;
  ``STMTRS``/``CCSTMTRS`` with ``CURDEF``, ``BANKACCTFROM`` (``BRANCHID`` and ``ACCTKEY``
  optional)/``CCACCTFROM``, ``BANKTRANLIST``, ``LEDGERBAL`` (required) and ``AVAILBAL``
  (optional); ``STMTTRN`` with its required ``TRNTYPE``, ``DTPOSTED``, ``TRNAMT`` and
  ``FITID``, the optional ``DTUSER``, ``DTAVAIL``, ``CHECKNUM``, ``NAME`` or ``PAYEE`` (a
  choice), ``BANKACCTTO`` and ``MEMO``, and ``CURRENCY`` (the amounts are in that currency,
  ``CURRATE`` converting them into ``CURDEF``) or ``ORIGCURRENCY`` (they were converted
  from it) (OFX 2.2 §5.2); the ``TRNTYPE`` list (§11.4.4.3).
- midata (the UK personal current account midata file, as Barclays, HSBC, Lloyds and
  Nationwide offer it): columns ``Date`` (DD/MM/YYYY), ``Type``, ``Merchant/Description``,
  ``Debit/Credit`` (signed, with ``£``) and ``Balance`` (the running balance), newest
  first, then a blank line and ``Arranged overdraft limit,<date>,<amount>``.

What each record must say is stated from those meanings: the account a statement is for
(keyed ``bank:BANKID[:BRANCHID]:ACCTID`` or ``creditcard:ACCTID``, portal's key for a file
account, since OFX gives an account no single id), its balances, and each transaction by
its ``FITID`` (unique within its account, and unique across this export's accounts too).
The words for codes are the package's code lists (``portal_files.labels``). A midata row
has no id of its own: its id is the digest of the row's values (and which of several
equal rows of a day it is), as the record's convention for the format says.

Provider text is hostile: a bidi override, markup, a spreadsheet formula and a terminal
escape (in a ``PAYEE`` address, kept in ``extra``: the record's text fields refuse control
characters) are in the files, stated exactly as they must be stored.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from portal.samples import SampleExport
from portal_files import labels

LONDON = ZoneInfo("Europe/London")  # midata is a UK scheme: its dates are UK days

Element = tuple[str, "str | list[Element]"]
"""An OFX element: a value (``("TRNAMT", "-3.50")``) or an aggregate of elements."""

BIDI = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: shows the text after it reversed
ESCAPE = "\x1b[2J"  # a terminal escape: clears the screen of whoever prints it raw


# --- OFX -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Zone:
    """How a date-time is written: a bracketed offset and zone name, or GMT with none."""

    offset: str | None = None  # "+1", "-5", "+5.30"; None: no brackets (OFX says GMT)
    name: str = ""
    millis: bool = False
    day_only: bool = False  # YYYYMMDD: midnight GMT

    def delta(self) -> timedelta:
        if self.offset is None:
            return timedelta(0)
        sign = -1 if self.offset.startswith("-") else 1
        hours, _, minutes = self.offset.lstrip("+-").partition(".")
        return sign * timedelta(hours=int(hours), minutes=int(minutes or 0))

    def write(self, moment: datetime) -> str:
        """``moment`` (aware) as an OFX date-time in this style."""
        local = moment.astimezone(timezone(self.delta()))
        if self.day_only:
            assert local.time() == time(0), moment
            return f"{local:%Y%m%d}"
        text = f"{local:%Y%m%d%H%M%S}" + (
            f".{local.microsecond // 1000:03d}" if self.millis else ""
        )
        if self.offset is not None:
            text += f"[{self.offset}:{self.name}]" if self.name else f"[{self.offset}]"
        return text


DAY = Zone(day_only=True)
PLAIN = Zone()
GMT = Zone("0", "GMT", millis=True)
CET = Zone("+1", "CET")
EST = Zone("-5", "EST", millis=True)
JST = Zone("+9", "JST")


@dataclass(frozen=True)
class Trn:
    """One STMTTRN as the bank states it, and how it is written."""

    fitid: str
    trntype: str
    posted: datetime
    amount: Decimal
    zone: Zone = PLAIN
    name: str | None = None
    memo: str | None = None
    payee: tuple[tuple[str, str], ...] = ()  # PAYEE's elements, in the spec's order
    user: str | None = None  # DTUSER, as written
    avail: datetime | None = None  # DTAVAIL (written in GMT)
    checknum: str | None = None
    to_account: tuple[tuple[str, str], ...] = ()  # BANKACCTTO's elements
    currency: tuple[str, str] | None = None  # CURRENCY (CURRATE, CURSYM): amounts are in it
    original: tuple[str, str] | None = None  # ORIGCURRENCY: amounts converted from it
    comma: bool = False  # the amount written with a decimal comma

    def elements(self) -> list[Element]:
        amount = f"{self.amount:.2f}"
        out: list[Element] = [
            ("TRNTYPE", self.trntype),
            ("DTPOSTED", self.zone.write(self.posted)),
        ]
        if self.user is not None:
            out.append(("DTUSER", self.user))
        if self.avail is not None:
            out.append(("DTAVAIL", GMT.write(self.avail)))
        out += [("TRNAMT", amount.replace(".", ",") if self.comma else amount)]
        out.append(("FITID", self.fitid))
        if self.checknum is not None:
            out.append(("CHECKNUM", self.checknum))
        if self.name is not None:
            out.append(("NAME", self.name))
        elif self.payee:
            out.append(("PAYEE", list(self.payee)))
        if self.to_account:
            out.append(("BANKACCTTO", list(self.to_account)))
        if self.memo is not None:
            out.append(("MEMO", self.memo))
        for tag, pair in (("CURRENCY", self.currency), ("ORIGCURRENCY", self.original)):
            if pair is not None:
                out.append((tag, [("CURRATE", pair[0]), ("CURSYM", pair[1])]))
        return out

    def expected(self, account: str, curdef: str) -> dict[str, Any]:
        """What the record of this transaction must say (OFX §11.4.2.3.1, §5.2)."""
        who = self.name if self.name is not None else dict(self.payee).get("NAME")
        words = labels.label(labels.OFX_TRANSACTION_TYPES, self.trntype, "transaction type")
        extra: dict[str, Any] = {}
        if self.user is not None:
            extra["DTUSER"] = self.user
        if self.checknum is not None:
            extra["CHECKNUM"] = self.checknum
        if self.name is None and self.payee:
            extra["PAYEE"] = dict(self.payee)
        if self.to_account:
            extra["BANKACCTTO"] = dict(self.to_account)
        if self.currency is not None:  # CURRATE converts into CURDEF: both are kept
            extra["CURRENCY"] = {"CURRATE": self.currency[0], "CURSYM": self.currency[1]}
            extra["CURDEF"] = curdef
        if self.original is not None:
            extra["ORIGCURRENCY"] = {"CURRATE": self.original[0], "CURSYM": self.original[1]}
        return {
            "account_id": account,
            "booked_at": self.posted,
            "value_at": self.avail,
            "amount": self.amount,
            # CURRENCY: the amounts are in that currency; ORIGCURRENCY only says what the
            # statement's currency was converted from.
            "currency": self.currency[1] if self.currency else curdef,
            "status": "posted",
            "status_label": "Posted",
            "state": "booked",
            "description": who or self.memo or labels.OFX_TRANSACTION_TYPES[self.trntype],
            "reference": self.memo if who else None,
            "counterparty": who,
            "merchant_name": None,
            "merchant_category_code": None,
            "merchant_category_label": None,
            "category_code": self.trntype,
            "category_label": words,
            "balance_after": None,
            "extra": extra,
        }


@dataclass
class Statement:
    """One STMTRS or CCSTMTRS: an account, a period's transactions, its balances."""

    kind: str  # "bank" or "creditcard"
    curdef: str
    account: tuple[tuple[str, str], ...]  # BANKACCTFROM's or CCACCTFROM's elements
    start: datetime
    end: datetime
    opening: Decimal  # the ledger balance before the first transaction of the history
    transactions: list[Trn]
    available: bool = True  # an AVAILBAL too (a card's would be the credit left: none here)

    @property
    def key(self) -> str:
        fields = dict(self.account)
        if self.kind == "creditcard":
            return f"creditcard:{fields['ACCTID']}"
        parts = [fields.get(k) for k in ("BANKID", "BRANCHID", "ACCTID")]
        return "bank:" + ":".join(p for p in parts if p)

    def ledger(self) -> Decimal:
        """The booked balance at the end: the opening plus every movement in CURDEF."""
        moved = sum((t.amount for t in self.transactions if t.currency is None), start=Decimal(0))
        return self.opening + moved

    def balances(self) -> list[tuple[str, str, Decimal, datetime]]:
        """(type, DTASOF as written, amount, moment) of LEDGERBAL and AVAILBAL."""
        found = [("LEDGERBAL", PLAIN.write(self.end), self.ledger(), self.end)]
        if self.available:  # nothing pending: what is available is what is booked
            found.append(("AVAILBAL", CET.write(self.end), self.ledger(), self.end))
        return found

    def elements(self, closed: bool = False) -> Element:
        tag = "STMTRS" if self.kind == "bank" else "CCSTMTRS"
        source = "BANKACCTFROM" if self.kind == "bank" else "CCACCTFROM"
        listing: list[Element] = [
            ("DTSTART", GMT.write(self.start)),
            ("DTEND", GMT.write(self.end)),
        ]
        listing += [("STMTTRN", t.elements()) for t in self.transactions]
        body: list[Element] = [
            ("CURDEF", self.curdef),
            (source, list(self.account)),
            ("BANKTRANLIST", listing),
        ]
        for kind, asof, amount, _ in self.balances():
            body.append((kind, [("BALAMT", f"{amount:.2f}"), ("DTASOF", asof)]))
        wrapper = "STMTTRNRS" if self.kind == "bank" else "CCSTMTTRNRS"
        return (
            wrapper,
            [("TRNUID", "1"), ("STATUS", [("CODE", "0"), ("SEVERITY", "INFO")]), (tag, body)],
        )


def _signon(org: str, fid: str, server: datetime, intu_bid: str | None = None) -> Element:
    sonrs: list[Element] = [
        ("STATUS", [("CODE", "0"), ("SEVERITY", "INFO")]),
        ("DTSERVER", GMT.write(server)),
        ("LANGUAGE", "ENG"),
        ("FI", [("ORG", org), ("FID", fid)]),
    ]
    if intu_bid is not None:
        sonrs.append(("INTU.BID", intu_bid))
    return ("SIGNONMSGSRSV1", [("SONRS", sonrs)])


def _escaped(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _sgml_text(value: str) -> str:
    out = _escaped(value)
    # What Windows-1252 cannot hold is written as a character reference (SGML's &#nnnn;).
    return "".join(c if _in_1252(c) else f"&#{ord(c)};" for c in out)


def _in_1252(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def sgml(root: Element, *, close_values: bool, unclosed: frozenset[str] = frozenset()) -> bytes:
    """An OFX 1.02 file: the header, then the body one element a line, CRLF, Windows-1252.

    Value elements keep their end tags only with ``close_values`` (Quicken's style); the
    aggregates in ``unclosed`` are left open, as many banks leave them.
    """
    header = [
        "OFXHEADER:100",
        "DATA:OFXSGML",
        "VERSION:102",
        "SECURITY:NONE",
        "ENCODING:USASCII",
        "CHARSET:1252",
        "COMPRESSION:NONE",
        "OLDFILEUID:NONE",
        "NEWFILEUID:NONE",
        "",
    ]
    lines: list[str] = []

    def write(element: Element) -> None:
        tag, value = element
        if isinstance(value, list):
            lines.append(f"<{tag}>")
            for child in value:
                write(child)
            if tag not in unclosed:
                lines.append(f"</{tag}>")
        else:
            lines.append(f"<{tag}>{_sgml_text(value)}" + (f"</{tag}>" if close_values else ""))

    write(root)
    return "\r\n".join([*header, *lines, ""]).encode("cp1252")


def xml(root: Element) -> bytes:
    """An OFX 2.1.1 file: the XML declaration, the OFX processing instruction, UTF-8."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        '<?OFX OFXHEADER="200" VERSION="211" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>',
    ]

    def write(element: Element, depth: int) -> None:
        tag, value = element
        pad = "  " * depth
        if isinstance(value, list):
            lines.append(f"{pad}<{tag}>")
            for child in value:
                write(child, depth + 1)
            lines.append(f"{pad}</{tag}>")
        else:
            lines.append(f"{pad}<{tag}>{_escaped(value)}</{tag}>")

    write(root, 0)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _month(base: tuple[int, int], k: int) -> tuple[int, int]:
    year, month = base
    index = year * 12 + month - 1 + k
    return index // 12, index % 12 + 1


def _at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, zone: Zone = PLAIN
) -> datetime:
    """A moment given as the bank's local clock in ``zone``."""
    local = datetime(year, month, day, hour, minute, tzinfo=timezone(zone.delta()))
    return local.astimezone(UTC)


def _month_end(year: int, month: int) -> datetime:
    y, m = _month((year, month), 1)
    return datetime(y, m, 1, tzinfo=UTC) - timedelta(seconds=1)


CURRENT = (("BANKID", "401276"), ("ACCTID", "71234567"), ("ACCTTYPE", "CHECKING"))
SAVINGS = (
    ("BANKID", "401276"),
    ("BRANCHID", "0042"),
    ("ACCTID", "81234567"),
    ("ACCTTYPE", "SAVINGS"),
    ("ACCTKEY", "17"),
)
CARD = (("ACCTID", "4147202100004321"),)
HARBOUR = ("Harbour & Sons Bank", "4012")
PINECONE = ("Pinecone Card Services", "10898")


def current_month(k: int, xml: bool = False) -> list[Trn]:
    """A month of the current account (GBP): most of OFX's bank TRNTYPEs, in order.

    XML cannot hold a control character: the bank's XML download has none (``xml``).
    """
    y, m = _month((2026, 1), k)
    n = Decimal(k % 7)
    fit = f"C{y}{m:02d}"
    usd = ("0.7900", "USD")
    address = ("" if xml else ESCAPE) + "1 QUAY STREET"
    return [
        Trn(f"{fit}01", "DIRECTDEP", _at(y, m, 1), Decimal("2450.00") + n, DAY,
            name="NORTHWIND PAYROLL", memo="SALARY", avail=_at(y, m, 1, 9)),
        Trn(f"{fit}02", "DIRECTDEBIT", _at(y, m, 2, 10, 15), Decimal("-38.50"),
            name="THAMES WATER", memo="TW 88412077"),
        Trn(f"{fit}03", "POS", _at(y, m, 3, 8, 30, CET), Decimal("-4.35") - n, CET,
            name="CAFFÈ NERO", user=f"{y}{m:02d}02", comma=True),
        Trn(f"{fit}04", "ATM", _at(y, m, 5, 12, 0, GMT), Decimal("-50.00"), GMT,
            memo="CASH HARBOUR ST €"),
        Trn(f"{fit}05", "FEE", _at(y, m, 6), Decimal("-5.00")),
        Trn(f"{fit}06", "XFER", _at(y, m, 7), Decimal("-200.00"), name="TO SAVINGS",
            memo="MONTHLY SAVING", to_account=SAVINGS[:4]),
        Trn(f"{fit}07", "CHECK", _at(y, m, 8), Decimal("-120.00"), name="J SMITH",
            checknum=f"{101 + k:06d}"),
        Trn(f"{fit}08", "POS", _at(y, m, 9, 15, 0, EST), Decimal("-15.80"), EST,
            name="BLUE BOTTLE COFFEE NYC", memo="USD 20.00 @ 1.2658",
            original=("1.2658", "USD")),
        Trn(f"{fit}09", "DEBIT", _at(y, m, 10), Decimal("-20.00"), name="APPLE.COM/BILL",
            currency=usd),
        Trn(f"{fit}10", "CREDIT", _at(y, m, 12), Decimal("20.00"), name="APPLE.COM/BILL",
            memo="REFUND", currency=usd),
        Trn(f"{fit}11", "REPEATPMT", _at(y, m, 14), Decimal("-1450.00"),
            name="HARBOUR LETTINGS", memo="RENT FLAT 2"),
        Trn(f"{fit}12", "DEP", _at(y, m, 15), Decimal("32.50"),
            name="<script>alert(1)</script>",
            memo='=HYPERLINK("http://evil.example/","Refund")'),
        Trn(f"{fit}13", "PAYMENT", _at(y, m, 16), Decimal("-60.00"),
            name="PINECONE CARD SERVICES"),
        Trn(f"{fit}14", "SRVCHG", _at(y, m, 18), Decimal("-3.00"), memo="ACCOUNT FEE",
            payee=(("NAME", "HARBOUR & SONS BANK"), ("ADDR1", address),
                   ("CITY", "LEITH"), ("STATE", "EDINBURGH"), ("POSTALCODE", "EH6 6AA"),
                   ("PHONE", "0131 496 0000"))),
        Trn(f"{fit}15", "OTHER", _at(y, m, 20), Decimal("1.00"), name=f"{BIDI}KCABHSAC",
            memo="CASHBACK"),
        Trn(f"{fit}16", "CASH", _at(y, m, 22), Decimal("-20.00"), name="CASHBACK TESCO"),
        Trn(f"{fit}17", "DEBIT", _at(y, m, 24, 19, 5, JST), Decimal("-18.40"), JST,
            name="SAINSBURYS S/MKT", memo="CARD 2291"),
        Trn(f"{fit}18", "INT", _at(y, m, 28, 18, 0, EST), Decimal("0.12"), EST,
            memo="INTEREST PAID"),
    ]  # fmt: skip


def _current_xml(k: int) -> list[Trn]:
    return current_month(k, xml=True)


def savings_month(k: int) -> list[Trn]:
    """A month of the euro savings account."""
    y, m = _month((2026, 1), k)
    fit = f"S{y}{m:02d}"
    return [
        Trn(f"{fit}01", "DEP", _at(y, m, 7), Decimal("230.00"), name="FROM CURRENT ACCOUNT",
            memo="MONTHLY SAVING € 230"),
        Trn(f"{fit}02", "XFER", _at(y, m, 15, 9, 30, GMT), Decimal("-50.00"), GMT,
            name="TO ØRESUND BROKERS"),
        Trn(f"{fit}03", "DIV", _at(y, m, 21), Decimal("1.25"), memo="MEMBERS' DIVIDEND"),
        Trn(f"{fit}04", "INT", _at(y, m, 28), Decimal("4.10") + Decimal(k % 5) / 100,
            memo="INTEREST GROSS"),
    ]  # fmt: skip


def card_month(k: int) -> list[Trn]:
    """A month of the credit card (USD): purchases negative, a refund and the payment positive."""
    y, m = _month((2026, 1), k)
    fit = f"K{y}{m:02d}"
    return [
        Trn(f"{fit}01", "DEBIT", _at(y, m, 2, 12, 0, EST), Decimal("-45.99"), EST,
            name="AMAZON MKTPLACE PMTS", memo="AMZN.COM/BILL WA"),
        Trn(f"{fit}02", "CREDIT", _at(y, m, 6, 12, 0, EST), Decimal("45.99"), EST,
            name="AMAZON MKTPLACE PMTS", memo="REFUND"),
        Trn(f"{fit}03", "POS", _at(y, m, 9, 7, 45, EST), Decimal("-12.50"), EST,
            name="BLUE BOTTLE COFFEE"),
        Trn(f"{fit}04", "PAYMENT", _at(y, m, 12, 0, 0, EST), Decimal("40.00"), EST,
            name="PAYMENT THANK YOU"),
        Trn(f"{fit}05", "FEE", _at(y, m, 15, 0, 0, EST), Decimal("-25.00"), EST,
            name="ANNUAL FEE"),
        Trn(f"{fit}06", "SRVCHG", _at(y, m, 20, 0, 0, EST), Decimal("-1.50"), EST,
            name="FOREIGN TXN FEE", memo="<b>3%</b> of 50.00"),
        Trn(f"{fit}07", "INT", _at(y, m, 27, 0, 0, EST), Decimal("-3.21"), EST,
            memo="PURCHASE INTEREST CHARGE"),
    ]  # fmt: skip


def _statement(
    kind: str,
    curdef: str,
    account: tuple[tuple[str, str], ...],
    opening: Decimal,
    months: range,
    history: Any,
    available: bool = True,
) -> Statement:
    transactions = [t for k in months for t in history(k)]
    before = sum(
        (t.amount for k in range(months.start) for t in history(k) if t.currency is None),
        start=Decimal(0),
    )
    first = _month((2026, 1), months.start)
    last = _month((2026, 1), months.stop - 1)
    return Statement(
        kind,
        curdef,
        account,
        datetime(*first, 1, tzinfo=UTC),
        _month_end(*last),
        opening + before,
        transactions,
        available,
    )


class OfxExport(SampleExport):
    """Three OFX downloads of one person's accounts at two banks.

    ``harbour-current-1.ofx`` (OFX 1.02 SGML, the first ``scale`` months of the current
    account), ``pinecone-card.qfx`` (QFX, the card's first ``scale`` months) and
    ``harbour-2.ofx`` (OFX 2.1.1 XML: the current account's next ``scale`` months and the
    savings account's). Every transaction in every file is one record; each statement's
    balances add up from an opening balance and its transactions.
    """

    account: ClassVar[str | None] = None  # OFX files say which account they are for

    def __init__(self, folder: Path, scale: int = 1) -> None:
        super().__init__(folder, scale)
        n = scale
        self.statements: dict[str, list[Statement]] = {
            "harbour-current-1.ofx": [
                _statement("bank", "GBP", CURRENT, Decimal("1000.00"), range(n), current_month)
            ],
            "pinecone-card.qfx": [
                _statement(
                    "creditcard", "USD", CARD, Decimal("-312.40"), range(n), card_month, False
                )
            ],
            "harbour-2.ofx": [
                _statement(
                    "bank", "GBP", CURRENT, Decimal("1000.00"), range(n, 2 * n), _current_xml
                ),
                _statement(
                    "bank", "EUR", SAVINGS, Decimal("5000.00"), range(n, 2 * n), savings_month
                ),
            ],
        }
        self.institution = {
            "harbour-current-1.ofx": HARBOUR,
            "pinecone-card.qfx": PINECONE,
            "harbour-2.ofx": HARBOUR,
        }
        files = []
        for name, statements in self.statements.items():
            path = folder / name
            path.write_bytes(self._file(name, statements))
            files.append(path)
        self.files = files

    def _file(self, name: str, statements: list[Statement]) -> bytes:
        org, fid = self.institution[name]
        server = statements[-1].end + timedelta(days=1, hours=7)
        if name.endswith(".qfx"):
            root: Element = (
                "OFX",
                [
                    _signon(org, fid, server, intu_bid=fid),
                    ("CREDITCARDMSGSRSV1", [s.elements() for s in statements]),
                ],
            )
            return sgml(root, close_values=True)
        root = (
            "OFX",
            [_signon(org, fid, server), ("BANKMSGSRSV1", [s.elements() for s in statements])],
        )
        if name.endswith("-1.ofx"):
            return sgml(root, close_values=False, unclosed=frozenset({"STMTTRN"}))
        return xml(root)

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The accounts, balances and transactions, field by field (OFX §11.4)."""
        accounts: dict[str, dict[str, Any]] = {}
        balances: dict[str, dict[str, Any]] = {}
        transactions: dict[str, dict[str, Any]] = {}
        for name, statements in self.statements.items():
            org, fid = self.institution[name]
            for s in statements:
                accounts[s.key] = self._account(s, org, fid, name.endswith(".qfx"))
                for kind, asof, amount, moment in s.balances():
                    balances[f"{s.key}:{kind}:{asof}"] = {
                        "account_id": s.key,
                        "amount": amount,
                        "currency": s.curdef,
                        "unit": None,
                        "balance_type": kind,
                        "balance_type_label": labels.OFX_BALANCE_TYPES[kind],
                        "as_of": moment,
                        "credit_limit": None,
                        "extra": {},
                    }
                for t in s.transactions:
                    transactions[t.fitid] = t.expected(s.key, s.curdef)
        return {"accounts": accounts, "balances": balances, "transactions": transactions}

    @staticmethod
    def _account(s: Statement, org: str, fid: str, quicken: bool) -> dict[str, Any]:
        fields = dict(s.account)
        kind = fields.get("ACCTTYPE", "CREDITCARD")  # CCACCTFROM has no type: it is a card
        words = labels.OFX_ACCOUNT_TYPES[kind]
        number = fields["ACCTID"]
        extra: dict[str, Any] = {
            k: v for k, v in fields.items() if k not in ("BANKID", "ACCTID", "ACCTTYPE")
        }
        extra["FI"] = {"ORG": org, "FID": fid}
        if quicken:
            extra["INTU.BID"] = fid
        bank = "BANKID" in fields
        return {
            "name": f"{org} {words.lower()} ending {number[-4:]}",
            "account_type": kind,
            "account_type_label": words,
            "status": None,
            "status_label": None,
            "state": None,
            "currency": s.curdef,
            "opened_on": None,
            "identifiers": [
                {
                    "scheme": "OFX.BANKACCTFROM" if bank else "OFX.CCACCTFROM",
                    "scheme_label": "Bank id and account number" if bank else "Card number",
                    "identification": f"{fields['BANKID']} {number}" if bank else number,
                    "name": None,
                }
            ],
            "extra": extra,
        }


# --- midata ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One midata row: a UK day, the bank's type code, the description, the amount."""

    day: tuple[int, int, int]
    code: str
    description: str
    amount: Decimal


MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
"""As banks abbreviate months in a card payment's narrative (never the locale's names)."""


def _pounds(amount: Decimal) -> str:
    """An amount as midata writes it: ``-£1,450.00``, ``£32.50``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def midata_month(k: int) -> list[Row]:
    """A month of a UK current account, oldest first (the file lists them newest first)."""
    y, m = _month((2026, 3), k)
    short = f"{y % 100:02d}"
    mon = MONTHS[m - 1]
    n = Decimal(k % 5)
    card = f"'2291 {{:02d}}{mon}{short} CD , {{}}"  # the bank's card-payment narrative
    tfl = card.format(18, "TFL TRAVEL CH , TFL.GOV.UK/CP GB")
    return [
        Row((y, m, 1), "SO", "HARBOUR LETTINGS RENT", Decimal("-1450.00")),
        Row((y, m, 2), "BGC", "NORTHWIND ANALYTICS SALARY", Decimal("3318.70") + n),
        Row((y, m, 3), "DD", "THAMES WATER", Decimal("-38.50")),
        Row((y, m, 4), "POS", card.format(3, "CAFFÈ NERO , LONDON GB"), Decimal("-4.35")),
        Row((y, m, 6), "CPT", f"'2291 06{mon}{short} CASH , HARBOUR ST", Decimal("-50.00")),
        Row((y, m, 9), "FPI", "T OYELARAN DINNER SPLIT", Decimal("32.50")),
        Row((y, m, 11), "POS", '\'=HYPERLINK("http://evil.example/","refund")', Decimal("-9.99")),
        Row((y, m, 13), "POS", "<b>AMAZON.CO.UK</b> MKTPLACE", Decimal("-64.99")),
        Row((y, m, 16), "POS", "AMAZON.CO.UK REFUND", Decimal("64.99")),
        Row((y, m, 19), "POS", tfl, Decimal("-8.10")),
        Row((y, m, 19), "POS", tfl, Decimal("-8.10")),  # twice in a day: told apart by balance
        Row((y, m, 22), "DD", "EE LIMITED", Decimal("-18.00")),
        Row((y, m, 23), "RTN", "EE LIMITED RETURNED DD", Decimal("18.00")),  # a bank's own code
        Row((y, m, 25), "CHG", "ARRANGED OVERDRAFT FEE", Decimal("-5.00")),
        Row((y, m, 28), "FPO", "DEMOBANK CARD PAYMENT", Decimal("-412.50")),
    ]


@dataclass
class _Line:
    row: Row
    cells: list[str] = field(default_factory=list)  # the five columns, as written
    occurrence: int = 1


class MidataExport(SampleExport):
    """A midata download of one current account: ``2 * scale`` months, newest first.

    The file names no account: it is imported with ``--account`` (``account``).
    """

    account: ClassVar[str | None] = "Harbour current"

    OPENING = Decimal("120.00")
    OVERDRAFT = "£500.00"

    def __init__(self, folder: Path, scale: int = 1) -> None:
        super().__init__(folder, scale)
        rows = [r for k in range(2 * scale) for r in midata_month(k)]
        balance = self.OPENING
        self.lines: list[_Line] = []
        for row in rows:
            balance += row.amount
            y, m, d = row.day
            cells = [
                f"{d:02d}/{m:02d}/{y}",
                row.code,
                row.description,
                _pounds(row.amount),
                _pounds(balance),
            ]
            self.lines.append(_Line(row, cells))
        self.lines.reverse()  # newest first, as banks write it
        seen: dict[tuple[str, ...], int] = {}
        for line in self.lines:
            key = tuple(line.cells)
            seen[key] = line.occurrence = seen.get(key, 0) + 1
        y, m = _month((2026, 3), 2 * scale)
        self.downloaded = f"01/{m:02d}/{y}"
        path = folder / "midata-harbour-current.csv"
        path.write_bytes(self._text().encode("cp1252"))
        self.files = [path]

    def _text(self) -> str:
        out = ["Date,Type,Merchant/Description,Debit/Credit,Balance"]
        out += [",".join(_csv(c) for c in line.cells) for line in self.lines]
        out += ["", f"Arranged overdraft limit,{self.downloaded},{self.OVERDRAFT}"]
        return "\r\n".join(out) + "\r\n"

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The account (named as imported) and each row as a transaction, field by field."""
        name = self.account or "current-account"
        account: dict[str, Any] = {
            "name": self.account or "Current account (midata file)",
            "account_type": "CurrentAccount",
            "account_type_label": "Current account",
            "status": None,
            "status_label": None,
            "state": None,
            "currency": "GBP",
            "opened_on": None,
            "identifiers": [],
            "extra": {
                "preamble": [],
                "overdraft": ["Arranged overdraft limit", self.downloaded, self.OVERDRAFT],
            },
        }
        transactions: dict[str, dict[str, Any]] = {}
        balance = self.OPENING
        for line in reversed(self.lines):
            row = line.row
            balance += row.amount
            identity = json.dumps([name, *line.cells, line.occurrence])
            key = hashlib.sha256(identity.encode()).hexdigest()[:32]
            transactions[key] = {
                "account_id": name,
                "booked_at": datetime(*row.day, tzinfo=LONDON),
                "value_at": None,
                "amount": row.amount,
                "currency": "GBP",
                "status": "booked",
                "status_label": "Booked",
                "state": "booked",
                "description": row.description,
                "reference": None,
                "counterparty": None,
                "merchant_name": None,
                "merchant_category_code": None,
                "merchant_category_label": None,
                "category_code": row.code,
                "category_label": labels.label(labels.MIDATA_TYPES, row.code, "transaction type"),
                "balance_after": balance,
                "extra": {},
            }
        return {"accounts": {name: account}, "transactions": transactions}


def _csv(cell: str) -> str:
    if any(c in cell for c in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell
