"""Opening the store's database as it can be opened, and saying plainly what is wrong with it.

- A SQLite file that this user cannot write (the file, or the folder its journal files go
  in) is opened read-only: ``portal status`` and ``portal export`` work, and a command that
  has to write says the store is read-only instead of failing half-way.
- SQLite's own failures about the file itself become ``StoreError``s a person can act on:
  in use by another program (after ``BUSY_TIMEOUT_MS``), read-only, not a database or
  damaged. One translation (``store_fault``) serves every path: SQLAlchemy's (through its
  ``handle_error`` event) and the raw connections the store and its writer process use.
- A URL is only ever shown with its password masked (``masked_url``).
"""

from __future__ import annotations

import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from portal.errors import ConfigError, StoreBusy, StoreCorrupt, StoreError, StoreReadOnly

BUSY_TIMEOUT_MS = 5_000
"""How long a connection waits for another's write lock before the store is "in use"."""

SQLITE_PRAGMAS = (
    # WAL lets `portal status` read while a sync writes; NORMAL is durable in WAL mode up
    # to the last checkpointed transaction, and much faster than FULL.
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # Checkpoint every 10,000 WAL pages (40 MB), not SQLite's 1,000: each checkpoint copies
    # the WAL into the database and fsyncs it, and a sync's random-keyed indexes dirty pages
    # all over the file, so at the default it checkpointed several times per batch and
    # spent more time there than writing (measured: 89 against 39 µs per row at 100,000
    # rows). A crash still loses nothing committed; a power cut may lose the last few
    # seconds, never consistency.
    "PRAGMA wal_autocheckpoint=10000",
    # ...and then give the file back: after a checkpoint the WAL keeps at most 64 MB.
    "PRAGMA journal_size_limit=67108864",
    # A batch's inserts dirty a page of each random-keyed index per row or so: let a
    # transaction keep up to 2,000 dirty pages (8 MB) in memory before it spills any to
    # the WAL, instead of the page cache's 2 MB. Spilled pages were written again when
    # dirtied again: a third of the bytes written, and 13% of the time of a
    # million-transaction sync, with the default (measured with 1,000-item batches). With
    # the writes in the writer process, 2,000 pages took no longer than 4,000 at a million
    # (137 against 140 s) and 4 MB less at the writer's peak (31 against 35 MB).
    "PRAGMA cache_spill=2000",
)
"""Set on every connection to a SQLite store, the writer process's too (with
``busy_timeout``, ``BUSY_TIMEOUT_MS``)."""


