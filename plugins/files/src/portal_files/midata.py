"""midata current-account CSV: the transaction history UK banks let customers download.

The columns are those of the UK midata personal current account file: ``Date`` (DD/MM/YYYY),
``Type`` (the bank's code: POS, DD, SO, BGC, ...), ``Merchant/Description``,
``Debit/Credit`` (or ``Debit/Credit Amount``; signed, with a currency sign: ``-£12.34``)
and ``Balance``. Banks add lines of their own before the header (account details) and an
``Arranged overdraft limit`` line at the end; both are kept on the account. Every row of a
whole download ends with a line end: a file whose last transaction row has none was cut
short, and is refused. Descriptions
may start with an apostrophe, which stops spreadsheets reading them as formulas.

The file does not say which account it is for: ``portal import --account NAME`` names it,
so that the files of two accounts are kept apart.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal.filereaders import bounded_decimal, open_text
from portal.importing import BadFile, FilePage, csv_rows

COLUMNS = {
    "date": "Date",
    "type": "Type",
    "merchant/description": "Merchant/Description",
    "description": "Merchant/Description",
    "debit/credit": "Debit/Credit",
    "debit/creditamount": "Debit/Credit",
    "amount": "Debit/Credit",
    "balance": "Balance",
}
REQUIRED = ("Date", "Type", "Merchant/Description", "Debit/Credit", "Balance")
SYMBOLS = {"£": "GBP", "€": "EUR", "$": "USD"}
DEFAULT_ACCOUNT = "current-account"
_AMOUNT = re.compile(r"([+-]?)\s*([£€$]?)\s*([+-]?)\s*(\d[\d,]*(?:\.\d+)?|\.\d+)")
_OVERDRAFT = "arranged overdraft limit"
_DAY = re.compile(r"(\d{2})/(\d{2})/(\d{4})")


def _column(cell: str) -> str | None:
    return COLUMNS.get(re.sub(r"\s+", "", cell).lower())


def _header(row: list[str]) -> dict[str, int] | None:
    found = {name: i for i, cell in enumerate(row) if (name := _column(cell))}
    return found if all(name in found for name in REQUIRED) else None


def sniff(head: bytes, filename: str) -> bool:
    """A midata CSV: one of the first lines is the midata header row."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:12]
    return any(_header(line.split(",")) is not None for line in lines)


def parse_amount(value: str) -> tuple[Decimal, str | None]:
    """A midata amount (``-£1,234.50``, ``£-3.00``, ``+12.00``) and its currency, if signed."""
    text = value.strip()
    negative = text.startswith("(") and text.endswith(")")  # accountants' brackets
    match = _AMOUNT.fullmatch(text.strip("()").strip())
    if match is None:
        raise ValueError(f"{value!r} is not an amount such as -£12.34")
    sign_before, symbol, sign_after, digits = match.groups()
    try:
        amount = bounded_decimal(digits.replace(",", ""))
    except ValueError as error:  # the pattern admits only digits: too many of them
        shortened = value if len(value) <= 40 else value[:40] + "..."
        raise ValueError(f"{shortened!r} {error}") from None
    if negative or "-" in (sign_before, sign_after):
        amount = -amount
    return amount, SYMBOLS.get(symbol)


