"""Providers sync at once, each held to the request limits its plugin declares; Ctrl-C stops cleanly."""

import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.provider import sandbox_endpoints
from portal.sandbox import Chaos
from portal_bank.sandbox import BankSandbox

BUSY = '''
"""A bank whose fetch fires many requests from threads of its own."""
import dataclasses
from concurrent.futures import ThreadPoolExecutor
from portal import Page, hookimpl
from portal.provider import RequestLimits
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="busy", display_name="Busy Bank",
    limits=RequestLimits(concurrent={concurrent}, per_second={per_second}),
)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda _: client.get_json("accounts"), range(24)))
    yield Page("accounts", bodies[0]["Data"]["Account"])

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream, item, ref)
'''

SECOND_BANK = '''
"""The Demo Bank under a second name, so two providers can sync side by side."""
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(bank.PROVIDER, name="otherbank", display_name="Other Bank")

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    return bank.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream, item, ref)
'''


def _busy_portal(tmp_path: Path, concurrent: int, per_second: float | None) -> Portal:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    source = BUSY.format(concurrent=concurrent, per_second=per_second)
    (plugins / "busy.py").write_text(source)
    return Portal.open(home=tmp_path / "home", plugins_dir=plugins)


@pytest.fixture
def slow_bank() -> Iterator[BankSandbox]:
    """A bank whose every API answer takes 0.1 s, so requests overlap unless held back."""
    with BankSandbox() as sandbox:
        sandbox.set_chaos(Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.1))
        yield sandbox


def _api_starts(bank: BankSandbox) -> list[float]:
    return sorted(r.started for r in bank.requests if r.path.endswith("/accounts"))


def test_the_declared_concurrency_and_rate_hold(tmp_path: Path, slow_bank: BankSandbox) -> None:
    with _busy_portal(tmp_path, concurrent=2, per_second=10) as portal:
        portal.connect("busy", browser=auto_approve_browser, endpoints=sandbox_endpoints(slow_bank))
        [result] = portal.sync()
    assert result.ok, result.error
    assert slow_bank.max_in_flight <= 2
    starts = _api_starts(slow_bank)
    assert len(starts) == 24
    busiest = max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts)
    assert busiest <= 11  # 10 a second, plus one on the window's edge


def test_without_limits_the_same_plugin_overwhelms_the_sandbox(
    tmp_path: Path, slow_bank: BankSandbox
) -> None:
    # The control for the test above: the sandbox's measurement does catch a busy client.
    with _busy_portal(tmp_path, concurrent=8, per_second=None) as portal:
        portal.connect("busy", browser=auto_approve_browser, endpoints=sandbox_endpoints(slow_bank))
        [result] = portal.sync()
    assert result.ok, result.error
    assert slow_bank.max_in_flight > 2
    starts = _api_starts(slow_bank)
    assert max(sum(1 for s in starts if t <= s < t + 1.0) for t in starts) > 11


def test_two_providers_sync_at_the_same_time(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "otherbank.py").write_text(SECOND_BANK)
    chaos = Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.05)
    with BankSandbox() as one, BankSandbox() as two:
        for sandbox in (one, two):
            sandbox.set_chaos(chaos)
        with Portal.open(home=tmp_path / "home", plugins_dir=plugins) as portal:
            for name, sandbox in (("bank", one), ("otherbank", two)):
                portal.connect(
                    name, browser=auto_approve_browser, endpoints=sandbox_endpoints(sandbox)
                )
            started = len(one.requests), len(two.requests)
            results = portal.sync()
        assert [r.provider for r in results] == ["bank", "otherbank"]
        assert all(r.ok for r in results), [r.error for r in results]
        spans = [
            (s.requests[n].started, s.requests[-1].at)
            for s, n in ((one, started[0]), (two, started[1]))
        ]
    (a_start, a_end), (b_start, b_end) = spans
    overlap = min(a_end, b_end) - max(a_start, b_start)
    assert overlap > 0.5 * min(a_end - a_start, b_end - b_start)


def _connected_home(tmp_path: Path, bank: BankSandbox) -> dict[str, str]:
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home"), "PORTAL_VAULT": "file"}
    with Portal.open(home=tmp_path / "home") as portal:
        portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
    return env


