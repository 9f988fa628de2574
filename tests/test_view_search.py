"""``portal view``'s Search page: what a person types finds exactly the records holding it,
grouped by category, each linking to its record, the hit marked, page by page.

The demo store (the four bundled sandboxes synced the real way), the real server on a real
socket, httpx as the browser; what the page should find is worked out from the store's rows.
"""

import html
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from markupsafe import escape

from portal.batch import Batch, RawPayload
from portal.record import CATEGORY_LABELS, Category, Transaction
from portal.record.ids import portal_id
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.search import PAGE_SIZE
from search_truth import expected
from view_homes import assert_guarded, browser


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    with ViewServer(store) as server, browser(server) as client:
        client.base_url = httpx.URL(server.url)
        yield client


def searched(client: httpx.Client, **query: str | int) -> httpx.Response:
    answer = client.get("/search?" + urlencode(query))
    assert answer.status_code == 200, answer.text[:500]
    assert_guarded(answer)
    return answer


def linked(page: str) -> set[tuple[Category, str]]:
    """The records a page links to, as (category, portal id)."""
    found = re.findall(r'href="/record/([a-z_]+)/([^"]+)"', page)
    return {(Category(table), key) for table, key in found}


def test_a_merchant_finds_its_records_by_category_with_counts(
    client: httpx.Client, store: Store
) -> None:
    merchant = min(r["merchant_name"] for r in store.rows(Transaction) if r["merchant_name"])
    wanted = expected(store, merchant)
    page = searched(client, q=merchant).text
    assert f"{len(wanted):,} record" in page
    for category in {c for c, _ in wanted}:
        count = sum(1 for c, _ in wanted if c is category)
        assert re.search(
            rf">{re.escape(html.escape(CATEGORY_LABELS[category]))}</a> "
            rf'<span class="count">{count:,}</span>',
            page,
        ), category
        in_category = searched(client, q=merchant, **{"in": category.value}).text
        if count <= PAGE_SIZE:
            assert linked(in_category) == {(c, k) for c, k in wanted if c is category}
    # Each hit's words marked, as text: the merchant's first word inside <mark>.
    first = html.escape(merchant.split()[0]).lower()
    assert any(m.lower() == first for m in re.findall(r"<mark>([^<]*)</mark>", page))


def test_many_hits_are_paged_and_every_page_together_is_every_hit(
    client: httpx.Client, store: Store
) -> None:
    wanted = {k for c, k in expected(store, "card") if c is Category.transactions}
    assert len(wanted) > PAGE_SIZE
    seen: list[str] = []
    number = 1
    while True:
        page = searched(client, q="card", **{"in": "transactions", "page": number}).text
        keys = [k for _, k in linked(page)]
        first, last = (number - 1) * PAGE_SIZE + 1, min(len(wanted), number * PAGE_SIZE)
        assert f"Showing {first:,}\u2013{last:,} of {len(wanted):,}." in page
        assert len(keys) == last - first + 1
        seen += keys
        if 'rel="next"' not in page:
            break
        number += 1
    assert len(seen) == len(set(seen)) and set(seen) == wanted


@pytest.mark.parametrize("words", ['"NEAR(', "a OR", "<script>alert(1)</script>", "*"])
def test_anything_typed_is_searched_as_words_and_shown_as_text(
    client: httpx.Client, words: str
) -> None:
    page = searched(client, q=words).text
    assert "<script>alert" not in page
    assert f'value="{escape(words)}"' in page


def test_an_empty_search_says_what_to_type(client: httpx.Client) -> None:
    assert "Type a few words" in searched(client).text
    assert "Nothing your providers hold" in searched(client, q="zzzqqqxxx").text


HOSTILE = "Shop <b>bold</b> <script>alert('owned')</script> \u202ekcatta"


def test_a_hit_in_hostile_text_is_marked_and_the_rest_stays_text(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    t = Transaction(
        provider_id="t1",
        account_id="a",
        booked_at=datetime(2026, 1, 1, tzinfo=UTC),
        amount="-3.20",
        currency="GBP",
        status="Booked",
        status_label="Booked",
        description=HOSTILE,
    )
    t.id, t.provider, t.raw_id = portal_id("bank", "transactions", "t1"), "bank", "r1"
    raw = RawPayload("r1", "transactions", "{}")
    store.commit(Batch("bank", "c1", "transactions", datetime.now(UTC), [t], [raw], []))
    with ViewServer(store) as server, browser(server) as client:
        page = client.get(server.url + "search?q=alert").text
    store.close()
    assert "<mark>alert</mark>" in page
    assert "&lt;script&gt;" in page and "<script>" not in page and "<b>bold" not in page
    assert "\u202e" not in page  # the bidi override is shown as an escape, not obeyed


def test_a_store_without_the_index_says_search_needs_it_built(
    demo_home: Path, tmp_path: Path
) -> None:
    # A store last written by a portal from before search, opened read-only by the view.
    copy = tmp_path / "portal.db"
    shutil.copy(demo_home / "portal.db", copy)
    with sqlite3.connect(copy) as db:
        db.execute("DROP TABLE search_index")
    store = Store(sqlite_url(copy), read_only=True)
    with ViewServer(store) as server, browser(server) as client:
        answer = client.get(server.url + "search?q=card")
    store.close()
    assert answer.status_code == 200
    assert "run <code>portal sync</code> once" in " ".join(answer.text.split())
