"""pytest plugin: fixtures for plugin authors; the checks themselves are in ``checks``.

Run the checks with ``pytest --pyargs portal_conformance.checks --portal-provider NAME``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.engine.sync import SyncResult
from portal.provider import Provider, sandbox_endpoints
from portal.sandbox import Sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("portal", "portal conformance")
    group.addoption(
        "--portal-provider",
        action="append",
        default=[],
        metavar="NAME",
        help="Run the conformance checks against this provider's sandbox.",
    )


@pytest.fixture
def portal_home(tmp_path: Path) -> Iterator[Portal]:
    """A portal home (store and vault) in a temporary folder."""
    home = tmp_path / "portal-home"
    # A file vault in the temporary home: a test run never touches the machine's keyring.
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with Portal.open(home=home, vault=vault) as portal:
        yield portal


@pytest.fixture
def provider_name(request: pytest.FixtureRequest) -> str:
    """The provider under test: from --portal-provider, or overridden in a plugin's tests."""
    name: str = getattr(request, "param", None) or request.config.getoption("portal_provider")[0]
    return name


@pytest.fixture
def provider(portal_home: Portal, provider_name: str) -> Provider:
    """The provider's declaration."""
    return portal_home.plugins.provider(provider_name)


@pytest.fixture
def provider_sandbox(provider: Provider) -> Iterator[Sandbox]:
    """The provider's sandbox, started on 127.0.0.1 for one test."""
    if provider.sandbox is None:
        pytest.fail(f"{provider.name} declares no sandbox: the conformance suite needs one.")
    with provider.sandbox() as sandbox:
        yield sandbox


def sync_against(portal: Portal, provider: Provider, sandbox: Sandbox) -> SyncResult:
    """Connect to the sandbox through the real OAuth flow and sync once."""
    portal.connect(
        provider.name,
        browser=auto_approve_browser,
        endpoints=sandbox_endpoints(sandbox),
        timeout=30,
    )
    [result] = portal.sync([provider.name])
    return result


@pytest.fixture
def synced_portal(
    portal_home: Portal, provider: Provider, provider_sandbox: Sandbox
) -> tuple[Portal, Any]:
    """A portal connected to the provider's sandbox and synced once, with that sync's result."""
    return portal_home, sync_against(portal_home, provider, provider_sandbox)
