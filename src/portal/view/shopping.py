"""What the Shopping page says: orders and receipts with their lines, returns and the
refunds they brought, and loyalty points over time.

Read with SQL through ``store.engine``: a page of purchases at a time (newest first, with
"showing 1-50 of N"), sums by currency and counts as aggregates, and the points history
as the points balances the providers stated (``Balance`` rows of unit ``point``: Demo Mart
states one per monthly statement and one for now). Only the purchases shown become
records. Money sums are taken over ``CAST(total AS REAL)`` (amounts are exact text today
and numeric later; the cast works on both) and rounded back to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from babel.numbers import get_currency_precision
from sqlalchemy import Float, Table, case, cast, func, select
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel
from werkzeug.exceptions import BadRequest

from portal.record import Account, Balance, Entity, Purchase, Unit
from portal.store import Store
from portal.view.charts import Series
from portal.view.stored import stored
from portal.view.zone import local_day

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

PAGE_SIZE = 50
"""Purchases shown on one page of a list."""

RETURN = "return"
"""The kind of purchase that gives goods back (``Purchase.kind``)."""


@dataclass(frozen=True)
class Listing:
    """One page of a longer list: its rows, where they sit in the whole, and how many pages."""

    rows: list[Purchase]
    first: int
    """The position of the first row shown (1-based), 0 when there is none."""
    last: int
    total: int
    page: int
    pages: int
    parameter: str
    """The query parameter that turns this list's pages (``page``, ``returns``)."""


@dataclass(frozen=True)
class Spent:
    """What the person paid and got back in one currency, over every purchase stored."""

    currency: str
    paid: Decimal
    refunded: Decimal
    """Money back from returns, as a positive amount."""


@dataclass(frozen=True)
class Returned:
    """A return, as an order that it gives items back from mentions it."""

    id: str
    number: str
    when: datetime
    total: Decimal
    currency: str


@dataclass(frozen=True)
class Shopping:
    """The Shopping page: purchases, returns, sums, and points over time."""

    orders: Listing
    returns: Listing
    spent: list[Spent]
    points: list[Series]
    """One series per loyalty account: its stated points balances, oldest first."""
    returned: Mapping[tuple[str, str], list[Returned]]
    """The returns against each order shown, by (provider, order number)."""
    originals: Mapping[tuple[str, str], str]
    """The portal id of the order each return shown gives items back from."""

    def url(self, parameter: str, number: int) -> str:
        """This page's address showing page ``number`` of the list ``parameter`` turns."""
        pages = {self.orders.parameter: self.orders.page, self.returns.parameter: self.returns.page}
        pages[parameter] = number
        return "/shopping?" + "&".join(f"{name}={n}" for name, n in pages.items())


def _table(entity: type[Entity]) -> Table:
    return SQLModel.metadata.tables[entity.category]


def shopping(store: Store, *, page: int = 1, returns_page: int = 1) -> Shopping:
    """The Shopping page of ``store``: the ``page``-th page of orders and receipts and the
    ``returns_page``-th page of returns (``PAGE_SIZE`` each, newest first)."""
    purchases = _table(Purchase)
    with store.engine.connect() as db:
        orders = _listing(db, purchases, purchases.c.kind != RETURN, page, "page")
        returns = _listing(db, purchases, purchases.c.kind == RETURN, returns_page, "returns")
        returned = _returns_of(db, purchases, orders.rows)
        originals = _originals_of(db, purchases, returns.rows)
        spent = _spent(db, purchases)
        points = _points(db)
    return Shopping(orders, returns, spent, points, returned, originals)


