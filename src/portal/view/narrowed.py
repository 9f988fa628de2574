"""A store narrowed to some providers and to records since a day, for ``portal report``.

One mechanism for every page, present and future: rather than each page filtering by
provider and date (and one forgetting to), the report copies the rows the person asked
for into a private temporary store and renders every page over that. A page's counts,
sums, charts and lists then all agree with each other and with what was asked.

What is kept:

- **--provider**: the rows of those providers, in every table that has a provider
  (records, connections, rejections, cursors);
- **--since**: dated records from that day on (the start of the day in this machine's time
  zone), by the moment that dates each kind of record (``DATED_BY``); records that are
  not events (personal details, accounts, permissions, what they do with the data) and
  records whose date is unknown are all kept;
- raw payloads are never copied: the report shows records, not the payloads behind them.
"""

from __future__ import annotations

import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Select, Table, insert, inspect, or_, select
from sqlmodel import SQLModel

from portal.record.model import (
    Account,
    Balance,
    Bill,
    Consent,
    Document,
    Entity,
    Inference,
    Party,
    Payee,
    Processing,
    Product,
    Purchase,
    RecurringPayment,
    Transaction,
    Usage,
)
from portal.record.tables import TABLES, RawItem
from portal.record.types import UTCDateTime
from portal.store import Store, sqlite_url

DATED_BY: dict[type[Entity], str | None] = {
    Party: None,
    Account: None,
    Product: None,  # a tariff or plan: it applies until it ends, whenever it began
    Balance: "as_of",
    Transaction: "booked_at",
    Purchase: "purchased_at",
    Bill: "period_end",  # a bill covering any day of the window
    Usage: "started_at",
    RecurringPayment: None,  # an arrangement, not an event
    Consent: None,  # where a permission stands now matters whatever its date
    Processing: None,
    Inference: "derived_at",
    Document: "issued_on",
    Payee: None,
}
"""For each entity, the field whose day decides whether ``--since`` keeps a record (None:
every record is kept). Every entity is named, so a new one needs a decision here."""

_CHUNK = 1000


@contextmanager
def narrowed(
    store: Store, providers: frozenset[str] | None = None, since: date | None = None
) -> Iterator[Store]:
    """``store`` itself when nothing is narrowed; else a temporary copy holding only the
    rows of ``providers`` and the dated records from ``since`` on, removed afterwards.

    The copy lives in a folder only this user can open (``tempfile`` makes it 0700) and is
    deleted when the block ends, however it ends.
    """
    if providers is None and since is None:
        yield store
        return
    with tempfile.TemporaryDirectory(prefix="portal-report-") as folder:
        copy = Store(sqlite_url(Path(folder) / "narrowed.db"), writer_process="never")
        try:
            _copy(store, copy, providers, since)
            yield copy
        finally:
            copy.close()


def _copy(
    source: Store, target: Store, providers: frozenset[str] | None, since: date | None
) -> None:
    file = _sqlite_file(source)
    if file is not None and target.engine.dialect.name == "sqlite":
        _copy_within_sqlite(source, file, target, providers, since)
        return
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table, query in _queries(source, providers, since):
            rows = reading.execution_options(stream_results=True, yield_per=_CHUNK).execute(query)
            for chunk in rows.partitions(_CHUNK):
                writing.execute(insert(table), [row._asdict() for row in chunk])


def _copy_within_sqlite(
    source: Store, file: Path, target: Store, providers: frozenset[str] | None, since: date | None
) -> None:
    # SQLite copies the rows itself (INSERT ... SELECT from the store attached read-only):
    # no row passes through Python, about ten times faster than the general path.
    uri = "file:" + urllib.parse.quote(str(file.resolve())) + "?mode=ro"
    with target.engine.connect() as db:
        db.exec_driver_sql("ATTACH DATABASE ? AS source", (uri,))
        try:
            for table, query in _queries(source, providers, since, schema="source"):
                names = [column.name for column in query.selected_columns]
                db.execute(insert(table).from_select(names, query))
            db.commit()
        finally:
            db.rollback()  # nothing to undo once committed; SQLite detaches outside one
            db.exec_driver_sql("DETACH DATABASE source")
            db.commit()


def _queries(
    source: Store,
    providers: frozenset[str] | None,
    since: date | None,
    schema: str | None = None,
) -> Iterator[tuple[Table, Select[Any]]]:
    """For each table to copy, the query reading the rows to keep from ``source`` (from its
    tables in ``schema`` when it is attached under that name)."""
    dated = {TABLES[entity].__tablename__: column for entity, column in DATED_BY.items()}
    inspector = inspect(source.engine)
    present = set(inspector.get_table_names())
    elsewhere = MetaData()
    for table in SQLModel.metadata.sorted_tables:
        if table.name == RawItem.__tablename__ or table.name not in present:
            continue
        # A store written by an older portal may lack a newer column: read what it has.
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        origin = table if schema is None else table.to_metadata(elsewhere, schema=schema)
        query = select(*(c for c in origin.columns if c.name in columns))
        if providers is not None and "provider" in columns:
            query = query.where(origin.c.provider.in_(sorted(providers)))
        column = dated.get(table.name)
        if since is not None and column is not None and column in columns:
            moment = origin.c[column]
            query = query.where(or_(moment.is_(None), moment >= _bound(table, column, since)))
        yield table, query


def _sqlite_file(store: Store) -> Path | None:
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _bound(table: Table, column: str, since: date) -> Any:
    if isinstance(table.c[column].type, UTCDateTime):
        # The start of that day where the person is: a payment at 00:30 local time on the
        # day named is in, although it is the evening before in UTC.
        return datetime.combine(since, time.min).astimezone()
    return since
