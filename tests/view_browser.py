"""A real browser for the view's tests: Debian's Chromium, driven by Playwright.

Playwright drives the Chromium installed on the machine (``PORTAL_TEST_CHROMIUM``, or
``chromium``, ``chromium-browser`` or ``google-chrome`` on the PATH), never a browser of
its own: nothing is downloaded. Each launch gets a new, empty profile (Playwright makes one
in a temporary folder and removes it after). Where no Chromium is found the browser tests
skip saying so, except in CI (``CI`` set), where they fail: a CI that cannot run them must
not pass quietly.

A ``Tab`` is one person's browser that has opened the address portal view printed: it keeps
its cookie across pages and records, for every page it shows, what only a browser sees
(``Seen``): every request the page made and where to, what the console said, what the
Content-Security-Policy refused, the charts as drawn, the links, what axe-core finds, and a
screenshot.
"""

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Request,
        Response,
        Route,
    )
    from playwright.sync_api import Page as BrowserPage

    from portal.view import ViewServer

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "view"
"""Where a screenshot of every page is written (``<page>.png``); kept out of git."""

NAMES = ("chromium", "chromium-browser", "google-chrome")
"""The executables looked for on the PATH, in this order, when PORTAL_TEST_CHROMIUM is unset."""

REBOUND = "rebound.example"
"""A name this browser resolves to 127.0.0.1, as a DNS-rebinding attacker's site would."""

FLAGS = [
    # Root on a CI machine has no user namespaces for Chromium's sandbox; the pages are ours.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium calls Google (updates, safe browsing, sync) and logs failures.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # No name resolves but the rebinding one (and the loopback's own): whatever a page asked
    # for, nothing leaves the machine.
    "--host-resolver-rules="
    f"MAP {REBOUND} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

INSTALL = (
    "Install it (Debian/Ubuntu: apt-get install -y chromium) or set PORTAL_TEST_CHROMIUM "
    "to a Chromium or Chrome executable."
)

# Set by an init script (page scripts cannot stop it: it runs before them and outside the
# page's Content-Security-Policy): every violation the policy reports, kept for the test.
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(`${e.violatedDirective} blocked ${e.blockedURI}`);
});
"""

_CHARTS = """
(charts) => charts.map((svg) => {
  const marks = [...svg.querySelectorAll("rect.bar, polyline.line, circle.point")];
  const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; });
  return {
    title: svg.querySelector("title")?.textContent ?? "",
    points: Number(svg.dataset.points),
    marks: marks.length,
    drawn: drawn.length,
    width: svg.getBoundingClientRect().width,
    cut: [...svg.querySelectorAll("text")].filter((t) => {
      const b = t.getBBox(), v = svg.viewBox.baseVal;
      return b.x < v.x - 0.5 || b.x + b.width > v.x + v.width + 0.5;
    }).map((t) => t.textContent),
  };
})
"""


def find_chromium(environ: Mapping[str, str]) -> str | None:
    """The Chromium to drive: PORTAL_TEST_CHROMIUM if set, else the first of ``NAMES`` on
    the PATH; None when there is none."""
    chosen = environ.get("PORTAL_TEST_CHROMIUM")
    if chosen:
        return chosen  # a choice made on purpose: if it cannot start, that is an error
    for name in NAMES:
        found = shutil.which(name, path=environ.get("PATH", os.defpath))
        if found:
            return found
    return None


def missing(what: str) -> NoReturn:
    """Skip the browser tests saying ``what`` is missing and how to install it; in CI, fail."""
    why = f"portal view's browser tests did not run: {what}"
    if os.environ.get("CI"):
        pytest.fail(f"{why} (CI is set, so this fails instead of skipping).", pytrace=False)
    pytest.skip(why)


@contextmanager
def launch_chromium() -> Iterator["Browser"]:
    """The machine's Chromium, launched headless with a new empty profile, until closed."""
    executable = find_chromium(os.environ)
    if executable is None:
        missing(f"no Chromium found (PORTAL_TEST_CHROMIUM unset; no {', '.join(NAMES)}). {INSTALL}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright is not installed. pip install -e '.[test]' installs it.")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=executable, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass(frozen=True)
class Chart:
    """One ``svg.chart`` as the browser drew it."""

    title: str
    points: int
    """Its ``data-points``: how many values it draws."""
    marks: int
    """Bars, lines and points in it."""
    drawn: int
    """Marks the browser gave a size (a mark CSS hid or collapsed has none)."""
    width: float
    cut: list[str]
    """Labels that run past the chart's edges, so a person reads only part of them."""


