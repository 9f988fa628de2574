"""What changed in what providers release, in words: read from the history the store keeps.

The store keeps every earlier version of a record (``portal.store_history``: a version is
kept when a sync replaces a record with a changed one, or finds it no longer released).
Here the versions, and the records first seen since a moment, become *changes*, each said
once, in the words a person reads:

- a new inference, permission, processing purpose or product (first seen after the
  provider's history started: what its first sync brought is the starting point);
- a permission's standing (on, off, withdrawn...) or status changed;
- recipients added to or removed from a processing purpose;
- prices and tariffs changed (a product's prices, by label);
- a party's details changed, field by field (name, address, email...);
- any other record changed (the fields that differ), and records no longer released.

A version's change is said by comparing it with the version that replaced it (the next one
kept, or the live row). A raw payload that changed in nothing the record holds says nothing.
Provider text goes through ``portal.shown.shown``; the sentences are safe to print.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import Engine, Table, Text, cast, func, select
from sqlalchemy.engine import Connection as DBConnection

from portal.record.model import ENTITIES, Entity
from portal.record.tables import TABLES
from portal.store_history import CHANGED
from portal.understand.change_words import Change, Sayer
from portal.understand.tables import HistoryStart, RecordVersion

NEW_KINDS = ("inferences", "consents", "processing", "products")
"""The categories whose new records are changes a person wants told (a new transaction is
just the next transaction)."""


def changes(
    engine: Engine,
    *,
    since: datetime | None = None,
    provider: str | None = None,
    names: Mapping[str, str] | None = None,
) -> list[Change]:
    """Every change seen after ``since`` (all of them when None), of one ``provider`` or all,
    newest first. ``names``: providers' display names, for the words."""
    say = Sayer(names or {})
    found: list[Change] = []
    with engine.connect() as db:
        found += _changed(db, say, since, provider)
        found += _new(db, say, since, provider)
    found.sort(key=lambda c: (c.at, c.provider, c.words), reverse=True)
    return found


# -- versions ------------------------------------------------------------------------------


def _entities() -> dict[str, type[Entity]]:
    return {entity.category.value: entity for entity in ENTITIES}


def _table(entity: type[Entity]) -> Table:
    return TABLES[entity].__table__  # type: ignore[attr-defined,no-any-return]


def _changed(
    db: DBConnection, say: Sayer, since: datetime | None, provider: str | None
) -> Iterator[Change]:
    """The changes the kept versions tell, each version against the one that replaced it."""
    versions = RecordVersion.__table__  # type: ignore[attr-defined]
    # As JSON text, read with exact decimals: money is never a float, even on the way.
    kept = cast(versions.c.row, Text)
    after = select(
        versions.c.table_name,
        versions.c.record_id,
        versions.c.provider,
        kept.label("row"),
        versions.c.replaced_at,
        versions.c.why,
        func.lead(kept)
        .over(partition_by=(versions.c.table_name, versions.c.record_id), order_by=versions.c.id)
        .label("next_row"),
    )
    # A version replaced after ``since`` is followed only by versions replaced later still.
    if since is not None:
        after = after.where(versions.c.replaced_at > since)
    if provider is not None:
        after = after.where(versions.c.provider == provider)
    rows = db.execute(after.order_by(versions.c.id)).all()
    live = _live(db, [(r.table_name, r.record_id) for r in rows if r.why == CHANGED])
    entities = _entities()
    for row in rows:
        entity = entities.get(row.table_name)
        if entity is None:  # a category this portal no longer has: nothing to say it with
            continue
        old = _row(row.row)
        at = _aware(row.replaced_at)
        if row.why != CHANGED:
            yield say.gone(entity, old, at)
            continue
        new = _row(row.next_row) if row.next_row is not None else live.get(row.record_id)
        if new is not None:
            yield from say.changed(entity, old, new, at)


def _live(db: DBConnection, keys: list[tuple[str, str]]) -> dict[str, dict[str, Any]]:
    """The live rows of the records ``keys`` names, by id, as JSON-ready values."""
    by_table: dict[str, list[str]] = {}
    for name, record_id in keys:
        by_table.setdefault(name, []).append(record_id)
    entities = _entities()
    found: dict[str, dict[str, Any]] = {}
    for name, ids in by_table.items():
        if name not in entities:
            continue
        table = _table(entities[name])
        for start in range(0, len(ids), 500):  # well under SQLite's limit of parameters
            chunk = ids[start : start + 500]
            for row in db.execute(select(table).where(table.c.id.in_(chunk))):
                found[row.id] = to_jsonable_python(row._asdict())
    return found


def _new(
    db: DBConnection, say: Sayer, since: datetime | None, provider: str | None
) -> Iterator[Change]:
    """Records of ``NEW_KINDS`` first seen after ``since`` and after their provider's
    history started (neither kept in an earlier version nor part of its first sync)."""
    starts = HistoryStart.__table__  # type: ignore[attr-defined]
    versions = RecordVersion.__table__  # type: ignore[attr-defined]
    entities = _entities()
    for name in NEW_KINDS:
        entity = entities[name]
        table = _table(entity)
        earlier = (
            select(versions.c.id)
            .where(versions.c.table_name == name, versions.c.record_id == table.c.id)
            .exists()
        )
        query = (
            select(table)
            .join(starts, starts.c.provider == table.c.provider)
            .where(table.c.fetched_at > starts.c.started_at, ~earlier)
        )
        if since is not None:
            query = query.where(table.c.fetched_at > since)
        if provider is not None:
            query = query.where(table.c.provider == provider)
        for row in db.execute(query):
            values = to_jsonable_python(row._asdict())
            yield say.new(entity, values, _aware(row.fetched_at))


def _row(value: Any) -> dict[str, Any]:
    """A kept row (JSON, as the database gave it back) as a dict."""
    row = json.loads(value, parse_float=Decimal) if isinstance(value, str) else value
    return dict(row) if isinstance(row, Mapping) else {}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
