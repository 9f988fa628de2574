"""Search and a record's provenance in a real browser, on the demo store.

A person types a transaction's description into the Search page and finds that very
transaction among the hits; its record page shows the raw payload it came from, exactly as
the provider sent it (the store's ``raw_items`` row, not a copy made for the page).
"""

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from portal.record import Transaction
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.pages import record_url
from view_browser import Seen, Tab


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def tab(chromium: Any, store: Store) -> Iterator[Tab]:
    with ViewServer(store) as running:
        tab = Tab(chromium, running)
        yield tab
        tab.close()


def a_known_transaction(store: Store) -> dict[str, Any]:
    """The first of the Demo Bank's transactions (in id order) whose description no other
    transaction shares: what a person would search for to find that one payment."""
    rows = list(store.rows(Transaction, "bank"))
    shared = Counter(row["description"] for row in rows)
    return next(row for row in rows if shared[row["description"]] == 1)


def payload_of(store: Store, raw_id: str) -> Any:
    with store.engine.connect() as db:
        payload = db.execute(
            text("SELECT payload FROM raw_items WHERE id = :id"), {"id": raw_id}
        ).scalar_one()
    return json.loads(payload)


def clean(seen: Seen) -> None:
    assert seen.status == 200, seen.text[:300]
    assert not seen.broken and not seen.foreign, (seen.broken, seen.foreign)
    assert not seen.console and not seen.errors and not seen.refused_by_csp, seen.console
    assert not seen.serious, "\n".join(seen.serious)


def test_search_finds_a_known_transaction(tab: Tab, store: Store) -> None:
    wanted = a_known_transaction(store)
    clean(tab.look("/search", shot=None, axe=True))
    found = tab.submit("input[name=q]", wanted["description"], shot="search-hits", axe=True)
    clean(found)
    assert "q=" in tab.page.url  # the search is in the address, so it can be kept or shared
    assert record_url("transactions", wanted["id"]) in found.links, found.text[:1000]
    assert wanted["description"] in found.text


def test_the_provenance_panel_shows_the_raw_payload_it_came_from(tab: Tab, store: Store) -> None:
    wanted = a_known_transaction(store)
    seen = tab.look(record_url("transactions", wanted["id"]), shot="record-transaction", axe=True)
    clean(seen)
    shown = [_json(block) for block in tab.page.locator("pre").all_inner_texts()]
    assert payload_of(store, wanted["raw_id"]) in shown  # the provider's own words, whole
    assert wanted["description"] in seen.text and "bank" in seen.text


def _json(block: str) -> Any:
    try:
        return json.loads(block)
    except ValueError:
        return None
