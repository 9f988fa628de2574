"""The understanding layer's frame: steps run after a sync on what it brought, each with its
mark, and a step that fails is reported without undoing what was synced."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection as DBConnection

import portal.understand as understanding
from portal.batch import Batch
from portal.cli import cli
from portal.record import State, Transaction
from portal.record.ids import portal_id
from portal.record.tables import TABLES, TransactionRow
from portal.store import Store, sqlite_url
from portal.understand import Finding, understand
from portal.understand.tables import Understood


class Counting:
    """A step that counts the transactions it is given."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[int] = []

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        count = _fetched_since(db, since)
        self.seen.append(count)
        return Finding(self.name, f"{count} transactions" if count else "")


def _fetched_since(db: DBConnection, since: datetime | None) -> int:
    table = TransactionRow.__table__  # type: ignore[attr-defined]
    query = select(func.count()).select_from(table)
    if since is not None:
        query = query.where(table.c.fetched_at > since)
    count: int = db.execute(query).scalar_one()
    return count


class Broken:
    name = "broken"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        db.execute(text("DELETE FROM transactions"))  # rolled back with the failure
        raise RuntimeError("a bug in a step")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    store.writable()
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A new store in a SQLite file, and one in a PostgreSQL database."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "portal.db")
        store = Store(url)
        yield store
        store.close()
        return
    import pg

    with pg.database(request.getfixturevalue("postgres"), "portal_understand") as url:
        store = Store(url)
        yield store
        store.close()


def _add_transactions(store: Store, n: int, fetched_at: str) -> None:
    with store.engine.begin() as db:
        for i in range(n):
            db.execute(
                text(
                    "INSERT INTO transactions (id, provider, provider_id, connection_id, raw_id,"
                    " account_id, booked_at, amount, currency, description, status,"
                    " status_label, state, fetched_at, origin, extra) VALUES (:id, 'bank', :id,"
                    " 'c', 'r', 'a', '2026-01-01T00:00:00Z', 1, 'GBP', 'x', 'Booked', 'Booked',"
                    " 'booked', :at, 'observed', '{}')"
                ),
                {"id": f"{fetched_at}-{i}", "at": fetched_at},
            )


def test_each_step_reads_only_what_was_fetched_since_it_last_ran(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = Counting()
    monkeypatch.setattr(understanding, "_steps", lambda: (counting,))
    _add_transactions(store, 3, "2026-01-01T00:00:00.000000+00:00")
    assert [f.summary for f in understand(store)] == ["3 transactions"]
    assert understand(store)[0].summary == ""  # nothing new since
    _add_transactions(store, 2, "2099-01-01T00:00:00.000000+00:00")  # fetched "later"
    assert understand(store)[0].summary == "2 transactions"
    assert understand(store, again=True)[0].summary == "5 transactions"
    assert counting.seen == [3, 0, 2, 5]
    with store.engine.connect() as db:
        assert db.execute(select(Understood.step)).scalars().all() == ["counting"]  # type: ignore[arg-type]


def test_a_failing_step_is_reported_and_undoes_nothing_synced(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    counting = Counting()
    monkeypatch.setattr(understanding, "_steps", lambda: (Broken(), counting))
    _add_transactions(store, 4, "2026-01-01T00:00:00.000000+00:00")
    broken, counted = understand(store)
    assert broken.failed and "a bug in a step" in broken.summary
    assert counted.summary == "4 transactions"  # the next step still runs
    with store.engine.connect() as db:
        assert db.execute(text("SELECT count(*) FROM transactions")).scalar_one() == 4
        marks = db.execute(select(Understood.step)).scalars().all()  # type: ignore[arg-type]
    assert marks == ["counting"]  # the broken step reads it all again next time


def test_portal_understand_prints_what_each_step_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(understanding, "_steps", lambda: (Counting(),))
    home = tmp_path / "home"
    runner = CliRunner()
    first = runner.invoke(cli, ["--home", str(home), "understand"])
    assert first.exit_code == 0, first.output
    assert "Nothing new to work out." in first.output
    store = Store(sqlite_url(home / "portal.db"))
    _add_transactions(store, 2, "2026-01-01T00:00:00.000000+00:00")
    again = runner.invoke(cli, ["--home", str(home), "understand", "--again"])
    assert again.exit_code == 0, again.output
    assert "Understood: counting: 2 transactions" in again.output
    monkeypatch.setattr(understanding, "_steps", lambda: (Broken(),))
    failed = runner.invoke(cli, ["--home", str(home), "understand"])
    assert failed.exit_code == 1
    assert "Could not understand: broken: could not finish: a bug in a step" in failed.output


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
    assert counting.seen == [3, 2]
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
