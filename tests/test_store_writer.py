"""The store's writer process: the same bytes as the store writing itself, and no surprises.

A long sync hands its SQLite writes to a child process (``portal.store_writer``). These
tests hold it to the store's own writing, byte for byte; to SQLite's errors; and to what
happens when either process dies. (Crash and Ctrl-C through it: ``test_crash`` and
``test_concurrency``, which run ``portal sync`` both ways.)
"""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from portal.batch import Batch, RejectedItem
from portal.errors import ConfigError
from portal.record import Transaction
from portal.store import Store, sqlite_url
from portal.store_open import SQLITE_PRAGMAS
from portal.store_writer import Unsendable, WriterFailed, WriterProcess
from test_store import _dump, _varied


def _batches() -> list[Batch]:
    first = _varied(1234)
    # The second batch changes a third of the rows, keeps the rest, and rejects an item.
    changed = []
    for i, record in enumerate(first.records[:600]):
        record = record.model_copy()
        if i % 3 == 0:
            record.__dict__.update(description=f"changed {i}", raw_id=f"raw-{i}-v2")
        changed.append(record)
    second = replace(
        first,
        records=changed,
        raws=first.raws[:600],
        rejections=[RejectedItem("raw-x", "transactions", "no amount")],
    )
    return [first, second]


def test_the_writer_process_stores_exactly_what_the_store_writes_itself(tmp_path: Path) -> None:
    stores = {
        choice: Store(sqlite_url(tmp_path / f"{choice}.db"), writer_process=choice)
        for choice in ("never", "always")
    }
    batches = _batches()
    for store in stores.values():
        for batch in batches:
            store.commit(batch)
    assert stores["never"]._process is None
    assert stores["always"]._process is not None
    for store in stores.values():
        store.close()
    expected, written = _dump(tmp_path / "never.db"), _dump(tmp_path / "always.db")
    assert len(expected["transactions"]) == 1234 and len(expected["rejections"]) == 1
    for dump in (expected, written):  # when it was rejected: the time of each commit
        dump["rejections"] = [row[:-2] for row in dump["rejections"]]
    assert written == expected


def test_auto_hands_over_once_the_store_has_written_enough_itself(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process="auto")
    store.commit(_varied(900))  # 1,800 records and raw payloads: written in this process
    assert store._process is None
    store.commit(_varied(900))  # the store has written 1,800 of WRITER_PROCESS_AFTER (2,000)
    assert store._process is None
    store.commit(_varied(901))
    assert store._process is not None
    store.close()
    assert len(_dump(tmp_path / "portal.db")["transactions"]) == 901


def test_a_store_in_memory_writes_itself(tmp_path: Path) -> None:
    store = Store("sqlite://", writer_process="always")
    store.commit(_varied(10))
    assert store._process is None
    assert sum(1 for _ in store.rows(Transaction)) == 10


def test_an_unknown_choice_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_WRITER_PROCESS", "sometimes")
    with pytest.raises(ConfigError, match=r"PORTAL_WRITER_PROCESS is 'sometimes'.*auto, always"):
        Store("sqlite://")


def test_sqlites_error_comes_back_as_its_own_class_and_the_batch_is_not_written(
    tmp_path: Path,
) -> None:
    database = tmp_path / "portal.db"
    Store(sqlite_url(database)).close()
    writer = WriterProcess(str(database), SQLITE_PRAGMAS)
    sql = "INSERT INTO rejections (raw_id, provider, stream, reason, rejected_at) VALUES (?, ?, ?, ?, ?)"
    good = ("r1", "bank", "transactions", "why", "2026-01-01T00:00:00.000000Z")
    bad = ("r2", "bank", "transactions", None, "2026-01-01T00:00:00.000000Z")
    try:
        with pytest.raises(
            sqlite3.IntegrityError, match=r"NOT NULL constraint failed: rejections\.reason"
        ):
            writer.commit([(sql, 5, [good]), (sql, 5, [bad])])
        with sqlite3.connect(database) as db:  # the good row went with the bad one
            assert db.execute("SELECT count(*) FROM rejections").fetchone() == (0,)
        writer.commit([(sql, 5, [good])])  # and the child goes on
        with sqlite3.connect(database) as db:
            assert db.execute("SELECT raw_id FROM rejections").fetchall() == [("r1",)]
        with pytest.raises(Unsendable):
            writer.commit([(sql, 5, [(*good[:3], object(), good[4])])])
    finally:
        writer.close()


