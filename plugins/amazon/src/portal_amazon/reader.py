"""Reading an Amazon export: the whole ZIP, or one of its order, return or refund CSVs.

Files are recognised by their header row, whatever they are called (people rename
files); a ZIP by the names of its members, and then each CSV in it by its header. Every
row is checked against ``portal_amazon.rules`` as it is read: a bad value is refused
naming its line and column (and, in a ZIP, the member).

Memory is bounded: files are read as streams, a page at a time. An order is a group of
rows that share an ``Order ID``; the rows of one order normally follow one another, but
nothing in the export promises it, so a first pass counts each order's rows (memory: one
count per order id) and the second hands an order on as soon as its last row is read,
holding only orders still incomplete.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from portal.archives import Archive, Member, is_zip, member_errors
from portal.filereaders import BadFile, csv_rows, open_text
from portal.importing import FileNote, FilePage
from portal.shown import shown
from portal_amazon import rules
from portal_amazon.values import absent

PAGE = 200
"""Records handed on per page: the reader holds at most this many (and incomplete orders)."""

HEAD = 8192
"""How much of a ZIP member is read to recognise it by its header."""


def _header(head: bytes) -> list[str] | None:
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    first = text.splitlines()[0] if text.strip() else ""
    try:
        return next(csv.reader(io.StringIO(first)), None)
    except csv.Error:
        return None


def sniff(head: bytes, filename: str) -> bool:
    """An Amazon order, return or refund CSV: its first line is one of their headers."""
    header = _header(head)
    return header is not None and rules.kind_of(header) is not None


def sniff_archive(names: list[str] | tuple[str, ...]) -> bool:
    """An Amazon "Request your data" ZIP: it holds an order, return or refund file."""
    return any(kind.member.search(name) for name in names for kind in rules.KINDS)


@dataclass(frozen=True)
class Source:
    """One CSV to read: the file itself, or a member of the archive."""

    kind: rules.FileKind
    where: str | None
    """The member's name, or None for the file itself."""
    open: Callable[[], IO[str]]

    def locator(self, line: int) -> str:
        """Where a line is, as errors and locators say it."""
        return f"line {line}" if self.where is None else f"member {shown(self.where)}, line {line}"


def read(path: Path) -> Iterator[FilePage | FileNote]:
    """The export's orders, returns and refunds, in pages."""
    with path.open("rb") as source:
        head = source.read(HEAD)
    if not is_zip(head):
        header = _header(head)
        kind = rules.kind_of(header) if header is not None else None
        if kind is None:
            raise BadFile(path, "line 1", "is not an Amazon order, return or refund file")
        yield from _read_sources(path, [Source(kind, None, lambda: open_text(path))])
        return
    with Archive(path) as archive:
        sources, others = _recognise(path, archive)
        if not sources:
            raise BadFile(
                path,
                None,
                "holds no Amazon order history, return or refund file (such as"
                " Retail.OrderHistory.1/Retail.OrderHistory.1.csv)",
            )
        yield from _read_sources(path, sources)
        if others:
            named = ", ".join(shown(name) for name in others[:5])
            more = f" and {len(others) - 5} more" if len(others) > 5 else ""
            yield FileNote(
                "the archive",
                f"{len(others)} other files were not read (digital orders, invoices,"
                f" carts and the like): {named}{more}.",
            )


def _recognise(path: Path, archive: Archive) -> tuple[list[Source], list[str]]:
    sources, others = [], []
    for member in archive.members:
        kind = None
        if member.name.lower().endswith(".csv"):
            header = _header(archive.peek(member, HEAD))
            kind = rules.kind_of(header) if header is not None else None
        if kind is None:
            others.append(member.name)
        else:
            sources.append(Source(kind, member.name, _opener(archive, member)))
    return sources, others


def _opener(archive: Archive, member: Member) -> Callable[[], IO[str]]:
    return lambda: archive.open_text(member)


