"""The local store: SQLite by default (any SQLAlchemy URL), written in batched upserts.

Every delivered batch, its raw payloads, its rejections and the cursor that produced it
are committed in one transaction, so a sync killed at any point leaves the store at the
end of some page, never between a page's records and its cursor. Upserts are keyed by
the stable portal id and only touch a row whose raw payload changed, so a re-sync of
unchanged data leaves every row, ``fetched_at`` included, exactly as it was.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

import orjson
import platformdirs
from pydantic_core import to_jsonable_python
from sqlalchemy import (
    JSON,
    Date,
    Engine,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine
from sqlmodel import SQLModel

from portal import store_open, store_schema
from portal.batch import Batch
from portal.errors import ConfigError
from portal.hookspecs import hookimpl
from portal.provider import Quota
from portal.record.model import Entity
from portal.record.tables import TABLES, Connection, RawItem, Rejection, SyncCursor
from portal.record.types import DecimalText, UTCDateTime
from portal.record.vocab import Category
from portal.search import ensure_search_index
from portal.store_history import ensure_history, keep_withdrawn_postgres, keep_withdrawn_sqlite
from portal.store_quota import take_sync_slot
from portal.store_writer import Statement, Unsendable, WriterFailed, WriterProcess, execute
from portal.understand.tables import HistoryStart, RecordVersion, Understood

log = logging.getLogger(__name__)


_PREPARED_LIMIT = 8
"""Prepared batches a store keeps for ``commit`` (the engine has at most a few in flight
per provider; one never committed is dropped once this many more were prepared)."""

WRITER_PROCESS_AFTER = 2_000
"""Records and raw payloads a store commits in its own process before it hands its SQLite
writes to a writer process (``portal.store_writer``): a sync that has come this far is
a long one, and a re-sync with nothing new never pays for the child's start."""

WRITER_PROCESS_CHOICES = ("auto", "always", "never")


def _process_after(choice: str | None) -> int | None:
    """How many records a store writes itself before its writer process takes over."""
    choice = choice or os.environ.get("PORTAL_WRITER_PROCESS") or "auto"
    if choice not in WRITER_PROCESS_CHOICES:
        raise ConfigError(
            f"PORTAL_WRITER_PROCESS is {choice!r}, which is not one of"
            f" {', '.join(WRITER_PROCESS_CHOICES)}.",
            hint="Leave it unset (auto) unless the writer process is in the way.",
        )
    return {"auto": WRITER_PROCESS_AFTER, "always": 0, "never": None}[choice]


def default_home() -> Path:
    """Where portal keeps its store and vault unless told otherwise."""
    return Path(platformdirs.user_data_dir("portal", appauthor=False))


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path}"


def home_folder(home: Path | None = None) -> Path:
    """The portal home: ``home``, else ``$PORTAL_HOME``, else ``default_home()``."""
    return home or Path(os.environ.get("PORTAL_HOME") or default_home())


def store_url(home: Path, db: str | None = None) -> str:
    """The store's URL: ``db``, else ``$PORTAL_DB``, else ``portal.db`` in ``home``."""
    return db or os.environ.get("PORTAL_DB") or sqlite_url(home / "portal.db")


def _table(model: type[SQLModel]) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


