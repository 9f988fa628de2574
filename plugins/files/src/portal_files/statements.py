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
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from portal.importing import BadFile, FilePage, XmlNode
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
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount


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


def _institution(root: XmlNode) -> dict[str, Any]:
    signon = next(root.iter("SONRS"), None)
    if signon is None:
        return {}
    return {k: v for k, v in to_dict(signon).items() if k in ("FI", "INTU.BID")}


def _statement_status(path: Path, statement: XmlNode) -> None:
    wrapper = statement.parent
    status = wrapper.find("STATUS") if wrapper else None
    code = status.child_text("CODE") if status else None
    if code not in (None, "0"):
        assert status is not None
        message = status.child_text("MESSAGE") or "no message"
        raise BadFile(
            path,
            status.locator,
            f"the bank reported error {code} for this statement: {message}",
            hint="Download the statement again; nothing was imported.",
        )


def read(path: Path) -> Iterator[FilePage]:
    """Every statement in an OFX/QFX file: its account, balances and transactions."""
    root = ofx.parse(path.read_bytes(), path)
    for tag, kind in UNSUPPORTED.items():
        found = next(root.iter(tag), None)
        if found is not None:
            raise BadFile(
                path,
                found.locator,
                f"holds a {kind} statement, which portal cannot import yet",
                hint="Download only bank and credit card accounts; nothing was imported.",
            )
    institution = _institution(root)
    statements = [s for tag in STATEMENTS for s in root.iter(tag)]
    if not statements:
        raise BadFile(path, root.locator, "holds no bank or credit card statement")
    for statement in statements:
        yield from _statement(path, statement, institution)


def _statement(path: Path, statement: XmlNode, institution: dict[str, Any]) -> Iterator[FilePage]:
    _statement_status(path, statement)
    kind = STATEMENTS[statement.tag]
    account_node = statement.find("BANKACCTFROM" if kind == "bank" else "CCACCTFROM")
    if account_node is None or not account_node.child_text("ACCTID"):
        raise BadFile(path, statement.locator, f"<{statement.tag}> names no account (ACCTID)")
    currency = statement.child_text("CURDEF")
    if not currency:
        raise BadFile(path, statement.locator, f"<{statement.tag}> has no currency (CURDEF)")
    account = to_dict(account_node)
    key = _account_key(kind, account)
    context = {"account": key, "CURDEF": currency}
    listing = statement.find("BANKTRANLIST")
    # Only what stays true of the account goes on it (not the statement's period or the
    # server's clock), so a later download does not restate an unchanged account.
    yield FilePage(
        "accounts",
        [{**context, "kind": kind, **account, **institution}],
        locators=[account_node.locator],
    )
    balances, where = [], []
    for tag in ("LEDGERBAL", "AVAILBAL"):
        node = statement.find(tag)
        if node is not None:
            _check(path, node, "BALAMT", ofx_amount)
            _check(path, node, "DTASOF", ofx_datetime)
            balances.append({**context, "Type": tag, **to_dict(node)})
            where.append(node.locator)
    if balances:
        yield FilePage("balances", balances, locators=where)
    items, where = [], []
    for node in listing.findall("STMTTRN") if listing is not None else []:
        for tag in ("TRNTYPE", "FITID"):
            _check(path, node, tag, _present)
        _check(path, node, "DTPOSTED", ofx_datetime)
        _check(path, node, "DTAVAIL", ofx_datetime, required=False)
        _check(path, node, "DTUSER", ofx_datetime, required=False)
        _check(path, node, "TRNAMT", ofx_amount)
        items.append({**context, **to_dict(node)})
        where.append(node.locator)
    if items:
        yield FilePage("transactions", items, locators=where)
