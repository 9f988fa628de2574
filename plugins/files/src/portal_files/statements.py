"""The statements in an OFX tree, as raw items: accounts, balances and transactions.

Each item keeps the values exactly as the file has them (nested aggregates as nested
dicts), plus ``account``, the key of the account it belongs to, so the same transaction in
two overlapping downloads is the same raw item. Dates and amounts are checked here, where
the element is known, so an error names it: ``element .../STMTTRN[3]/DTPOSTED (line 41)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal.filereaders import bounded_decimal
from portal.importing import BadFile, FilePage, XmlNode
from portal.shown import shown
from portal_files import ofx

_DATE = re.compile(
    r"(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,3}))?)?)?"
    r"\s*(?:\[\s*([+-]?)(\d{1,2})(?:\.(\d{1,2}))?(?::[^\]]*)?\])?"
)
STATEMENTS = {"STMTRS": "bank", "CCSTMTRS": "creditcard"}
UNSUPPORTED = {"INVSTMTRS": "investment", "LOANSTMTRS": "loan"}


def ofx_datetime(value: str) -> datetime:
    """An OFX date-time (``20260102``, ``20260102093000.000[-5:EST]``) as an aware datetime.

    OFX says a value without a zone is GMT. In an offset, ``.30`` after the hours is
    minutes (``[+5.30:IST]``) and ``.5`` a fraction of an hour.
    """
    match = _DATE.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not an OFX date (YYYYMMDD[HHMMSS[.XXX]][[±H:TZ]])")
    year, month, day, hour, minute, second, millis, sign, hours, fraction = match.groups()
    offset = timedelta(hours=int(hours or 0))
    if fraction:
        offset += timedelta(minutes=int(fraction) if len(fraction) == 2 else int(fraction) * 6)
    try:
        zone = UTC if not hours else timezone(-offset if sign == "-" else offset)
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((millis or "0").ljust(3, "0")) * 1000,
            tzinfo=zone,
        )
    except ValueError as error:  # 31 February, hour 25, an offset of 30 hours
        raise ValueError(f"{value!r} is not a real date and time ({error})") from None


def ofx_amount(value: str) -> Decimal:
    """An OFX amount; OFX allows a comma as the decimal mark (``-3,50``)."""
    text = value.strip()
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    try:
        return bounded_decimal(text)
    except ValueError as error:
        shortened = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(f"{shortened!r} {error}") from None


def _present(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty")
    return value


def to_dict(node: XmlNode) -> dict[str, Any]:
    """An aggregate's children as a dict: values as text, aggregates as dicts, repeats as lists."""
    result: dict[str, Any] = {}
    for child in node.children:
        value: Any = to_dict(child) if child.children else child.text.strip()
        if child.tag in result:
            if not isinstance(result[child.tag], list):
                result[child.tag] = [result[child.tag]]
            result[child.tag].append(value)
        else:
            result[child.tag] = value
    return result


def _check(path: Path, node: XmlNode, tag: str, parse: Any, required: bool = True) -> None:
    child = node.find(tag)
    if child is None:
        if required:
            raise BadFile(path, node.locator, f"<{node.tag}> has no <{tag}>")
        return
    try:
        parse(child.text)
    except ValueError as error:
        raise BadFile(path, child.locator, str(error)) from None


def _account_key(kind: str, account: dict[str, Any]) -> str:
    if kind == "creditcard":
        return f"creditcard:{account.get('ACCTID', '')}"
    parts = [account.get("BANKID", ""), account.get("BRANCHID", ""), account.get("ACCTID", "")]
    return "bank:" + ":".join(p for p in parts if p)


def _status(path: Path, status: XmlNode) -> None:
    """A STATUS aggregate that reports an error: the bank's own words, as the file has them."""
    code = status.child_text("CODE")
    severity = (status.child_text("SEVERITY") or "").upper()
    if severity != "ERROR" and (severity or code in (None, "0")):
        return  # INFO, or a WARN that came with its data
    message = status.child_text("MESSAGE") or "no message"
    holder = status.parent.tag if status.parent is not None else ""
    what = "when signing on" if holder == "SONRS" else "for this statement"
    raise BadFile(
        path,
        status.locator,
        f"the bank reported error {code} {what}: {shown(message)}",
        hint="That is the bank's own message, written into the file it sent: sign in to the"
        " bank's website and download the statement again. Nothing was imported.",
    )


PAGE = 500
"""Items read before they are handed on as a page: the reader holds at most this many."""

RECORDS = frozenset(
    {"SONRS", "STATUS", "STMTTRN", "BANKACCTFROM", "CCACCTFROM", "LEDGERBAL", "AVAILBAL"}
)
"""Aggregates read whole once they end: what they hold is kept until then, and everything
else is dropped as soon as it has been read, so memory holds one record, not the file."""