class Store:
    """The customer record on disk, and the engine's bookkeeping beside it."""

    def __init__(
        self, url: str, *, writer_process: str | None = None, read_only: bool = False
    ) -> None:
        """Open (creating if need be) the store at ``url``; with ``read_only``, only read it.

        ``writer_process`` says when a SQLite file store hands its writes to a writer
        process (``portal.store_writer``): ``auto`` once it has committed
        ``WRITER_PROCESS_AFTER`` records and raw payloads itself, ``always``, or ``never``.
        It defaults to ``$PORTAL_WRITER_PROCESS``, or else ``auto``.
        """
        self.url = store_open.masked_url(url)
        """Where the store is, as it may be shown (any password masked)."""
        self._statements: dict[tuple[str, _Kind], Any] = {}
        self._writers: dict[tuple[str, _Kind], _Writer] = {}
        self._process_after = _process_after(writer_process)
        self._process: WriterProcess | None = None
        self._lock = threading.Lock()  # the writer process, and the prepared batches
        self._committed = 0
        self._prepared: dict[int, tuple[Batch, list[Statement]]] = {}
        self._categories: dict[str, str] | None = None
        opened = store_open.open_engine(url, self.url, read_only=read_only)
        self.engine: Engine = opened.engine
        self.read_only = opened.read_only or read_only
        self._file = opened.file
        self._sqlite = self.engine.dialect.name == "sqlite"
        self.migrated: store_schema.Migrated | None = None
        """What opening did to the store's schema (None: nothing)."""
        if self.read_only:  # read as it stands: never migrated, refused if it has to be
            store_schema.check(self.engine, self.url, unwritable=not read_only)
            return
        try:
            self.migrated = store_schema.prepare(self.engine, self.url, self._file)
            # Batch migrations copy tables, which drops their triggers: made again here.
            with self.engine.begin() as db:
                ensure_search_index(db)
                ensure_history(db)
        except SQLAlchemyError as error:
            raise ConfigError(
                f"Cannot open the store at {self.url}: {error.__class__.__name__}.",
                hint="Check the path exists and is writable, or pass another --db.",
            ) from None

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def tells_changes(self) -> bool:
        """Whether a commit says which records were new and which changed (``Batch.stored``):
        SQLite's, from its own counts; other databases' say nothing."""
        return self._sqlite

    def writable(self) -> None:
        """Raise ``StoreReadOnly`` if the store can only be read: call before writing."""
        if self.read_only:
            raise store_open.read_only(self.url)

    def check(self) -> None:
        """Raise ``StoreCorrupt`` if SQLite finds the store damaged (``PRAGMA quick_check``).

        For commands that read the whole store anyway; it costs a read of every page.
        """
        if self._sqlite:
            store_open.quick_check(self.engine, self.url)

    def close(self) -> None:
        """Release the database connections (and stop the writer process, if one runs)."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            process.close()
        self.engine.dispose()

    # -- writing -----------------------------------------------------------------------

    def prepare(self, batch: Batch) -> None:
        """Turn ``batch`` into what ``commit`` will write, ahead of committing it.

        For SQLite only (elsewhere SQLAlchemy converts as it writes): the engine calls it in
        the normalising thread, so that turning records into rows (a fifth of a sync's
        Python) overlaps with committing the batch before. ``commit`` takes the rows (a
        batch prepared and never committed is forgotten once ``_PREPARED_LIMIT`` more have
        been); their ``rejected_at`` and ``updated_at`` are the time of preparing.
        """
        if self._sqlite:
            statements = self._statements_of(batch)
            with self._lock:
                if len(self._prepared) >= _PREPARED_LIMIT:
                    self._prepared.pop(next(iter(self._prepared)))
                self._prepared[id(batch)] = (batch, statements)

    def _take_prepared(self, batch: Batch) -> list[Statement] | None:
        with self._lock:
            prepared = self._prepared.pop(id(batch), None)
        if prepared is None or prepared[0] is not batch:
            return None
        return prepared[1]

    def _statements_of(self, batch: Batch) -> list[Statement]:
        return self._sqlite_statements(self._writes(batch))

    def _sqlite_statements(self, writes: list[_Write]) -> list[Statement]:
        return [self._writer(table, kind).statement(rows) for table, kind, rows in writes]

    def _write_here(self, db: DBConnection, writes: list[_Write]) -> None:
        """Run ``writes`` on ``db``, in its transaction, in this process."""
        if self._sqlite:
            raw = db.connection.dbapi_connection
            with store_open.faults(self.url):
                execute(raw, self._sqlite_statements(writes))  # type: ignore[arg-type]
        else:
            for table, conflict, rows in writes:
                db.execute(self._statement(table, conflict), rows)

    def commit(self, batch: Batch) -> None:
        """Write one batch and its cursor in a single transaction."""
        self.writable()
        with store_open.faults(self.url):  # the raw connection's, or the writer process's
            self._commit(batch)

    def _commit(self, batch: Batch) -> None:
        if not self._sqlite:
            with self.engine.begin() as db:
                self._write_here(db, self._writes(batch))
            return
        # SQLite: each statement written once and given plain values (SQLAlchemy's
        # executemany builds and processes a parameter dict per row, which cost more than
        # SQLite's own work). The columns' own conversions (exact decimals, UTC timestamps,
        # JSON) still turn every value into what is stored, so the bytes are the same.
        statements = self._take_prepared(batch)
        if statements is None:
            statements = self._statements_of(batch)
        process = self._writer_process(len(batch.records) + len(batch.raws))
        counted = self._counted()
        counts = None
        if process is not None:
            try:
                counts = process.commit(statements, list(counted))
            except Unsendable:
                pass  # a value the pipe does not carry (none of portal's own): written here
            except WriterFailed:
                self._forget(process)
                raise
        if counts is None:
            with self.engine.begin() as db:
                raw = db.connection.dbapi_connection
                counts = execute(raw, statements, list(counted))  # type: ignore[arg-type]
        for table, count in counts.items():
            batch.stored[counted[table]] = count

    def _counted(self) -> dict[str, str]:
        """The record tables, quoted as in the statements, and their record categories."""
        if self._categories is None:
            quote = self.engine.dialect.identifier_preparer.quote
            # Plain str (not SQLAlchemy's quoted_name): they go through marshal's pipe.
            self._categories = {
                str(quote(_table(model).name)): entity.category.value
                for entity, model in TABLES.items()
            }
        return self._categories

    def write_in(self, db: DBConnection, batch: Batch) -> None:
        """Write ``batch`` inside ``db``'s open transaction, in this process.

        For work that must land whole however many batches it has (an import): the caller
        opens the transaction on ``self.engine`` and commits or rolls back once.
        """
        self._write_here(db, self._writes(batch))

    def _writes(self, batch: Batch) -> list[_Write]:
        """What committing ``batch`` writes: each table's rows, and what a conflict does."""
        now = datetime.now(UTC)
        writes: list[_Write] = []
        if batch.raws:
            raws: list[Mapping[str, Any]] = [
                {
                    "id": r.id,
                    "provider": batch.provider,
                    "stream": r.stream,
                    "connection_id": batch.connection_id,
                    "fetched_at": batch.fetched_at,
                    "payload": r.payload,
                }
                for r in batch.raws
            ]
            writes.append((_table(RawItem), _KEEP, raws))
        # SQLite's writer reads each record's validated values straight from the model;
        # other databases get SQLAlchemy's rows of JSON-ready values.
        row = _fields if self._sqlite else _row
        by_table: dict[type[SQLModel], list[Mapping[str, Any]]] = {}
        for record in batch.records:
            by_table.setdefault(TABLES[type(record)], []).append(row(record))
        for model, rows in by_table.items():
            table = _table(model)
            writes.append((table, _CHANGED_OR_FILLED if "state" in table.c else _CHANGED_RAW, rows))
        if batch.records:
            # A step of the understanding layer that marked a moment after this batch was
            # stamped, while the batch waited to be committed (another process's sync, an
            # import's one transaction), would never read it: its mark comes back to just
            # before the batch's rows, in their own transaction (portal.understand).
            # (The earliest stamp of the batch's rows: the engine stamps them all with the
            # batch's, but a record may carry its own.)
            stamps = (r.fetched_at for r in batch.records if r.fetched_at is not None)
            earliest = min(stamps, default=batch.fetched_at)
            just_before = min(earliest, batch.fetched_at) - timedelta(microseconds=1)
            key = "through" if self._sqlite else _Lowering.MARK
            writes.append((_table(Understood), _LOWER_MARKS, [{key: just_before}]))
        if batch.rejections:
            rejections: list[Mapping[str, Any]] = [
                {
                    "raw_id": r.raw_id,
                    "provider": batch.provider,
                    "stream": r.stream,
                    "reason": r.reason,
                    "rejected_at": now,
                }
                for r in batch.rejections
            ]
            writes.append((_table(Rejection), _CHANGED_REASON, rejections))
        # After the records: an item withdrawn and served again in the same page stays gone
        # only if the provider says so, and a page never says both.
        by_category = {entity.category: model for entity, model in TABLES.items()}
        gone: dict[type[SQLModel], list[Mapping[str, Any]]] = {}
        for category, record_id in batch.withdrawn:
            gone.setdefault(by_category[Category(category)], []).append({"id": record_id})
        for model, ids in gone.items():
            # Kept as their last version first (portal.store_history): nothing is lost.
            writes.append((_table(model), _KEEP_WITHDRAWN, ids))
            writes.append((_table(model), _DELETE, ids))
        if batch.cursor is not None:
            cursor = {
                "connection_id": batch.connection_id,
                "stream": batch.stream,
                "provider": batch.provider,
                "value": batch.cursor.model_dump(mode="json"),
                "updated_at": now,
            }
            writes.append((_table(SyncCursor), _REPLACE, [cursor]))
        return writes

    @property
    def writer_process(self) -> WriterProcess | None:
        """The writer process this store's commits go to now, if it has one."""
        return self._process

    def _writer_process(self, records: int) -> WriterProcess | None:
        """The writer process, started once this store has committed enough itself."""
        if self._file is None or self._process_after is None:
            return None
        with self._lock:
            if self._process is None:
                if self._committed < self._process_after:
                    self._committed += records
                    return None
                try:
                    self._process = WriterProcess(self._file, store_open.sqlite_pragmas())
                except OSError as error:  # no process to be had: the store writes itself
                    log.warning("Cannot start the store's writer process: %s", error)
                    self._process_after = None
                    return None
            return self._process

    def _forget(self, process: WriterProcess) -> None:
        """Stop using a writer process that failed; the next commit may start another."""
        with self._lock:
            if self._process is process:
                self._process, self._committed = None, 0
        process.close(timeout=1.0)

    def _statement(self, table: Table, conflict: _Kind) -> Any:
        key = (table.name, conflict)
        if key not in self._statements:
            self._statements[key] = conflict.statement(table, self.engine.dialect.name)
        return self._statements[key]

    def _writer(self, table: Table, conflict: _Kind) -> _Writer:
        key = (table.name, conflict)
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers[key] = _Writer.of(table, conflict, self.engine.dialect)
        return writer

    # -- connections -------------------------------------------------------------------

    def connection(self, provider: str) -> Connection | None:
        """The connection to ``provider``, if there is one."""
        with self.engine.connect() as db:
            row = db.execute(
                select(_table(Connection)).where(_table(Connection).c.provider == provider)
            ).first()
        return None if row is None else Connection.model_validate(row._asdict())

    def connections(self) -> list[Connection]:
        """Every connection, by provider name."""
        with self.engine.connect() as db:
            rows = db.execute(select(_table(Connection)).order_by(_table(Connection).c.provider))
            return [Connection.model_validate(r._asdict()) for r in rows]

    def save_connection(self, connection: Connection) -> None:
        """Create or update a connection."""
        self.writable()
        with self.engine.begin() as db:
            self._write_here(db, [(_table(Connection), _REPLACE, [connection.model_dump()])])

    def set_status(self, connection: Connection, status: str) -> None:
        """Change a connection's status (connected, needs_reconnect)."""
        self.writable()
        connection.status = status
        table = _table(Connection)
        with self.engine.begin() as db:
            db.execute(update(table).where(table.c.id == connection.id).values(status=status))

    def take_sync_slot(self, provider: str, quota: Quota) -> datetime | None:
        """Count a sync of ``provider`` against its quota: None, or when the next is possible
        (``portal.store_quota``)."""
        self.writable()
        return take_sync_slot(self.engine, provider, quota, datetime.now(UTC))

    def record_sync(self, connection: Connection, outcome: str) -> None:
        """Note when a connection last synced and how it went."""
        self.writable()
        connection.last_sync_at = datetime.now(UTC)
        connection.last_sync_status = outcome
        table = _table(Connection)
        with self.engine.begin() as db:
            db.execute(
                update(table)
                .where(table.c.id == connection.id)
                .values(last_sync_at=connection.last_sync_at, last_sync_status=outcome)
            )
            if outcome == "ok":  # the first complete sync is where its history starts
                starts = _table(HistoryStart)
                dialect = postgresql if db.dialect.name == "postgresql" else sqlite
                start = {"provider": connection.provider, "started_at": connection.last_sync_at}
                db.execute(dialect.insert(starts).values(start).on_conflict_do_nothing())

    def delete_connection(self, connection: Connection, *, delete_data: bool = False) -> None:
        """Forget a connection and its cursors; with ``delete_data``, every record it brought,
        and every earlier version of them (``record_versions``): what the person asks to be
        deleted is deleted, history included.

        Other providers' rows are untouched; all of it happens in one transaction.
        """
        self.writable()
        with self.engine.begin() as db:
            if delete_data:
                models: list[type[SQLModel]] = [*TABLES.values(), RawItem, Rejection]
                models += [RecordVersion, HistoryStart]
                for model in models:
                    table = _table(model)
                    db.execute(delete(table).where(table.c.provider == connection.provider))
            cursors = _table(SyncCursor)
            db.execute(delete(cursors).where(cursors.c.connection_id == connection.id))
            connections = _table(Connection)
            db.execute(delete(connections).where(connections.c.id == connection.id))

    def cursors(self, connection_id: str) -> dict[str, dict[str, Any]]:
        """The committed cursors of a connection, by stream."""
        table = _table(SyncCursor)
        with self.engine.connect() as db:
            rows = db.execute(
                select(table.c.stream, table.c.value).where(table.c.connection_id == connection_id)
            )
            return {stream: value for stream, value in rows}

    # -- reading -----------------------------------------------------------------------

    def counts(self) -> dict[str, dict[str, int]]:
        """How many rows each provider has in each entity table, and its rejections."""
        result: dict[str, dict[str, int]] = {}
        tables = [(_table(m).name, _table(m)) for m in TABLES.values()]
        tables.append(("rejections", _table(Rejection)))
        with self.engine.connect() as db:
            for name, table in tables:
                query = select(table.c.provider, func.count()).group_by(table.c.provider)
                for provider, count in db.execute(query):
                    result.setdefault(provider, {})[name] = count
        return result

    def rows(self, entity: type[Entity], provider: str | None = None) -> Iterator[dict[str, Any]]:
        """Every row of an entity's table (optionally one provider's), streamed in id order."""
        table = _table(TABLES[entity])
        query = select(table).order_by(table.c.id)
        if provider is not None:
            query = query.where(table.c.provider == provider)
        with self.engine.connect() as db:
            streamed = db.execution_options(stream_results=True, yield_per=1000).execute(query)
            # Closed however the reader stops: on PostgreSQL the cursor is the server's, and
            # one left open holds its snapshot until it is collected (and warns then).
            with streamed:
                for row in streamed:
                    yield row._asdict()

    def rejections(self, provider: str | None = None) -> list[dict[str, Any]]:
        """The rejected raw items, with their reasons."""
        table = _table(Rejection)
        query = select(table).order_by(table.c.rejected_at)
        if provider is not None:
            query = query.where(table.c.provider == provider)
        with self.engine.connect() as db:
            return [r._asdict() for r in db.execute(query)]


