"""A portal home for the view's tests: the Demo Bank and one more plugin, both synced.

The view only reads a store; its tests need one made the real way (a sandbox on a real
socket, the real OAuth flow, a real SQLite file), with a second provider whose plugin plants
what the test looks for (hostile text, a failed sync, a consent awaiting approval).
"""

from pathlib import Path

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.engine.sync import SyncResult
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox


def synced_home(root: Path, name: str, plugin: str) -> tuple[Path, dict[str, SyncResult]]:
    """``root/home`` with "bank" and the provider ``name`` (``plugin``'s source) connected to
    one Demo Bank sandbox and synced once; the home and each provider's sync result."""
    plugins = root / "plugins"
    plugins.mkdir()
    (plugins / f"{name}.py").write_text(plugin, encoding="utf-8")
    home = root / "home"
    home.mkdir()
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    retries = RetryPolicy(initial_wait=0.01, max_wait=0.1)
    with (
        BankSandbox() as bank,
        Portal.open(home=home, vault=vault, plugins_dir=plugins, retry_policy=retries) as portal,
    ):
        for provider in ("bank", name):
            endpoints = sandbox_endpoints(bank)
            portal.connect(provider, browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        results = {result.provider: result for result in portal.sync(["bank", name])}
    return home, results