@dataclass
class Seen:
    """What the browser saw while showing one page."""

    address: str
    """What was asked for (a path, or a URL)."""
    url: str = ""
    """Where the browser ended up (after any redirect)."""
    status: int = 0
    requests: list[str] = field(default_factory=list)
    """Every URL the page asked for (itself, style sheets, images, ...), in order."""
    foreign: list[str] = field(default_factory=list)
    """Those not on 127.0.0.1: refused before they left, and a failure of the page."""
    broken: list[str] = field(default_factory=list)
    """Requests answered 400 or more, or that failed."""
    console: list[str] = field(default_factory=list)
    """Console errors and warnings (Chromium logs each CSP refusal there as an error, and a
    policy it cannot read as a warning)."""
    errors: list[str] = field(default_factory=list)
    """Uncaught script errors."""
    refused_by_csp: list[str] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    serious: list[str] = field(default_factory=list)
    """axe-core's violations of impact serious or critical, with where."""
    screenshot: Path | None = None
    png: bytes = b""
    """The screenshot's bytes as taken; not read back from the file, which another test
    process (pytest -n) showing the same page may be rewriting."""
    text: str = ""
    """The page's text as a person reads it."""


class Tab:
    """A person's browser tab that opened ``server.login_url``: one context, one page."""

    def __init__(self, browser: "Browser", server: "ViewServer") -> None:
        self.server = server
        self.context: BrowserContext = browser.new_context()
        self.context.add_init_script(script=_CSP_LISTENER)
        self.context.route("**/*", self._route)
        self.page: BrowserPage = self.context.new_page()
        self._seen = Seen("")
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self._seen.errors.append(str(error)))
        self.page.on("requestfailed", lambda r: self._seen.broken.append(f"{r.url}: {r.failure}"))
        self.page.on("response", self._answered)
        self.login = self.look(server.login_url, shot=None)

    def close(self) -> None:
        self.context.close()

    def look(self, address: str, *, shot: str | None, axe: bool = False) -> Seen:
        """Show ``address`` (a path, or a whole URL) and return what the browser saw;
        ``shot`` names the screenshot written to ``SCREENSHOTS`` (None: none), ``axe`` runs
        axe-core's checks on the page."""
        url = address if "://" in address else self.server.url.rstrip("/") + address
        self._seen = Seen(address)
        answer = self.page.goto(url, wait_until="load")
        assert answer is not None, url
        return self._saw(answer.status, shot=shot, axe=axe)

    def submit(self, field: str, text: str, *, shot: str | None, axe: bool = False) -> Seen:
        """Type ``text`` into the page's ``field`` (a CSS selector) and press Enter, as a
        person searches; what the browser saw on the page that answered."""
        self._seen = Seen(f"{self.page.url} <- {field}: {text}")
        box = self.page.locator(field)
        box.fill(text)
        with self.page.expect_response(lambda r: r.request.is_navigation_request()) as answer:
            box.press("Enter")
        self.page.wait_for_load_state("load")
        return self._saw(answer.value.status, shot=shot, axe=axe)

    def _saw(self, status: int, *, shot: str | None, axe: bool) -> Seen:
        seen = self._seen
        seen.status = status
        seen.url = self.page.url
        seen.text = self.page.inner_text("body")
        seen.charts = [Chart(**c) for c in self.page.eval_on_selector_all("svg.chart", _CHARTS)]
        seen.links = self.page.eval_on_selector_all(
            "a[href]", "links => links.map((a) => a.getAttribute('href'))"
        )
        if axe:
            seen.serious = _serious(self.page)
        if shot is not None:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            seen.screenshot = SCREENSHOTS / f"{shot}.png"
            seen.png = self.page.screenshot(path=seen.screenshot, full_page=True)
        seen.refused_by_csp = self.page.evaluate("window.__csp || []")
        return seen

    def evaluate(self, script: str) -> Any:
        """``script`` run in the page shown last (outside its CSP), and its result."""
        return self.page.evaluate(script)

    def _route(self, route: "Route", request: "Request") -> None:
        self._seen.requests.append(request.url)
        if urlsplit(request.url).hostname != "127.0.0.1":
            self._seen.foreign.append(request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _answered(self, response: "Response") -> None:
        if response.status >= 400:
            self._seen.broken.append(f"{response.url}: {response.status}")

    def _console(self, message: "ConsoleMessage") -> None:
        if message.type in ("error", "warning"):
            where = message.location.get("url", "")
            self._seen.console.append(f"{message.type}: {message.text} ({where})")


def _serious(page: "BrowserPage") -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]
