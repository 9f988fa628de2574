"""The narrowed store ``portal report --provider/--since`` renders every page over: a private
temporary copy of the demo store holding only what was asked, gone afterwards."""

from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from portal.record import ENTITIES, Transaction
from portal.record.tables import TABLES, RawItem
from portal.store import Store, sqlite_url
from portal.view import narrowed as narrowed_module
from portal.view.narrowed import DATED_BY, narrowed


@pytest.fixture(params=["inside SQLite", "through SQLAlchemy"])
def store(
    demo_home: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    """The demo store, copied inside SQLite (a SQLite file's way) or row by row through
    SQLAlchemy (the way for any other database, e.g. PostgreSQL)."""
    if request.param == "through SQLAlchemy":
        monkeypatch.setattr(narrowed_module, "_sqlite_file", lambda store: None)
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


def providers_in(store: Store) -> dict[str, set[str]]:
    """For each table with a provider column, the providers its rows belong to."""
    found = {}
    with store.engine.connect() as db:
        for table in SQLModel.metadata.sorted_tables:
            if "provider" in table.c:
                found[table.name] = set(db.scalars(select(table.c.provider).distinct()))
    return found


def test_every_entity_says_what_dates_it() -> None:
    assert set(DATED_BY) == set(ENTITIES)
    for entity, column in DATED_BY.items():
        assert column is None or column in entity.model_fields, (entity, column)


def test_nothing_narrowed_is_the_store_itself(store: Store) -> None:
    with narrowed(store) as same:
        assert same is store


def test_a_provider_keeps_its_rows_in_every_table_and_no_other(store: Store) -> None:
    with narrowed(store, frozenset({"bank"})) as bank:
        where = Path(bank.engine.url.database or "")
        assert where.parent.stat().st_mode & 0o077 == 0  # a folder only its owner can open
        held = providers_in(bank)
        counts = bank.counts()
    assert not where.exists()  # removed afterwards
    assert {name: ps for name, ps in held.items() if ps} == {
        name: {"bank"}
        for name, ps in providers_in(store).items()
        if "bank" in ps and name != RawItem.__tablename__
    }
    assert counts == {"bank": store.counts()["bank"]}


def test_since_keeps_dated_records_from_that_day_and_every_undated_one(store: Store) -> None:
    booked = sorted(row["booked_at"] for row in store.rows(Transaction))
    day = booked[len(booked) // 3].astimezone().date()
    start = datetime.combine(day, time.min).astimezone()
    with narrowed(store, since=day) as recent:
        kept = sorted(row["booked_at"] for row in recent.rows(Transaction))
        counts = recent.counts()
    assert kept == [moment for moment in booked if moment >= start]
    whole = store.counts()
    for provider, tables in whole.items():
        for entity, column in DATED_BY.items():
            name = TABLES[entity].__tablename__
            if column is None and name in tables:
                assert counts[provider][name] == tables[name], (provider, name)


def test_raw_payloads_are_not_copied(store: Store) -> None:
    with narrowed(store, frozenset({"bank"})) as bank, bank.engine.connect() as db:
        table = RawItem.__table__  # type: ignore[attr-defined]
        assert db.scalar(select(func.count()).select_from(table)) == 0
