"""What understanding costs, and that it reads every row once: the frame's mark against
batches committed late or meanwhile (on SQLite and PostgreSQL), each step's seconds, the
index that makes a step's first question a seek, and a demo re-sync that gives each step
nothing to read."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection as DBConnection

import portal.understand as understanding
from portal.app import Portal
from portal.auth.vault import FileStorage, Vault
from portal.batch import Batch
from portal.demo import demo_home, demo_sync
from portal.record import State, Transaction
from portal.record.ids import portal_id
from portal.record.tables import TABLES
from portal.store import Store, sqlite_url
from portal.understand import Finding, understand


def _fetched_since(
    db: DBConnection, since: datetime | None, table_name: str = "transactions"
) -> int:
    model = next(m for m in TABLES.values() if m.__tablename__ == table_name)
    table = model.__table__  # type: ignore[attr-defined]
    query = select(func.count()).select_from(table)
    if since is not None:
        query = query.where(table.c.fetched_at > since)
    count: int = db.execute(query).scalar_one()
    return count


class Counting:
    """A step that counts, in every record table, the rows it is given."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[dict[str, int]] = []

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        counts = {}
        for model in TABLES.values():
            name = model.__tablename__
            if count := _fetched_since(db, since, name):
                counts[name] = count
        self.seen.append(counts)
        return Finding(self.name, f"{sum(counts.values())} rows" if counts else "")

    @property
    def transactions(self) -> list[int]:
        """The transactions it was given, run by run."""
        return [counts.get("transactions", 0) for counts in self.seen]


