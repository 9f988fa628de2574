"""The record of every import: what each one brought and changed, so it can be undone.

``portal import`` writes a file's batches in one transaction, and beside them, in the same
transaction, a row in ``imports`` and one row per record or raw payload in
``imported_rows``, saying whether the import brought it (``new``), replaced an earlier
version (``changed``, with that version kept in ``previous``) or found it already stored
(``same``). A re-import that changes a record is therefore never silent: it is applied,
reported field by field, and the earlier version is kept, so ``portal import --undo ID``
puts it back. Undo removes exactly what one import brought, and leaves what another import
also holds. An import that brings nothing new and changes nothing is not recorded at all:
the store stays byte for byte as it was.

Why apply rather than refuse a changed item: a bank's later download corrects earlier ones
(a pending amount settles, a description is cleaned up), and the sync path applies such
corrections too; refusing would leave the person editing files by hand. Keeping the
earlier version makes the change visible and reversible instead.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic_core import to_jsonable_python
from sqlalchemy import JSON, Table, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection as DBConnection
from sqlmodel import Field, SQLModel

from portal.batch import Batch
from portal.errors import UserError
from portal.record.model import Entity
from portal.record.tables import TABLES, RawItem
from portal.record.types import UTCDateTime, money_in_minor_units
from portal.understand.tables import RecordVersion

if TYPE_CHECKING:
    from portal.app import Portal

PROVENANCE = frozenset(
    {"id", "provider", "provider_id", "connection_id", "consent_id", "fetched_at", "raw_id"}
)
"""Columns that say where a row came from, not what it says: not compared for changes."""

_CHUNK = 500  # ids per ``IN (...)`` query, well under SQLite's parameter limit

LISTED_CHANGES = 1000
"""Changed records an import describes field by field; the rest are counted (``counts``),
so that a file in which everything changed costs no more memory than one page."""


class ImportRow(SQLModel, table=True):
    """One ``portal import`` that changed the store."""

    __tablename__ = "imports"
    # Numbers are never reused: "import 2" stays the name of one import after it is undone.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True, description="The import's number.")
    file: str = Field(description="The file's name, as it was imported.")
    sha256: str = Field(index=True, description="SHA-256 of the file's content.")
    importer: str = Field(description="The importer that read it.")
    provider: str = Field(index=True, description="The provider its records are filed under.")
    account: str | None = Field(default=None, description="The --account name it was given.")
    imported_at: datetime = Field(sa_type=UTCDateTime, description="When it was imported.")
    counts: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, description="Per table: new, changed, same."
    )


class ImportedRow(SQLModel, table=True):
    """A record or raw payload one import wrote or found, and what it did to it."""

    __tablename__ = "imported_rows"

    import_id: int = Field(primary_key=True, description="The import.")
    table_name: str = Field(primary_key=True, description="The row's table.")
    row_id: str = Field(primary_key=True, index=True, description="The row's id.")
    change: str = Field(description="new, changed or same.")
    raw_id: str | None = Field(default=None, description="The raw payload the import wrote.")
    previous: dict[str, Any] | None = Field(
        default=None, sa_type=JSON, description="The row before a change, to put back on undo."
    )


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


def ensure_tables(db: DBConnection) -> None:
    """Create the log's tables in a store made before they existed."""
    for model in (ImportRow, ImportedRow):
        _table(model).create(db, checkfirst=True)


@dataclass(frozen=True)
class Change:
    """A record an import replaced: which, and each field's old and new value."""

    category: str
    provider_id: str
    fields: dict[str, tuple[Any, Any]]

    def describe(self) -> str:
        """The change in words: ``amount -3.50 -> -4.50; description 'A' -> 'B'``."""
        return "; ".join(
            f"{name} {_word(old)} -> {_word(new)}" for name, (old, new) in self.fields.items()
        )


def _word(value: Any) -> str:
    """A value as a person reads it: numbers and dates as written, text quoted."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float) or value is None:
        return str(value)
    return repr(to_jsonable_python(value))


@dataclass
class Tally:
    """What one import did, table by table, as it goes."""

    import_id: int
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)

    def count(self, table: str, change: str) -> None:
        """Count one row of ``table`` as ``change`` (new, changed, same)."""
        per = self.counts.setdefault(table, {"new": 0, "changed": 0, "same": 0})
        per[change] += 1

    @property
    def altered(self) -> bool:
        """Whether the import brought or changed anything."""
        return any(per["new"] or per["changed"] for per in self.counts.values())


def begin(
    db: DBConnection, file: str, sha256: str, importer: str, provider: str, account: str | None
) -> Tally:
    """Start recording an import inside ``db``'s transaction."""
    ensure_tables(db)
    row: dict[str, Any] = {
        "file": file,
        "sha256": sha256,
        "importer": importer,
        "provider": provider,
        "account": account,
        "imported_at": datetime.now(UTC),
        "counts": {},
    }
    result = db.execute(insert(_table(ImportRow)).values(row))
    key = result.inserted_primary_key
    assert key is not None
    return Tally(int(key[0]))


