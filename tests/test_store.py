"""The store: exact values on disk, idempotent upserts, batch and cursor in one transaction."""

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from portal.batch import Batch, RawPayload, RejectedItem
from portal.provider import Cursor
from portal.record import Transaction
from portal.record.ids import portal_id
from portal.store import Store, sqlite_url


class Position(Cursor):
    page: int


def _batch(n: int, *, page: int, amount: str = "1.10") -> Batch:
    records = []
    raws = []
    for i in range(n):
        raw_id = f"raw-{i}-{amount}"
        raws.append(RawPayload(raw_id, "transactions", "{}"))
        t = Transaction(
            provider_id=f"t{i}",
            account_id="a",
            booked_at=datetime(2026, 1, 1, tzinfo=UTC),
            amount=amount,
            currency="GBP",
            status="Booked",
            status_label="Booked",
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
