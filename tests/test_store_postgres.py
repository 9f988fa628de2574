"""The store on a real PostgreSQL server: the demo synced there through the real ``portal``
CLI holds what a SQLite store of the same demo holds, with money as exact ``NUMERIC`` that
sorts and sums in SQL, moments as ``TIMESTAMP WITH TIME ZONE``, and the URL's password never
shown.

One server for the run (``postgres`` in conftest), one demo synced into it and one into
SQLite for this module; the tests only read them, except the re-sync, which must change
nothing anyway.
"""

import gc
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import JSON, create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import pg
from portal.cli import ExitCode, cli
from portal.record import Transaction
from portal.record.tables import TABLES
from portal.record.types import DecimalText, UTCDateTime
from portal.store import Store, sqlite_url

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Demo:
    """The demo synced twice over: into PostgreSQL and into SQLite."""

    url: str
    """The PostgreSQL store's URL, password and all."""
    home: Path
    """The home (vault) of the PostgreSQL sync."""
    sqlite: str
    """The SQLite store's URL."""
    synced: str
    """What ``portal sync --demo`` printed as it synced into PostgreSQL."""


def portal(home: Path, *args: str) -> tuple[int, str]:
    """Run ``portal --home HOME ARGS`` as a person would; its exit code and all it printed."""
    result = CliRunner().invoke(
        cli, ["--home", str(home), *args], env={"PORTAL_VAULT": "file"}, catch_exceptions=False
    )
    return result.exit_code, result.stdout + result.stderr


def secret(url: str) -> str | None:
    """The password in ``url``, if it has one."""
    return make_url(url).password


