"""No text a provider, a plugin or a file controls reaches the terminal as control.

Hostile values (an OSC 8 link, an OSC window title, a CSI clear-screen, a C1 CSI, rich
``[link=...]`` markup, a bidi override, and a newline that starts a fake "Connected" line)
are planted in every place this test can reach through the real path:

- a plugin whose display names, stream names and rejection reasons carry them, synced from
  the Demo Bank sandbox on a real socket, and a plugin that fails to load with them;
- an OAuth server on a real socket that answers the authorization redirect, the token
  request and the device flow with them (error codes and descriptions, refused scopes,
  device codes, verification addresses);
- a statement file with a hostile name and a file with a hostile header.

Every ``portal`` command is run, found by walking ``cli.commands``, so a new command is
swept too: the test fails if one is not covered. The terminal is forced on (rich then
writes its own styles and would write any link as OSC 8); apart from rich's own colour
codes no escape, C1 control or bidi control may appear, and no fake line may start.
"""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import click
import httpx
import pytest
from click.testing import CliRunner

from portal.auth.flows import auto_approve_browser
from portal.cli import cli
from portal.sandbox import Fault
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal_bank.sandbox import BankSandbox
from portal_conformance.report import Outcome, build, to_json

OSC8 = "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned\x07"
CLEAR = "\x1b[2J"
C1 = "\x9b31m"
MARKUP = "[link=https://evil.example]x[/link]"
BIDI = "\u202ekcatta"
FAKE = "\nConnected bank (scopes: everything). Now run: portal sync"
HOSTILE = OSC8 + TITLE + CLEAR + C1 + MARKUP + BIDI + FAKE
"""Every hostile value at once."""
NO_SPACE = OSC8.replace(" ", "") + TITLE + CLEAR + C1 + BIDI  # for a single OAuth scope

SHOWN = "\\x1b]0;pwned"
"""How the title sequence reads once neutralised: proof that a hostile value was shown."""

PLUGIN = f'''
"""The Demo Bank, as told by a hostile plugin."""
import dataclasses
from portal import hookimpl
from portal.errors import ProviderError, SkippableError
from portal.provider import Page
from portal_bank import plugin as bank

HOSTILE = {HOSTILE!r}
EVIL = dataclasses.replace(bank.PROVIDER, name="evil", display_name="Evil " + HOSTILE)
QUIET = dataclasses.replace(bank.PROVIDER, name="evilquiet", display_name=HOSTILE, sandbox=None)

def _crashing_sandbox():
    raise RuntimeError(HOSTILE)  # a plugin's crash, quoting hostile text in its traceback

BOX = dataclasses.replace(bank.PROVIDER, name="evilbox", sandbox=_crashing_sandbox)
FAILING = dataclasses.replace(EVIL, name="evilsync")

from portal.auth.credentials import Ask, KeyCredential, basic
from portal.provider import NO_OAUTH, Quota

KEYED = dataclasses.replace(  # what portal connect asks, and the quota, in hostile words
    bank.PROVIDER,
    name="evilkey",
    sandbox=None,
    sandbox_only=False,
    oauth=NO_OAUTH,
    asks=(Ask("api_key", "key " + HOSTILE, help=HOSTILE),),
    credential=KeyCredential(kind="api_key", auth=basic("api_key"), revoke_hint=HOSTILE),
    quota=Quota(syncs=1, why=HOSTILE),
)

PORTAL_CONFORMANCE = {{"evil": {{"waivers": [{{
    "check": "test_legible[transactions.description]",
    "reason": HOSTILE,
    "link": "https://example.com/tracker/1",
    "expires": "2099-01-01",
}}]}}}}

@hookimpl
def register_providers(register):
    register(EVIL)
    register(QUIET)
    register(BOX)
    register(FAILING)
    register(KEYED)

@hookimpl
def fetch(client, cursors):
    if client.provider.name == "evilsync":  # an error message carrying hostile text
        raise ProviderError(client.provider.display_name + " answered nonsense.")
    for page in bank.fetch(client, cursors):
        if page.stream == "party":  # a stream named with hostile text
            page = Page(HOSTILE + ":party", page.items, page.cursor)
        yield page

@hookimpl
def normalise(stream, item, ref):
    if stream.startswith(HOSTILE):
        raise SkippableError(HOSTILE)  # a rejection reason
    entities = bank.normalise(stream, item, ref)
    for entity in entities:
        if type(entity).__name__ == "Transaction":  # values the conformance suite quotes
            entity.description = HOSTILE
            entity.provider_id += HOSTILE
        if type(entity).__name__ == "Document":  # a title the documents listing shows
            entity.title = HOSTILE
        if type(entity).__name__ == "RecurringPayment":  # a payee portal recurring shows
            entity.payee = HOSTILE
    return entities
'''