def _errors(path: Path, source: Source) -> AbstractContextManager[None]:
    return nullcontext() if source.where is None else member_errors(path, source.where)


def rows(path: Path, source: Source) -> Iterator[tuple[int, dict[str, str]]]:
    """Each row of a source as {column as the file names it: value}, checked by the rules."""
    kind = source.kind
    with _errors(path, source), source.open() as text:
        records = csv_rows(text, path)
        first = next(records, None)
        if first is None:
            return
        number, header = first
        header = [cell.strip().lstrip("\ufeff") for cell in header]
        try:
            positions = rules.columns_of(kind, header)
        except ValueError as error:
            raise BadFile(path, f"line {number}", str(error)) from None
        for number, cells in records:
            if len(cells) != len(header):
                raise BadFile(
                    path,
                    f"line {number}",
                    f"has {len(cells)} columns where the header has {len(header)}",
                )
            row = dict(zip(header, cells, strict=True))
            canonical = {name: cells[at] for name, at in positions.items()}
            for column, problem in rules.check_row(kind, canonical):
                shown_name = header[positions[column]]
                raise BadFile(path, f"line {number}", f"column {shown_name!r}: {problem}")
            yield number, row


def _read_sources(path: Path, sources: list[Source]) -> Iterator[FilePage | FileNote]:
    by_stream = {kind.stream: [s for s in sources if s.kind is kind] for kind in rules.KINDS}
    yield from _orders(path, by_stream["orders"])
    yield from _singles(path, by_stream["returns"], "returns")
    yield from _singles(path, by_stream["refunds"], "refunds")


def _order_id(row: dict[str, str]) -> str:
    return row["Order ID"].strip()


def _orders(path: Path, sources: list[Source]) -> Iterator[FilePage]:
    remaining: Counter[str] = Counter()
    for source in sources:  # first pass: how many rows each order has
        for _, row in rows(path, source):
            remaining[_order_id(row)] += 1
    waiting: dict[str, tuple[list[dict[str, str]], list[str]]] = {}
    items: list[dict[str, Any]] = []
    where: list[str] = []
    for source in sources:
        for number, row in rows(path, source):
            order_id = _order_id(row)
            group, lines = waiting.setdefault(order_id, ([], []))
            group.append(row)
            lines.append(source.locator(number))
            remaining[order_id] -= 1
            if remaining[order_id]:
                continue
            del waiting[order_id], remaining[order_id]
            items.append({"order_id": order_id, "rows": group})
            where.append(_span(lines))
            if len(items) >= PAGE:
                yield FilePage("orders", items, locators=where)
                items, where = [], []
    if items:
        yield FilePage("orders", items, locators=where)


def _span(lines: list[str]) -> str:
    if len(lines) == 1:
        return lines[0]
    return f"{lines[0]} (and {len(lines) - 1} more rows of the order)"


def _singles(path: Path, sources: list[Source], stream: str) -> Iterator[FilePage | FileNote]:
    kind = rules.REFUNDS if stream == "refunds" else rules.RETURNS
    date = kind.column("RefundCompletionDate") if stream == "refunds" else None
    items: list[dict[str, Any]] = []
    where: list[str] = []
    for source in sources:
        for number, row in rows(path, source):
            if date is not None and _not_paid(row, date):
                yield FileNote(
                    source.locator(number),
                    f"the refund for order {shown(_refund_order(row))} has no refund date"
                    " (not paid yet); it is not kept until an export shows it paid.",
                )
                continue
            items.append({"row": row})
            where.append(source.locator(number))
            if len(items) >= PAGE:
                yield FilePage(stream, items, locators=where)
                items, where = [], []
    if items:
        yield FilePage(stream, items, locators=where)


def _not_paid(row: dict[str, str], date: rules.Column) -> bool:
    return all(absent(row.get(name)) for name in date.names)


def _refund_order(row: dict[str, str]) -> str:
    return row.get("OrderID") or row.get("Order ID") or "(not stated)"