def _row(record: Entity) -> dict[str, Any]:
    # JSON columns need JSON-ready values (nested models, enums); the rest keep their
    # Python types so the column types (exact decimals, UTC timestamps) can do their work.
    # The validated values are read from the model's __dict__ rather than through
    # model_dump: a record's columns are its fields, and two dumps per record were a tenth
    # of a sync's time.
    row = {name: record.__dict__[name] for name in _columns(type(record))}
    for name in _json_fields(type(record)):
        row[name] = to_jsonable_python(row[name])
    return row


def _fields(record: Entity) -> Mapping[str, Any]:
    # A record's columns are its fields: SQLite's writer picks them out of its __dict__
    # itself, and makes JSON columns JSON-ready as it converts them.
    return record.__dict__


_COLUMNS: dict[type[Entity], tuple[str, ...]] = {}


def _columns(entity: type[Entity]) -> tuple[str, ...]:
    if entity not in _COLUMNS:
        _COLUMNS[entity] = tuple(c.name for c in _table(TABLES[entity]).columns)
    return _COLUMNS[entity]


_JSON_FIELDS: dict[type[Entity], tuple[str, ...]] = {}


def _json_fields(entity: type[Entity]) -> tuple[str, ...]:
    if entity not in _JSON_FIELDS:
        table = _table(TABLES[entity])
        _JSON_FIELDS[entity] = tuple(c.name for c in table.columns if _is_json(c.type))
    return _JSON_FIELDS[entity]