BROKEN = f"raise RuntimeError({HOSTILE!r})\n"

STATEMENT = (
    "Date,Type,Merchant/Description,Debit/Credit,Balance\n"
    f"01/01/2026,POS,{json.dumps(HOSTILE)},-£1.00,£99.00\n"
)

# rich's own sequences, the only ones allowed: colours and bold, and its live display's
# hiding of the cursor, erasing of its line and moving up to redraw it.
RICH = re.compile(r"\x1b\[(?:[0-9;]*m|\?25[lh]|2K|[0-9]*A)|\r")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def assert_inert(text: str, where: str) -> None:
    """No control in ``text`` but rich's colours, and no line a provider started."""
    bare = RICH.sub("", text)
    found = UNSAFE.search(bare)
    assert found is None, (
        f"{where}: {found.group()!r} in {bare[max(0, found.start() - 80) :][:200]!r}"
    )
    assert not re.search(r"^\s*Connected bank \(scopes: everything", bare, re.M), where


class HostileAuthServer:
    """An OAuth server on 127.0.0.1 whose every answer carries hostile text."""

    def __init__(self) -> None:
        self.mode = "redirect-error"
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if "redirect_uri" not in query:  # metadata: this server publishes none
                    self._json(404, {"error": "not_found"})
                    return
                if server.mode == "redirect-error":
                    answer = {"error": HOSTILE, "error_description": HOSTILE + "<script>x</script>"}
                else:
                    answer = {"code": "c0de"}
                answer["state"] = query.get("state", "")
                self.send_response(302)
                self.send_header("Location", f"{query['redirect_uri']}?{urlencode(answer)}")
                self.end_headers()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path.endswith("/device"):
                    body: dict[str, Any] = {
                        "device_code": "d",
                        "user_code": HOSTILE,
                        "verification_uri": f"http://127.0.0.1:{server.port}/device{HOSTILE}",
                        "expires_in": 60,
                        "interval": 1,
                    }
                    self._json(200, body)
                elif server.mode == "wide-scope":
                    scope = "openid accounts " + NO_SPACE
                    body = {"access_token": "a", "token_type": "Bearer", "expires_in": 60}
                    self._json(200, {**body, "scope": scope})
                else:
                    self._json(400, {"error": HOSTILE, "error_description": HOSTILE})

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "HostileAuthServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def overview_page(home: Path) -> str:
    """The Overview page ``portal view`` serves for the store in ``home``."""
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as view, httpx.Client(timeout=10) as browser:
            return browser.get(view.login_url, follow_redirects=True).text
    finally:
        store.close()


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every runnable command under ``group``, as the words that name it."""
    paths: set[tuple[str, ...]] = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths |= command_paths(command, (*prefix, name))
        else:
            paths.add((*prefix, name))
    return paths


class Sweep:
    """Runs portal commands in a forced terminal and checks everything they print."""

    def __init__(self, home: Path, plugins: Path) -> None:
        self.base = ["--home", str(home), "--plugins-dir", str(plugins)]
        self.covered: set[tuple[str, ...]] = set()
        self.pages: list[str] = []
        self.problems: list[str] = []

    def run(self, *args: str, expect: int | None = None, shows: bool = True) -> str:
        paths = command_paths(cli)
        self.covered |= {p for p in paths if tuple(args[: len(p)]) == p}
        env = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "300"}
        result = CliRunner().invoke(cli, [*self.base, *args], env=env, catch_exceptions=False)
        text = result.stdout + result.stderr
        try:
            assert_inert(text, " ".join(args))
        except AssertionError as problem:  # go on: the test then names every command at fault
            self.problems.append(str(problem).splitlines()[0])
        if expect is not None:
            assert result.exit_code == expect, text
        if shows and "\\x1b" not in text:  # the hostile value should reach it, neutralised
            self.problems.append(f"{' '.join(args)}: shows nothing hostile, neutralised")
        return text


@pytest.fixture
def sweep(tmp_path: Path) -> Sweep:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "evil.py").write_text(PLUGIN, encoding="utf-8")
    (plugins / "broken.py").write_text(BROKEN, encoding="utf-8")
    return Sweep(tmp_path / "home", plugins)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, sweep: Sweep) -> Iterator[None]:
    """The person's browser: follows the redirects and keeps the page it ends on."""

    def follow(url: str, *args: object, **kwargs: object) -> bool:
        page = httpx.get(url, follow_redirects=True, timeout=10)
        sweep.pages.append(page.text)
        return True

    monkeypatch.setattr(webbrowser, "open", follow)
    yield