def _listing(db: Connection, table: Table, where: Any, page: int, parameter: str) -> Listing:
    total = db.execute(select(func.count()).select_from(table).where(where)).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        raise BadRequest(
            f"There is no page {page} of {_LIST_NAMES[parameter]}: there "
            f"{'is' if pages == 1 else 'are'} {pages}. Go back to page 1."
        )
    query = (
        select(table)
        .where(where)
        .order_by(table.c.purchased_at.desc(), table.c.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    rows = [stored(Purchase, row._asdict()) for row in db.execute(query)]
    first = (page - 1) * PAGE_SIZE + 1 if rows else 0
    return Listing(rows, first, first + len(rows) - 1 if rows else 0, total, page, pages, parameter)


_LIST_NAMES = {"page": "orders and receipts", "returns": "returns"}


def _returns_of(
    db: Connection, table: Table, orders: Sequence[Purchase]
) -> dict[tuple[str, str], list[Returned]]:
    """The returns naming each of ``orders`` as their original, oldest first."""
    numbers = {order.order_number for order in orders}
    if not numbers:
        return {}
    query = (
        select(
            table.c.id,
            table.c.provider,
            table.c.order_number,
            table.c.original_order_number,
            table.c.purchased_at,
            table.c.total,
            table.c.currency,
        )
        .where(table.c.kind == RETURN, table.c.original_order_number.in_(numbers))
        .order_by(table.c.purchased_at)
    )
    found: dict[tuple[str, str], list[Returned]] = {}
    for row in db.execute(query):
        key = (row.provider, row.original_order_number)
        found.setdefault(key, []).append(
            Returned(row.id, row.order_number, row.purchased_at, row.total, row.currency)
        )
    return found


def _originals_of(
    db: Connection, table: Table, returns: Sequence[Purchase]
) -> dict[tuple[str, str], str]:
    """The portal id of the order each of ``returns`` gives items back from, where stored."""
    numbers = {r.original_order_number for r in returns if r.original_order_number}
    if not numbers:
        return {}
    query = select(table.c.id, table.c.provider, table.c.order_number).where(
        table.c.kind != RETURN, table.c.order_number.in_(numbers)
    )
    return {(row.provider, row.order_number): row.id for row in db.execute(query)}


def _spent(db: Connection, table: Table) -> list[Spent]:
    is_return = table.c.kind == RETURN
    amount = cast(table.c.total, Float)
    query = (
        select(
            table.c.currency,
            func.sum(case((is_return, 0), else_=amount)),
            func.sum(case((is_return, -amount), else_=0)),
        )
        .group_by(table.c.currency)
        .order_by(table.c.currency)
    )
    return [
        Spent(currency, exact_sum(paid, currency), exact_sum(refunded, currency))
        for currency, paid, refunded in db.execute(query)
    ]


def exact_sum(total: float | int | None, currency: str) -> Decimal:
    """A SQL sum of amounts in ``currency`` as the exact Decimal it stands for: rounded to
    the currency's minor unit, which every amount summed had (a float sum of a few million
    two-decimal amounts is off by far less than half a penny)."""
    places = get_currency_precision(currency)
    return Decimal(repr(float(total or 0))).quantize(Decimal(1).scaleb(-places)) + 0


def _points(db: Connection) -> list[Series]:
    balances, accounts = _table(Balance), _table(Account)
    query = (
        select(accounts.c.name, accounts.c.provider, balances.c.as_of, balances.c.amount)
        .join(accounts, accounts.c.id == balances.c.account_id, isouter=True)
        .where(balances.c.unit == Unit.point.value)
        .order_by(balances.c.account_id, balances.c.as_of)
    )
    series: dict[tuple[str, str], list[tuple[date, Decimal]]] = {}
    for name, provider, as_of, amount in db.execute(query):
        key = (name or "Loyalty points", provider or "")
        series.setdefault(key, []).append((local_day(as_of), amount))
    return [
        Series(f"{name} ({provider})" if provider else name, points)
        for (name, provider), points in series.items()
    ]


def page_number(query: Mapping[str, str], parameter: str) -> int:
    """The page of a list the query asks for (1 when it names none)."""
    value = query.get(parameter, "1")
    if not value.isdigit() or int(value) < 1:
        raise BadRequest(
            f"The page number {parameter}={value!r} is not a whole number from 1 up. "
            "Go back to the first page."
        )
    return int(value)


def context(visit: Visit) -> dict[str, Any]:
    """The Shopping page's template context."""
    page = page_number(visit.query, "page")
    returns_page = page_number(visit.query, "returns")
    return {"shopping": shopping(visit.store, page=page, returns_page=returns_page)}
