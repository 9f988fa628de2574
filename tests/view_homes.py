"""A portal home for the view's tests: the Demo Bank and one more plugin, both synced.

The view only reads a store; its tests need one made the real way (a sandbox on a real
socket, the real OAuth flow, a real SQLite file), with a second provider whose plugin plants
what the test looks for (hostile text, a failed sync, a consent awaiting approval).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.demo import demo_sync
from portal.engine.sync import SyncResult
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.sandbox import Sandbox
from portal.view import ViewServer
from portal.view.guard import SECURITY_HEADERS
from portal_bank.sandbox import BankSandbox


def synced_home(
    root: Path, name: str, plugin: str, sandbox: Callable[[], Sandbox] | None = None
) -> tuple[Path, dict[str, SyncResult]]:
    """``root/home`` with "bank" and the provider ``name`` (``plugin``'s source) connected to
    one Demo Bank sandbox (``name`` to a ``sandbox()`` of its own if given) and synced once;
    the home and each provider's sync result."""
    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / f"{name}.py").write_text(plugin, encoding="utf-8")
    home = root / "home"
    home.mkdir()
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    retries = RetryPolicy(initial_wait=0.01, max_wait=0.1)
    with (
        BankSandbox() as bank,
        sandbox() if sandbox else nullcontext(bank) as own,
        Portal.open(home=home, vault=vault, plugins_dir=plugins, retry_policy=retries) as portal,
    ):
        for provider, served in (("bank", bank), (name, own)):
            endpoints = sandbox_endpoints(served)
            portal.connect(provider, browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        results = {result.provider: result for result in portal.sync(["bank", name])}
    return home, results


def demo_home(root: Path) -> Path:
    """``root/home`` with the four bundled sandboxes (bank, utility, telco, retailer)
    connected through the real OAuth flow and synced once, as ``portal sync --demo`` does."""
    home = root / "home"
    home.mkdir()
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with Portal.open(home=home, vault=vault) as portal:
        results = demo_sync(portal, ["bank", "utility", "telco", "retailer"])
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
