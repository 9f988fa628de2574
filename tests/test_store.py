"""The store: exact values on disk, idempotent upserts, batch and cursor in one transaction."""

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.dialects import sqlite

from conftest import connect
from portal.app import Portal
from portal.batch import Batch, RawPayload, RejectedItem
from portal.provider import Cursor
from portal.record import State, Transaction
from portal.record.ids import portal_id
from portal.store import Store, sqlite_url
from portal_bank.sandbox import BankSandbox


class Position(Cursor):
    page: int


def _batch(n: int, *, page: int, amount: str = "1.10", amounts: list[str] | None = None) -> Batch:
    records = []
    raws = []
    for i in range(n):
        if amounts is not None:
            amount = amounts[i]
        raw_id = f"raw-{i}-{amount}"
        raws.append(RawPayload(raw_id, "transactions", "{}"))
        t = Transaction(
            provider_id=f"t{i}",
            account_id="a",
            booked_at=datetime(2026, 1, 1, tzinfo=UTC),
            amount=amount,
            balance_after=-Decimal(amount) if amounts else None,
            currency="GBP",
            status="Booked",
            status_label="Booked",
            state=State.booked,
            description="x",
        )
        t.id, t.provider, t.raw_id = portal_id("bank", "transactions", f"t{i}"), "bank", raw_id
        t.fetched_at = datetime.now(UTC)
        records.append(t)
    return Batch(
        "bank",
        "c1",
        "transactions",
        datetime.now(UTC),
        records,
        raws,
        [RejectedItem("raw-bad", "transactions", "no amount")],
        Position(page=page),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(sqlite_url(tmp_path / "portal.db"))


def test_sqlite_store_uses_wal(store: Store, tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "portal.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_the_store_checkpoints_and_spills_as_measured_best(store: Store) -> None:
    with store.engine.connect() as db:
        pragma = db.connection.dbapi_connection.execute  # type: ignore[union-attr]
        assert pragma("PRAGMA wal_autocheckpoint").fetchone() == (10000,)
        assert pragma("PRAGMA cache_spill").fetchone() == (2000,)  # on, at 2,000 pages


def test_batch_round_trips_exact_values_and_cursor(store: Store) -> None:
    store.commit(_batch(3, page=1, amount="0.10"))
    rows = list(store.rows(Transaction))
    assert len(rows) == 3
    assert {r["amount"] for r in rows} == {Decimal("0.10")}
    assert all(r["booked_at"].tzinfo is not None for r in rows)
    assert store.cursors("c1") == {"transactions": {"page": 1}}
    assert store.counts() == {"bank": {"transactions": 3, "rejections": 1}}


def test_resending_a_batch_changes_nothing(store: Store, tmp_path: Path) -> None:
    store.commit(_batch(3, page=1))
    first = list(store.rows(Transaction))
    store.commit(_batch(3, page=1))
    assert list(store.rows(Transaction)) == first


def test_a_changed_item_is_updated_in_place(store: Store) -> None:
    store.commit(_batch(2, page=1, amount="1.00"))
    store.commit(_batch(2, page=2, amount="2.00"))
    rows = list(store.rows(Transaction))
    assert len(rows) == 2 and {r["amount"] for r in rows} == {Decimal("2.00")}
    assert store.cursors("c1") == {"transactions": {"page": 2}}


def test_a_home_from_before_states_gains_the_column_and_keeps_what_it_synced(
    tmp_path: Path,
) -> None:
    Store(sqlite_url(tmp_path / "portal.db")).commit(_batch(2, page=1))
    with sqlite3.connect(tmp_path / "portal.db") as db:  # as a portal without states wrote it
        db.execute("DROP INDEX ix_transactions_currency_booked")  # (nor its index over them)
        db.execute("DROP TRIGGER history_v1_transactions_changed")  # (nor kept history)
        db.execute("ALTER TABLE transactions DROP COLUMN state")
        db.execute("DROP TABLE alembic_version")  # ...before schema versions
        for table in _understanding_tables():  # ...and before the understanding layer
            db.execute(f'DROP TABLE "{table}"')
        db.execute("DROP TABLE sync_starts")  # ...and before quotas (revision 0011)
        db.execute("DROP TABLE preferences")  # ...and before control (revision 0012)
        db.execute("DROP TABLE asked_changes")
        db.execute("DROP TABLE receipts")  # ...and before receipts (revision 0013)
    store = Store(sqlite_url(tmp_path / "portal.db"))
    before = list(store.rows(Transaction))
    assert len(before) == 2 and {r["state"] for r in before} == {None}
    assert {r["amount"] for r in before} == {Decimal("1.10")}
    store.commit(_batch(2, page=2))  # the next sync: the same items, unchanged at the bank
    assert {r["state"] for r in store.rows(Transaction)} == {"booked"}
    assert {r["amount"] for r in store.rows(Transaction)} == {Decimal("1.10")}


def _understanding_tables() -> list[str]:
    """The tables revisions 0004 and later make, which a home from before them lacks."""
    from sqlmodel import SQLModel

    from portal.understand import tables

    return [
        v.__tablename__
        for v in vars(tables).values()
        if isinstance(v, type) and issubclass(v, SQLModel) and hasattr(v, "__table__")
    ]


def test_a_failed_batch_leaves_records_and_cursor_untouched(store: Store) -> None:
    store.commit(_batch(2, page=1))
    bad = _batch(3, page=2, amount="3.00")
    bad.raws[-1] = None  # type: ignore[call-overload]  # breaks the insert half-way through
    with pytest.raises(AttributeError):
        store.commit(bad)
    assert {r["amount"] for r in store.rows(Transaction)} == {Decimal("1.10")}
    assert store.cursors("c1") == {"transactions": {"page": 1}}


def test_an_unusable_url_is_a_clear_error(tmp_path: Path) -> None:
    from portal.errors import ConfigError

    with pytest.raises(ConfigError, match="not a database URL"):
        Store("nonsense://")


def test_a_new_home_and_store_are_private_to_their_owner(tmp_path: Path) -> None:
    from portal.app import Portal

    home = tmp_path / "home"
    with Portal.open(home=home) as portal:
        portal.store.counts()
    assert home.stat().st_mode & 0o777 == 0o700
    for name in ("portal.db", "portal.db-wal"):
        if (home / name).exists():
            assert (home / name).stat().st_mode & 0o077 == 0, name
    assert (home / "portal.db").stat().st_mode & 0o777 == 0o600


def _varied(n: int) -> Batch:
    """Transactions with every kind of value a column holds: text beyond ASCII, nulls,
    exact amounts, JSON extras, and local times either side of the clocks going back."""
    from zoneinfo import ZoneInfo

    london = ZoneInfo("Europe/London")
    records, raws = [], []
    for i in range(n):
        raw_id = f"raw-{i}"
        raws.append(RawPayload(raw_id, "transactions", f'{{"n":{i},"text":"caf\\u00e9 {i}"}}'))
        # Pairs of the same wall time, before (fold 0) and after (fold 1) the change.
        booked = datetime(2024, 10, 27, 1, (i // 2) % 60, tzinfo=london, fold=i % 2)
        t = Transaction(
            provider_id=f"t{i}",
            account_id="a",
            booked_at=booked,
            value_at=None if i % 3 else booked,
            amount=f"-{i}.{i % 100:02d}",
            currency="GBP",
            status="Booked",
            status_label="Booked",
            description=f"Café «{i}» 😀",
            reference=None if i % 5 else f"ref '{i}\"",
            extra={"note": f"naïve {i}", "nested": {"list": [i, None, True]}} if i % 4 else {},
        )
        t.id, t.provider, t.raw_id = portal_id("bank", "transactions", f"t{i}"), "bank", raw_id
        t.fetched_at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
        records.append(t)
    return Batch(
        "bank", "c1", "transactions", datetime.now(UTC), records, raws, [], Position(page=1)
    )


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, each value with the type SQLite stored it as."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dumped = {}
        for table in tables:
            if table == "cursors":
                continue  # its updated_at is the moment of the commit
            if table.startswith("search_index_"):
                continue  # FTS5's segments, laid out by statement: search_index holds its text
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            typed = ", ".join(f'"{c}", typeof("{c}")' for c in columns)
            dumped[table] = db.execute(f'SELECT {typed} FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608
    return dumped


def test_multi_row_statements_store_exactly_what_row_by_row_inserts_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy

    import portal.store_writer

    batch = _varied(1234)  # two full statements of 500 rows and a remainder
    Store(sqlite_url(tmp_path / "many.db")).commit(batch)

    # SQLite built to allow fewer parameters per statement: 99 // 25 columns = 3 rows each.
    few = Store(sqlite_url(tmp_path / "few.db"))
    few.engine.dispose()
    listen = sqlalchemy.event.listens_for(few.engine, "connect")
    listen(lambda connection, _: connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 99))
    few.commit(batch)

    monkeypatch.setattr(portal.store_writer, "ROWS_PER_STATEMENT", 1)  # executemany, row by row
    Store(sqlite_url(tmp_path / "one.db")).commit(batch)

    expected = _dump(tmp_path / "one.db")
    assert len(expected["transactions"]) == len(expected["raw_items"]) == 1234
    assert _dump(tmp_path / "many.db") == expected
    assert _dump(tmp_path / "few.db") == expected


def test_times_either_side_of_the_clocks_going_back_keep_their_own_instant(store: Store) -> None:
    # 01:30 before and after the clocks go back compare equal in Python (same zone, wall
    # time), yet they are an hour apart: the store must not mistake one for the other.
    batch = _varied(4)
    store.commit(batch)
    stored = {r["provider_id"]: r["booked_at"] for r in store.rows(Transaction)}
    assert batch.records[0].booked_at == batch.records[1].booked_at
    assert stored["t0"].isoformat() == "2024-10-27T00:00:00+00:00"  # 01:00 BST, fold 0
    assert stored["t1"].isoformat() == "2024-10-27T01:00:00+00:00"  # 01:00 GMT, fold 1
    assert stored["t2"].isoformat() == "2024-10-27T00:01:00+00:00"
    assert stored["t3"].isoformat() == "2024-10-27T01:01:00+00:00"


def test_sqlite_statements_are_the_text_sqlalchemy_compiles_for_every_table() -> None:
    # The store writes its SQLite statements out itself rather than compiling them (a
    # fifth of a re-sync); they must stay what SQLAlchemy would run, table by table.
    from sqlmodel import SQLModel

    from portal.store import _Conflict

    dialect = sqlite.dialect()
    tables = SQLModel.metadata.sorted_tables
    assert len(tables) >= 17
    conflicts = [_Conflict(update=False), _Conflict(update=True)]
    for table in tables:
        keys_only = all(column.primary_key for column in table.c)  # nothing to update
        kinds = conflicts[:1] if keys_only else [*conflicts]
        if "raw_id" in table.c:
            kinds.append(_Conflict(update=True, changed_when="raw_id"))
        if "state" in table.c:
            kinds.append(_Conflict(update=True, changed_when="raw_id", filled="state"))
        if "reason" in table.c:
            kinds.append(_Conflict(update=True, changed_when="reason"))
        for conflict in kinds:
            compiled = conflict.statement(table, "sqlite").compile(dialect=dialect)
            sql, names = conflict.sqlite(table, dialect)
            assert sql == str(compiled), (table.name, conflict)
            assert names == tuple(compiled.positiontup or ()), (table.name, conflict)


def test_json_columns_read_back_what_json_dumps_of_the_value_would_give(store: Store) -> None:
    # The store writes JSON columns with orjson where that gives the same value back, and
    # as SQLAlchemy would (json.dumps of pydantic's JSON-ready value) everywhere else.
    import dataclasses
    import enum
    import json

    from pydantic_core import to_jsonable_python

    class Colour(enum.Enum):
        red = "red"

    @dataclasses.dataclass
    class Point:
        x: int
        at: datetime

    when = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    extras = [
        {"plain": "text", "n": 3, "ok": True, "list": [1, "two", [3]], "deep": {"a": {"b": {}}}},
        {"unicode": "café 😀 «»", "control": "tab\there\nline", "quote": 'say "hi"\\'},
        {"floats": [0.1, -0.0, 1e16, 2.5e-300, 123456.789]},
        {"nan": float("nan"), "inf": [float("inf"), float("-inf")]},
        {"null": None, "nullable": "annulled"},
        {"big": 2**64, "low": -(2**63) - 1},
        {"when": when, "day": when.date(), "amount": Decimal("1.10"), "colour": Colour.red},
        {"point": Point(1, when), "tuple": (1, 2), "set": {3}},
        {"surrogate": "\ud800"},
        {"nested": {1: "int key", "s": "str key"}},
    ]
    records, raws = [], []
    for i, extra in enumerate(extras):
        t = Transaction(
            provider_id=f"j{i}",
            account_id="a",
            booked_at=when,
            amount="1.00",
            currency="GBP",
            status="Booked",
            status_label="Booked",
            description="d",
            extra=extra,
        )
        t.id, t.provider, t.raw_id = portal_id("bank", "transactions", f"j{i}"), "bank", f"r{i}"
        t.connection_id, t.fetched_at = "c1", when
        records.append(t)
        raws.append(RawPayload(f"r{i}", "transactions", "{}"))
    store.commit(Batch("bank", "c1", "transactions", when, records, raws, [], None))

    stored = {r["provider_id"]: r["extra"] for r in store.rows(Transaction)}
    for i, extra in enumerate(extras):
        expected = json.loads(json.dumps(to_jsonable_python(extra)))
        assert repr(stored[f"j{i}"]) == repr(expected), extra
    assert stored["j3"]["nan"] != stored["j3"]["nan"]  # NaN, not null
    assert stored["j5"]["big"] == 2**64
    assert stored["j6"]["when"] == "2026-03-29T01:30:00Z"  # pydantic's text, not orjson's
    assert stored["j9"] == {"nested": {"1": "int key", "s": "str key"}}


def test_timestamp_columns_share_conversions_but_never_mix_up_instants() -> None:
    # One statement's timestamp columns share what they converted: a value date equal to
    # its booking date is converted once, yet 01:30 before and after the clocks go back
    # (equal in Python) stay an hour apart, whichever column met one of them first.
    from zoneinfo import ZoneInfo

    from portal.store import _UTCText

    london = ZoneInfo("Europe/London")
    first = datetime(2024, 10, 27, 1, 30, tzinfo=london, fold=0)
    second = first.replace(fold=1)
    assert first == second
    timestamps = _UTCText()
    booked, value = timestamps.column(), timestamps.column()
    assert booked(first) == "2024-10-27T00:30:00.000000+00:00"
    assert value(second) == "2024-10-27T01:30:00.000000+00:00"
    assert value(first) == booked(first) == "2024-10-27T00:30:00.000000+00:00"
    assert booked(second) == "2024-10-27T01:30:00.000000+00:00"
    same = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert booked(same) is booked(same) and value(same) == "2026-01-02T03:04:05.000006+00:00"


def test_withdrawn_records_are_deleted_with_their_page_and_their_raw_payloads_kept(
    store: Store,
) -> None:
    from portal.record import Category
    from portal.record.tables import TABLES
    from portal.store import _DELETE, _table

    store.commit(_batch(5, page=1))
    ids = [portal_id("bank", "transactions", f"t{i}") for i in range(5)]
    gone = Batch(
        "bank", "c1", "transactions", datetime.now(UTC), cursor=Position(page=2),
        withdrawn=[(Category.transactions, ids[1]), (Category.transactions, ids[3])],
    )  # fmt: skip
    store.commit(gone)
    assert sorted(r["provider_id"] for r in store.rows(Transaction)) == ["t0", "t2", "t4"]
    assert store.cursors("c1") == {"transactions": {"page": 2}}
    with store.engine.connect() as db:
        assert db.exec_driver_sql("SELECT count(*) FROM raw_items").scalar() == 5
    # Other databases run SQLAlchemy's statement instead of the store's SQLite text: the same
    # rows go, and no others.
    table = _table(TABLES[Transaction])
    with store.engine.begin() as db:
        db.execute(_DELETE.statement(table, "sqlite"), [{"id": ids[0]}, {"id": ids[4]}])
    assert [r["provider_id"] for r in store.rows(Transaction)] == ["t2"]


def test_amounts_sort_compare_and_sum_as_numbers_in_sql(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    [result] = portal.sync()
    assert result.ok
    exact = list(portal.store.rows(Transaction))
    assert len(exact) > 1000
    with sqlite3.connect(str(portal.store.engine.url.database)) as db:
        ordered = [a for (a,) in db.execute('SELECT amount FROM "transactions" ORDER BY amount')]
        # As numbers (972.03 after 82.40 after 8.62), each the stored Decimal to the digit.
        assert [_decimal(a) for a in ordered] == sorted(r["amount"] for r in exact)
        assert {type(a) for a in ordered} <= {int, float}
        [(large,)] = db.execute('SELECT count(*) FROM "transactions" WHERE amount > 100')
        assert large == sum(1 for r in exact if r["amount"] > 100) > 0
        sums = db.execute('SELECT currency, SUM(amount) FROM "transactions" GROUP BY currency')
        for currency, total in sums:
            expected = sum(r["amount"] for r in exact if r["currency"] == currency)
            assert Decimal(repr(total)).quantize(Decimal("0.01")) == expected  # GBP: pence


def _decimal(number: float) -> Decimal:
    return Decimal(repr(number)) if isinstance(number, float) else Decimal(number)


EDGES = [
    "0",
    "-0.01",
    "0.000000001",
    "59.90",
    "123456789012.345",
    "99999999999999.9",
    "12345678901234.500",
    "9223372036854775807",
    "-9223372036854775807",
    "1E+20",
    "-0.000",
]


@pytest.mark.parametrize("writer", ["never", "always"])
def test_edge_values_come_back_exactly_as_integers_or_reals(tmp_path: Path, writer: str) -> None:
    batch = _batch(len(EDGES), page=1, amounts=EDGES)
    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process=writer)
    store.commit(batch)
    if writer == "always":
        assert store.writer_process is not None
    by_id = {r["provider_id"]: r for r in store.rows(Transaction)}
    for i, amount in enumerate(EDGES):
        assert by_id[f"t{i}"]["amount"] == Decimal(amount)
        assert by_id[f"t{i}"]["balance_after"] == -Decimal(amount)
    store.close()
    with sqlite3.connect(tmp_path / "portal.db") as db:
        stored = db.execute('SELECT typeof(amount), amount FROM "transactions"').fetchall()
    assert {kind for kind, _ in stored} == {"integer", "real"}
    assert ("integer", 9223372036854775807) in stored and ("real", 1e-09) in stored


def test_a_value_the_store_cannot_keep_exactly_is_refused_before_it_is_stored() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as error:
        _batch(1, page=1, amount="1234567890.123456")  # 16 significant digits
    assert "amount" in str(error.value) and "more significant digits" in str(error.value)
