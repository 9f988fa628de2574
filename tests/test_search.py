"""Search: every record's words in an FTS5 index that the sync keeps, in the same
transaction as the rows, on every path a row is written, changed or withdrawn."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import connect
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.batch import Batch, RawPayload
from portal.provider import Cursor, sandbox_endpoints
from portal.record import ENTITIES, Category, Entity, Transaction
from portal.record.ids import portal_id
from portal.sandbox import Chaos
from portal.search import ensure_search_index, search, searched_fields, text_sql
from portal.store import Store, sqlite_url
from portal_bank.sandbox import BankSandbox
from search_truth import Words, tokens
from search_truth import expected as _expected
from search_truth import words as record_words


def _found(store: Store, words: str) -> set[tuple[Category, str]]:
    everything = search(store.engine, words, list(Category), limit=1_000_000)
    assert sum(everything.counts.values()) == len(everything.hits)
    return {(hit.category, hit.id) for hit in everything.hits}


def assert_index_agrees(database: Path) -> int:
    """The index holds exactly one entry per stored record, with that record's text now;
    returns how many records there are."""
    with sqlite3.connect(database) as db:
        records = 0
        for entity in ENTITIES:
            table = entity.category.value
            rows = {r[0] for r in db.execute(f'SELECT id FROM "{table}"')}  # noqa: S608
            keys = {
                r[0] for r in db.execute("SELECT id FROM search_keys WHERE category = ?", (table,))
            }
            assert keys == rows, table
            text = text_sql(entity, f'"{table}"')
            stale = db.execute(
                f'SELECT count(*) FROM "{table}" JOIN search_keys AS k'  # noqa: S608
                f" ON k.category = '{table}' AND k.id = \"{table}\".id"
                " LEFT JOIN search_index AS s ON s.rowid = k.rowid"
                f" WHERE s.body IS NOT {text}"
            ).fetchone()[0]
            assert stale == 0, table
            records += len(rows)
        assert db.execute("SELECT count(*) FROM search_index").fetchone()[0] == records
        db.execute("INSERT INTO search_index (search_index) VALUES ('integrity-check')")
    return records


@pytest.fixture(scope="module")
def demo_store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def demo_words(demo_store: Store) -> Words:
    """Every demo record's words, read once (the demo store is only read)."""
    return record_words(demo_store)


def test_every_entity_searches_its_words_and_a_transaction_its_description_and_payee() -> None:
    fields = set(searched_fields(Transaction))
    assert {"description", "reference", "counterparty", "merchant_name"} <= fields
    assert not {"amount", "currency", "id", "extra"} & fields
    assert all(searched_fields(entity) for entity in ENTITIES)


def test_the_demo_sync_indexes_every_record_and_nothing_else(demo_home: Path) -> None:
    assert assert_index_agrees(demo_home / "portal.db") > 1000


def test_a_merchant_finds_exactly_the_records_whose_words_start_with_it(
    demo_store: Store, demo_words: Words
) -> None:
    merchants = {row["merchant_name"] for row in demo_store.rows(Transaction)} - {None}
    description = next(iter(demo_store.rows(Transaction)))["description"]
    words = [*sorted(merchants)[:3], description.split()[0], "direct debit"]
    known = demo_words
    for word in words:
        expected = _expected(demo_store, word, known)
        assert expected, word
        assert _found(demo_store, word) == expected, word
        # Any case, and only the start of a word.
        assert _found(demo_store, word.upper()[:4]) == _expected(demo_store, word[:4], known)


@pytest.mark.parametrize(
    "words", ['"NEAR(', "a OR", "AND", '"', "*", "(", "NOT b", "^x", "col:abc", "a'b", "-"]
)
def test_what_a_person_types_is_words_never_query_syntax(
    demo_store: Store, demo_words: Words, words: str
) -> None:
    found = search(demo_store.engine, words, list(Category))
    assert found.available
    if tokens(words):
        expected = _expected(demo_store, words, demo_words)
        assert {(hit.category, hit.id) for hit in found.hits} <= expected
        assert found.total == len(expected)
    else:
        assert found.total == 0


def _write(store: Store, description: str) -> Transaction:
    class Position(Cursor):
        page: int

    t = Transaction(
        provider_id="t1",
        account_id="a",
        booked_at=datetime(2026, 1, 1, tzinfo=UTC),
        amount="-3.20",
        currency="GBP",
        status="Booked",
        status_label="Booked",
        description=description,
    )
    t.id, t.provider, t.raw_id = portal_id("bank", "transactions", "t1"), "bank", description
    raw = RawPayload(description, "transactions", "{}")
    store.commit(Batch("bank", "c1", "transactions", datetime.now(UTC), [t], [raw], []))
    return t


