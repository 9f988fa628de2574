"""``portal browse``: Datasette on the store, read-only, on 127.0.0.1, speaking the record's words.

The metadata is checked as a function of the record model; then the real command runs
Datasette in a subprocess on the demo store (four sandboxes synced through the real OAuth
flow), is asked over a real socket, and is stopped as a person stops it (Ctrl-C).
"""

import html
import inspect
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import inspect as sql_inspect

from portal.browse import ENGINE_TABLES, metadata
from portal.cli import cli
from portal.record import CATEGORY_LABELS, ENTITIES, Account, Transaction
from portal.store import Store, sqlite_url

PORTAL = str(Path(sys.executable).with_name("portal"))


def test_metadata_titles_and_describes_every_table_and_column_of_the_model() -> None:
    tables = metadata("portal")["databases"]["portal"]["tables"]
    for entity in ENTITIES:
        table = tables[entity.category.value]
        assert table["title"] == CATEGORY_LABELS[entity.category]
        assert table["description"] == inspect.cleandoc(entity.__doc__ or "").split("\n\n")[
            0
        ].replace("\n", " ")
        assert set(table["columns"]) == set(entity.model_fields)
        for name, info in entity.model_fields.items():
            said = table["columns"][name]
            assert info.title and info.description
            assert said.startswith(f"{info.title}: {info.description}"), (entity, name)
    for model, title in ENGINE_TABLES.items():
        assert tables[model.__tablename__]["title"] == title
        assert set(tables[model.__tablename__]["columns"]) == set(model.model_fields)


def test_metadata_covers_every_table_and_column_of_a_real_store(demo_home: Path) -> None:
    tables = metadata("portal")["databases"]["portal"]["tables"]
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    try:
        inspector = sql_inspect(store.engine)
        for name in inspector.get_table_names():
            assert name in tables, f"the store's table {name} has no metadata"
            assert tables[name]["description"], name
            if tables[name].get("hidden"):  # the search index's inner workings
                continue
            for column in inspector.get_columns(name):
                assert tables[name]["columns"].get(column["name"]), (name, column["name"])
    finally:
        store.close()


def test_references_and_labels_name_real_columns_and_units_are_pint_units() -> None:
    tables = metadata("portal")["databases"]["portal"]["tables"]
    assert tables["transactions"]["portal_references"] == {
        "account_id": "accounts",
        "connection_id": "connections",
    }
    assert tables["accounts"]["label_column"] == "name"
    for name, table in tables.items():
        if "label_column" in table:
            assert table["label_column"] in table["columns"], name
        for column, target in table.get("portal_references", {}).items():
            assert column in table["columns"] and "label_column" in tables[target], (name, column)
    assert tables["usage"]["units"] == {"duration_seconds": "s"}
    assert tables["documents"]["units"] == {"size_bytes": "byte"}


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def running(demo_home: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """``portal browse --no-browser`` on the demo store, and the address it printed."""
    port = free_port()
    process = subprocess.Popen(
        [PORTAL, "--home", str(demo_home), "browse", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    address = ""
    for line in process.stdout:  # it prints the address once Datasette answers
        if line.strip().startswith("http://"):
            address = line.strip()
            break
    assert address == f"http://127.0.0.1:{port}/", address
    yield process, address
    if process.poll() is None:  # a test failed before Ctrl-C: stop it as Ctrl-C would
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if not process.stdout.closed:
        process.stdout.close()


def test_browse_serves_the_stores_rows_on_127_0_0_1(
    running: tuple[subprocess.Popen[str], str], demo_home: Path
) -> None:
    _, address = running
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    try:
        expected = {row["id"]: row for row in store.rows(Transaction)}
        accounts = {row["id"]: row["name"] for row in store.rows(Account)}
    finally:
        store.close()
    answer = httpx.get(
        address + "portal/transactions.json",
        params={"_size": "max", "_shape": "objects"},
        timeout=30,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["filtered_table_rows_count"] == len(expected)
    rows = body["rows"]
    assert len(rows) == min(len(expected), 1000)
    for row in rows:
        assert expected[row["id"]]["amount"] == Decimal(repr(row["amount"]))  # a number
    page = httpx.get(address + "portal/transactions", timeout=30).text
    tables = metadata("portal")["databases"]["portal"]["tables"]
    assert "<h1>Transactions</h1>" in page or ">Transactions</h1>" in page
    for column in ("amount", "booked_at", "state"):
        assert tables["transactions"]["columns"][column] in html.unescape(page), column
    # The account is shown by its name, linked to it.
    one = rows[0]
    assert re.search(
        rf'<a href="/portal/accounts/{one["account_id"]}">{re.escape(html.escape(accounts[one["account_id"]]))}</a>',
        page,
    ), "the account cell is not labelled with the account's name"


def test_browse_answers_only_its_own_address(running: tuple[subprocess.Popen[str], str]) -> None:
    _, address = running
    port = address.rstrip("/").rsplit(":", 1)[1]
    rebound = httpx.get(
        address + "portal/transactions.json", headers={"Host": f"evil.example:{port}"}, timeout=30
    )
    assert rebound.status_code == 403
    assert httpx.get(address + "portal.db", timeout=30).status_code in (403, 404)  # no download


def test_browse_never_writes_the_store(running: tuple[subprocess.Popen[str], str]) -> None:
    _, address = running
    answer = httpx.get(
        address + "portal.json", params={"sql": "delete from transactions"}, timeout=30
    )
    assert answer.status_code >= 400 or answer.json().get("ok") is False


def test_ctrl_c_stops_browse_and_datasette_with_it(
    running: tuple[subprocess.Popen[str], str],
) -> None:
    process, address = running
    port = int(address.rstrip("/").rsplit(":", 1)[1])
    process.send_signal(signal.SIGINT)
    # Its output ends only once Datasette, which shares it, has ended too.
    said, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "portal browse stopped." in said
    with pytest.raises(OSError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_without_datasette_it_says_how_to_install_it(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "datasette", None)  # as if it were not installed
    result = CliRunner().invoke(cli, ["--home", str(demo_home), "browse", "--no-browser"])
    assert result.exit_code == 3, result.output
    assert "needs Datasette, which is not installed" in result.output
    assert "pip install 'portal-core[browse]'" in result.output


def test_browse_says_so_when_datasette_dies_under_it(demo_home: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [PORTAL, "--home", str(demo_home), "browse", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("http://"):
            break
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    assert len(children) == 1, children
    os.kill(int(children[0]), signal.SIGKILL)  # Datasette, killed from outside
    _, errors = process.communicate(timeout=30)
    assert process.returncode == 5, errors
    assert "Datasette stopped by itself (exit code -9)" in errors


def test_browse_says_when_the_store_is_being_written_and_shows_it_as_before(
    demo_home: Path, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(demo_home / "portal.db", home / "portal.db")
    writer = sqlite3.connect(home / "portal.db")  # a sync in the middle of its work
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE transactions SET description = 'written just now'")
    writer.commit()
    port = free_port()
    process = subprocess.Popen(
        [PORTAL, "--home", str(home), "browse", "--no-browser", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        said = []
        for line in process.stdout:
            said.append(line)
            if line.strip().startswith("http://"):
                break
        assert "portal is writing the store right now" in "".join(said)
        answer = httpx.get(
            f"http://127.0.0.1:{port}/portal/transactions.json",
            params={"description": "written just now", "_shape": "objects"},
            timeout=30,
        )
        assert answer.json()["filtered_table_rows_count"] == 0  # as it was before
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
        writer.close()
