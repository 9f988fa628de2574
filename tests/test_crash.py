"""Killed at any moment, a sync leaves a sound store, and the next one ends with exactly the served set.

Each page is delivered as one SQLite transaction holding its records, its raw payloads and
the cursor it reached: a cursor can never be committed before its records. That is checked
twice: by the order of the statements the store runs, and after twenty SIGKILLs at random
moments, by the invariant that every transaction before a committed cursor is stored.
"""

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bank_truth import assert_store_matches
from conftest import connect
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.provider import sandbox_endpoints
from portal.sandbox import Chaos
from portal_bank.sandbox import BankSandbox

KILLS = 20


def _check_sound(database: Path, bank: BankSandbox) -> int:
    """Integrity, and no cursor ahead of its records; returns how many transactions are stored."""
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in db.execute("SELECT provider_id FROM transactions")}
        cursors = dict(db.execute("SELECT stream, value FROM cursors"))
    served = bank.ground_truth()["transactions"]
    for stream, value in cursors.items():
        if not stream.startswith("transactions:"):
            continue
        account = stream.split(":", 1)[1]
        since = datetime.fromisoformat(json.loads(value)["since"])
        behind = {
            t["TransactionId"]
            for t in served
            if t["AccountId"] == account and datetime.fromisoformat(t["BookingDateTime"]) < since
        }
        missing = behind - stored
        assert not missing, f"cursor of {stream} committed before {len(missing)} of its records"
    return len(stored)


@pytest.mark.slow
def test_twenty_kills_at_random_moments_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    template = tmp_path / "template"
    portal_cmd = str(Path(sys.executable).with_name("portal"))
    rng = random.Random(20261123)
    # A bank without the demo's statements and files: every request is a page of records.
    with BankSandbox(page_size=25, transactions=750) as bank:
        with Portal.open(home=template) as portal:
            portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
        # Slow enough that a sync commits many times (pages merge for at most MERGE_SECONDS).
        slow = Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.05)
        bank.set_chaos(slow)
        # Only the bank plugin loads, and the kill moments scale with how long a whole sync
        # takes here, start-up included: a loaded machine moves them, it does not skew them.
        env = {**os.environ, "PORTAL_VAULT": "file", "PORTAL_LOAD_PLUGINS": "bank"}
        whole = tmp_path / "whole"
        shutil.copytree(template, whole)
        started = time.monotonic()
        subprocess.run(
            [portal_cmd, "sync", "--quiet"],
            env={**env, "PORTAL_HOME": str(whole)},
            check=True,
            capture_output=True,
        )
        lasts = time.monotonic() - started
        partial = []
        for kill in range(KILLS):
            home = tmp_path / f"home{kill}"
            shutil.copytree(template, home)
            bank.set_chaos(slow)
            # Half the kills with the store's writes in its writer process (as a long sync
            # has them), half in the sync's own process (as a short one has them).
            writer = "always" if kill % 2 == 0 else "never"
            process = subprocess.Popen(
                [portal_cmd, "sync", "--quiet"],
                env={**env, "PORTAL_HOME": str(home), "PORTAL_WRITER_PROCESS": writer},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.25, 1.1) * lasts)  # from start-up to past the end
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            partial.append(_check_sound(home / "portal.db", bank))
            bank.set_chaos(None)
            with Portal.open(home=home) as portal:
                [result] = portal.sync()
                assert result.ok, result.error
                assert_store_matches(portal, bank)
    total = len(bank.ground_truth()["transactions"])
    # The kills landed all over the sync: before it stored anything, midway, and after it ended.
    assert min(partial) < total / 4 and any(0 < n < total for n in partial), partial


def test_a_page_is_one_transaction_with_the_cursor_written_last(
    portal: Portal, bank: BankSandbox
) -> None:
    # What SQLite itself runs, seen through its trace callback on every new connection.
    # (The writer process runs the same statements, from the same ``Store._writes``; it is
    # killed at random moments in the test above.)
    connect(portal, bank)
    statements: list[str] = []
    portal.store.engine.dispose()

    @event.listens_for(portal.store.engine, "connect")
    def trace(connection: Any, _: Any) -> None:
        connection.set_trace_callback(lambda sql: statements.append(sql.split("(")[0].upper()))

    [result] = portal.sync()
    assert result.ok, result.error
    transactions: list[list[str]] = []
    current: list[str] = []
    for statement in statements:
        if statement.startswith("COMMIT"):
            transactions.append(current)
            current = []
        else:
            current.append(statement)
    pages = [t for t in transactions if any("INTO TRANSACTIONS" in s for s in t)]
    assert len(pages) >= 2  # pages of a stream share a transaction up to MERGE_ITEMS items
    for page in pages:
        assert page[0].startswith("BEGIN"), page
        records = [i for i, s in enumerate(page) if "INTO TRANSACTIONS" in s]
        cursors = [i for i, s in enumerate(page) if "INTO CURSORS" in s]
        assert cursors and max(records) < min(cursors), page
