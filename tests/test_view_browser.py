"""``portal view`` in a real browser: every page, as a person's Chromium shows it.

Against the real server over a real store (the four demo sandboxes synced through the real
OAuth flow), opened with the address portal view prints: every page of
``portal.view.catalogue.PAGES`` (whatever the list holds when the tests run; a page reached
only from others, such as a record, through the first link to it) loads, draws its charts,
asks nothing of any host but 127.0.0.1, leaves the console clean, breaks no
Content-Security-Policy rule, passes axe-core's serious and critical checks, and leaves a
screenshot in ``test-artifacts/view/``. Then what the envelope refuses (no secret, a foreign
Host) and what hostile provider text becomes (text, never markup or script).
"""

import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.catalogue import PAGES, Page
from view_browser import REBOUND, ROOT, Seen, Tab, launch_chromium
from view_homes import synced_home

NAV = [page for page in PAGES if page.in_nav]
ROUTES = Map([Rule(page.rule, endpoint=page.name) for page in PAGES]).bind("127.0.0.1")


@contextmanager
def served(home: Path) -> Iterator[ViewServer]:
    """portal view over the store in ``home``, on 127.0.0.1, until the block ends."""
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with ViewServer(store) as running:
        yield running
    store.close()


class Tour:
    """The demo store's pages in one tab, each shown once (on first asking) and remembered."""

    def __init__(self, tab: Tab) -> None:
        self.tab = tab
        self._seen: dict[str, Seen] = {}

    def seen(self, page: Page) -> Seen:
        if page.name not in self._seen:
            self._seen[page.name] = self.tab.look(self.address(page), shot=page.name, axe=True)
        return self._seen[page.name]

    def address(self, page: Page) -> str:
        """The page's own rule, or, for a page with parts (a record), the first link to it
        on the pages in the navigation: the way a person reaches it."""
        if "<" not in page.rule:
            return page.rule
        for other in NAV:
            for link in self.seen(other).links:
                if _endpoint(link) == page.name:
                    return link
        pytest.fail(f"No page in the navigation links to the {page.title} page ({page.rule}).")


def _endpoint(link: str) -> str | None:
    parts = urlsplit(link)
    if parts.scheme or parts.netloc:
        return None
    try:
        endpoint, _ = ROUTES.match(parts.path)
    except HTTPException:
        return None
    return str(endpoint)


@pytest.fixture(scope="module")
def server(demo_home: Path) -> Iterator[ViewServer]:
    with served(demo_home) as running:
        yield running


@pytest.fixture(scope="module")
def tour(chromium: Any, server: ViewServer) -> Iterator[Tour]:
    tab = Tab(chromium, server)
    yield Tour(tab)
    tab.close()


every_page = pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])


def test_the_address_portal_view_prints_logs_the_browser_in_and_hides_the_secret(
    tour: Tour, server: ViewServer
) -> None:
    login = tour.tab.login
    assert login.status == 200 and not login.broken
    assert login.url == server.url  # the secret is out of the address bar and history
    assert "Overview" in login.text


@every_page
def test_every_page_loads_with_status_200_and_everything_it_asks_for(
    tour: Tour, page: Page
) -> None:
    seen = tour.seen(page)
    assert seen.status == 200, seen.text[:300]
    assert not seen.broken, seen.broken  # style sheets, images: every request answered


@every_page
def test_every_chart_draws_its_data_points(tour: Tour, page: Page) -> None:
    for chart in tour.seen(page).charts:
        assert chart.points > 0, f"{chart.title!r} on {page.name} has no data points"
        assert chart.marks > 0 and chart.drawn > 0, f"{chart.title!r} drew no marks"
        assert chart.width > 0, f"{chart.title!r} takes no room on the page"
        assert not chart.cut, f"{chart.title!r} cuts off its labels {chart.cut}"


@every_page
def test_no_request_leaves_127_0_0_1(tour: Tour, page: Page) -> None:
    seen = tour.seen(page)
    assert seen.requests and not seen.foreign, seen.foreign
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in seen.requests)


@every_page
def test_the_console_has_no_error_or_warning_and_the_csp_refused_nothing(
    tour: Tour, page: Page
) -> None:
    seen = tour.seen(page)
    assert not seen.console, seen.console
    assert not seen.errors, seen.errors
    assert not seen.refused_by_csp, seen.refused_by_csp


@every_page
def test_axe_finds_no_serious_or_critical_violation(tour: Tour, page: Page) -> None:
    assert not tour.seen(page).serious, "\n".join(tour.seen(page).serious)


@every_page
def test_a_screenshot_of_every_page_is_kept(tour: Tour, page: Page) -> None:
    seen = tour.seen(page)
    assert seen.screenshot is not None and seen.screenshot.name == f"{page.name}.png"
    assert seen.screenshot.is_file()
    assert seen.png.startswith(b"\x89PNG\r\n\x1a\n") and len(seen.png) > 5000