def _is_json(kind: TypeEngine[Any]) -> bool:
    return isinstance(kind, JSON)


def _converter(
    kind: TypeEngine[Any], dialect: Dialect, timestamps: _UTCText
) -> Callable[[Any], Any] | None:
    """How a non-null value of a column becomes what SQLite stores (None: as it is).

    ``timestamps`` converts timestamps, one for all the timestamp columns of a statement.
    """
    if isinstance(kind, UTCDateTime):
        return timestamps.column()  # the type's own conversion, without SQLAlchemy's wrappers
    if isinstance(kind, DecimalText):
        return DecimalText.bind
    if type(kind) is String:  # a vocabulary code, a StrEnum: its text, as SQLite binds it
        return str.__str__
    if isinstance(kind, Date):
        return _date_text
    process = kind.bind_processor(dialect)
    if process is not None and _is_json(kind):
        serialise = process
        return lambda value: _json_text(value) or serialise(to_jsonable_python(value))
    return process


def _date_text(value: date) -> str:
    """A date as ``sqlite3``'s default adapter writes it (and SQLAlchemy's SQLite DATE)."""
    return value.isoformat(" ") if isinstance(value, datetime) else value.isoformat()


# Values orjson would write in its own way go through ``default`` (pydantic's conversion)
# instead: datetimes, dataclasses, subclasses of str, int, dict and list.
_PASSTHROUGH = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _json_text(value: Any) -> str | None:
    """A JSON column's text as orjson writes it, or None where its value could differ.

    The value read back is the value SQLAlchemy's own ``json.dumps`` of the JSON-ready
    value gives; only the spacing and the escaping of non-ASCII text differ. Measured on a
    Demo Bank transaction's ``extra``: 0.9 µs against 6, which had been the largest part
    of turning a record into a row (7% of the time a sync of 100,000 held the GIL). Not
    taken (None) where orjson refuses (integers beyond 64 bits, a lone surrogate, keys
    that are not strings, a value pydantic cannot convert either), or writes ``null``
    (which it also writes for NaN and infinities, where ``json.dumps`` keeps them): the
    caller then converts as before.
    """
    try:
        text = orjson.dumps(value, default=to_jsonable_python, option=_PASSTHROUGH)
    except orjson.JSONEncodeError:
        return None
    return None if b"null" in text else text.decode()


