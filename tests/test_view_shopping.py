"""``portal view``'s Shopping page: every order and receipt with every line, a page of 50 at
a time; returns with the order they came from and the refund; what was paid and refunded;
and the loyalty points balance over time.

Real stores (the four demo sandboxes synced as ``portal sync --demo`` does; the Demo Bank
and "shady", a Demo Mart some of whose text is hostile, see ``view_shady``), the real
server on a real socket, and httpx as the browser. What the page says is checked against
the store's own rows, summed here exactly.
"""

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from portal.record import Balance, Purchase, Unit
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from view_homes import assert_guarded, browser


@pytest.fixture(scope="module")
def demo(demo_home: Path) -> Iterator[tuple[Store, ViewServer]]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    with ViewServer(store) as server:
        yield store, server
    store.close()


def get(server: ViewServer, query: str = "") -> httpx.Response:
    with browser(server) as client:
        return client.get(server.url + "shopping" + query)


def shopping_page(server: ViewServer, query: str = "") -> str:
    answer = get(server, query)
    assert answer.status_code == 200, answer.text[:500]
    assert_guarded(answer)
    return answer.text


def text(fragment: str) -> str:
    """What a person reads in an HTML fragment: its text, unescaped, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def pounds(amount: Decimal) -> str:
    """An amount of GBP as a person in the UK writes it, worked out here: "-£1,234.50"."""
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.2f}"


def section(page: str, name: str) -> str:
    found = re.search(rf'<section aria-labelledby="{name}">(.*?)</section>', page, re.S)
    assert found is not None, name
    return found[1]


@dataclass
class Shown:
    """A purchase as the page shows it: its own row's cells, its lines' cells, its HTML."""

    head: list[str]
    lines: list[list[str]]
    body: str


def shown_purchases(part: str) -> dict[str, Shown]:
    """Each purchase a part of the page shows, in order, by portal id."""
    found = {}
    for ident, body in re.findall(
        r'<tbody class="purchase" id="purchase-([^"]+)">(.*?)</tbody>', part, re.S
    ):
        [head] = re.findall(r'<tr class="order">(.*?)</tr>', body, re.S)
        lines = re.findall(r'<tr class="line">(.*?)</tr>', body, re.S)
        found[ident] = Shown(
            [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", head, re.S)],
            [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", line, re.S)] for line in lines],
            body,
        )
    return found


def stored(store: Store) -> list[Purchase]:
    return [Purchase.model_validate(row) for row in store.rows(Purchase)]


def test_every_order_and_receipt_is_shown_with_every_line_fifty_to_a_page(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    orders = [p for p in stored(store) if p.kind != "return"]
    assert len(orders) == 62  # the demo's 46 receipts and 16 orders
    first, second = (section(shopping_page(server, f"?page={n}"), "orders") for n in (1, 2))
    assert "Showing 1\u201350 of 62 orders and receipts." in text(first)
    assert "Showing 51\u201362 of 62 orders and receipts." in text(second)
    assert 'href="/shopping?page=2&amp;returns=1" rel="next"' in first
    assert 'href="/shopping?page=1&amp;returns=1" rel="prev"' in second
    shown = shown_purchases(first) | shown_purchases(second)
    newest_first = sorted(orders, key=lambda p: (p.purchased_at, p.id), reverse=True)
    assert list(shown) == [p.id for p in newest_first]
    for order in orders:
        page = shown[order.id]
        when, what, where, status, _, _, total, points = page.head
        assert when == order.purchased_at.astimezone().strftime("%Y-%m-%d %H:%M")
        assert what.startswith(f"{order.kind_label} {order.order_number}")
        assert where == order.channel_label + (f": {order.store}" if order.store else "")
        assert status == order.status_label
        assert total == pounds(order.total)
        assert points.startswith(f"+{order.points_earned:,}" if order.points_earned else "")
        assert f'href="/record/purchases/{order.id}"' in page.body
        assert order.total == sum((line.amount for line in order.lines), Decimal(0))
        assert len(page.lines) == len(order.lines)
        for line, cells in zip(order.lines, page.lines, strict=True):
            _, item, _, _, quantity, each, amount, _ = cells
            assert item.startswith(line.description)
            assert quantity.startswith(f"{line.quantity:,}")
            assert each == (pounds(line.unit_price) if line.unit_price is not None else "")
            assert amount == pounds(line.amount)


def test_a_page_past_the_last_or_not_a_number_is_refused_saying_why(
    demo: tuple[Store, ViewServer],
) -> None:
    server = demo[1]
    beyond = get(server, "?page=3")
    assert beyond.status_code == 400
    assert "There is no page 3 of orders and receipts: there are 2." in beyond.text
    word = get(server, "?returns=last")
    assert word.status_code == 400 and "returns='last' is not a whole number" in word.text


def test_each_return_names_its_order_and_the_order_names_its_return(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    purchases = stored(store)
    returns = [p for p in purchases if p.kind == "return"]
    assert len(returns) == 2  # an online order returned by post, a receipt in another store
    page = shopping_page(server)
    shown = shown_purchases(section(page, "returns"))
    assert list(shown) == [
        r.id for r in sorted(returns, key=lambda r: r.purchased_at, reverse=True)
    ]
    orders = shown_purchases(section(page, "orders")) | shown_purchases(
        section(shopping_page(server, "?page=2"), "orders")
    )
    for back in returns:
        [original] = [p for p in purchases if p.order_number == back.original_order_number]
        assert original.status_label == "Partly returned"
        head = shown[back.id].head
        assert head[1].startswith(f"Return {back.order_number} of order {original.order_number}")
        assert f'href="/record/purchases/{original.id}"' in shown[back.id].body
        assert head[6] == pounds(back.total) and back.total < 0  # money back
        assert head[7] == f"{back.points_earned:,}"  # the points the return took back
        assert [cells[1].split(" ")[0] for cells in shown[back.id].lines] == [
            line.description.split(" ")[0] for line in back.lines
        ]
        said = text(orders[original.id].body)
        when = back.purchased_at.astimezone().strftime("%Y-%m-%d")
        assert f"Items returned on {when}: return {back.order_number} {pounds(back.total)}" in said


def test_what_was_paid_and_refunded_are_the_stored_totals_summed(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    purchases = stored(store)
    assert {p.currency for p in purchases} == {"GBP"}
    paid = sum((p.total for p in purchases if p.kind != "return"), Decimal(0))
    refunded = -sum((p.total for p in purchases if p.kind == "return"), Decimal(0))
    rows = re.findall(
        r"<tr><th scope=\"row\">(.*?)</tr>", section(shopping_page(server), "spent"), re.S
    )
    assert [text(r) for r in rows] == [f"GBP {pounds(paid)} {pounds(refunded)}"]


def test_the_loyalty_chart_draws_every_stored_points_balance(
    demo: tuple[Store, ViewServer],
) -> None:
    store, server = demo
    points = [Balance.model_validate(r) for r in store.rows(Balance)]
    points = sorted((b for b in points if b.unit is Unit.point), key=lambda b: b.as_of)
    assert len(points) == 22  # 21 monthly statements and the current balance
    part = section(shopping_page(server), "points")
    [drawn] = re.findall(r'data-points="(\d+)"', part)
    assert int(drawn) == len(points)
    marks = re.findall(r'<circle class="point s0"[^>]*><title>(.*?)</title>', part)
    assert marks == [
        f"Demo Mart Rewards (retailer), {b.as_of.astimezone():%Y-%m-%d}: {b.amount:,} points"
        for b in points
    ]
    latest = points[-1]
    assert f"Demo Mart Rewards (retailer): {latest.amount:,} points on" in text(part)


def test_hostile_provider_text_is_shown_as_text_never_as_markup(shady_home: Path) -> None:
    store = Store(sqlite_url(shady_home / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as server:
            page = shopping_page(server, "?page=2")  # the oldest receipt, whose text is hostile
    finally:
        store.close()
    assert page.count("&lt;script&gt;alert(") == 2  # its line, and its store
    assert "<script" not in page and "<b>bold" not in page
    assert "\u202e" not in page and "\\u202e" in page  # the bidi override shown, not obeyed


def test_an_empty_store_says_what_would_fill_the_page(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    try:
        with ViewServer(store) as server:
            page = shopping_page(server)
    finally:
        store.close()
    assert "No shopping yet" in page and "portal connect" in page
