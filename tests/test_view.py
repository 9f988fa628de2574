"""``portal view``: the person's own browser, and nobody else, reads the store.

A real store (the Demo Bank synced through the real OAuth flow, and a hostile provider
whose sync fails quoting hostile text), the real server on a real socket, and httpx as
the browser: the secret, the Host check, reading only, the headers on every answer, and
the Overview page.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from portal.cli import ExitCode, cli
from portal.errors import StoreReadOnly
from portal.record import CATEGORY_LABELS
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.overview import overview
from view_homes import assert_guarded, browser, synced_home

HOSTILE = "<script>alert('owned')</script><b>bold</b>\x1b]0;pwned\x07\u202ekcatta"

PLUGIN = f'''
"""The Demo Bank as a hostile provider: its sync rejects its accounts and then fails, quoting
hostile text in both."""
import dataclasses
from portal import hookimpl
from portal.errors import ProviderError, SkippableError
from portal_bank import plugin as bank

HOSTILE = {HOSTILE!r}
EVIL = dataclasses.replace(bank.PROVIDER, name="evil", display_name="Evil")

@hookimpl
def register_providers(register):
    register(EVIL)

@hookimpl
def fetch(client, cursors):
    for page in bank.fetch(client, cursors):
        yield page
        if page.stream.startswith("transactions"):
            raise ProviderError(HOSTILE + " answered nonsense.")

@hookimpl
def normalise(stream, item, ref):
    if stream.startswith("accounts"):
        raise SkippableError(HOSTILE)
    return bank.normalise(stream, item, ref)
'''


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose store holds the Demo Bank, synced, and "evil", whose last sync failed."""
    home, results = synced_home(tmp_path_factory.mktemp("view"), "evil", PLUGIN)
    assert results["bank"].ok, results["bank"].error
    assert not results["evil"].ok
    return home


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture
def server(store: Store) -> Iterator[ViewServer]:
    with ViewServer(store) as running:
        yield running


def test_no_secret_is_refused_with_a_plain_page(server: ViewServer) -> None:
    answer = httpx.get(server.url, timeout=10)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/plain")
    assert "secret" in answer.text and "bank" not in answer.text
    assert_guarded(answer)


def test_a_wrong_secret_is_refused(server: ViewServer) -> None:
    answer = httpx.get(server.url, params={"token": "guess"}, timeout=10)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers
    cookie = {f"portal-view-{server.port}": "guess"}
    assert httpx.get(server.url, cookies=cookie, timeout=10).status_code == 403


def test_the_secret_in_the_url_sets_a_strict_cookie_and_redirects_to_the_clean_url(
    server: ViewServer,
) -> None:
    answer = httpx.get(server.login_url, timeout=10)
    assert answer.status_code == 303
    assert server.login_url.split("token=", 1)[1] not in repr(server)
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert re.search(r"HttpOnly", cookie, re.I) and re.search(r"SameSite=Strict", cookie, re.I)
    assert_guarded(answer)


def test_the_redirect_keeps_other_parameters_and_never_leaves_the_view(
    server: ViewServer,
) -> None:
    secret = server.login_url.split("token=", 1)[1]
    answer = httpx.get(
        f"{server.url}/evil.example/x?token={secret}&page=2", timeout=10
    )  # a path starting "//" would be another site to the browser
    assert answer.status_code == 303
    assert answer.headers["location"] == "/evil.example/x?page=2"


