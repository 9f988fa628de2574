"""A plugin that hangs in a hook is reported, and the other providers' syncs still end."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hostile import bank_plugin
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox

HANGS = {
    "fetch": {"fetch": "time.sleep(10**6)\nyield from ()"},
    "normalise": {"normalise": "while True:\n    pass"},
    "deliver": {},
}

HUNG_DELIVERY = """
import time
from portal import hookimpl

@hookimpl
def deliver(batch):
    if batch.provider == "stuck":
        time.sleep(10**6)
"""


@pytest.mark.parametrize("hook", sorted(HANGS))
def test_a_hung_plugin_is_reported_and_the_others_results_printed(
    tmp_path: Path, bank: BankSandbox, hook: str
) -> None:
    plugins, home = tmp_path / "plugins", tmp_path / "home"
    plugins.mkdir()
    (plugins / "stuck.py").write_text(bank_plugin("stuck", limits="hook_seconds=1", **HANGS[hook]))
    if hook == "deliver":
        (plugins / "hung_delivery.py").write_text(HUNG_DELIVERY)
    with Portal.open(home=home, plugins_dir=plugins) as portal:
        for name in ("bank", "stuck"):
            portal.connect(
                name, browser=auto_approve_browser, endpoints=sandbox_endpoints(bank), timeout=10
            )
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("portal")), "--plugins-dir", str(plugins), "sync"],
        env={**os.environ, "PORTAL_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 30
    assert f"Error: stuck: stuck's plugin did not answer within 1 s in {hook}." in done.stderr
    assert done.returncode != 0
    with Portal.open(home=home, plugins_dir=plugins) as portal:
        status = {c.provider: c for c in portal.store.connections()}
        assert portal.store.counts()["bank"]["transactions"] > 0  # bank's sync went through
    assert "did not answer" in str(status["stuck"].last_sync_status)


def test_a_plugin_that_answers_after_it_was_given_up_on_stays_reported_as_hung(
    tmp_path: Path, bank: BankSandbox
) -> None:
    plugins, home = tmp_path / "plugins", tmp_path / "home"
    plugins.mkdir()
    # Its first fetch page takes 3 s against a bound of 1 s; then it ends normally.
    late = "time.sleep(3)\nyield from bank.fetch(client, cursors)"
    (plugins / "late.py").write_text(bank_plugin("late", limits="hook_seconds=1", fetch=late))
    with Portal.open(home=home, plugins_dir=plugins) as portal:
        portal.connect(
            "late", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank), timeout=10
        )
        [result] = portal.sync(["late"])
        assert "did not answer within 1 s" in str(result.error)
        deadline = time.monotonic() + 30
        while any(t.name == "sync-late" for t in threading.enumerate()):
            assert time.monotonic() < deadline, "the late sync never ended"
            time.sleep(0.1)
        [connection] = portal.store.connections()
        assert "did not answer" in str(connection.last_sync_status)