class _UTCText:
    """``UTCDateTime.bind`` for the timestamp columns of one statement, remembering answers.

    A batch's rows share one ``fetched_at`` object, and a booking's value date (another
    column, another object) is often its booking date: each column answers the object it
    converted last without a lookup, and the columns share what they have converted.

    Aware datetimes that compare equal are the same instant, hence the same UTC text, with
    one exception: two in the same zone compare their wall times and ignore ``fold``, so
    01:30 before and after the clocks go back are "equal". ``fold`` is part of the key.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._known: dict[tuple[datetime, int], str] = {}

    def column(self) -> Callable[[datetime], str]:
        """The conversion for one column."""
        known = self._known
        last: datetime | None = None  # the object this column converted last...
        last_text = ""  # ...and its text

        def convert(value: datetime) -> str:
            nonlocal last, last_text
            if value is last:
                return last_text
            key = (value, value.fold)
            text = known.get(key)
            if text is None:
                text = UTCDateTime.bind(value)
                if len(known) >= self.LIMIT:
                    known.clear()
                known[key] = text
            last, last_text = value, text
            return text

        return convert


@dataclass(frozen=True)
class _Conflict:
    """What an insert does with a row whose key is already stored.

    ``update=False`` keeps the stored row; ``update=True`` replaces its other columns, or
    only when ``changed_when`` differs (a record whose raw payload changed), or when the
    stored row lacks the ``filled`` column that the new one has: a column added since the
    home was written (``state``) reaches the rows synced before it, though the provider
    never changes them.
    """

    update: bool
    changed_when: str | None = None
    filled: str | None = None

    def statement(self, table: Table, dialect: str) -> Any:
        """The statement as SQLAlchemy builds it, for databases other than SQLite."""
        insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        if not self.update:
            return insert.on_conflict_do_nothing()
        keys = [c.name for c in table.primary_key.columns]
        values = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
        where = None
        if self.changed_when is not None:
            where = table.c[self.changed_when] != insert.excluded[self.changed_when]
        if where is not None and self.filled is not None:
            lacking = table.c[self.filled].is_(None), insert.excluded[self.filled].is_not(None)
            where = or_(where, and_(*lacking))
        return insert.on_conflict_do_update(index_elements=keys, set_=values, where=where)

    def sqlite(self, table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """The SQL text SQLAlchemy compiles ``statement`` to for SQLite, and its columns.

        Written out directly: compiling through SQLAlchemy took 1 to 2 ms per table, and a
        sync touches fifteen tables, a fifth of a re-sync with nothing new. A test holds
        the text to SQLAlchemy's, table by table.
        """
        quote = dialect.identifier_preparer.quote
        name = quote(table.name)
        names = tuple(c.name for c in table.columns)
        columns = ", ".join(quote(n) for n in names)
        # Names from portal's own schema, quoted as SQLAlchemy quotes them; values are bound.
        sql = f"INSERT INTO {name} ({columns}) VALUES ({', '.join('?' * len(names))})"  # noqa: S608
        if not self.update:
            return f"{sql} ON CONFLICT DO NOTHING", names
        keys = [c.name for c in table.primary_key.columns]
        values = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names if n not in keys)
        sql += f" ON CONFLICT ({', '.join(quote(k) for k in keys)}) DO UPDATE SET {values}"
        if self.changed_when is not None:
            changed = quote(self.changed_when)
            sql += f" WHERE {name}.{changed} != excluded.{changed}"
            if self.filled is not None:
                filled = quote(self.filled)
                sql += f" OR {name}.{filled} IS NULL AND excluded.{filled} IS NOT NULL"
        return sql, names


@dataclass(frozen=True)
class _Deletion:
    """Rows deleted by their key (records the provider withdrew), in place of an insert."""

    def statement(self, table: Table, dialect: str) -> Any:
        """The statement as SQLAlchemy builds it, for databases other than SQLite."""
        return delete(table).where(table.c.id == bindparam("id"))

    def sqlite(self, table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """``DELETE ... WHERE id IN (VALUES (?))``: ``store_writer`` widens the ``VALUES``
        to many rows as it does an insert's."""
        name = dialect.identifier_preparer.quote(table.name)
        return f"DELETE FROM {name} WHERE id IN (VALUES (?))", ("id",)  # noqa: S608