class _Statements:
    """What the events of one file have said so far, and the items not yet handed on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.institution: dict[str, Any] = {}
        self.context: dict[str, Any] | None = None  # the current statement's account
        self.statements = 0
        self.inside = 0  # how many RECORDS are open around the current element
        self.items: dict[str, tuple[list[dict[str, Any]], list[str]]] = {}

    def add(self, stream: str, item: dict[str, Any], node: XmlNode) -> None:
        items, where = self.items.setdefault(stream, ([], []))
        items.append(item)
        where.append(node.locator)

    def pages(self, everything: bool = False) -> Iterator[FilePage]:
        for stream, (items, where) in list(self.items.items()):
            if everything or len(items) >= PAGE:
                del self.items[stream]
                yield FilePage(stream, items, locators=where)

    def start(self, node: XmlNode) -> None:
        if node.tag in UNSUPPORTED:
            raise BadFile(
                self.path,
                node.locator,
                f"holds a {UNSUPPORTED[node.tag]} statement, which portal cannot import yet",
                hint="Download only bank and credit card accounts; nothing was imported.",
            )
        if node.tag in STATEMENTS:
            self.statements += 1
            self.context = None
        self.inside += node.tag in RECORDS

    def end(self, node: XmlNode) -> None:
        """Read an element that has ended, then forget it unless an open record holds it."""
        self.inside -= node.tag in RECORDS
        self._read(node)
        parent = node.parent.tag if node.parent is not None else ""
        if not self.inside and not (parent in STATEMENTS and not node.seen):
            node.drop()  # read: only a statement's own values (CURDEF) are wanted later

    def _read(self, node: XmlNode) -> None:
        parent = node.parent.tag if node.parent is not None else ""
        if node.tag == "STATUS":
            _status(self.path, node)
        elif node.tag == "SONRS":
            found = to_dict(node)
            self.institution = {k: v for k, v in found.items() if k in ("FI", "INTU.BID")}
        elif parent in STATEMENTS:
            self._in_statement(node)
        elif node.tag == "STMTTRN" and parent == "BANKTRANLIST":
            self._transaction(node)
        elif node.tag in STATEMENTS and self.context is None:
            self._account(node, None)

    def _in_statement(self, node: XmlNode) -> None:
        statement = node.parent
        assert statement is not None
        if node.tag in ("BANKACCTFROM", "CCACCTFROM"):
            self._account(statement, node)
        elif node.tag in ("LEDGERBAL", "AVAILBAL"):
            context = self._context(statement)
            _check(self.path, node, "BALAMT", ofx_amount)
            _check(self.path, node, "DTASOF", ofx_datetime)
            self.add("balances", {**context, "Type": node.tag, **to_dict(node)}, node)

    def _account(self, statement: XmlNode, node: XmlNode | None) -> None:
        kind = STATEMENTS[statement.tag]
        if node is None or not node.child_text("ACCTID"):
            raise BadFile(
                self.path, statement.locator, f"<{statement.tag}> names no account (ACCTID)"
            )
        currency = statement.child_text("CURDEF")
        if not currency:
            raise BadFile(
                self.path, statement.locator, f"<{statement.tag}> has no currency (CURDEF)"
            )
        account = to_dict(node)
        self.context = {"account": _account_key(kind, account), "CURDEF": currency}
        # Only what stays true of the account goes on it (not the statement's period or the
        # server's clock), so a later download does not restate an unchanged account.
        self.add("accounts", {**self.context, "kind": kind, **account, **self.institution}, node)

    def _context(self, statement: XmlNode) -> dict[str, Any]:
        if self.context is None:
            tag = "BANKACCTFROM" if statement.tag == "STMTRS" else "CCACCTFROM"
            self._account(statement, statement.find(tag))
        assert self.context is not None
        return self.context

    def _transaction(self, node: XmlNode) -> None:
        listing = node.parent
        statement = listing.parent if listing is not None else None
        if statement is None or statement.tag not in STATEMENTS:
            return  # not a statement's (an investment statement is refused at its start)
        context = self._context(statement)
        for tag in ("TRNTYPE", "FITID"):
            _check(self.path, node, tag, _present)
        _check(self.path, node, "DTPOSTED", ofx_datetime)
        _check(self.path, node, "DTAVAIL", ofx_datetime, required=False)
        _check(self.path, node, "DTUSER", ofx_datetime, required=False)
        _check(self.path, node, "TRNAMT", ofx_amount)
        self.add("transactions", {**context, **to_dict(node)}, node)


def read(path: Path) -> Iterator[FilePage]:
    """Every statement in an OFX/QFX file: its accounts, balances and transactions.

    The file is read as a stream: items are handed on in pages of ``PAGE``, so memory
    holds a page, not the file. A bank's own error status in the file is the error shown.
    """
    found = _Statements(path)
    for kind, node in ofx.events(path):
        if kind == "start":
            found.start(node)
            continue
        found.end(node)
        if node.tag == "STMTTRN":
            yield from found.pages()
    if not found.statements:
        raise BadFile(path, None, "holds no bank or credit card statement")
    yield from found.pages(everything=True)
