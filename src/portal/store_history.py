"""Every earlier version of a record, kept as the store writes: nothing a provider changes
or stops releasing is lost.

A sync replaces a record's row when its raw payload changed (``store._Conflict``), and
deletes the rows of records the provider withdrew (``Batch.withdrawn``). Before either, the
row as it was goes into ``record_versions`` (``portal.understand.tables.RecordVersion``),
with when it was fetched and when it stopped being the latest: a provider that releases
twelve months (midata) still leaves the person a lifelong history.

How, where the writes happen:

- **changed**: a trigger on each record table, ``BEFORE UPDATE OF raw_id`` when the raw id
  differs. It costs nothing on a re-sync of unchanged data (the upsert's ``WHERE`` leaves
  those rows alone, so no update, so no trigger), and works in every writer: this process,
  the writer process of a long sync, an import. SQLite builds the row's JSON with
  ``json_object`` over the table's columns; PostgreSQL with ``to_jsonb(OLD)`` in one
  plpgsql function shared by every table.
- **no longer released**: a statement the store writes just before a sync's deletion
  (``keep_withdrawn``), in the same transaction. Not a trigger on DELETE: deleting on
  purpose (``portal disconnect --delete-data``, ``portal import --undo``) must not make
  history of what the person asked to be forgotten.

The withdrawn row leaves the live table (so the live tables are what each provider
releases now, which the conformance suite checks) and lives on as its last version.

The triggers follow the models' columns, so they are made from the models whenever a store
is opened to write (``ensure_history``), like the search index's: a new store, one a
revision has just migrated, one whose table a revision copied (which drops its triggers).
"""

# The SQL here is built from portal's own table and column names; every value a row holds
# is bound or read by the database itself, never written into the text.
# ruff: noqa: S608

from __future__ import annotations

from sqlalchemy import JSON, Table, TextClause, text
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.engine import Dialect

from portal.record.tables import TABLES

VERSION = 1
"""Part of every trigger's name: triggers of another version (other columns) are made again."""

CHANGED = "changed"
GONE = "no longer released"
"""``record_versions.why``: replaced by a changed version, or withdrawn by the provider."""

_NOW_SQLITE = "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"
"""Now, as ``UTCDateTime`` stores it in SQLite (microseconds, UTC offset)."""

_COLUMNS = "table_name, record_id, provider, row, valid_from, replaced_at, why"


def _tables() -> list[Table]:
    return [model.__table__ for model in TABLES.values()]  # type: ignore[attr-defined]


def _json_sqlite(table: Table, row: str) -> str:
    """SQLite's JSON object of every column of ``row`` (``old``, or the table's name);
    JSON columns nested as JSON, not as the text they are stored as."""
    parts = []
    for column in table.columns:
        value = f'{row}."{column.name}"'
        if isinstance(column.type, JSON):
            value = f"json({value})"
        parts.append(f"'{column.name}', {value}")
    return f"json_object({', '.join(parts)})"


def _sqlite_trigger(table: Table) -> tuple[str, str]:
    name = f"history_v{VERSION}_{table.name}_changed"
    return name, (
        f'CREATE TRIGGER "{name}" BEFORE UPDATE OF raw_id ON "{table.name}"'
        " WHEN old.raw_id IS NOT new.raw_id BEGIN"
        f"  INSERT INTO record_versions ({_COLUMNS}) VALUES ("
        f"    '{table.name}', old.id, old.provider, {_json_sqlite(table, 'old')},"
        f"    old.fetched_at, coalesce(new.fetched_at, {_NOW_SQLITE}), '{CHANGED}');"
        " END"
    )


_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION portal_history_v{VERSION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO record_versions ({_COLUMNS}) VALUES (
    TG_TABLE_NAME, OLD.id, OLD.provider, to_jsonb(OLD)::json,
    OLD.fetched_at, coalesce(NEW.fetched_at, now()), '{CHANGED}');
  RETURN NEW;
END $$"""


def _pg_trigger(table: Table) -> tuple[str, str]:
    name = f"history_v{VERSION}_{table.name}_changed"
    return name, (
        f'CREATE TRIGGER "{name}" BEFORE UPDATE OF raw_id ON "{table.name}" FOR EACH ROW'
        " WHEN (OLD.raw_id IS DISTINCT FROM NEW.raw_id)"
        f" EXECUTE FUNCTION portal_history_v{VERSION}()"
    )


def ensure_history(db: DBConnection) -> bool:
    """Make the triggers that keep changed records' earlier versions, where any is missing
    or of another version, in ``db``'s transaction. Returns whether it made any."""
    postgres = db.dialect.name == "postgresql"
    make = _pg_trigger if postgres else _sqlite_trigger
    wanted = dict(make(table) for table in _tables())
    if _present(db) == set(wanted):
        return False
    drop_history(db)
    if postgres:
        db.exec_driver_sql(_PG_FUNCTION)
    for sql in wanted.values():
        db.exec_driver_sql(sql)
    return True


def _present(db: DBConnection) -> set[str]:
    """The names of the history triggers ``db`` holds."""
    if db.dialect.name == "postgresql":
        listed = "SELECT tgname FROM pg_trigger WHERE left(tgname, 8) = 'history_'"
    else:
        listed = (
            "SELECT name FROM sqlite_master"
            " WHERE type = 'trigger' AND substr(name, 1, 8) = 'history_'"
        )
    return {row[0] for row in db.exec_driver_sql(listed)}


def drop_history(db: DBConnection) -> None:
    """Drop the history triggers, in ``db``'s transaction (before a migration: they name
    columns a revision may change; ``ensure_history`` makes them again after)."""
    for name in _present(db):
        if db.dialect.name == "postgresql":
            table = name.removeprefix(f"history_v{VERSION}_").removesuffix("_changed")
            db.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
        else:
            db.exec_driver_sql(f'DROP TRIGGER "{name}"')


def keep_withdrawn_sqlite(table: Table, dialect: Dialect) -> str:
    """The SQL that keeps the rows a sync is about to delete from ``table`` (their ids in
    ``VALUES (?)``, widened by ``portal.store_writer`` as a deletion's are)."""
    name = dialect.identifier_preparer.quote(table.name)
    return (
        f"INSERT INTO record_versions ({_COLUMNS})"
        f" SELECT '{table.name}', id, provider, {_json_sqlite(table, name)}, fetched_at,"
        f" {_NOW_SQLITE}, '{GONE}' FROM {name} WHERE id IN (VALUES (?))"
    )


def keep_withdrawn_postgres(table: Table) -> TextClause:
    """The same for PostgreSQL, one id (``:id``) per execution."""
    return text(
        f"INSERT INTO record_versions ({_COLUMNS})"
        f" SELECT '{table.name}', id, provider, to_jsonb(t)::json, fetched_at, now(), '{GONE}'"
        f' FROM "{table.name}" AS t WHERE id = :id'
    )
