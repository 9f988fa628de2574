"""A portal home for the view's tests: the Demo Bank and one more plugin, both synced.

The view only reads a store; its tests need one made the real way (a sandbox on a real
socket, the real OAuth flow, a real SQLite file), with a second provider whose plugin plants
what the test looks for (hostile text, a failed sync, a consent awaiting approval).
"""

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.demo import demo_home as make_demo_home
from portal.engine.sync import SyncResult
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.sandbox import Sandbox
from portal.view import ViewServer
from portal.view.guard import SECURITY_HEADERS
from portal_bank.sandbox import BankSandbox


def synced_home(
    root: Path,
    name: str,
    plugin: str,
    own: Callable[[], Sandbox] | None = None,
    *,
    base: str = "bank",
    sandbox: Callable[[], Sandbox] = BankSandbox,
) -> tuple[Path, dict[str, SyncResult]]:
    """``root/home`` with ``base`` ("bank") connected to a ``sandbox`` (the Demo Bank's) and
    the provider ``name`` (``plugin``'s source) to the same sandbox, or to an ``own()`` one
    if given; both synced once. The home and each provider's sync result."""
    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / f"{name}.py").write_text(plugin, encoding="utf-8")
    home = root / "home"
    home.mkdir()
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    retries = RetryPolicy(initial_wait=0.01, max_wait=0.1)
    with (
        sandbox() as served,
        own() if own else nullcontext(served) as planted,
        Portal.open(home=home, vault=vault, plugins_dir=plugins, retry_policy=retries) as portal,
    ):
        for provider, where in ((base, served), (name, planted)):
            endpoints = sandbox_endpoints(where)
            portal.connect(provider, browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        results = {result.provider: result for result in portal.sync([base, name])}
    return home, results


def demo_home(root: Path) -> Path:
    """``root/home`` with the four bundled sandboxes (bank, utility, telco, retailer)
    connected through the real OAuth flow and synced once, as ``portal sync --demo`` does."""
    home = root / "home"
    results = make_demo_home(home, ["bank", "utility", "telco", "retailer"])
    failed = [r.provider for r in results if not r.ok]
    assert not failed, f"the demo sync failed for {failed}"
    return home


@contextmanager
def browser(server: ViewServer) -> Iterator[httpx.Client]:
    """A browser that has opened the address portal view printed (it holds the cookie)."""
    with httpx.Client(timeout=10) as client:
        assert client.get(server.login_url).status_code == 303
        yield client


def assert_guarded(answer: httpx.Response) -> None:
    """``answer`` carries every security header of the view (CSP, no sniffing, no framing)."""
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers.get(name) == value, (name, answer.status_code)


@dataclass(frozen=True)
class Chart:
    """One chart of a page as the browser gets it: its title, how many values it says it
    draws (``data-points``), and each mark's series number and hover text."""

    title: str
    points: int
    marks: list[tuple[int, str]]

    def values(self, series: int) -> dict[str, str]:
        """The marks of one series: each x label to its value as shown ("11.276 kWh")."""
        found = {}
        for number, text in self.marks:
            if number == series:
                _, _, rest = text.partition(", ")
                x, _, value = rest.rpartition(": ")
                found[x] = value
        return found


def charts_in(page: str) -> list[Chart]:
    """Every chart of ``page`` in order."""
    found = []
    for svg in re.findall(r"<svg class=\"chart\".*?</svg>", page, re.S):
        points = int(re.search(r'data-points="(\d+)"', svg).group(1))  # type: ignore[union-attr]
        title = html.unescape(re.search(r'<title id="[^"]+">(.*?)</title>', svg).group(1))  # type: ignore[union-attr]
        marks = [
            (int(n), html.unescape(text))
            for n, text in re.findall(
                r'<(?:rect|circle) class="(?:bar|point) s(\d+)"[^>]*><title>(.*?)</title>', svg
            )
        ]
        found.append(Chart(title, points, marks))
    return found
