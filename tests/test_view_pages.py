"""Every page of ``portal view`` answers on the demo store, guarded, and the navigation
names them all (``portal.view.catalogue.PAGES`` is the one list of pages)."""

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.catalogue import PAGES, Page
from view_homes import assert_guarded, browser

NAV = [page for page in PAGES if page.in_nav]


@pytest.fixture(scope="module")
def server(demo_home: Path) -> Iterator[ViewServer]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    with ViewServer(store) as running:
        yield running
    store.close()


@pytest.mark.parametrize("page", NAV, ids=[page.name for page in NAV])
def test_every_page_answers_on_the_demo_store_and_names_every_other(
    server: ViewServer, page: Page
) -> None:
    with browser(server) as client:
        answer = client.get(server.url.rstrip("/") + page.rule)
    assert answer.status_code == 200, answer.text[:500]
    assert_guarded(answer)
    for other in NAV:
        assert f'href="{other.rule}"' in answer.text
        assert f">{other.title}</a>" in answer.text
    assert 'aria-current="page">' + page.title in answer.text


def test_a_row_that_no_longer_validates_is_shown_not_a_broken_page(
    demo_home: Path, tmp_path: Path
) -> None:
    """A store edited by hand or written by a plugin that changed a value after building its
    entity: a 17-digit amount and text with control characters still show, neutralised."""
    copy = tmp_path / "portal.db"
    shutil.copyfile(demo_home / "portal.db", copy)
    with sqlite3.connect(copy) as db:
        (key,) = db.execute("SELECT id FROM transactions ORDER BY booked_at DESC").fetchone()
        db.execute(
            "UPDATE transactions SET amount = ?, description = ? WHERE id = ?",
            (-106.75080000000001, "BELL\x07 \x1b[2J", key),
        )
    store = Store(sqlite_url(copy), read_only=True)
    try:
        with ViewServer(store) as server, browser(server) as client:
            for address in ("money", f"record/transactions/{key}"):
                answer = client.get(server.url + address)
                assert answer.status_code == 200, (address, answer.text[:300])
                assert "BELL\\x07 \\x1b[2J" in answer.text and "\x1b" not in answer.text
    finally:
        store.close()
