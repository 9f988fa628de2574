"""Does writing random-keyed indexes in key order pay? SQLite alone, on rows shaped like portal's.

    python benchmarks/index_order.py [--rows 600000] [--merge 50000]

portal's store has two random-keyed indexes: raw payloads by SHA-256 digest, records by
portal id (a UUIDv5). Each page of a sync lands on pages of both indexes all over the
file, and at a million rows those are rarely in SQLite's page cache. This compares, with
the store's pragmas and 1,000 rows a transaction:

- ``direct``: each batch upserted into the indexed tables, as portal does now;
- ``staged``: each batch appended to unindexed staging tables (still one transaction per
  batch), then every ``--merge`` rows moved into the indexed tables in key order, so each
  index insert goes to the page after the last one.

Both must end with the same tables (their digests are printed). Only SQLite's work is
timed, not making the rows. The figures are in ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

BATCH = 1000
COLUMNS = 18
"""Text columns of a transaction beyond id, provider, raw_id, account_id and booked_at."""
PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "wal_autocheckpoint=10000", "cache_spill=4000")
"""The store's own (``portal.store.Store``)."""

RAW = "INSERT INTO {} VALUES (?, ?, ?, ?, ?, ?)"
TRANSACTION = "INSERT INTO {} VALUES (" + ", ".join("?" * (COLUMNS + 5)) + ")"  # noqa: S608
UPSERT = (
    " ON CONFLICT(id) DO UPDATE SET raw_id = excluded.raw_id, booked_at = excluded.booked_at, "
    + ", ".join(f"c{i} = excluded.c{i}" for i in range(COLUMNS))
    + " WHERE tx.raw_id != excluded.raw_id"
)


def create(path: Path) -> sqlite3.Connection:
    """A fresh database with the two tables, their indexes and unindexed staging copies."""
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        db.execute(f"PRAGMA {pragma}")
    columns = ", ".join(f"c{i} TEXT" for i in range(COLUMNS))
    db.execute(
        "CREATE TABLE raw_items (id TEXT NOT NULL PRIMARY KEY, provider TEXT, stream TEXT,"
        " connection_id TEXT, fetched_at TEXT, payload TEXT)"
    )
    db.execute("CREATE INDEX ix_raw_items_provider ON raw_items (provider)")
    db.execute(
        "CREATE TABLE tx (id TEXT NOT NULL PRIMARY KEY, provider TEXT, raw_id TEXT,"
        f" account_id TEXT, booked_at TEXT, {columns})"
    )
    for column in ("provider", "booked_at", "account_id"):
        db.execute(f"CREATE INDEX ix_tx_{column} ON tx ({column})")
    db.execute("CREATE TABLE stage_raw AS SELECT * FROM raw_items WHERE 0")
    db.execute("CREATE TABLE stage_tx AS SELECT * FROM tx WHERE 0")
    return db


def batch(number: int, ids: random.Random) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Batch ``number``: raw payloads keyed by digest, transactions keyed by a random UUID."""
    raws: list[tuple[str, ...]] = []
    transactions: list[tuple[str, ...]] = []
    for i in range(number * BATCH, (number + 1) * BATCH):
        raw_id = hashlib.sha256(str(i).encode()).hexdigest()
        raws.append((raw_id, "bank", "transactions:a", "c1", "2026-01-01T00:00:00", "x" * 700))
        values = [f"value {j} of {i}" for j in range(COLUMNS)]
        key = str(uuid.UUID(int=ids.getrandbits(128)))
        transactions.append((key, "bank", raw_id, f"account {i % 2}", f"{i:012d}", *values))
    return raws, transactions


def merge(db: sqlite3.Connection) -> None:
    """Move the staged rows into the indexed tables in key order, in one transaction."""
    db.execute("BEGIN")
    # "WHERE true": SQLite needs it to tell ON CONFLICT from a join's ON after a SELECT.
    db.execute(
        "INSERT INTO raw_items SELECT * FROM stage_raw WHERE true ORDER BY id"
        " ON CONFLICT DO NOTHING"
    )
    db.execute("INSERT INTO tx SELECT * FROM stage_tx WHERE true ORDER BY id" + UPSERT)  # noqa: S608
    db.execute("DELETE FROM stage_raw")
    db.execute("DELETE FROM stage_tx")
    db.execute("COMMIT")


def run(mode: str, rows: int, every: int, workdir: Path) -> tuple[float, str]:
    """Seconds of SQLite's work for ``rows`` rows written the ``mode`` way, and a digest."""
    db = create(workdir / f"{mode}.db")
    ids = random.Random(2026)
    seconds = 0.0
    for number in range(rows // BATCH):
        raws, transactions = batch(number, ids)
        started = time.perf_counter()
        db.execute("BEGIN")
        if mode == "direct":
            db.executemany(RAW.format("raw_items") + " ON CONFLICT DO NOTHING", raws)
            db.executemany(TRANSACTION.format("tx") + UPSERT, transactions)
        else:
            db.executemany(RAW.format("stage_raw"), raws)
            db.executemany(TRANSACTION.format("stage_tx"), transactions)
        db.execute("COMMIT")
        if mode == "staged" and ((number + 1) * BATCH % every == 0 or number == rows // BATCH - 1):
            merge(db)
        seconds += time.perf_counter() - started
    digest = hashlib.sha256()
    for table in ("raw_items", "tx"):
        for row in db.execute(f"SELECT * FROM {table} ORDER BY id"):  # noqa: S608 - our names
            digest.update(repr(row).encode())
    db.close()
    return seconds, digest.hexdigest()


def main(argv: list[str] | None = None) -> None:
    """Run both ways and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=600_000, help="rows (default: %(default)s)")
    parser.add_argument(
        "--merge", type=int, default=50_000, help="staged rows per merge (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    print("| way | rows | seconds | µs per row | tables' digest |")
    print("| --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory(prefix="portal-index-order-") as scratch:
        for mode in ("direct", "staged"):
            seconds, digest = run(mode, args.rows, args.merge, Path(scratch))
            print(
                f"| {mode} | {args.rows:,} | {seconds:.1f} | {seconds / args.rows * 1e6:.1f}"
                f" | {digest[:16]} |"
            )
            os.sync()  # the first way's writes are not left for the second to wait on


if __name__ == "__main__":
    main()