def _stored(db: DBConnection, table: Table, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in db.execute(select(table).where(table.c.id.in_(chunk))):
            found[row.id] = row._asdict()
    return found


def compare(db: DBConnection, tally: Tally, batch: Batch) -> list[dict[str, Any]]:
    """What writing ``batch`` will do to each record and raw payload, before it is written.

    Counts each row in ``tally``, notes every changed record's differences, and returns
    the ``imported_rows`` rows to ``record`` once the batch is written.
    """
    entries: list[dict[str, Any]] = []
    by_table: dict[type[SQLModel], list[Entity]] = {}
    for record in batch.records:
        by_table.setdefault(TABLES[type(record)], []).append(record)
    for model, records in by_table.items():
        table = _table(model)
        stored = _stored(db, table, [r.id for r in records])
        for record in records:
            before = stored.get(record.id)
            entry = {"table_name": table.name, "row_id": record.id, "raw_id": record.raw_id}
            if before is None:
                entry["change"] = "new"
            elif before["raw_id"] == record.raw_id:
                entry["change"] = "same"
            else:
                entry["change"] = "changed"
                entry["previous"] = to_jsonable_python(before)
                differences = {
                    name: (value, record.__dict__.get(name))
                    for name, value in before.items()
                    if name not in PROVENANCE and value != record.__dict__.get(name)
                }
                if differences:  # money as a person reads it: -12.00, not the stored -12
                    old = money_in_minor_units(type(record), {**before})
                    new = money_in_minor_units(type(record), {**record.__dict__})
                    differences = {name: (old[name], new.get(name)) for name in differences}
                if len(tally.changes) < LISTED_CHANGES:
                    tally.changes.append(Change(table.name, record.provider_id, differences))
            tally.count(table.name, entry["change"])
            entries.append(entry)
    raws = _table(RawItem)
    stored_raws = set(_stored(db, raws, [r.id for r in batch.raws]))
    for raw in batch.raws:
        change = "same" if raw.id in stored_raws else "new"
        entries.append({"table_name": raws.name, "row_id": raw.id, "change": change})
        stored_raws.add(raw.id)  # the same payload twice in one file is one payload
    return entries


def record(db: DBConnection, tally: Tally, entries: list[dict[str, Any]]) -> None:
    """Write the ``imported_rows`` of a written batch (the first word on a row stands)."""
    if not entries:
        return
    if db.dialect.name == "sqlite":
        # Plain tuples to the driver: SQLAlchemy's executemany, building and processing a
        # dict per row, was an eighth of an import's time.
        rows = [
            (
                tally.import_id,
                e["table_name"],
                e["row_id"],
                e["change"],
                e.get("raw_id"),
                None if e.get("previous") is None else json.dumps(e["previous"]),
            )
            for e in entries
        ]
        db.exec_driver_sql(_INSERT_OR_IGNORE, rows)
        return
    # The store's other database is PostgreSQL (``portal.store``'s upserts are written so).
    rows_ = [{"import_id": tally.import_id, "raw_id": None, "previous": None, **e} for e in entries]
    db.execute(postgresql.insert(_table(ImportedRow)).on_conflict_do_nothing(), rows_)


_INSERT_OR_IGNORE = (
    "INSERT OR IGNORE INTO imported_rows"
    " (import_id, table_name, row_id, change, raw_id, previous) VALUES (?, ?, ?, ?, ?, ?)"
)


def finish(db: DBConnection, tally: Tally) -> None:
    """Store the import's counts on its row."""
    imports = _table(ImportRow)
    db.execute(update(imports).where(imports.c.id == tally.import_id).values(counts=tally.counts))


def history(db: DBConnection, provider: str | None = None) -> list[dict[str, Any]]:
    """Every recorded import, oldest first (optionally one provider's)."""
    ensure_tables(db)
    imports = _table(ImportRow)
    query = select(imports).order_by(imports.c.id)
    if provider is not None:
        query = query.where(imports.c.provider == provider)
    return [row._asdict() for row in db.execute(query)]


def find(db: DBConnection, import_id: int) -> dict[str, Any] | None:
    """The import numbered ``import_id``, if it is recorded."""
    ensure_tables(db)
    imports = _table(ImportRow)
    row = db.execute(select(imports).where(imports.c.id == import_id)).first()
    return None if row is None else row._asdict()


def earlier(db: DBConnection, sha256: str, importer: str) -> dict[str, Any] | None:
    """The latest recorded import of the same content by the same importer, if any."""
    ensure_tables(db)
    imports = _table(ImportRow)
    query = (
        select(imports)
        .where(imports.c.sha256 == sha256, imports.c.importer == importer)
        .order_by(imports.c.id.desc())
    )
    row = db.execute(query).first()
    return None if row is None else row._asdict()


def _entities() -> dict[str, type[Entity]]:
    return {_table(model).name: entity for entity, model in TABLES.items()}


def undo(db: DBConnection, import_id: int, write: Any) -> dict[str, int]:
    """Take back what import ``import_id`` brought, inside ``db``'s transaction.

    Records and raw payloads it brought are deleted unless another import holds them too
    (that import then counts as having brought them); records it changed get their earlier
    version back, unless something changed them again since. ``write(db, batch)`` writes
    restored records. Returns how many rows of each table were removed or restored.

    The history (``record_versions``) forgets the import too: the version an import replaced
    is live again, and the import's own version, replaced by the undo, was taken back.
    """
    versions = _table(RecordVersion)
    mark = db.execute(select(func.max(versions.c.id))).scalar() or 0
    log = _table(ImportedRow)
    entries = [row._asdict() for row in db.execute(select(log).where(log.c.import_id == import_id))]
    entities = _entities()
    done: dict[str, int] = {}
    for entry in entries:
        name, row_id = entry["table_name"], entry["row_id"]
        if entry["change"] == "new":
            if _held_elsewhere(db, import_id, name, row_id):
                continue
            model = RawItem if name == _table(RawItem).name else TABLES[entities[name]]
            table = _table(model)
            db.execute(delete(table).where(table.c.id == row_id))
        elif entry["change"] == "changed" and entry["previous"]:
            table = _table(TABLES[entities[name]])
            now = db.execute(select(table.c.raw_id).where(table.c.id == row_id)).scalar()
            if now != entry["raw_id"]:
                continue  # changed again since: that later version stays
            _restore(db, entities[name], entry["previous"], write)
            _forget_version(db, name, row_id, mark)
        else:
            continue
        done[name] = done.get(name, 0) + 1
    db.execute(delete(versions).where(versions.c.id > mark))
    db.execute(delete(log).where(log.c.import_id == import_id))
    imports = _table(ImportRow)
    db.execute(delete(imports).where(imports.c.id == import_id))
    return done


def _forget_version(db: DBConnection, table: str, row_id: str, mark: int) -> None:
    """Drop the version the import made of a record it changed (the newest one kept before
    the undo began): that version is the live row again."""
    versions = _table(RecordVersion)
    newest = (
        select(func.max(versions.c.id))
        .where(versions.c.table_name == table, versions.c.record_id == row_id)
        .where(versions.c.id <= mark)
        .scalar_subquery()
    )
    db.execute(delete(versions).where(versions.c.id == newest))


def _held_elsewhere(db: DBConnection, import_id: int, table: str, row_id: str) -> bool:
    """Whether another import holds the row; if so, it now counts as the one that brought it
    (so that undoing that one later removes it, rather than restoring a version of this)."""
    log = _table(ImportedRow)
    other = db.execute(
        select(func.min(log.c.import_id)).where(
            log.c.table_name == table, log.c.row_id == row_id, log.c.import_id != import_id
        )
    ).scalar()
    if other is None:
        return False
    db.execute(
        update(log)
        .where(log.c.import_id == other, log.c.table_name == table, log.c.row_id == row_id)
        .values(change="new", previous=None)
    )
    return True


def _restore(db: DBConnection, entity: type[Entity], previous: dict[str, Any], write: Any) -> None:
    record = entity.model_validate(previous)  # the stored row's values, provenance included
    fetched = record.fetched_at or datetime.now(UTC)
    batch = Batch(
        provider=record.provider,
        connection_id=record.connection_id,
        stream="undo",
        fetched_at=fetched,
    )
    batch.records.append(record)
    write(db, batch)


def undo_import(portal: "Portal", import_id: int) -> dict[str, Any]:
    """Remove what import ``import_id`` brought, and put back what it changed, in one go.

    Returns the import as it was recorded, with ``undone``: rows removed or restored, per
    table. Records another import also holds stay.
    """
    store = portal.store
    with store.engine.begin() as db:
        found = find(db, import_id)
        if found is None:
            listed = [str(i["id"]) for i in history(db)]
            hint = (
                f"Recorded imports: {', '.join(listed)} (portal import --history lists them)."
                if listed
                else "No import is recorded in this store."
            )
            raise UserError(f"There is no import {import_id} to undo.", hint=hint)
        found["undone"] = undo(db, import_id, store.write_in)
    return found


def import_history(portal: "Portal") -> list[dict[str, Any]]:
    """Every recorded import, oldest first."""
    with portal.store.engine.begin() as db:
        return history(db)
