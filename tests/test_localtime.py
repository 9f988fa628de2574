"""Every moment a person reads is in their time zone; the store keeps UTC.

A home whose store holds a connection last synced on a summer morning, 10:20 in London,
kept as 09:20Z: ``portal status`` and ``portal view`` show it in the zone of ``--tz``,
``PORTAL_TZ``, the home's ``timezone`` setting or, failing all three, this computer's
zone by name (a July moment keeps its summer offset in December).
"""

import os
import re
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from portal import localtime
from portal.cli import ExitCode, cli
from portal.record.tables import Connection
from portal.store import Store, sqlite_url
from portal.view import ViewServer

SUMMER_MORNING = datetime(2026, 7, 15, 9, 20, tzinfo=UTC)
"""10:20 in London (BST, UTC+1), 05:20 in New York (EDT, UTC-4)."""

PORTAL = str(Path(sys.executable).with_name("portal"))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home whose one connection connected and last synced at ``SUMMER_MORNING``."""
    monkeypatch.delenv("PORTAL_TZ", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    store = Store(sqlite_url(home / "portal.db"))
    try:
        store.save_connection(
            Connection(
                id="c1",
                provider="bank",
                status="connected",
                connected_at=SUMMER_MORNING,
                last_sync_at=SUMMER_MORNING,
                last_sync_status="ok",
            )
        )
    finally:
        store.close()
    return home


def portal(home: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    wide = {"COLUMNS": "200", **(env or {})}  # the status table on one line per connection
    result = CliRunner().invoke(cli, ["--home", str(home), *args], env=wide)
    return result.exit_code, result.stdout + result.stderr


def last_sync(status: str) -> str:
    """The time of day the status table gives for the connection and its last sync."""
    found = set(re.findall(r"2026-07-15 (\d\d:\d\d)", status))
    assert len(found) == 1, status  # both columns, the same moment
    return found.pop()


def test_the_store_keeps_utc(home: Path) -> None:
    with sqlite3.connect(home / "portal.db") as db:
        [(kept,)] = db.execute("SELECT last_sync_at FROM connections")
    assert kept.startswith("2026-07-15T09:20:00")


def test_status_shows_the_moment_in_the_zone_kept_in_the_home(home: Path) -> None:
    code, said = portal(home, "config", "timezone", "Europe/London")
    assert code == ExitCode.OK, said
    code, status = portal(home, "status")
    assert code == ExitCode.OK, status
    assert last_sync(status) == "10:20"
    assert "BST" in status


def test_portal_tz_overrides_the_setting_and_tz_overrides_both(home: Path) -> None:
    portal(home, "config", "timezone", "Europe/London")
    _, status = portal(home, "status", env={"PORTAL_TZ": "America/New_York"})
    assert last_sync(status) == "05:20"
    _, status = portal(home, "--tz", "Asia/Tokyo", "status", env={"PORTAL_TZ": "America/New_York"})
    assert last_sync(status) == "18:20"


def test_unset_the_computers_zone_is_used_by_name_so_summer_stays_summer(home: Path) -> None:
    # A winter moment beside the summer one: whatever the date today, one offset taken
    # from now (datetime.now().astimezone()) gets one of the two wrong.
    store = Store(sqlite_url(home / "portal.db"))
    winter = datetime(2026, 1, 15, 9, 20, tzinfo=UTC)  # 09:20 GMT
    try:
        store.save_connection(
            Connection(id="c2", provider="telco", status="connected", connected_at=winter)
        )
    finally:
        store.close()
    _, status = portal(home, "status", env={"TZ": "Europe/London"})
    assert last_sync(status) == "10:20"
    assert "2026-01-15 09:20 GMT" in status
    _, said = portal(home, "config", env={"TZ": "Europe/London"})
    assert "timezone: Europe/London (not set: this computer's zone)" in said


def test_config_shows_the_setting_and_where_it_comes_from(home: Path) -> None:
    portal(home, "config", "timezone", "America/New_York")
    code, said = portal(home, "config")
    assert code == ExitCode.OK
    assert f"timezone: America/New_York (kept in {home / 'settings.json'})" in said
    _, said = portal(home, "config", "timezone", env={"PORTAL_TZ": "Asia/Tokyo"})
    assert "timezone: Asia/Tokyo (from PORTAL_TZ)" in said
    code, said = portal(home, "config", "timezone", "--unset")
    assert code == ExitCode.OK
    assert "this computer's zone" in said
    assert (home / "settings.json").stat().st_mode & 0o077 == 0  # owner only


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["config", "timezone", "Mars/Olympus_Mons"], {}, "the setting timezone"),
        (["status"], {"PORTAL_TZ": "Europe/Londres"}, "PORTAL_TZ"),
        (["--tz", "+01:00", "status"], {}, "--tz"),
    ],
    ids=["setting", "PORTAL_TZ", "--tz"],
)
def test_a_bad_zone_is_a_clear_error_naming_it_and_where_it_came_from(
    home: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    code, said = portal(home, *args, env=env)
    assert code == ExitCode.CONFIG, said
    bad = args[-1] if args[0] == "config" else env.get("PORTAL_TZ") or args[1]
    assert f"Error: {bad!r} ({named}) is not a time zone portal knows." in said
    assert "IANA zone name such as Europe/London" in said
    assert not (home / "settings.json").exists()  # nothing bad is kept


def test_a_bad_zone_in_the_settings_file_names_the_file(home: Path) -> None:
    (home / "settings.json").write_text('{"timezone": "Nowhere/At_All"}', encoding="utf-8")
    code, said = portal(home, "status")
    assert code == ExitCode.CONFIG
    assert "'Nowhere/At_All' (the timezone setting in" in said and "settings.json" in said


def view_overview(home: Path, env: dict[str, str]) -> str:
    """The Overview page as ``portal view --no-browser`` serves it."""
    process = subprocess.Popen(
        [PORTAL, "--home", str(home), "view", "--no-browser"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        for _ in range(3):
            line = process.stdout.readline()
        address = line.strip()
        assert "token=" in address, address
        with httpx.Client(timeout=10) as browser:
            page = browser.get(address, follow_redirects=True)
        assert page.status_code == 200
        return page.text
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_the_view_shows_the_moment_in_the_persons_zone(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    portal(home, "config", "timezone", "Europe/London")
    assert "2026-07-15 10:20 BST" in view_overview(home, {})  # portal view, as a person runs it
    # A ViewServer given no zone (a plugin author's, a test's) takes PORTAL_TZ.
    monkeypatch.setenv("PORTAL_TZ", "America/New_York")
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as view, httpx.Client(timeout=10) as browser:
            in_new_york = browser.get(view.login_url, follow_redirects=True).text
    finally:
        store.close()
    assert "2026-07-15 05:20 EDT" in in_new_york
    assert "10:20" not in in_new_york


def test_local_is_the_same_instant_in_the_persons_zone() -> None:
    london = localtime.local(SUMMER_MORNING, localtime.zone_named("Europe/London", "test"))
    assert london == SUMMER_MORNING and f"{london:%H:%M %Z}" == "10:20 BST"


def test_connect_says_when_access_ends_in_the_persons_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    from portal.auth.flows import auto_approve_browser
    from portal_bank.sandbox import BankSandbox

    monkeypatch.setattr(webbrowser, "open", auto_approve_browser)
    home = tmp_path / "home"
    # The grant ends 90 days from now, at about this time of day: a zone 14 hours ahead is on
    # the next date from 10:00 UTC, one 11 hours behind on the date before until 11:00.
    far = "Pacific/Kiritimati" if datetime.now(UTC).hour >= 10 else "Pacific/Pago_Pago"
    with BankSandbox() as bank:
        code, said = portal(
            home, "--tz", far, "connect", "bank", "--sandbox", bank.base_url,
            env={"PORTAL_VAULT": "file"},
        )  # fmt: skip
    assert code == ExitCode.OK, said
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    try:
        [connection] = store.connections()
    finally:
        store.close()
    ends = connection.grant_expires_at
    assert ends is not None
    there = localtime.local(ends, localtime.zone_named(far, "test"))
    assert there.date() != ends.astimezone(UTC).date()
    assert f"until {there:%Y-%m-%d})" in said


def test_the_import_history_says_when_in_the_persons_zone(tmp_path: Path) -> None:
    from portal.app import Portal
    from portal.importing import import_history

    statement = tmp_path / "midata.csv"
    statement.write_text(
        "Date,Type,Merchant/Description,Debit/Credit,Balance\n"
        "01/07/2026,POS,COFFEE,-£2.50,£97.50\n",
        encoding="utf-8",
    )
    home = tmp_path / "home"
    code, said = portal(home, "import", str(statement), "--account", "current")
    assert code == ExitCode.OK, said
    with Portal.open(home=home) as app:
        [entry] = import_history(app)
    tokyo = localtime.local(entry["imported_at"], localtime.zone_named("Asia/Tokyo", "test"))
    code, said = portal(home, "--tz", "Asia/Tokyo", "import", "--history")
    assert code == ExitCode.OK, said
    assert f"{tokyo:%Y-%m-%d %H:%M} JST  midata.csv" in said
