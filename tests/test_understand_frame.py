"""The understanding layer's frame: steps run after a sync on what it brought, each with its
mark, and a step that fails is reported without undoing what was synced."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.engine import Connection as DBConnection

import portal.understand as understanding
from portal.cli import cli
from portal.record.types import UTCDateTime
from portal.store import Store, sqlite_url
from portal.understand import Finding, understand
from portal.understand.tables import Understood


class Counting:
    """A step that counts the transactions it is given."""

    name = "counting"

    def __init__(self) -> None:
        self.seen: list[int] = []

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        query = "SELECT count(*) FROM transactions"
        if since is not None:
            query += " WHERE fetched_at > :since"
        params = {} if since is None else {"since": UTCDateTime.bind(since)}
        count = db.execute(text(query), params).scalar_one()
        self.seen.append(count)
        return Finding(self.name, f"{count} transactions" if count else "")


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