class Broken:
    name = "broken"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        raise RuntimeError("a bug in a step")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store in a SQLite file, and one in a PostgreSQL database."""
    if request.param == "sqlite":
        store = Store(sqlite_url(tmp_path / "portal.db"))
        yield store
        store.close()
        return
    import pg

    with pg.database(request.getfixturevalue("postgres"), "portal_understand") as url:
        store = Store(url)
        yield store
        store.close()


def _stamped(n: int, fetched_at: datetime, name: str = "late") -> Batch:
    """A batch of ``n`` transactions normalised (stamped) at ``fetched_at``."""
    records = []
    for i in range(n):
        t = Transaction(
            provider_id=f"{name}{i}",
            account_id="a",
            booked_at=datetime(2026, 1, 1, tzinfo=UTC),
            amount="1.10",
            currency="GBP",
            status="Booked",
            status_label="Booked",
            state=State.booked,
            description="x",
        )
        t.id, t.provider, t.raw_id = portal_id("bank", "transactions", f"{name}{i}"), "bank", "r"
        t.connection_id, t.fetched_at = "c", fetched_at
        records.append(t)
    return Batch("bank", "c", "transactions", fetched_at, records)


def test_a_batch_stamped_before_a_mark_and_committed_after_it_is_read_next_time(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = any_store
    # Another process's sync (or an import's one long transaction) stamps its rows when it
    # normalises them and commits them later: a step that marked a moment in between must
    # still read them.
    counting = Counting()
    monkeypatch.setattr(understanding, "_steps", lambda: (counting,))
    store.commit(_stamped(3, datetime.now(UTC), "early"))
    stamped = datetime.now(UTC)
    understand(store)  # marks a moment after the batch was stamped
    store.commit(_stamped(2, stamped))
    understand(store)
    assert counting.transactions == [3, 2]
    assert understand(store)[0].summary == ""  # and only once


class Racing:
    """A step during whose run another connection commits a batch stamped earlier."""

    name = "racing"

    def __init__(self, store: Store, batch: Batch) -> None:
        self.store, self.batch = store, batch
        self.seen: list[int] = []
        self.committer: threading.Thread | None = None

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        self.seen.append(_fetched_since(db, since))
        if self.committer is None:  # the first run: a sync commits while it works
            self.committer = threading.Thread(target=self.store.commit, args=(self.batch,))
            self.committer.start()
            self.committer.join(timeout=1.0)  # it waits for the step, or commits now
        return Finding(self.name, "")


def test_a_batch_committed_while_a_step_runs_is_read_by_its_next_run(any_store: Store) -> None:
    store = any_store
    # The step's reads and its mark are one snapshot holding the write lock: a sync's commit
    # waits for the step to end, and then brings the step's mark back to its rows' stamp.
    racing = Racing(store, _stamped(2, datetime.now(UTC)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(understanding, "_steps", lambda: (racing,))
        understand(store)
        assert racing.committer is not None
        racing.committer.join(timeout=10)
        with store.engine.connect() as db:
            assert db.execute(text("SELECT count(*) FROM transactions")).scalar_one() == 2
        understand(store)
    assert racing.seen == [0, 2]  # one run saw nothing, the next the rows committed meanwhile


def test_each_finding_says_how_long_its_step_took(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Slow(Counting):
        def run(self, db: DBConnection, since: datetime | None) -> Finding:
            time.sleep(0.2)
            return super().run(db, since)

    monkeypatch.setattr(understanding, "_steps", lambda: (Slow(), Broken()))
    slow, broken = understand(store)
    assert 0.2 <= slow.seconds < 5
    assert broken.failed and 0 < broken.seconds < 5


def test_what_a_step_reads_first_is_a_seek_in_every_record_table(store: Store) -> None:
    # After every sync each step asks for the rows fetched since it last ran: at a million
    # transactions a scan took 370 ms per query, the index's seek well under one.
    with store.engine.connect() as db:
        for table in TABLES.values():
            name = table.__tablename__
            since = f'SELECT id FROM "{name}" WHERE fetched_at > :since'  # noqa: S608
            plan = db.execute(text(f"EXPLAIN QUERY PLAN {since}"), {"since": ""}).all()
            assert [row[-1] for row in plan] == [
                f"SEARCH {name} USING INDEX ix_{name}_fetched_at (fetched_at>?)"
            ]
            newest = text(f'EXPLAIN QUERY PLAN SELECT max(fetched_at) FROM "{name}"')  # noqa: S608
            assert "USING COVERING INDEX" in db.execute(newest).all()[0][-1]


@pytest.fixture(scope="module")
def demo_twice(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, int]]:
    """What a step was given after the demo's first sync and after a second one, from
    sandboxes that have nothing new (each sync through the real OAuth flow)."""
    counting = Counting()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(understanding, "_steps", lambda: (counting,))
        home = tmp_path_factory.mktemp("demo") / "home"
        assert all(result.ok for result in demo_home(home))
        vault = Vault(
            FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock"
        )
        with Portal.open(home=home, vault=vault) as portal:
            assert all(result.ok for result in demo_sync(portal))
    shutil.rmtree(home)
    return counting.seen


def test_after_the_demo_s_first_sync_a_step_is_given_every_record(
    demo_twice: list[dict[str, int]],
) -> None:
    first = demo_twice[0]
    assert set(first) == {model.__tablename__ for model in TABLES.values()}
    assert first["transactions"] > 1_000 and first["usage"] > 10_000


def test_a_demo_re_sync_with_nothing_new_gives_a_step_nothing_to_read(
    demo_twice: list[dict[str, int]],
) -> None:
    # The premise of the cost target: the sandboxes serve the same records again, the
    # store leaves each row and its fetched_at as they were, so no step reads anything.
    assert len(demo_twice) == 2
    assert demo_twice[1] == {}


def test_the_mark_comes_back_to_the_earliest_stamp_of_a_batch_s_rows(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = Counting()
    monkeypatch.setattr(understanding, "_steps", lambda: (counting,))
    early = _stamped(2, datetime.now(UTC))
    understand(store)
    # The batch itself says it was made now, after the mark; its rows say earlier.
    late = Batch("bank", "c", "transactions", datetime.now(UTC), early.records)
    store.commit(late)
    understand(store)
    assert counting.transactions == [0, 2]
