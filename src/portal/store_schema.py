"""The store's schema version: checked on every open, migrated with Alembic when written.

The revisions live in ``portal.migrations`` (its docstring says how to add one). Opening a
store to write (``prepare``):

- a database with none of portal's tables is made from the models and stamped at head;
- a store at an earlier revision, or written before versions (no ``alembic_version``:
  revision 0001 adopts it), is backed up first (a SQLite file, through SQLite's backup API,
  to ``<store>.before-<head>.bak``, fsynced) and then upgraded in one transaction, so a
  migration that stops leaves it exactly as it was;
- a store at a revision this portal does not know was written by a later one: refused.

Opening a store only to read (``check``) never migrates: an older store is refused with a
pointer to ``portal migrate`` (or ``portal sync``), which upgrade it.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel

# imports_log's and the understanding layer's tables join SQLModel's metadata: every table
# of the store is made (a new store) and compared (the head revision) with the rest.
from portal import imports_log, store_history, store_open  # noqa: F401
from portal.control import tables as _control  # noqa: F401
from portal.errors import StoreSchema
from portal.understand import tables as _understood  # noqa: F401

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported where a migration runs: a store at head never needs it, and every
# command that opens the store would pay for its import.


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store's migrations (no ``alembic.ini`` needed)."""
    from alembic.config import Config

    alembic = Config()
    alembic.set_main_option("script_location", "portal:migrations")
    alembic.attributes["connection"] = connection
    return alembic


HEAD = "0013"
"""The newest revision, which this portal's models are at (a test holds it to Alembic's)."""


@functools.cache
def head() -> str:
    """The newest revision, as Alembic finds it among the revisions."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(config()).get_current_head()
    assert revision is not None  # portal ships its revisions
    return revision


@dataclass(frozen=True)
class Migrated:
    """What opening a store did to its schema."""

    before: str | None
    """The revision it was at (None: written before versions)."""
    after: str
    """The revision it is at now (the head)."""
    backup: Path | None
    """The copy of the SQLite file taken before (None: not a SQLite file)."""


def revision(db: Connection) -> tuple[bool, str | None]:
    """Whether ``db`` holds any of portal's tables, and the revision it is stamped at."""
    tables = set(inspect(db).get_table_names())
    current = None
    if "alembic_version" in tables:
        current = db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return bool(tables & set(SQLModel.metadata.tables)), current


def check(engine: Engine, where: str, *, unwritable: bool = False) -> None:
    """Raise ``StoreSchema`` unless the store can be read as it stands (at head, or empty).

    ``unwritable``: it is read-only because this user cannot write it (so ``portal
    migrate`` could not migrate it either).
    """
    with engine.connect() as db:
        found, current = revision(db)
    if found and current != HEAD:
        raise _outdated(where, current, unwritable=unwritable)


def prepare(engine: Engine, where: str, file: str | None) -> Migrated | None:
    """Bring the store at ``engine`` (``file``: its SQLite file, if it is one) to head.

    Returns what was migrated, or None when nothing was (a new store, or one at head).
    """
    with engine.connect() as db:
        found, current = revision(db)
    if current == HEAD:
        return None
    if current is not None and not _known(current):
        raise _outdated(where, current)
    if not found:
        with _transactional(engine) as migrating, migrating.begin() as db:
            # Under the write lock, since another portal may be making the same new store.
            if not revision(db)[0]:
                SQLModel.metadata.create_all(db)  # imports_log's tables too: imported above
                _stamp(db)
        return None
    from alembic import command

    target = head()
    backup = None if file is None else _backup(Path(file), target)
    with _transactional(engine) as migrating, migrating.begin() as db, _expressions_unseen():
        # Its triggers name the tables' columns, which a revision may drop or rename: they
        # are made again from the models once the store is at head (Store's opening).
        store_history.drop_history(db)
        command.upgrade(config(db), target)
        _indexes_again(db)
    return Migrated(current, target, backup)


_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)
"""Alembic's version table, as ``alembic stamp`` makes it."""