def test_a_value_the_pipe_does_not_carry_is_written_by_the_store_itself(tmp_path: Path) -> None:
    class Text(str):
        pass

    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process="always")
    batch = _varied(3)
    batch.records[0].__dict__["description"] = Text("a str of a class of its own")
    store.commit(batch)
    stored = {row["provider_id"]: row["description"] for row in store.rows(Transaction)}
    assert stored["t0"] == "a str of a class of its own" and len(stored) == 3
    store.close()


def test_a_writer_that_dies_fails_its_batch_and_the_next_commit_starts_another(
    tmp_path: Path,
) -> None:
    store, process, second = _one_batch_through_the_writer(tmp_path)
    os.kill(process.pid, signal.SIGKILL)
    process._process.wait()
    with pytest.raises(WriterFailed, match=r"writer process stopped \(exit code -9\)"):
        store.commit(second)
    _second_goes_through_a_new_writer(store, process, second)


def _one_batch_through_the_writer(tmp_path: Path) -> tuple[Store, WriterProcess, Batch]:
    """A store that wrote the first of ``_batches`` through its writer; the second batch."""
    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process="always")
    first, second = _batches()
    store.commit(first)
    assert store._process is not None
    return store, store._process, second


def _second_goes_through_a_new_writer(store: Store, old: WriterProcess, second: Batch) -> None:
    store.commit(second)
    assert store._process is not None and store._process is not old
    store.close()
    rows = {row["provider_id"]: row["description"] for row in store.rows(Transaction)}
    assert len(rows) == 1234 and rows["t3"] == "changed 3"


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads process states from /proc")
def test_the_writer_exits_when_the_process_it_writes_for_is_killed(tmp_path: Path) -> None:
    database = tmp_path / "portal.db"
    script = textwrap.dedent(
        f"""
        import sys, time
        from portal.store import Store, sqlite_url
        from test_store import _varied
        store = Store(sqlite_url({str(database)!r}), writer_process="always")
        store.commit(_varied(50))
        print(store._process._process.pid, flush=True)
        time.sleep(60)
        """
    )
    tests = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while _alive(child):
        assert time.monotonic() < deadline, "the writer process outlived its parent"
        time.sleep(0.05)
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("SELECT count(*) FROM transactions").fetchone() == (50,)


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    state = next(line for line in status.splitlines() if line.startswith("State:"))
    return "zombie" not in state and "(dead)" not in state


def test_a_commit_cut_off_before_its_answer_is_never_mistaken_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Say Ctrl-C lands between sending a batch and reading its answer (in a caller's main
    # thread): the next commit must not read that answer as its own.
    store, process, second = _one_batch_through_the_writer(tmp_path)

    def interrupted(self: WriterProcess) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(WriterProcess, "_answer", interrupted)
        with pytest.raises(KeyboardInterrupt):
            store.commit(second)
    with pytest.raises(WriterFailed, match="an earlier commit was cut off before its answer"):
        store.commit(second)
    _second_goes_through_a_new_writer(store, process, second)


@pytest.mark.parametrize("writer", ["never", "always"])
def test_a_commit_counts_new_changed_and_unchanged_records_without_a_query_per_row(
    tmp_path: Path, writer: str
) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process=writer)
    first, second = _batches()
    store.commit(first)
    assert first.stored == {"transactions": (1234, 0, 1234)}
    store.commit(second)  # 600 again: a third of them changed
    assert second.stored == {"transactions": (0, 200, 600)}
    again = replace(second)  # the same records once more: all merely confirmed
    store.commit(again)
    assert again.stored == {"transactions": (0, 0, 600)}
    store.close()