def _transactions(home: Path) -> int:
    with sqlite3.connect(home / "portal.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return int(db.execute("SELECT count(*) FROM transactions").fetchone()[0])


@pytest.mark.slow
@pytest.mark.parametrize("writer", ["never", "always"])  # the store writing itself, or its child
def test_ctrl_c_stops_within_two_seconds_and_keeps_what_was_committed(
    tmp_path: Path, writer: str
) -> None:
    with BankSandbox(page_size=20) as bank:
        env = {**_connected_home(tmp_path, bank), "PORTAL_WRITER_PROCESS": writer}
        bank.set_chaos(Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.15))
        portal_cmd = str(Path(sys.executable).with_name("portal"))
        process = _popen_taking_ctrl_c(
            [portal_cmd, "sync", "--quiet"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while _transactions_so_far(tmp_path / "home") < 100:  # wait until pages are committed
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        _, err = process.communicate(timeout=10)
        stopped_after = time.monotonic() - interrupted
        assert process.returncode == 130, err
        assert stopped_after < 2.0
        assert "Interrupted" in err or "interrupted" in err
        kept = _transactions(tmp_path / "home")
        assert kept >= 100
        bank.set_chaos(None)
        done = subprocess.run(
            [portal_cmd, "sync", "--quiet"], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert _transactions(tmp_path / "home") == len(bank.ground_truth()["transactions"])


@pytest.mark.slow
def test_sigterm_stops_like_ctrl_c_keeps_what_was_committed_and_status_says_so(
    tmp_path: Path,
) -> None:
    with BankSandbox(page_size=20) as bank:
        env = {**_connected_home(tmp_path, bank), "TERM": "xterm", "COLUMNS": "100"}
        bank.set_chaos(Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.15))
        portal_cmd = str(Path(sys.executable).with_name("portal"))
        terminal, its_end = pty.openpty()  # stderr on a terminal: the live progress shows
        process = subprocess.Popen(
            [portal_cmd, "sync"], env=env, stdout=subprocess.PIPE, stderr=its_end, text=True
        )
        os.close(its_end)
        shown_on_terminal = _read_all_in_a_thread(terminal)
        deadline = time.monotonic() + 30
        while _transactions_so_far(tmp_path / "home") < 100:  # wait until pages are committed
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.1)
        process.terminate()  # SIGTERM, as kill, systemd and docker stop send it
        terminated = time.monotonic()
        process.communicate(timeout=10)
        stopped_after = time.monotonic() - terminated
        err = shown_on_terminal()
        assert process.returncode == 143, err
        assert stopped_after < 2.0
        assert "Stopped by SIGTERM; everything committed so far is kept." in err
        assert "Traceback" not in err
        # The live display was put away: the cursor it hid is shown again.
        assert "\x1b[?25l" in err and err.rindex("\x1b[?25h") > err.rindex("\x1b[?25l")
        assert _transactions(tmp_path / "home") >= 100
        status = subprocess.run(
            [portal_cmd, "status"], env=env, capture_output=True, text=True, check=False
        )
        shown = " ".join(status.stdout.split())
        # Stopped after its page, or still waiting on the network when the grace ended.
        assert "bank's last sync failed: " in shown, shown
        assert "interrupted" in shown.split("bank's last sync failed: ")[1]


def _read_all_in_a_thread(terminal: int) -> Callable[[], str]:
    """Drain a pseudo-terminal as a program writes to it; the returned call waits for the end."""
    chunks: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # EIO: every writer closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(terminal)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def everything() -> str:
        reader.join(10)
        return b"".join(chunks).decode(errors="replace")

    return everything


def _popen_taking_ctrl_c(args: list[str], **options: Any) -> subprocess.Popen[str]:
    """Popen, the child taking SIGINT as a terminal's foreground command does.

    A job a non-interactive shell starts in the background (``pytest ... &`` in a script)
    ignores SIGINT, and its children inherit that: portal would then rightly ignore the
    test's Ctrl-C. A handler installed here is reset to the default in the child.
    """
    ignored = signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    if ignored:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(args, **options)
    finally:
        if ignored:
            signal.signal(signal.SIGINT, signal.SIG_IGN)


def _transactions_so_far(home: Path) -> int:
    try:
        with sqlite3.connect(f"file:{home / 'portal.db'}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT count(*) FROM transactions").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_the_limiter_paces_starts_at_the_declared_rate() -> None:
    from portal.limits import Limiter
    from portal.provider import RequestLimits

    clock = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    limiter = Limiter(
        RequestLimits(concurrent=1, per_second=4), clock=lambda: clock[0], sleep=sleep
    )
    for _ in range(5):
        with limiter.slot():
            pass
    assert slept == [0.25, 0.25, 0.25, 0.25]