def test_every_command_shows_hostile_text_inert(
    sweep: Sweep, browser: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweep.run("providers", expect=0)  # asks, their help and a quota's reason too
    sweep.run("connect", "evilkey", expect=3)  # no terminal to ask in: the ask, named
    sweep.run("sandbox", "evilquiet", expect=3)
    sweep.run("sandbox", "evilbox", expect=1)  # an internal error quoting the plugin's crash
    sweep.run("plugin", "new", HOSTILE, "--sector", "bank", "--dir", str(tmp_path / "p"))
    with HostileAuthServer() as hostile:
        where = ("--sandbox", hostile.base_url, "--timeout", "10")
        sweep.run("connect", "evil", *where, expect=4)  # error and description in the redirect
        hostile.mode = "token-error"
        sweep.run("connect", "evil", *where, expect=4)  # ... in the token answer
        hostile.mode = "wide-scope"
        sweep.run("connect", "evil", *where, expect=4)  # a scope portal did not ask for
        hostile.mode = "token-error"
        sweep.run("connect", "evil", "--device", *where, expect=4)  # device code and address
    # The loopback page shows the error the redirect carried, escaped and neutralised.
    if "<script>" in sweep.pages[0] or not (
        "&lt;script&gt;" in sweep.pages[0] and SHOWN in sweep.pages[0]
    ):
        sweep.problems.append(f"loopback page: {sweep.pages[0]!r}")
    for page in sweep.pages:
        assert_inert(page, "loopback page")

    with BankSandbox() as bank:
        monkeypatch.setattr(webbrowser, "open", auto_approve_browser)
        sweep.run("connect", "evil", "--sandbox", bank.base_url, expect=0, shows=False)
        sweep.run("sync", expect=0, shows=False)  # hostile stream names (progress) and reasons
        bank.add_fault(Fault(path="/accounts$", status=400, times=5))
        sweep.run("sync", expect=6)  # a failure naming the hostile provider
        sweep.run("status", expect=0)  # the failure's reason and the rejection reasons
        sweep.run("recurring", expect=0)  # payees and the kinds of payment
        sweep.run("apply", expect=3, shows=False)  # no preferences stated: how to state one
        sweep.run("preferences", "marketing.email=no", expect=0)  # providers' names: columns
        sweep.run("preferences", f"{HOSTILE}=no", expect=3)  # the key asked for, in its error
        sweep.run("apply", "--dry-run", expect=0)  # the provider's name
        sweep.run("apply", expect=0)  # not supported: what to do, naming the provider
        sweep.run("receipts", expect=0)  # the grant's receipt: the provider as controller
        sweep.run("config", "timezone", HOSTILE, expect=5)  # the zone asked for, in its error
        sweep.run("config", HOSTILE, "x", expect=3)  # the setting asked for, in its error
        sweep.run("migrate", expect=0, shows=False)  # already up to date: the store's path
        with socket.create_server(("127.0.0.1", 0)) as taken:  # the command, to its error
            sweep.run("view", "--port", str(taken.getsockname()[1]), expect=3, shows=False)
            sweep.run("browse", "--port", str(taken.getsockname()[1]), expect=3, shows=False)
        page = overview_page(tmp_path / "home")  # ... and its page: the failure's reason
        assert_inert(page, "portal view")
        if SHOWN not in page:
            sweep.problems.append("portal view: shows nothing hostile, neutralised")
        sweep.run("report", "--out", str(tmp_path / f"r{TITLE}.html"), expect=0)  # its path
        sweep.run("report", "--out", str(tmp_path / "r.html"), "--provider", HOSTILE, expect=3)
        sweep.run("changes", "--provider", HOSTILE, expect=3)  # the provider asked for
        sweep.run("documents", expect=0)  # the documents' titles
        sweep.run("bills", "--provider", HOSTILE, expect=3)  # the provider asked for
        sweep.run("understand", expect=0, shows=False)  # what the steps concluded
        out = str(tmp_path / f"doc{TITLE}.pdf")
        sweep.run("documents", "save", HOSTILE, "--out", out, expect=3)  # the id asked for
        sweep.run("understand", "--again", expect=0, shows=False)  # what it worked out
        with sqlite3.connect(tmp_path / "home" / "portal.db") as db:
            [(key,)] = db.execute("SELECT id FROM transactions ORDER BY id LIMIT 1")
        sweep.run("show", key, expect=0)  # a record's values: its description
        sweep.run("show", HOSTILE, expect=3)  # the id asked for, in its error

    statement = tmp_path / f"statement{TITLE}{BIDI}.csv"
    statement.write_text(STATEMENT, encoding="utf-8")
    sweep.run("import", str(statement), "--account", "current", expect=0)
    odd = tmp_path / f"odd{CLEAR}.csv"
    odd.write_text(f"{HOSTILE},Amount\n1,2\n", encoding="utf-8")
    sweep.run("import", str(odd), "--as", "midata", "--account", "x", expect=3)  # its header
    sweep.run("import", "--list", expect=0, shows=False)
    sweep.run("categories", "rule", HOSTILE, "shopping", expect=0)  # the pattern, kept
    sweep.run("categories", "rules", expect=0)
    sweep.run("categories", expect=0, shows=False)  # categories in portal's own words
    sweep.run("categories", "unrule", HOSTILE, expect=0)
    sweep.run("categories", "unrule", HOSTILE, expect=3)  # gone: named in the error
    sweep.run("export", "--format", "csv", "--out", str(tmp_path / f"out{TITLE}"), expect=0)
    sweep.run("disconnect", "evil", expect=6, shows=False)  # the sandbox is gone: revoke fails
    sweep.run("disconnect", "evilquiet", expect=3)  # never connected: named in the error
    sweep.covered.add(("conformance",))  # in a process of its own: see the next test

    assert not sweep.problems, "\n".join(problem[:160] for problem in sweep.problems)
    assert command_paths(cli) - sweep.covered == set(), "a command the sweep does not run"


def test_the_conformance_report_shows_hostile_text_inert(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "evil.py").write_text(PLUGIN, encoding="utf-8")
    portal = str(Path(sys.executable).with_name("portal"))
    done = subprocess.run(
        [
            portal,
            "--plugins-dir",
            str(plugins),
            "conformance",
            f"file:{plugins / 'evil.py'}",  # every provider the hostile plugin offers
            "-k",
            "legible and transactions.description or required_fields and transactions",
            "--report",
            "md",
        ],
        env={**os.environ, "PORTAL_HOME": str(tmp_path / "home"), "FORCE_COLOR": "1"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    text = done.stdout + done.stderr
    assert "portal conformance report" in text, text[-3000:]
    assert_inert(text, "conformance")
    for quoted in (
        "not valid Transactions: c",  # a failure quoting the provider's ids
        "The sync failed: Evil \\x1b]8;;https",  # ... quoting the sync's error
        "RuntimeError: \\x1b]8;;https",  # a plugin's own traceback
        "waived until 2099-01-01: \\x1b]8;;https",  # a waiver's reason
    ):
        assert quoted in text, quoted


def test_the_json_report_is_exact_data_and_inert() -> None:
    outcome = Outcome("evil", "test_legible[x]", "legible", "x", "failed", HOSTILE)
    text = to_json(build([outcome]))
    assert_inert(text, "JSON report")
    assert json.loads(text)["providers"][0]["checks"][0]["message"] == HOSTILE
