"""The Money page's list filtered by words that most transactions hold ("card"): tested on
each row in the list's order and counted only up to ``transactions.COUNTED``, the page
saying "more than" that many, instead of counting every match (seconds at a million).

At the demo's size no word is common enough for that path (it pays only past some tens of
thousands of transactions), so these tests lower ``COUNTED`` (read at each request by the
real server, which runs in this process) until "card" is: the list must then show exactly
the transactions and order that Python works out from the store's rows, page by page.
"""

import re
import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

import search_truth
from portal.record import Category, Transaction
from portal.store import Store, sqlite_url
from portal.view import ViewServer, transactions
from portal.view.transactions import PAGE_SIZE
from view_homes import assert_guarded, browser

COUNTED = 70
"""Low enough that "card" (most of the demo's transactions) takes the common words' path."""


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[ViewServer]:
    with ViewServer(store) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ViewServer) -> Iterator[httpx.Client]:
    with browser(server) as client:
        yield client


@pytest.fixture(scope="module")
def stored(store: Store) -> list[Transaction]:
    return [Transaction.model_validate(row) for row in store.rows(Transaction)]


@pytest.fixture(scope="module")
def holding(store: Store) -> Callable[[str], set[str]]:
    known = search_truth.words(store)

    def holding(typed: str) -> set[str]:
        """The transactions holding what was typed, as Search finds them, from the rows."""
        found = search_truth.expected(store, typed, known)
        return {key for category, key in found if category is Category.transactions}

    return holding


Get = Callable[..., str]


@pytest.fixture
def get(server: ViewServer, client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Get]:
    monkeypatch.setattr(transactions, "COUNTED", COUNTED)

    def get(**query: str) -> str:
        answer = client.get(server.url + "money", params=query)
        assert_guarded(answer)
        assert answer.status_code == 200
        return answer.text

    yield get


def listed(page: str) -> list[str]:
    return re.findall(r'<tr class="transaction[^"]*" data-id="([^"]+)"', page)


def caption(page: str) -> str:
    found = re.search(r'<table class="transactions">\s*<caption>(.*?)</caption>', page, re.S)
    assert found, "no caption"
    return found.group(1)


def test_a_common_word_lists_exactly_its_transactions_in_order_and_says_more_than(
    get: Get, stored: list[Transaction], holding: Callable[[str], set[str]]
) -> None:
    card = holding("card")
    assert len(card) > 2 * COUNTED  # common: the capped path, with more than counted
    low, high = Decimal("-50"), Decimal("-5")
    cases: list[tuple[dict[str, str], Callable[[Transaction], bool], Callable[..., object]]] = [
        ({"q": "card"}, lambda r: True, lambda r: (r.booked_at, r.id)),
        (
            {"q": "card", "low": "-50", "high": "-5", "sort": "amount"},
            lambda r: low <= r.amount <= high,
            lambda r: (r.amount, r.id),
        ),
    ]
    for query, wanted, key in cases:
        for order in ("desc", "asc"):
            expected = sorted(
                (r for r in stored if r.id in card and wanted(r)),
                key=key,
                reverse=order == "desc",
            )
            assert len(expected) > COUNTED, query
            for number in (1, 2, 3, 5):
                page = get(**query, order=order, page=str(number))
                start = (number - 1) * PAGE_SIZE
                assert listed(page) == [r.id for r in expected[start : start + PAGE_SIZE]], (
                    query,
                    order,
                    number,
                )
                counted = max(COUNTED, number * PAGE_SIZE)
                more = len(expected) > counted
                shown = f"{min(counted, len(expected)):,} transactions"
                words = caption(page)
                assert f"Showing {start + 1:,}\u2013" in words
                assert (f"of more than {shown}" in words) == more, words
                assert (f"of {shown}" in words) == (not more), words
                assert ('rel="next"' in page) == (len(expected) > number * PAGE_SIZE)


def test_following_next_through_a_common_word_shows_each_match_once(
    get: Get, stored: list[Transaction], holding: Callable[[str], set[str]]
) -> None:
    card = holding("card")
    expected = sorted(
        (r for r in stored if r.id in card and r.amount < 0),
        key=lambda r: (r.amount, r.id),
    )
    seen: list[str] = []
    page = get(q="card", high="-0.01", sort="amount", order="asc")
    while True:
        seen += listed(page)
        found = re.search(r'rel="next" href="\?([^"]+)"', page)
        if found is None:
            break
        query = dict(part.split("=", 1) for part in found.group(1).split("&amp;"))
        page = get(**query)
    assert seen == [r.id for r in expected]
    assert f"of {len(expected):,} transactions" in caption(page)  # counted to the end


def test_a_page_past_the_last_match_shows_the_last_page(
    get: Get, stored: list[Transaction], holding: Callable[[str], set[str]]
) -> None:
    card = holding("card")
    expected = sorted(
        (r for r in stored if r.id in card and r.amount <= -100),
        key=lambda r: (r.booked_at, r.id),
        reverse=True,
    )
    last = (len(expected) - 1) // PAGE_SIZE + 1
    assert 1 < last < 5  # asked for page 5: still the common path, past the last match
    page = get(q="card", high="-100", page="5")
    assert listed(page) == [r.id for r in expected[(last - 1) * PAGE_SIZE :]]
    assert f"Page {last} of {last}" in page
    assert 'rel="next"' not in page
    assert f"of {len(expected):,} transactions" in caption(page)


def test_a_word_few_transactions_hold_is_counted_exactly(
    get: Get, holding: Callable[[str], set[str]]
) -> None:
    uber = holding("uber")
    assert 0 < len(uber) < COUNTED  # rare: looked up from its hits, counted to the end
    page = get(q="uber")
    assert set(listed(page)) == uber
    assert f"of {len(uber):,} transaction" in caption(page)
    assert "more than" not in page


def test_what_no_filter_changes_is_kept_only_until_the_store_changes(
    demo_home: Path, tmp_path: Path
) -> None:
    """The accounts, charts and names are worked out once and kept while the store stays as
    it is; a transaction committed meanwhile (as a sync in another process would) shows on
    the next ask."""
    copy = tmp_path / "portal.db"
    with sqlite3.connect(demo_home / "portal.db") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    store = Store(sqlite_url(copy), read_only=True)
    name = "Kept Until Changed Ltd"
    try:
        with ViewServer(store) as server, browser(server) as client:
            before = client.get(server.url + "money").text
            assert f'<option value="{name}">' not in before
            assert client.get(server.url + "money").text.count("<option") == before.count("<option")
            with sqlite3.connect(copy) as writer:
                columns = [row[1] for row in writer.execute("PRAGMA table_info(transactions)")]
                made = {"id": "'kept-1'", "provider_id": "'kept-1'", "counterparty": "?"}
                chosen = ", ".join(made.get(c, c) for c in columns)
                writer.execute(
                    f"INSERT INTO transactions ({', '.join(columns)})"  # noqa: S608
                    f" SELECT {chosen} FROM transactions LIMIT 1",
                    (name,),
                )
            after = client.get(server.url + "money").text
            assert f'<option value="{name}">' in after
    finally:
        store.close()