def parse_date(value: str) -> date:
    """A midata date: DD/MM/YYYY (some banks write DD-MM-YYYY or YYYY-MM-DD)."""
    text = value.strip()
    if (found := _DAY.fullmatch(text)) is not None:  # the usual form, without strptime's cost
        day, month, year = map(int, found.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (DD/MM/YYYY)") from None
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date (DD/MM/YYYY)")


PAGE = 500
"""Rows read before they are handed on as a page: the reader holds at most this many."""


def read(path: Path, account: str | None = None) -> Iterator[FilePage]:
    """The file's transactions in pages, each with its line, then its account.

    The file is read as a stream. The account comes last because the bank's overdraft line
    (kept on it) ends the file; a row's id needs only the account's name.
    """
    with open_text(path) as text:
        by_date = _in_date_order(csv_rows(text, path))
    with open_text(path) as text:
        yield from _read(path, csv_rows(text, path), account, by_date, _ends_a_line(path))


def _ends_a_line(path: Path) -> bool:
    """Whether the file's last byte ends a line, as every row of a whole download does."""
    with path.open("rb") as source:
        source.seek(max(path.stat().st_size - 1, 0))
        return source.read(1) in (b"\n", b"\r")


class _Occurrences:
    """Which of several equal rows this is: 1 for the first, 2 for the next, ...

    Equal rows share a date (it is one of the values), so in a file in date order, as
    banks write them, only the current date's rows need counting: memory holds one day.
    A file out of date order counts every row (a 16-byte digest each).
    """

    def __init__(self, by_date: bool) -> None:
        self.by_date = by_date
        self.date: str | None = None
        self.seen: Counter[bytes] = Counter()

    def next(self, date: str, values: tuple[str, ...]) -> int:
        if self.by_date and date != self.date:
            self.date = date
            self.seen.clear()
        digest = hashlib.blake2b("\x00".join(values).encode(), digest_size=16).digest()
        self.seen[digest] += 1
        return self.seen[digest]


def _in_date_order(rows: Iterator[tuple[int, list[str]]]) -> bool:
    """Whether each date's rows come together (a first pass: only the dates are kept)."""
    columns = next((c for _, row in rows if (c := _header(row)) is not None), None)
    if columns is None:
        return True  # the reading pass says what is wrong
    done: set[str] = set()
    current = None
    for _, row in rows:
        date = row[columns["Date"]].strip() if len(row) > columns["Date"] else ""
        if date != current:
            if date in done:
                return False
            if current is not None:
                done.add(current)
            current = date
    return True


def _read(
    path: Path,
    rows: Iterator[tuple[int, list[str]]],
    account: str | None,
    by_date: bool,
    whole: bool = True,
) -> Iterator[FilePage]:
    preamble: list[str] = []
    columns = None
    header_line = 0
    for number, row in rows:
        columns = _header(row)
        if columns is not None:
            header_line = number
            break
        preamble.append(",".join(cell.strip() for cell in row if cell.strip()))
        if len(preamble) > 10:
            break
    if columns is None:
        raise BadFile(
            path,
            None,
            "has no midata header row (Date, Type, Merchant/Description, Debit/Credit, Balance)",
        )
    key = account or DEFAULT_ACCOUNT
    the_account: dict[str, Any] = {"account": key, "name": account, "preamble": preamble}
    items: list[dict[str, Any]] = []
    where: list[str] = []
    occurrences = _Occurrences(by_date)  # equal rows are told apart by their order
    count = 0
    last = 0  # the line of the last transaction row, while it is the file's last row
    currencies: set[str | None] = set()  # of the running balances: the account's currency
    for number, row in rows:
        last = 0
        if any(cell.strip().lower() == _OVERDRAFT for cell in row):
            the_account["overdraft"] = [cell.strip() for cell in row if cell.strip()]
            continue
        last = number
        item = _item(path, number, row, columns)
        if item["Balance"]:
            currencies.add(parse_amount(item["Balance"])[1])
        occurrence = occurrences.next(item["Date"], tuple(item[name] for name in REQUIRED))
        items.append({"account": key, **item, "occurrence": occurrence})
        where.append(f"line {number}")
        count += 1
        if len(items) >= PAGE:
            yield FilePage("transactions", items, locators=where)
            items, where = [], []
    if not count:
        raise BadFile(path, f"line {header_line}", "has a header but no transactions after it")
    if last and not whole:
        # A download cut short ends inside a row, whose last value may read as another
        # amount ("£34.6" of "£34.66"): nothing of it is imported.
        raise BadFile(path, f"line {last}", "ends inside a row: the download looks cut short")
    if items:
        yield FilePage("transactions", items, locators=where)
    if len(currencies) == 1 and None not in currencies:  # every balance in one currency
        the_account["currency"] = currencies.pop()
    yield FilePage("accounts", [the_account], locators=[f"line {header_line}"])


def _item(path: Path, number: int, row: list[str], columns: dict[str, int]) -> dict[str, str]:
    if len(row) < len(columns):
        raise BadFile(
            path,
            f"line {number}",
            f"has {len(row)} columns where the header has {len(columns)}",
        )
    item = {name: row[index].strip() for name, index in columns.items()}
    checks = (("Date", parse_date), ("Debit/Credit", parse_amount))
    for name, parse in checks:
        try:
            parse(item[name])
        except ValueError as error:
            raise BadFile(path, f"line {number}", f"column {name!r}: {error}") from None
    if item["Balance"]:
        try:
            parse_amount(item["Balance"])
        except ValueError as error:
            raise BadFile(path, f"line {number}", f"column 'Balance': {error}") from None
    return item
