"""Every page of ``portal view`` answers on the demo store, guarded, and the navigation
names them all (``portal.view.catalogue.PAGES`` is the one list of pages)."""

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