@dataclass(frozen=True)
class _Keeping:
    """The rows about to be deleted (withdrawn), kept in ``record_versions`` first."""

    def statement(self, table: Table, dialect: str) -> Any:
        """The statement for databases other than SQLite (one ``:id`` per row)."""
        return keep_withdrawn_postgres(table)

    def sqlite(self, table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """``INSERT INTO record_versions SELECT ... WHERE id IN (VALUES (?))``, widened as a
        deletion is."""
        return keep_withdrawn_sqlite(table, dialect), ("id",)


class _Lowering:
    """Marks of ``understood`` brought back to a row's ``through`` where they are later."""

    MARK = "mark"
    """The parameter's name in SQLAlchemy's statement (a column's own name is reserved)."""

    def statement(self, table: Table, dialect: str) -> Any:
        """The statement as SQLAlchemy builds it, for databases other than SQLite."""
        mark = bindparam(self.MARK, type_=table.c.through.type)
        return update(table).where(table.c.through > mark).values(through=mark)

    def sqlite(self, table: Table, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        """``UPDATE ... SET through = ? WHERE through > ?``, both the row's ``through``
        (fixed-width UTC text: later sorts after)."""
        name = dialect.identifier_preparer.quote(table.name)
        sql = f"UPDATE {name} SET through = ? WHERE through > ?"  # noqa: S608
        return sql, ("through", "through")


_Kind = _Conflict | _Deletion | _Keeping | _Lowering
"""What a write does: inserts (and what a conflict does), deletions, versions kept before a
deletion, or marks lowered."""

_Write = tuple[Table, _Kind, list[Mapping[str, Any]]]
"""One table's rows, and what to do with a row whose key is already stored (or delete it)."""

_KEEP = _Conflict(update=False)
_REPLACE = _Conflict(update=True)
_CHANGED_RAW = _Conflict(update=True, changed_when="raw_id")
_CHANGED_OR_FILLED = _Conflict(update=True, changed_when="raw_id", filled="state")
"""For records with a state: homes from before states gain it on the next sync."""
_CHANGED_REASON = _Conflict(update=True, changed_when="reason")
_DELETE = _Deletion()
_KEEP_WITHDRAWN = _Keeping()
_LOWER_MARKS = _Lowering()


@dataclass
class _Writer:
    """A statement written for SQLite, and how to turn rows into what it stores."""

    sql: str
    width: int
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    conversions: tuple[tuple[int, Callable[[Any], Any]], ...]

    @classmethod
    def of(cls, table: Table, conflict: _Kind, dialect: Dialect) -> _Writer:
        sql, names = conflict.sqlite(table, dialect)
        timestamps = _UTCText()
        conversions = tuple(
            (index, convert)
            for index, name in enumerate(names)
            if (convert := _converter(table.c[name].type, dialect, timestamps)) is not None
        )
        get = itemgetter(*names)
        pick = get if len(names) > 1 else lambda row: (get(row),)
        return cls(sql, len(names), pick, conversions)

    def values(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        """The statement's parameters for one row, converted as the columns store them."""
        values = self.pick(row)
        if not self.conversions:
            return values
        converted = list(values)
        for index, convert in self.conversions:
            if converted[index] is not None:
                converted[index] = convert(converted[index])
        return tuple(converted)

    def statement(self, rows: Sequence[Mapping[str, Any]]) -> Statement:
        """The statement and every row's parameters, for ``portal.store_writer.execute``."""
        return self.sql, self.width, [self.values(row) for row in rows]


class StoreDestination:
    """The store as a ``deliver`` plugin, registered by default for every sync."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @hookimpl
    def prepare_delivery(self, batch: Batch) -> None:
        """Turn the batch's records into rows while the batch before is committed."""
        self.store.prepare(batch)

    @hookimpl
    def deliver(self, batch: Batch) -> None:
        """Commit the batch and its cursor in one transaction."""
        self.store.commit(batch)
