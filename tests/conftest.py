"""Shared fixtures: a portal home in a temporary folder, and the bank sandbox on a real socket."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
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