def test_cafe_finds_cafe_with_its_accent_and_the_hit_is_marked(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    _write(store, "Café Nérö, Leeds")
    [hit] = search(store.engine, "cafe nero", [Category.transactions]).hits
    assert hit.snippet == [
        ("Café", True),
        (" ", False),
        ("Nérö", True),
        (", Leeds · Booked", False),
    ]
    assert search(store.engine, "leeds nowhere", [Category.transactions]).total == 0
    store.close()


def test_a_store_made_before_search_gains_a_complete_index_when_opened(
    demo_home: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "portal.db"
    shutil.copy(demo_home / "portal.db", copy)
    with sqlite3.connect(copy) as db:
        triggers = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")]
        for name in triggers:
            db.execute(f'DROP TRIGGER "{name}"')
        db.execute("DROP TABLE search_index")
        db.execute("DROP TABLE search_keys")
    store = Store(sqlite_url(copy))
    with store.engine.begin() as db:
        assert not ensure_search_index(db)  # built once, when opened: now left alone
    store.close()
    assert assert_index_agrees(copy) == assert_index_agrees(demo_home / "portal.db")


def test_a_table_that_lost_its_triggers_has_its_index_built_again(
    demo_home: Path, tmp_path: Path
) -> None:
    # As a migration that rebuilds a table (SQLite's batch mode) leaves it: no triggers,
    # and rows changed without them.
    copy = tmp_path / "portal.db"
    shutil.copy(demo_home / "portal.db", copy)
    with sqlite3.connect(copy) as db:
        for kind in ("insert", "update", "delete"):
            db.execute(f'DROP TRIGGER "search_v1_transactions_{kind}"')
        db.execute("DELETE FROM transactions WHERE rowid % 3 = 0")
        db.execute("UPDATE transactions SET description = 'Renamed shop'")
    Store(sqlite_url(copy)).close()
    assert assert_index_agrees(copy) > 0
    store = Store(sqlite_url(copy), read_only=True)
    assert _found(store, "renamed shop") == _expected(store, "renamed shop")
    store.close()


def _pending(bank: BankSandbox) -> list[dict[str, Any]]:
    return [t for t in bank.ground_truth()["transactions"] if t["Status"] == "Pending"]


def _ids(store: Store, entity: type[Entity], provider_ids: set[str]) -> set[str]:
    return {r["id"] for r in store.rows(entity) if r["provider_id"] in provider_ids}


@pytest.mark.parametrize("writer", ["never", "always"])
def test_a_resync_changes_and_withdraws_index_entries_with_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bank: BankSandbox, writer: str
) -> None:
    # In this process, or in the writer process a long sync hands its writes to.
    monkeypatch.setenv("PORTAL_WRITER_PROCESS", writer)
    with Portal.open(home=tmp_path / "home") as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok, result.error
        store = portal.store
        database = tmp_path / "home" / "portal.db"
        assert (store.writer_process is not None) == (writer == "always")
        pending = _pending(bank)
        was_pending = _ids(store, Transaction, {str(t["TransactionId"]) for t in pending})
        assert was_pending and was_pending <= {key for _, key in _found(store, "pending")}

        bank.move_on("withdraw")  # the earliest pending payment is no longer served
        portal.sync()
        [gone] = was_pending - {row["id"] for row in store.rows(Transaction)}
        assert gone not in {key for _, key in _found(store, "pending")}
        assert _found(store, "pending") == _expected(store, "pending")

        bank.move_on("book")  # every pending payment books: its status text changes
        portal.sync()
        booked = was_pending - {gone}
        assert not booked & {key for _, key in _found(store, "pending")}
        assert _found(store, "booked") == _expected(store, "booked")
        assert assert_index_agrees(database)


@pytest.mark.parametrize("writer", ["never", "always"])
def test_a_sync_killed_midway_leaves_the_index_agreeing_with_the_rows(
    tmp_path: Path, writer: str
) -> None:
    home = tmp_path / "home"
    portal_cmd = str(Path(sys.executable).with_name("portal"))
    with BankSandbox(page_size=25, transactions=400) as bank:
        with Portal.open(home=home) as portal:
            portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
        bank.set_chaos(Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.05))
        env = {
            **os.environ,
            "PORTAL_VAULT": "file",
            "PORTAL_LOAD_PLUGINS": "bank",
            "PORTAL_HOME": str(home),
            "PORTAL_WRITER_PROCESS": writer,
        }
        process = subprocess.Popen(
            [portal_cmd, "sync", "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        database = home / "portal.db"
        deadline = time.monotonic() + 60
        stored = 0
        while stored < 50 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
            with sqlite3.connect(database) as db:
                stored = db.execute("SELECT count(*) FROM transactions").fetchone()[0]
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    with sqlite3.connect(database) as db:
        stored = db.execute("SELECT count(*) FROM transactions").fetchone()[0]
    assert 0 < stored < 400, "the kill did not land midway"
    assert assert_index_agrees(database) >= stored