def test_a_browser_without_the_secret_is_refused_with_a_plain_page(
    chromium: Any, server: ViewServer
) -> None:
    context = chromium.new_context()  # a fresh browser: no cookie from an earlier visit
    try:
        tab = context.new_page()
        for path in ("", *[page.rule.lstrip("/") for page in NAV]):
            answer = tab.goto(server.url + path)
            assert answer is not None and answer.status == 403, path
            assert answer.headers["content-type"].startswith("text/plain")
            text = tab.inner_text("body")
            assert "has not shown portal view's secret" in text, text
            assert "Demo Bank" not in text and "bank" not in text
    finally:
        context.close()


def test_a_foreign_host_is_refused_even_with_the_secret(chromium: Any, server: ViewServer) -> None:
    # The browser resolves REBOUND to 127.0.0.1, as a rebinding attacker's name would: the
    # request reaches the view's socket, carrying the foreign name as its Host.
    context = chromium.new_context()
    try:
        tab = context.new_page()
        secret = server.login_url.split("?", 1)[1]
        for host in (REBOUND, "localhost"):
            answer = tab.goto(f"http://{host}:{server.port}/?{secret}")
            assert answer is not None and answer.status == 403, host
            assert "not the one portal view serves at" in tab.inner_text("body"), host
            assert not context.cookies(), host  # and no cookie was given to that name
    finally:
        context.close()


HOSTILE = (
    "<script>window.__owned = 1</script>"
    '<img data-planted src="x" onerror="window.__owned = 2">'
    "<b data-planted>bold</b> [bold]rich[/bold] **markdown** &amp; &lt;"
)
"""Provider text a browser would run or render, were it not shown as text."""

PLUGIN = f'''
"""The Demo Bank as a hostile provider: every piece of text it sends is HOSTILE, and its sync
ends with an error quoting HOSTILE (after every page it fetched is kept)."""
import dataclasses
import typing
from portal import hookimpl
from portal.errors import ProviderError
from portal.record import Text
from portal_bank import plugin as bank

HOSTILE = {HOSTILE!r}
EVIL = dataclasses.replace(bank.PROVIDER, name="evil", display_name=HOSTILE)
TEXT = typing.get_args(Text)[1]  # the validator that marks a field as free text


def _is_text(info):
    kinds = [info.annotation, *typing.get_args(info.annotation)]
    return TEXT in info.metadata or any(TEXT in typing.get_args(kind)[1:] for kind in kinds)


@hookimpl
def register_providers(register):
    register(EVIL)


@hookimpl
def fetch(client, cursors):
    yield from bank.fetch(client, cursors)
    raise ProviderError(HOSTILE)


@hookimpl
def normalise(stream, item, ref):
    made = bank.normalise(stream, item, ref)
    return [
        record.model_copy(update={{
            name: HOSTILE
            for name, info in type(record).model_fields.items()
            if _is_text(info) and getattr(record, name) is not None
        }})
        for record in made
    ]
'''


@pytest.fixture(scope="module")
def hostile(chromium: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tab]:
    """A tab logged in to a view of a store holding the Demo Bank and "evil", whose every
    text is HOSTILE and whose last sync failed quoting it."""
    home, results = synced_home(tmp_path_factory.mktemp("hostile"), "evil", PLUGIN)
    assert results["bank"].ok and not results["evil"].ok
    with served(home) as running:
        tab = Tab(chromium, running)
        yield tab
        tab.close()


@pytest.mark.parametrize("page", NAV, ids=[page.name for page in NAV])
def test_provider_text_with_script_and_markup_is_shown_as_text(hostile: Tab, page: Page) -> None:
    seen = hostile.look(page.rule, shot=None)
    assert seen.status == 200
    assert hostile.evaluate("window.__owned") is None  # no script of the provider's ran
    assert hostile.evaluate("document.querySelectorAll('script, [data-planted]').length") == 0
    assert not seen.refused_by_csp and not seen.console and not seen.errors
    if page.name in ("overview", "permissions"):  # pages with the provider's own words
        assert HOSTILE in seen.text  # visible exactly as the provider typed it


def test_without_chromium_the_browser_tests_skip_saying_why_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PORTAL_TEST_CHROMIUM", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no Chromium on this PATH
    monkeypatch.delenv("CI", raising=False)
    here = _stop_without_a_browser()
    assert isinstance(here, pytest.skip.Exception), here
    assert "browser tests did not run: no Chromium found" in str(here)
    assert "apt-get install -y chromium" in str(here) and "PORTAL_TEST_CHROMIUM" in str(here)
    monkeypatch.setenv("CI", "true")
    in_ci = _stop_without_a_browser()
    assert isinstance(in_ci, pytest.fail.Exception), in_ci
    assert "no Chromium found" in str(in_ci) and "CI is set" in str(in_ci)


def _stop_without_a_browser() -> BaseException:
    # Caught here, whichever it is: a skip escaping this test would skip the test itself.
    try:
        with launch_chromium():
            pass
    except (pytest.skip.Exception, pytest.fail.Exception) as stop:
        return stop
    raise AssertionError("a browser was launched with none on the PATH")


def test_the_summary_names_every_skipped_test_and_why() -> None:
    # -ra (or -rs) lists each skipped test's file, line and reason after the run.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    reports = [o for o in config["tool"]["pytest"]["ini_options"]["addopts"] if o.startswith("-r")]
    assert reports and any(c in reports[0] for c in "as"), reports
