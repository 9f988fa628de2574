"""Reading what a run left in the store: raw payloads, rejections, records by raw payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from portal.record.ids import portal_id
from portal.record.model import ENTITIES, Entity
from portal.record.tables import RawItem, Rejection
from portal_conformance.harness import Harness, Run


def raw_items(run: Run) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every raw payload of the provider: raw id to (stream, decoded item)."""
    table = RawItem.__table__  # type: ignore[attr-defined]
    query = select(table.c.id, table.c.stream, table.c.payload).where(
        table.c.provider == run.provider
    )
    with run.portal.store.engine.connect() as db:
        return {rid: (stream, json.loads(payload)) for rid, stream, payload in db.execute(query)}


def rejections(run: Run) -> list[dict[str, Any]]:
    """Every rejection of the provider (raw id, stream, reason)."""
    table = Rejection.__table__  # type: ignore[attr-defined]
    query = select(table).where(table.c.provider == run.provider)
    with run.portal.store.engine.connect() as db:
        return [r._asdict() for r in db.execute(query)]


def cached(harness: Harness, key: str, build: Callable[[], Any]) -> Any:
    """A value computed once per harness (raw items and the like are read many times)."""
    cache: dict[str, Any] = harness.__dict__.setdefault("_cache", {})
    if key not in cache:
        cache[key] = build()
    return cache[key]


def main_raw_items(harness: Harness) -> dict[str, tuple[str, dict[str, Any]]]:
    """``raw_items`` of the main run, cached."""
    return cached(harness, "raw_items", lambda: raw_items(harness.main))  # type: ignore[no-any-return]


def main_rejections(harness: Harness) -> list[dict[str, Any]]:
    """``rejections`` of the main run, cached."""
    return cached(harness, "rejections", lambda: rejections(harness.main))  # type: ignore[no-any-return]


def normaliser(run: Run, harness: Harness) -> Callable[[str, dict[str, Any]], list[Entity]]:
    """Call the plugin's normalise hook directly, as the engine does (no provenance stamped)."""
    hook = run.portal.plugins.caller(harness.name, "normalise")
    provider = harness.provider

    def ref(entity: type[Entity], provider_id: str) -> str:
        return portal_id(provider.name, entity.category, provider_id)

    def call(stream: str, item: dict[str, Any]) -> list[Entity]:
        return list(hook(provider=provider, stream=stream, item=item, ref=ref) or ())

    return call


def entity_by_name(name: str) -> type[Entity] | None:
    """The record entity called ``name`` (``"Bill"``), if the record model has it."""
    return next((e for e in ENTITIES if e.__name__ == name), None)


def delivered_categories(harness: Harness) -> list[str]:
    """Categories with at least one stored record in the main run."""
    return [e.category.value for e in ENTITIES if harness.rows(e)]