def _stamp(db: Connection) -> None:
    """Stamp a new store at ``HEAD`` as ``alembic stamp`` does, without Alembic: importing
    it and loading every revision file cost 1 to 2 s, on every command that makes a store
    (each test's fresh home, each first ``portal sync``); ``HEAD`` is held to Alembic's head
    by a test, and a store stamped so is migrated by Alembic like any other."""
    _VERSION.create(db, checkfirst=True)
    db.execute(_VERSION.delete())
    db.execute(_VERSION.insert().values(version_num=HEAD))


@contextmanager
def _expressions_unseen() -> Iterator[None]:
    """SQLAlchemy cannot reflect SQLite's expression indexes (``CAST(amount AS REAL)``) and
    says so each time a revision reads a table; batch mode then copies the table without
    them, and ``_indexes_again`` makes them again. Expected, so not shown to the person."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
        yield


def _indexes_again(db: Connection) -> None:
    """Every index the models declare that the store lacks, made in ``db``'s transaction:
    a revision that copies a table (batch mode) keeps only the indexes SQLAlchemy can
    reflect, and expression indexes are not among them."""
    held = set(inspect(db).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in held:
            continue
        names = {i["name"] for i in inspect(db).get_indexes(table.name)}
        if db.dialect.name == "sqlite":  # the expression indexes too, which inspect skips
            listed = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            names |= {row[0] for row in db.exec_driver_sql(listed, (table.name,))}
        for index in table.indexes:
            if index.name not in names:
                index.create(db)


def _known(current: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(config()).get_revision(current) is not None
    except CommandError:  # no such revision (or a prefix of several)
        return False


def _outdated(where: str, current: str | None, *, unwritable: bool = False) -> StoreSchema:
    if current is not None and not _known(current):
        return StoreSchema(
            f"The store at {where} was written by a later portal (schema revision"
            f" {current}; this portal knows up to {head()}).",
            hint="Upgrade portal (pip install -U portal-core), or pass --db another store.",
        )
    return StoreSchema(
        f"The store at {where} was written by an earlier portal and has to be migrated"
        " before it can be read.",
        hint=(
            "Make it and its folder writable by you (chmod u+w), then run portal migrate."
            if unwritable
            else "Run portal migrate (or portal sync, which migrates it first); a backup is made."
        ),
    )


class _transactional:
    """A separate engine on the store whose transactions take in DDL too.

    Python's sqlite3 (before 3.12) opens a transaction only before INSERT, UPDATE and
    DELETE, so CREATE, DROP and ALTER would each commit on their own: a migration stopped
    half-way would leave half a store. Here sqlite3 keeps out of it and every transaction
    is SQLite's own ``BEGIN IMMEDIATE`` (SQLAlchemy's documented recipe), which also holds
    the write lock from the start. An in-memory store, which only its own engine's
    connection sees, is made on that engine (it is always new: nothing to migrate).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.own = engine.dialect.name != "sqlite" or engine.url.database not in (
            None,
            "",
            ":memory:",
        )
        if self.own:
            self.engine = create_engine(engine.url, poolclass=NullPool)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _no_implicit_transactions)
                event.listen(self.engine, "begin", _begin_immediate)
            store_open.translate_faults(self.engine, store_open.masked_url(str(engine.url)))

    def __enter__(self) -> Engine:
        return self.engine

    def __exit__(self, *exc: object) -> None:
        if self.own:
            self.engine.dispose()


def _no_implicit_transactions(dbapi_connection: Any, record: Any) -> None:
    dbapi_connection.isolation_level = None
    dbapi_connection.execute(store_open.sqlite_pragmas()[-1])  # the busy timeout


def _begin_immediate(db: Connection) -> None:
    db.exec_driver_sql("BEGIN IMMEDIATE")


def _backup(path: Path, target: str) -> Path:
    """Copy the SQLite file at ``path`` (with whatever its WAL holds) beside it, fsynced."""
    backup = path.with_name(f"{path.name}.before-{target}.bak")
    partial = backup.with_name(backup.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(
        os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    )  # as private as the store
    source = sqlite3.connect(path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, backup)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return backup


def include_name(name: str | None, kind: str, parent: object) -> bool:
    """What Alembic compares with the models: everything but the search index
    (``portal.search``), which no model describes; its tables and triggers are built by
    ``ensure_search_index`` when the store opens."""
    return not (kind == "table" and name is not None and name.startswith("search_"))
