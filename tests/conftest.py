"""Shared fixtures: a portal home in a temporary folder, and the bank sandbox on a real socket."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record.tables import Connection
from portal_bank.sandbox import BankSandbox


@pytest.fixture(autouse=True)
def file_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the keyring of the machine they run on."""
    monkeypatch.setenv("PORTAL_VAULT", "file")
    monkeypatch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)


@pytest.fixture
def bank() -> Iterator[BankSandbox]:
    """The Demo Bank sandbox, started on 127.0.0.1 for one test."""
    with BankSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    """A portal home (store and vault) in a temporary folder, with fast retries."""
    with Portal.open(
        home=tmp_path / "home", retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
    ) as app:
        yield app


def connect(portal: Portal, bank: BankSandbox) -> Connection:
    """Connect the portal to the sandbox through the real authorization-code flow."""
    return portal.connect(
        "bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank), timeout=10
    )


def synced_once(home: Path, sandbox: Any, provider: str) -> Portal:
    """A portal under ``home`` that connected to the running ``sandbox`` as ``provider``
    through the real OAuth flow and synced it once, without error.

    Its vault is a file in ``home`` and its retries are fast; close it (it is a context
    manager) when done.
    """
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    portal = Portal.open(
        home=home, vault=vault, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
    )
    endpoints = sandbox_endpoints(sandbox)
    portal.connect(provider, browser=auto_approve_browser, endpoints=endpoints, timeout=10)
    [result] = portal.sync([provider])
    assert result.ok, result.error  # nothing a specification allows ends a sync with an error
    return portal


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the four bundled sandboxes synced once per test process, as
    ``portal sync --demo`` makes it. Shared: tests only read it (``Store(read_only=True)``)."""
    from view_homes import demo_home as make

    return make(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The machine's Chromium driven by Playwright, one per test process (a
    ``playwright.sync_api.Browser``). Skips where there is none, saying how to install it;
    fails instead when ``CI`` is set."""
    from view_browser import launch_chromium

    with launch_chromium() as browser:
        yield browser


@pytest.fixture(scope="session")
def shady_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the Demo Bank and "shady" (Demo Mart whose customer differs from the bank's
    in known ways, with hostile text), synced once per test process (``view_shady``)."""
    from view_shady import shady_home as make

    return make(tmp_path_factory.mktemp("shady"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A PostgreSQL server's URL for the whole run (see ``tests/pg.py``): skipped, saying
    why, where none is found (failed under CI)."""
    import pg

    with pg.server() as url:
        yield url