def test_with_the_cookie_the_overview_names_each_provider_and_what_it_holds(
    server: ViewServer, store: Store
) -> None:
    with browser(server) as client:
        answer = client.get(server.url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert_guarded(answer)
    page = answer.text
    counts = store.counts()["bank"]
    assert counts["transactions"] > 0
    section = page.split('id="provider-1">bank</h2>', 1)[1].split("</section>", 1)[0]
    for category, label in CATEGORY_LABELS.items():
        row = re.search(
            rf'<th scope="row">{re.escape(label)}</th><td class="number">(\d+)</td>', section
        )
        if counts.get(category):
            assert row is not None and int(row.group(1)) == counts[category], label
        else:
            assert row is None, label  # a category it holds nothing of is left out
    assert "ok" in section and "Connected" in section


def test_the_overview_says_what_needs_attention(server: ViewServer, store: Store) -> None:
    with browser(server) as client:
        page = client.get(server.url).text
    attention = page.split('id="attention"', 1)[1].split("</section>", 1)[0]
    rejected = store.counts()["evil"]["rejections"]
    assert rejected > 0
    assert f"{rejected} item" in attention and "rejected" in attention
    assert "Its last sync failed" in attention
    assert "failed" in page.split('id="provider-2">evil</h2>', 1)[1]


def test_provider_text_is_shown_as_text_never_as_markup(server: ViewServer) -> None:
    with browser(server) as client:
        page = client.get(server.url).text
    assert "&lt;script&gt;alert(" in page  # the failure's reason, as the provider wrote it
    assert "<script" not in page and "<b>bold" not in page
    assert "\x1b" not in page and "\u202e" not in page  # control and bidi shown, not obeyed
    assert "\\x1b]0;pwned" in page and "\\u202e" in page


def test_a_foreign_host_header_is_refused_even_with_the_cookie(server: ViewServer) -> None:
    with browser(server) as client:
        for host in (
            "evil.example",
            f"evil.example:{server.port}",
            f"localhost:{server.port}",
            "127.0.0.1",
        ):
            answer = client.get(server.url, headers={"Host": host})
            assert answer.status_code == 403, host
            assert "not the one portal view serves at" in answer.text
            assert_guarded(answer)


def test_only_reading_is_allowed(server: ViewServer) -> None:
    with browser(server) as client:
        for method in ("POST", "PUT", "DELETE", "PATCH"):
            answer = client.request(method, server.url, content=b"x")
            assert answer.status_code == 405, method
            assert answer.headers["allow"] == "GET, HEAD"
            assert_guarded(answer)
        assert client.head(server.url).status_code == 200


def test_static_assets_ship_in_the_package_and_errors_carry_the_headers(
    server: ViewServer,
) -> None:
    with browser(server) as client:
        page = client.get(server.url).text
        sheets = re.findall(r'href="([^"]+\.css)"', page)
        assert sheets == ["/static/view.css"]
        css = client.get(server.url + sheets[0].lstrip("/"))
        assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
        assert_guarded(css)
        for missing in ("static/nothing.css", "static/..%2fpages.py", "nowhere"):
            answer = client.get(server.url + missing)
            assert answer.status_code == 404, missing
            assert_guarded(answer)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # no external origin


def test_the_store_is_opened_read_only(store: Store, home: Path) -> None:
    import sqlite3

    with store.engine.connect() as db, pytest.raises(StoreReadOnly):
        db.exec_driver_sql("DELETE FROM connections")
    assert (
        sqlite3.connect(home / "portal.db")
        .execute("SELECT count(*) FROM connections")
        .fetchone()[0]
        == 2
    )


def test_a_grant_expiring_within_14_days_needs_attention(store: Store) -> None:
    [bank] = [c for c in store.connections() if c.provider == "bank"]
    assert bank.grant_expires_at is not None
    soon = overview(store, bank.grant_expires_at - timedelta(days=3))
    assert any(
        a.provider == "bank" and "access ends" in a.what and "in 3 days" in a.what
        for a in soon.attention
    )
    later = overview(store, bank.grant_expires_at - timedelta(days=30))
    assert not any("access" in a.what for a in later.attention)
    gone = overview(store, bank.grant_expires_at + timedelta(days=1))
    assert any(a.provider == "bank" and "access ended" in a.what for a in gone.attention)


def start_view(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """``portal -v view ARGS`` in a process of its own, as a person starts it."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("portal")), "-v", "--home", str(home), "view", *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_view(process: subprocess.Popen[str], how: int) -> tuple[str, str]:
    process.send_signal(how)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "portal view stopped." in out
    return out, err


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_command_prints_the_address_serves_it_and_stops_cleanly(home: Path, how: int) -> None:
    with socket.create_server(("127.0.0.1", 0)) as free:
        port = free.getsockname()[1]
    process = start_view(home, "--no-browser", "--port", str(port))
    assert process.stdout is not None
    assert "Open this address" in process.stdout.readline()
    process.stdout.readline()
    address = process.stdout.readline().strip()
    assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/\?token=[\w-]{{43}}", address), address
    with httpx.Client(timeout=10) as client:
        page = client.get(address, follow_redirects=True)
        assert page.status_code == 200 and "Transactions" in page.text
    _, err = stop_view(process, how)
    secret = address.split("token=", 1)[1]
    assert secret not in err  # not in -v's log, whatever logged the requests
    with pytest.raises(httpx.ConnectError):
        httpx.get(address, timeout=5)


def test_the_command_opens_the_browser_with_the_secret_and_prints_only_the_clean_address(
    home: Path, tmp_path: Path
) -> None:
    opened = tmp_path / "opened"
    record = tmp_path / "browser.sh"
    record.write_text(f'#!/bin/sh\necho "$1" > {opened}\n', encoding="utf-8")
    record.chmod(0o700)
    process = start_view(home, env={"BROWSER": str(record)})
    assert process.stdout is not None
    said = process.stdout.readline()
    assert "open in your browser at http://127.0.0.1:" in said and "token" not in said
    for _ in range(100):
        if opened.exists() and opened.read_text(encoding="utf-8").strip():
            break
        time.sleep(0.05)
    address = opened.read_text(encoding="utf-8").strip()
    assert address.startswith(said.split(" at ", 1)[1].strip() + "?token=")
    assert httpx.get(address, follow_redirects=True, timeout=10).status_code == 200
    stop_view(process, signal.SIGINT)


def test_a_busy_port_is_a_clear_error(home: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = str(taken.getsockname()[1])
        result = CliRunner().invoke(cli, ["--home", str(home), "view", "--port", port])
    assert result.exit_code == ExitCode.USER_ERROR
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr


def test_a_home_with_no_store_is_a_clear_error_and_gets_no_store(tmp_path: Path) -> None:
    # In a process of its own: were a store made here, the view would serve until stopped.
    portal = str(Path(sys.executable).with_name("portal"))
    done = subprocess.run(
        [portal, "--home", str(tmp_path / "new"), "view", "--no-browser"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == ExitCode.CONFIG
    assert "There is no store at" in done.stderr and "portal sync" in done.stderr
    assert not (tmp_path / "new" / "portal.db").exists()