@pytest.fixture(scope="module")
def demo(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo synced by ``portal sync --demo`` into a new PostgreSQL database and into
    SQLite, each with a home of its own."""
    root = tmp_path_factory.mktemp("demo")
    with pg.database(postgres, "portal_demo") as url:
        code, synced = portal(root / "pg", "--db", url, "sync", "--demo")
        assert code == ExitCode.OK, synced
        code, said = portal(root / "sqlite", "sync", "--demo", "--quiet")
        assert code == ExitCode.OK, said
        yield Demo(url, root / "pg", sqlite_url(root / "sqlite" / "portal.db"), synced)


@pytest.fixture
def db(demo: Demo) -> Iterator[psycopg.Connection]:
    """A plain psycopg connection to the PostgreSQL store (SQL as a person would write it)."""
    plain = make_url(demo.url).set(drivername="postgresql")  # libpq's URL: no +driver
    with psycopg.connect(plain.render_as_string(hide_password=False)) as connection:
        yield connection


def column_types(db: psycopg.Connection) -> dict[tuple[str, str], str]:
    rows = db.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = current_schema()"
    )
    return {(table, column): kind for table, column, kind in rows}


def columns_of(kind: type) -> list[tuple[str, str]]:
    return [
        (table.name, column.name)
        for table in SQLModel.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, kind)
    ]


def test_every_category_holds_as_many_records_as_a_sqlite_store_of_the_same_demo(
    demo: Demo,
) -> None:
    on_postgres, on_sqlite = Store(demo.url, read_only=True), Store(demo.sqlite, read_only=True)
    try:
        counts = on_postgres.counts()
        assert counts == on_sqlite.counts()
        assert set(counts) == {"bank", "utility", "telco", "retailer"}
        assert counts["bank"]["transactions"] > 1000
    finally:
        on_postgres.close()
        on_sqlite.close()


def test_money_and_quantities_are_numeric_and_moments_timestamptz(
    db: psycopg.Connection,
) -> None:
    kinds = column_types(db)
    exact, moments = columns_of(DecimalText), columns_of(UTCDateTime)
    assert ("transactions", "amount") in exact and ("usage", "quantity") in exact
    assert ("transactions", "booked_at") in moments
    assert {column: kinds[column] for column in exact} == dict.fromkeys(exact, "numeric")
    assert {column: kinds[column] for column in moments} == dict.fromkeys(
        moments, "timestamp with time zone"
    )


def test_a_records_nested_values_are_jsonb(db: psycopg.Connection) -> None:
    kinds = column_types(db)
    nested = [
        (table.name, column.name)
        for model in TABLES.values()
        for table in [model.__table__]  # type: ignore[attr-defined]
        for column in table.columns
        if isinstance(column.type, JSON)
    ]
    assert ("transactions", "extra") in nested and ("bills", "lines") in nested
    assert {column: kinds[column] for column in nested} == dict.fromkeys(nested, "jsonb")
    # ... which PostgreSQL's JSON operators query, e.g. the bank's transaction codes.
    [(card_payments,)] = db.execute(
        'SELECT count(*) FROM transactions WHERE extra @> \'{"ProprietaryBankTransactionCode": {"Code": "POS"}}\''
    )
    assert card_payments > 100


def test_amounts_sort_as_numbers_in_sql(db: psycopg.Connection, demo: Demo) -> None:
    amounts = [row[0] for row in db.execute("SELECT amount FROM transactions ORDER BY amount")]
    assert all(isinstance(amount, Decimal) for amount in amounts)
    assert amounts == sorted(amounts)
    sqlite = Store(demo.sqlite, read_only=True)
    try:
        # The same values (PostgreSQL keeps their scale too, "-1450.00"; SQLite the value).
        kept = sorted(row["amount"] for row in sqlite.rows(Transaction))
    finally:
        sqlite.close()
    assert amounts == kept


def test_sums_are_exact(db: psycopg.Connection, demo: Demo) -> None:
    summed = dict(db.execute("SELECT currency, SUM(amount) FROM transactions GROUP BY currency"))
    sqlite = Store(demo.sqlite, read_only=True)
    expected: dict[str, Decimal] = {}
    try:
        for row in sqlite.rows(Transaction):
            expected[row["currency"]] = expected.get(row["currency"], Decimal(0)) + row["amount"]
    finally:
        sqlite.close()
    assert summed == expected
    assert all(total.as_tuple().exponent == -2 for total in summed.values())  # pence kept


def test_a_summer_card_payment_at_10_20_reads_back_as_the_same_instant(
    db: psycopg.Connection, demo: Demo
) -> None:
    found = db.execute(
        "SELECT id, booked_at, to_char(booked_at AT TIME ZONE 'UTC', 'HH24:MI')"
        ' FROM transactions WHERE extra @> \'{"ProprietaryBankTransactionCode": {"Code": "POS"}}\''
        " AND to_char(booked_at AT TIME ZONE 'Europe/London', 'HH24:MI') = '10:20'"
        " AND extract(month FROM booked_at AT TIME ZONE 'Europe/London') BETWEEN 5 AND 9"
        " ORDER BY booked_at LIMIT 1"
    ).fetchone()
    assert found is not None, "the demo has a 10:20 card payment in a summer month"
    record_id, booked, in_utc = found
    assert in_utc == "09:20"  # British Summer Time is UTC+1
    assert booked.astimezone(LONDON).strftime("%H:%M %Z") == "10:20 BST"
    stores = Store(demo.url, read_only=True), Store(demo.sqlite, read_only=True)
    try:
        [[on_postgres], [on_sqlite]] = [
            [r for r in store.rows(Transaction, "bank") if r["id"] == record_id] for store in stores
        ]
    finally:
        for store in stores:
            store.close()
    assert on_postgres["booked_at"] == on_sqlite["booked_at"] == booked
    assert on_postgres["booked_at"].utcoffset().total_seconds() == 0  # read back in UTC
    assert on_postgres["booked_at"].tzinfo == UTC


def fingerprint(db: psycopg.Connection) -> dict[str, str]:
    """Each record table's rows, with the transaction that last wrote each (``xmin``)."""
    tables = [
        table.name
        for table in SQLModel.metadata.sorted_tables
        # A sync's own bookkeeping, the understanding layer's marks (moved every run), and
        # the receipt of the grant each --demo sync's connect obtains.
        if table.name not in ("connections", "cursors", "understood", "receipts")
    ]
    return {
        table: db.execute(
            f"SELECT md5(coalesce(string_agg(t.xmin::text || t::text, '|' ORDER BY t::text), '')) FROM \"{table}\" t"  # noqa: S608
        ).fetchone()[0]
        for table in tables
    }


def test_a_resync_with_nothing_new_changes_nothing(db: psycopg.Connection, demo: Demo) -> None:
    before = fingerprint(db)
    db.rollback()  # no snapshot held across the sync
    code, said = portal(demo.home, "--db", demo.url, "sync", "--demo", "--quiet")
    assert code == ExitCode.OK, said
    assert fingerprint(db) == before


def test_sync_status_and_export_work_and_never_show_the_password(
    demo: Demo, tmp_path: Path
) -> None:
    masked = make_url(demo.url).render_as_string(hide_password=True)
    assert f"Store: {masked}" in demo.synced.replace("\n", "")
    code, status = portal(demo.home, "--db", demo.url, "status")
    assert code == ExitCode.OK, status
    with create_engine(demo.sqlite).connect() as sqlite_db:  # the same demo, in SQLite
        count = sqlite_db.execute(text("SELECT count(*) FROM transactions")).scalar_one()
    assert count > 1000 and "bank" in status and str(count) in status
    code, exported = portal(demo.home, "--db", demo.url, "export", "--out", str(tmp_path / "x"))
    assert code == ExitCode.OK, exported
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"]["transactions.jsonl"]["records"] == count
    first = json.loads(
        (tmp_path / "x" / "transactions.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    assert Decimal(first["amount"]) and datetime.fromisoformat(first["booked_at"]).tzinfo
    password = secret(demo.url)
    if password:
        assert password not in demo.synced + status + exported
        for file in (tmp_path / "x").iterdir():
            assert password not in file.read_text(encoding="utf-8")


def test_a_store_that_cannot_be_reached_is_a_clear_error_that_never_shows_the_password(
    demo: Demo, tmp_path: Path
) -> None:
    missing = make_url(demo.url).set(database="portal_no_such_db")
    code, said = portal(
        tmp_path, "-v", "--db", missing.render_as_string(hide_password=False), "status"
    )
    assert code == ExitCode.CONFIG, said
    masked = missing.render_as_string(hide_password=True)
    assert f"Error: Cannot reach the store at {masked}: " in said
    assert 'database "portal_no_such_db" does not exist' in said
    assert "Check that the database server is running" in said
    password = secret(demo.url)
    assert not password or password not in said


def test_a_reader_that_stops_early_leaves_no_cursor_open(demo: Demo) -> None:
    store = Store(demo.url, read_only=True)
    try:
        rows = store.rows(Transaction)
        assert next(rows)["id"]
        rows.close()  # a page that shows the first rows only
    finally:
        store.close()
    gc.collect()  # an open server-side cursor warns as it is collected (an error here)
