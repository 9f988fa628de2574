"""The Money page's list of transactions: searched, filtered, sorted and cut into pages in
SQL, so a store of a million transactions answers as fast as the demo's 1,521.

The filters come from a plain GET form. Each one a person typed is read here into a value
(a date, a decimal) or a ``Problem`` naming the field, so a wrong date or amount is
explained on the page instead of breaking it; a filter that could not be read is left out,
and the page says so.

Amounts are compared and sorted as numbers (``CAST(amount AS REAL)``: the column is exact
text today and numeric once the store's values become numbers; the cast works on both), so
-972.03 < -82.40 < 8.62. Dates are the person's own days: a day starts at midnight where
they are, converted to the UTC text the store keeps, which compares in order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import REAL, ColumnElement, Table, cast, func, or_, select

from portal.record import Category, Transaction
from portal.record.tables import TABLES
from portal.record.vocab import State
from portal.search import (
    count_matching,
    has_search_index,
    ids_matching,
    keyed,
    number_of,
    numbers_matching,
)
from portal.store import Store
from portal.understand.spending import label
from portal.understand.tables import TransactionCategory
from portal.view.stored import stored
from portal.view.zone import local_midnight

PAGE_SIZE = 50
"""Transactions shown on one page of the list."""

FIRST_YEAR, LAST_YEAR = 1000, 9000
"""The years a date filter may name: midnight of year 1 or 9999 has no UTC moment to
compare with in every time zone (Python's datetimes end there)."""

SORTS = {"date": "Date", "amount": "Amount"}
"""What the list can be sorted by, and the words for it."""

FIELD_TITLES = {
    "account": "Account",
    "since": "From date",
    "until": "To date",
    "low": "Amount from",
    "high": "Amount to",
    "counterparty": "Paid to or from",
    "q": "Search",
    "sort": "Sort by",
    "order": "Order",
    "page": "Page",
}
"""The form's fields, by their names in the address, with the labels the form shows."""


def table() -> Table:
    """The store's transactions table."""
    found: Table = TABLES[Transaction].__table__  # type: ignore[attr-defined]
    return found


@dataclass(frozen=True)
class Problem:
    """A filter the person typed that could not be read, and what to type instead."""

    field: str
    """The form field's name (``since``)."""
    message: str
    """One sentence naming the field by its label and saying what is wrong and what to do."""


@dataclass(frozen=True)
class Filters:
    """What the person asked the list for; every part optional."""

    account: str | None = None
    since: date | None = None
    """The first day (the person's own day) to include."""
    until: date | None = None
    """The last day to include."""
    low: Decimal | None = None
    """The smallest amount to include, signed as the list shows it (money out is negative)."""
    high: Decimal | None = None
    counterparty: str | None = None
    """Exactly who paid or was paid, as the list names them."""
    text: str | None = None
    """Words to find in the description, the counterparty, the merchant or the reference."""
    sort: str = "date"
    descending: bool = True
    page: int = 1

    def address(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` (``page=2``), for links."""
        changed = replace(self, **changes)
        pairs = {
            "account": changed.account,
            "since": changed.since.isoformat() if changed.since else None,
            "until": changed.until.isoformat() if changed.until else None,
            "low": str(changed.low) if changed.low is not None else None,
            "high": str(changed.high) if changed.high is not None else None,
            "counterparty": changed.counterparty,
            "q": changed.text,
            "sort": changed.sort,
            "order": "desc" if changed.descending else "asc",
            "page": str(changed.page) if changed.page != 1 else None,
        }
        return "?" + urlencode({k: v for k, v in pairs.items() if v not in (None, "")})


def read_filters(query: Mapping[str, str]) -> tuple[Filters, list[Problem]]:
    """The filters in ``query`` (the address's parameters), and a ``Problem`` for each one
    that could not be read (that filter is then left out)."""
    problems: list[Problem] = []

    def text(name: str) -> str | None:
        value = query.get(name, "").strip()
        return value or None

    def day(name: str) -> date | None:
        value = text(name)
        if value is None:
            return None
        try:
            found = date.fromisoformat(value)
        except ValueError:
            found = None
        if found is None or not FIRST_YEAR <= found.year <= LAST_YEAR:
            problems.append(
                Problem(
                    name,
                    f"{FIELD_TITLES[name]}: {value!r} is not a date between the years "
                    f"{FIRST_YEAR} and {LAST_YEAR}; write it as year-month-day, e.g. 2026-03-31.",
                )
            )
            return None
        return found

    def amount(name: str) -> Decimal | None:
        value = text(name)
        if value is None:
            return None
        try:
            number = Decimal(value.replace(",", ""))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            problems.append(
                Problem(
                    name,
                    f"{FIELD_TITLES[name]}: {value!r} is not an amount; write a "
                    "number such as -50 or 12.99 (money out is negative).",
                )
            )
            return None
        return number

    sort = text("sort") or "date"
    if sort not in SORTS:
        problems.append(Problem("sort", f"Sort by: {sort!r} is not a choice; sorted by date."))
        sort = "date"
    order = text("order") or "desc"
    if order not in ("asc", "desc"):
        problems.append(Problem("order", f"Order: {order!r} is neither asc nor desc."))
        order = "desc"
    page = 1
    if (wanted := text("page")) is not None:
        if wanted.isdigit() and int(wanted) >= 1:
            page = int(wanted)
        else:
            problems.append(Problem("page", f"Page: {wanted!r} is not a page number; page 1."))
    since, until, low, high = day("since"), day("until"), amount("low"), amount("high")
    filters = Filters(
        account=text("account"),
        since=since,
        until=until,
        low=low,
        high=high,
        counterparty=text("counterparty"),
        text=text("q"),
        sort=sort,
        descending=order == "desc",
        page=page,
    )
    return filters, problems


def paid_to_or_from(t: Table) -> ColumnElement[Any]:
    """Who was paid or paid, as the list shows it: the counterparty, else the merchant."""
    return func.coalesce(t.c.counterparty, t.c.merchant_name)


def conditions(
    filters: Filters, t: Table, indexed: bool = False, common: bool = False
) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``filters`` on the transactions table ``t``; the words through
    the search index when the store has one (``indexed``), as the Search page finds them.

    With ``common`` (words that a large share of the transactions hold) the words are a
    test of each row that another index (amount, date) yields; else the rows are looked up
    from the search index's hits."""
    found: list[ColumnElement[bool]] = []
    if filters.account:
        found.append(t.c.account_id == filters.account)
    if filters.since:
        found.append(t.c.booked_at >= local_midnight(filters.since))
    if filters.until:
        stop = local_midnight(filters.until + timedelta(days=1))
        found.append(t.c.booked_at < stop)
    if filters.low is not None:
        found.append(cast(t.c.amount, REAL) >= float(filters.low))
    if filters.high is not None:
        found.append(cast(t.c.amount, REAL) <= float(filters.high))
    if filters.counterparty:
        found.append(paid_to_or_from(t) == filters.counterparty)
    asked = Category.transactions, filters.text or ""
    matching = ids_matching(*asked)
    numbers = numbers_matching(*asked)
    if indexed and common and numbers is not None:
        # Tested row by row as another index drives (see ``listing``): the row's number
        # in a set SQLite builds once from the search index alone.
        found.append(number_of(Category.transactions, t.c.id).in_(numbers))
    elif indexed and matching is not None:
        found.append(t.c.id.in_(matching))
    elif filters.text:
        # No index (PostgreSQL, a store opened read-only before its index was built): LIKE,
        # with the person's words taken literally (% and _ are not wildcards here).
        words = filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{words}%"
        columns = (t.c.description, t.c.counterparty, t.c.merchant_name, t.c.reference)
        found.append(or_(*(c.like(pattern, escape="\\") for c in columns)))
    return found


@dataclass(frozen=True)
class Listing:
    """One page of the transactions a person asked for."""

    rows: list[Transaction]
    total: int
    """How many transactions match, on every page (when ``more``: how many were counted)."""
    first: int
    """The position of the first row shown (1-based; 0 when none match)."""
    last: int
    page: int
    pages: int
    categories: dict[str, str] = field(default_factory=dict)
    """The spending category of each row shown, in words (``portal.understand``)."""
    more: bool = False
    """More than ``total`` match: common words, not counted to the end (``COUNTED``)."""


COUNTED = 1_000
"""Where counting stops when the words are common: "more than 1,000 transactions match".
Counting every transaction holding "card" (800,000 of a million) costs seconds; a
person narrows such a list (a date, an amount, another word) rather than reads it."""


def listing(store: Store, filters: Filters) -> Listing:
    """The page of transactions ``filters`` ask for, in their order, and how many match.

    Words that few transactions hold are looked up from the search index's hits, and the
    matches counted exactly. Words that many hold are tested on each row in the list's
    order (amount, date) until the page is full, and counted up to ``COUNTED`` (or the
    page asked for) only: see ``_is_common``.
    """
    t = table()
    key = cast(t.c.amount, REAL) if filters.sort == "amount" else t.c.booked_at
    # The id settles ties, so a row is on exactly one page whatever the order.
    order = [key.desc(), t.c.id.desc()] if filters.descending else [key.asc(), t.c.id.asc()]
    with store.engine.connect() as db:
        indexed = has_search_index(db)
        if indexed and filters.text and _is_common(db, filters):
            where = conditions(filters, t, indexed=True, common=True)
            return _counted_in_order(db, where, key, filters)
        where = conditions(filters, t, indexed=indexed)
        total = db.execute(select(func.count()).select_from(t).where(*where)).scalar_one()
        pages = max(1, -(-total // PAGE_SIZE))
        page = min(filters.page, pages)
        query = (
            select(t).where(*where).order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
        )
        rows = [stored(Transaction, row._asdict()) for row in db.execute(query)]
        categories = _categories(db, rows)
    first = (page - 1) * PAGE_SIZE + 1 if rows else 0
    last = first + len(rows) - 1 if rows else 0
    return Listing(rows, total, first, last, page, pages, categories)


def _categories(db: Any, rows: list[Transaction]) -> dict[str, str]:
    """The spending category of each row, in words, as ``portal.understand`` decided it."""
    decided = TransactionCategory.__table__  # type: ignore[attr-defined]
    shown = select(decided.c.transaction_id, decided.c.category).where(
        decided.c.transaction_id.in_([row.id for row in rows])
    )
    return {id_: label(category) for id_, category in db.execute(shown)}


def _wanted(filters: Filters) -> int:
    """How many matches, in order, a page needs counted: ``COUNTED``, or to its end."""
    return max(COUNTED, filters.page * PAGE_SIZE)


def _is_common(db: Any, filters: Filters) -> bool:
    """Whether testing each row for the words beats looking up every hit of the words.

    Looking the hits up costs a few lookups per hit (twice: the count and the page).
    Testing rows costs building the set of hits' numbers (a tenth of a lookup per hit,
    from the search index alone) and a lookup per row tested, and about ``wanted / share``
    rows are tested to find the ``wanted`` first matches when a ``share`` of the
    transactions hold the words. Both even out near ``hits² = 2 · wanted · transactions``
    (measured at a million transactions); the hits are counted only that far.
    """
    everyone = keyed(db, Category.transactions)
    enough = math.isqrt(2 * _wanted(filters) * everyone) + 1
    hits = count_matching(db, Category.transactions, filters.text or "", enough)
    return hits >= enough


def _counted_in_order(
    db: Any, where: list[ColumnElement[bool]], key: ColumnElement[Any], filters: Filters
) -> Listing:
    """The page ``filters`` ask for and the count up to ``_wanted``, in one statement: the
    first matches in the list's order are gathered once (the set of the words' hits is
    built once), counted, and the page cut from them."""
    t = table()
    wanted = _wanted(filters)
    firsts = (
        select(t.c.id.label("id"), key.label("key"))
        .where(*where)
        .order_by(*_order(key, t.c.id, filters.descending))
        .limit(wanted + 1)
        .cte("firsts")
    )
    counted = select(func.count()).select_from(firsts).scalar_subquery()
    page = filters.page
    while True:
        query = (
            select(t, counted.label("_counted"))
            .join(firsts, firsts.c.id == t.c.id)
            .order_by(*_order(firsts.c.key, firsts.c.id, filters.descending))
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        )
        found = [row._asdict() for row in db.execute(query)]
        if found or page == 1:
            break
        # Past the last match (fewer than the page asked for): the last page instead.
        total = db.execute(select(counted)).scalar_one()
        page = max(1, -(-total // PAGE_SIZE))
    total = found[0].pop("_counted") if found else 0
    for row in found[1:]:
        row.pop("_counted")
    more = total > wanted
    total = min(total, wanted)
    rows = [stored(Transaction, row) for row in found]
    first = (page - 1) * PAGE_SIZE + 1 if rows else 0
    pages = max(1, -(-total // PAGE_SIZE))
    last = first + len(rows) - 1 if rows else 0
    return Listing(rows, total, first, last, page, pages, _categories(db, rows), more)


def _order(key: ColumnElement[Any], tie: ColumnElement[Any], descending: bool) -> list[Any]:
    return [key.desc(), tie.desc()] if descending else [key.asc(), tie.asc()]


def is_pending(row: Transaction) -> bool:
    """Whether the provider has not booked ``row`` yet (it may still change or vanish)."""
    return row.state is State.pending or (row.state is None and row.status.lower() == "pending")


MOST_NAMES = 500
"""The most names the form suggests for "Paid to or from" (any other can still be typed)."""


def counterparties(store: Store) -> list[str]:
    """Who transactions were paid to or from, in order, for the form to suggest (at most
    ``MOST_NAMES``): one seek in the index on that expression per name, where DISTINCT
    would read every transaction."""
    who = paid_to_or_from(table())
    found: list[str] = []
    with store.engine.connect() as db:
        while len(found) < MOST_NAMES:
            query = select(func.min(who)).where(who > (found[-1] if found else ""))
            if (name := db.execute(query).scalar()) is None:
                break
            found.append(name)
    return found
