"""The checks, one test per check per provider.

Run: ``pytest --pyargs portal_conformance.checks --portal-provider NAME``.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.app import Portal
from portal.provider import Provider
from portal.record import CATEGORY_LABELS
from portal.record.model import ENTITIES
from portal_conformance.plugin import sync_against


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "provider_name" in metafunc.fixturenames:
        names = metafunc.config.getoption("portal_provider")
        metafunc.parametrize("provider_name", names, ids=names, indirect=True)


def test_declaration(provider: Provider) -> None:
    """The declaration names a sector, endpoints and an inventory in the core vocabulary."""
    assert provider.inventory, (
        f"{provider.name} declares no inventory: list the categories it holds."
    )
    for item in provider.inventory:
        assert item.category in CATEGORY_LABELS, f"{item.category!r} is not a core category."
        assert item.description, f"Inventory item {item.category} needs a description."
    assert provider.oauth.scopes, f"{provider.name} declares no OAuth scopes."


def test_sync_delivers_every_declared_category(
    synced_portal: tuple[Portal, Any], provider: Provider
) -> None:
    """Every category in the inventory arrives, and nothing is rejected."""
    portal, result = synced_portal
    assert result.ok, f"The sync failed: {result.error}"
    assert result.rejected == 0, f"{result.rejected} items were rejected: see portal status."
    counts = portal.store.counts().get(provider.name, {})
    missing = [c.value for c in provider.categories if not counts.get(c.value)]
    assert not missing, f"Declared categories never arrived: {missing}. Fetch and normalise them."


def test_resync_adds_nothing(
    synced_portal: tuple[Portal, Any], provider: Provider, provider_sandbox: Any
) -> None:
    """A second sync against unchanged data changes no row."""
    portal, _ = synced_portal
    before = {e: list(portal.store.rows(e, provider.name)) for e in ENTITIES}
    again = sync_against(portal, provider, provider_sandbox)
    assert again.ok, f"The second sync failed: {again.error}"
    after = {e: list(portal.store.rows(e, provider.name)) for e in ENTITIES}
    changed = [e.__name__ for e in ENTITIES if before[e] != after[e]]
    assert not changed, f"A re-sync changed {changed}: ids must be stable and upserts idempotent."