def sqlite_pragmas() -> tuple[str, ...]:
    """What a connection that writes the store sets: ``SQLITE_PRAGMAS`` and the busy timeout."""
    return (*SQLITE_PRAGMAS, f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


_PASSWORD = re.compile(r"(://[^:/@\s]*:)\S*@")


def masked_url(url: str) -> str:
    """``url`` as it may be shown: any password replaced by ``***``, even in a malformed URL."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return _PASSWORD.sub(r"\1***@", url)


@dataclass(frozen=True)
class Opened:
    """An engine for the store, and what kind of store it is."""

    engine: Engine
    read_only: bool = False
    """The store can only be read here (a SQLite file this user cannot write)."""
    file: str | None = None
    """The SQLite file a writer process may write (a plain path, not a URI with options)."""


def open_engine(url: str, where: str, *, read_only: bool = False) -> Opened:
    """The engine for the store at ``url`` (``where``: as it may be shown), ready to use.

    A SQLite file is created (owner only) if need be, or opened read-only if it cannot be
    written here; every connection gets the store's pragmas; every failure about the file
    itself becomes a ``StoreError``. With ``read_only`` a SQLite file is always opened
    read-only (SQLite itself refuses any write), and must exist already.
    """
    try:
        engine = create_engine(url)
    except (SQLAlchemyError, ValueError):
        # SQLAlchemy's message quotes the URL, password and all: say it in our words.
        raise ConfigError(
            f"{where!r} is not a database URL portal can open.",
            hint="Pass --db a SQLAlchemy URL such as sqlite:///path/to/portal.db.",
        ) from None
    except ImportError as error:
        raise ConfigError(
            f"The store at {where} needs the database driver {error.name!r}, which is not"
            " installed.",
            hint=f"pip install {error.name}, or pass --db a sqlite:/// URL.",
        ) from None
    opened = Opened(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        path = Path(database)
        if read_only:
            engine.dispose()
            opened = Opened(_existing_read_only(path, where), read_only=True)
        elif engine.url.query:  # a URI with options of its own: opened as it says
            _create_file(path, where)
        elif cannot_write(path):
            engine.dispose()
            opened = Opened(read_only_engine(path), read_only=True)
        else:
            _create_file(path, where)
            opened = Opened(engine, file=database)
    if opened.engine.dialect.name == "sqlite":
        # A read-only store is read as it is: WAL and the rest are a writer's settings.
        pragmas = sqlite_pragmas()[-1:] if opened.read_only else sqlite_pragmas()

        @event.listens_for(opened.engine, "connect")
        def _pragmas(dbapi_connection: Any, record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in pragmas:
                cursor.execute(pragma)
            cursor.close()

    translate_faults(opened.engine, where)
    return opened


def _existing_read_only(path: Path, where: str) -> Engine:
    if not path.is_file():
        raise ConfigError(
            f"There is no store at {where} yet.",
            hint="Run portal sync (or portal sync --demo to try it) first, or pass --home or"
            " --db the store you mean.",
        )
    return read_only_engine(path)


def _create_file(path: Path, where: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Create a new store readable by its owner only; SQLite gives its -wal and -shm
        # files the same permissions. An existing file keeps the ones it has.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as error:
        raise ConfigError(
            f"Cannot create the store at {where} ({error.strerror}).",
            hint="Pass --home or --db a folder you can write to.",
        ) from None


def cannot_write(path: Path) -> bool:
    """Whether an existing SQLite file can only be read here (it, or its folder, is not
    writable: SQLite writes its journal files beside the database)."""
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def read_only_engine(path: Path) -> Engine:
    """An engine reading the SQLite file at ``path`` without ever writing to it."""
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False)
        try:
            connection.execute("PRAGMA schema_version").fetchone()
        except sqlite3.OperationalError:
            # A reader of a WAL store needs its -shm file. Where no program has the store
            # open the file is gone, and in a folder this user cannot write it cannot be
            # made: then nothing is writing the store either, and the file can be read as
            # it stands.
            connection.close()
            connection = sqlite3.connect(f"{uri}&immutable=1", uri=True, check_same_thread=False)
        return connection

    return create_engine(f"sqlite:///{path}", creator=connect)


def store_fault(error: BaseException, where: str) -> StoreError | None:
    """The clear error for a database failure that is about the store itself, or None.

    ``error`` is a ``sqlite3`` error, one SQLAlchemy wraps, or the writer process's
    (same class and text); ``where`` is the store's URL as it may be shown.
    """
    original = getattr(error, "orig", None) or error
    if not isinstance(original, sqlite3.Error):
        return _unreachable(original, where)
    code = getattr(original, "sqlite_errorname", "") or ""
    text = str(original).lower()
    if code.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return StoreBusy(
            f"The store at {where} is in use by another portal (or program) that is writing to it.",
            hint="Wait for it to finish, or close it, then run the command again.",
        )
    if code.startswith("SQLITE_READONLY") or "readonly database" in text:
        return read_only(where)
    if code.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or (
        "malformed" in text or "not a database" in text
    ):
        return corrupt(where, str(original))
    return None


def _unreachable(error: BaseException, where: str) -> StoreError | None:
    """The clear error for a database server that refused or dropped the connection."""
    # psycopg's OperationalError: no server there, a wrong password or database name, the
    # server gone mid-command. libpq's text names the host, port, user and database only.
    kind = type(error)
    if not (kind.__module__.startswith("psycopg") and kind.__name__ == "OperationalError"):
        return None
    reason = str(error).strip().splitlines()[0] if str(error).strip() else kind.__name__
    return StoreError(
        f"Cannot reach the store at {where}: {reason.rstrip('.')}.",
        hint="Check that the database server is running and the URL's host, port, user,"
        " password and database name, or pass --db another store.",
    )


def read_only(where: str) -> StoreReadOnly:
    """The error for a command that has to write to a read-only store."""
    return StoreReadOnly(
        f"The store at {where} is read-only (the file or its folder is not writable), and this"
        " command has to write to it.",
        hint="Make both writable by you (chmod u+w), or pass --db a store you can write;"
        " portal status and portal export work on a read-only store.",
    )


def corrupt(where: str, found: str) -> StoreCorrupt:
    """The error for a store that is not a SQLite database, or is damaged."""
    return StoreCorrupt(
        f"The store at {where} is not a SQLite database, or it is damaged ({found}).",
        hint="Restore it from a backup, or move it aside and run portal sync to fetch"
        " everything again (or pass --db another store).",
    )


@contextmanager
def faults(where: str) -> Iterator[None]:
    """Raise ``store_fault``'s clear error in place of a raw ``sqlite3`` one."""
    try:
        yield
    except sqlite3.Error as error:
        fault = store_fault(error, where)
        if fault is None:
            raise
        raise fault from None


def translate_faults(engine: Engine, where: str) -> None:
    """Raise ``store_fault``'s clear error in place of SQLAlchemy's, on every path of ``engine``."""

    @event.listens_for(engine, "handle_error")
    def _translate(context: Any) -> None:
        fault = store_fault(context.original_exception, where)
        if fault is not None:
            raise fault from None


def quick_check(engine: Engine, where: str) -> None:
    """Raise ``StoreCorrupt`` unless SQLite's ``PRAGMA quick_check`` finds the file sound.

    For the commands that read everything anyway (status, export): it reads every page
    once, without checking that indexes match their tables (that is ``integrity_check``).
    """
    with engine.connect() as db:
        found = [row[0] for row in db.exec_driver_sql("PRAGMA quick_check(3)")]
    if found != ["ok"]:
        raise corrupt(where, "; ".join(str(f) for f in found))
