"""A store that is read-only, in use, damaged or behind a password says so plainly."""

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal import store_open
from portal.cli import ExitCode, cli

OFX = Path(__file__).parent / "data" / "barclays-current-2026-02.ofx"
PORTAL = str(Path(sys.executable).with_name("portal"))


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding a real import: an account, its balances and 13 transactions."""
    home = tmp_path_factory.mktemp("imported")
    code, _, err = run(home, "import", str(OFX))
    assert code == ExitCode.OK, err
    return home / "portal.db"


@pytest.fixture
def home(tmp_path: Path, imported: Path) -> Iterator[Path]:
    """A portal home holding a copy of the imported store."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    shutil.copy(imported, home / "portal.db")
    yield home
    for path in (home, *home.iterdir()):  # made read-only by some tests
        path.chmod(0o700)


def as_a_user_who_cannot_override_permissions(args: list[str]) -> list[str]:
    """``args`` run so file permissions hold: root ignores them unless it drops the right."""
    if os.geteuid() != 0:
        return args
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", *args]


def portal_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = as_a_user_who_cannot_override_permissions([PORTAL, "--home", str(home), *args])
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.parametrize("read_only", ["file and folder", "file"])
def test_a_read_only_store_still_shows_status_and_exports_and_refuses_writes_plainly(
    home: Path, tmp_path: Path, read_only: str
) -> None:
    store = home / "portal.db"
    before = store.read_bytes()
    store.chmod(0o444)
    if read_only == "file and folder":
        home.chmod(0o555)  # no -wal or -shm can be made beside it either

    status = portal_cli(home, "status")
    assert status.returncode == ExitCode.OK, status.stderr
    assert "Transactions" in status.stdout and "13" in status.stdout

    out = tmp_path / "export"
    exported = portal_cli(home, "export", "--out", str(out))
    assert exported.returncode == ExitCode.OK, exported.stderr
    assert len((out / "transactions.jsonl").read_text().splitlines()) == 13

    imported = portal_cli(home, "import", str(OFX))
    assert imported.returncode == ExitCode.CONFIG
    assert "is read-only" in imported.stderr and "chmod" in imported.stderr
    assert "Traceback" not in imported.stderr
    if read_only == "file and folder":  # (and before any sandbox starts)
        synced = portal_cli(home, "sync", "--demo")
        assert synced.returncode == ExitCode.CONFIG and "is read-only" in synced.stderr
    assert store.read_bytes() == before


def test_a_store_another_program_is_writing_says_it_is_in_use(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_open, "BUSY_TIMEOUT_MS", 200)
    other = sqlite3.connect(home / "portal.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        code, _, err = run(home, "import", str(OFX))
        assert code == ExitCode.CONFIG
        assert "is in use by another portal (or program)" in err
        assert "database is locked" not in err and "Traceback" not in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    code, _, err = run(home, "import", str(OFX))
    assert code == ExitCode.OK, err


def _damage(store: Path, offset: int, data: bytes) -> None:
    with store.open("r+b") as file:
        file.seek(offset)
        file.write(data)


def test_a_damaged_store_is_detected_by_status_and_export(home: Path, tmp_path: Path) -> None:
    store = home / "portal.db"
    with sqlite3.connect(store) as db:  # every page in the WAL is in the file now
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.stat().st_size
    _damage(store, size // 2 - size // 2 % 4096, b"\xa5" * 4096)  # a whole page in the middle

    code, _, err = run(home, "status")
    assert code == ExitCode.CONFIG
    assert "is not a SQLite database, or it is damaged" in err and "backup" in err
    code, _, err = run(home, "export", "--out", str(tmp_path / "out"))
    assert code == ExitCode.CONFIG and "damaged" in err
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_sqlite_is_named_as_such(tmp_path: Path) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("my shopping list\n" * 500)
    code, _, err = run(tmp_path, "--db", f"sqlite:///{junk}", "status")
    assert code == ExitCode.CONFIG
    assert "is not a SQLite database, or it is damaged (file is not a database)" in err
    assert junk.read_text() == "my shopping list\n" * 500


def test_an_export_that_fails_half_way_leaves_no_partial_export(home: Path, tmp_path: Path) -> None:
    store = home / "portal.db"
    with sqlite3.connect(store) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        [(description,)] = db.execute("SELECT description FROM transactions LIMIT 1").fetchall()
    data, text = store.read_bytes(), description.encode()
    # A transaction's text no longer UTF-8: SQLite's structure is sound (quick_check passes),
    # and the export fails when it reaches the transactions, after writing other files.
    at = data.find(text)
    while at >= 0:
        _damage(store, at, b"\xff" * len(text))
        at = data.find(text, at + 1)

    out = tmp_path / "out"
    code, _, err = run(home, "export", "--out", str(out))
    assert code != ExitCode.OK, err
    assert not out.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "notes.txt").write_text("mine")
    code, _, err = run(home, "export", "--out", str(kept))
    assert code != ExitCode.OK
    assert [p.name for p in kept.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://someone:hunter2secret@127.0.0.1:1/portal",
        "postgresql+psycopg2://someone:hunter2secret@127.0.0.1:1/portal",
        "postgresql://someone:hunter2secret@[::1:1/portal",  # malformed
        "nonsense://someone:hunter2secret@host/db",
    ],
)
def test_a_store_url_error_never_shows_the_password(tmp_path: Path, url: str) -> None:
    result = CliRunner().invoke(
        cli, ["-v", "--home", str(tmp_path), "--db", url, "status"], catch_exceptions=False
    )
    assert result.exit_code == ExitCode.CONFIG
    assert "hunter2secret" not in result.stdout + result.stderr
    assert "someone:***@" in result.stderr


def test_status_shows_the_store_url_with_its_password_masked(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    assert store_open.masked_url(url) == url
    for secret in (
        "postgresql://u:hunter2secret@db.example/portal",
        "postgresql://u:hunter2secret@[::1/portal",
        "mysql://u:hunter2/secret@host",
    ):
        masked = store_open.masked_url(secret)
        assert "hunter2" not in masked and "u:***@" in masked


def test_a_sync_into_a_store_in_use_says_so_and_what_it_could_not_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.app import Portal
    from portal.auth.flows import auto_approve_browser
    from portal.provider import sandbox_endpoints
    from portal_bank.sandbox import BankSandbox

    monkeypatch.setattr(store_open, "BUSY_TIMEOUT_MS", 200)
    home = tmp_path / "home"
    with BankSandbox() as bank:
        with Portal.open(home=home) as portal:
            portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
        other = sqlite3.connect(home / "portal.db", isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            code, out, err = run(home, "sync", "bank")
        finally:
            other.execute("ROLLBACK")
            other.close()
    assert code == ExitCode.CONFIG
    assert "Error: bank: The store at" in err and "is in use by another portal" in err
    assert "bank (failed)" in out and " not stored" in out, out
