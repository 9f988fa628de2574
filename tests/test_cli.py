"""The portal command: the demo, status, export, and errors a person can act on."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portal.cli import ExitCode, cli


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_documents_every_exit_code() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for code in ExitCode:
        assert f"  {code.value} " in result.output


def test_demo_sync_then_status_then_export(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, out, err = run(home, "sync", "--demo")
    assert code == ExitCode.OK, err
    assert "bank" in out and "Fetched this run" in out
    code, out, _ = run(home, "status")
    assert code == 0 and "bank" in out and "connected" in out
    for fmt in ("jsonl", "csv"):
        code, out, _ = run(home, "export", "--format", fmt, "--out", str(tmp_path / fmt))
        assert code == 0, out
        manifest = json.loads((tmp_path / fmt / "manifest.json").read_text())
        transactions = manifest["files"][f"transactions.{fmt}"]
        assert transactions["records"] >= 1000
        lines = (tmp_path / fmt / f"transactions.{fmt}").read_text(encoding="utf-8").splitlines()
        assert len(lines) == transactions["records"] + (1 if fmt == "csv" else 0)
    row = json.loads((tmp_path / "jsonl" / "transactions.jsonl").read_text().splitlines()[0])
    assert isinstance(row["amount"], str) and "." in row["amount"]  # exact, never a float


def test_demo_sync_json_output_for_scripts(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "sync", "--demo", "--json")
    assert code == 0
    synced = {p["provider"]: p for p in json.loads(out)["providers"]}
    bank = synced["bank"]  # every first-party sandbox syncs in the demo, the bank among them
    assert bank["ok"] and bank["records"]["transactions"] >= 1000 and bank["rejected"] == 0
    utility = synced["utility"]
    assert utility["ok"] and utility["records"]["usage"] == 9065 and utility["rejected"] == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["sync"], ExitCode.USER_ERROR, "No provider is connected yet."),
        (
            ["sync", "nosuch"],
            ExitCode.USER_ERROR,
            "No installed plugin offers a provider called 'nosuch'",
        ),
        (["connect", "nosuch"], ExitCode.USER_ERROR, "portal providers"),
        (["--db", "nonsense://", "status"], ExitCode.CONFIG, "not a database URL"),
    ],
)
def test_user_errors_are_one_sentence_and_a_hint_without_traceback(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    exit_code, out, err = run(tmp_path, *args)
    assert exit_code == code
    assert message in err
    assert "Traceback" not in out + err
    assert len(err.strip().splitlines()) == 2


def test_providers_lists_sector_and_inventory(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "providers")
    assert code == 0
    assert "bank" in out and "Demo Bank" in out and "transactions" in out


def test_the_installed_console_script_runs_the_demo(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("portal")
    done = subprocess.run(
        [str(script), "--home", str(tmp_path), "sync", "--demo"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Fetched this run" in done.stdout
    # It ends by saying how to see what it synced, on the same home.
    last = done.stdout.strip().splitlines()[-1]
    # As the person can paste it: "portal" when it is on the PATH, else the path they ran.
    program = "portal" if shutil.which("portal") else os.path.relpath(script)
    assert last == f"See what was synced: {program} --home {tmp_path} view (in your browser)"


def test_the_demo_says_portal_view_without_options_that_came_from_the_environment(
    tmp_path: Path,
) -> None:
    result = CliRunner(env={"PORTAL_HOME": str(tmp_path)}).invoke(cli, ["sync", "--demo"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "See what was synced: portal view (in your browser)"
    )
    quiet = CliRunner(env={"PORTAL_HOME": str(tmp_path)}).invoke(cli, ["sync", "--demo", "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == ""


def test_connect_prints_the_url_and_waits_for_the_redirect(tmp_path: Path) -> None:
    import httpx

    from portal_bank.sandbox import BankSandbox

    env = {**os.environ, "PORTAL_HOME": str(tmp_path)}
    with BankSandbox() as bank:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("portal")),
                "connect",
                "bank",
                "--no-browser",
                "--sandbox",
                bank.base_url,
                "--timeout",
                "30",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert process.stderr is not None
        url = ""
        for line in process.stderr:
            if line.strip().startswith(bank.authorize_url):
                url = line.strip()
                break
        assert url, "portal connect printed no authorization URL"
        httpx.get(url, follow_redirects=True, timeout=10)  # the person clicks "Approve"
        out, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "Connected bank" in out
        code, out, _ = run(tmp_path, "sync", "--json")
        assert code == 0
        [synced] = json.loads(out)["providers"]
        assert synced["records"]["transactions"] == len(bank.ground_truth()["transactions"])


def test_connecting_a_sandbox_only_provider_without_a_sandbox_says_what_to_do(
    tmp_path: Path,
) -> None:
    code, _, err = run(tmp_path, "connect", "bank")
    assert code == ExitCode.USER_ERROR
    assert "exists only as a sandbox" in err and "portal sync --demo" in err


def test_a_sync_whose_demo_sandbox_is_gone_says_so_at_once(tmp_path: Path) -> None:
    from portal.app import Portal
    from portal.auth.flows import auto_approve_browser
    from portal.provider import sandbox_endpoints
    from portal_bank.sandbox import BankSandbox

    home = tmp_path / "home"
    with BankSandbox() as bank, Portal.open(home=home) as portal:
        portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
    # The sandbox ended with the command that started it (as portal sync --demo's do).
    started = time.monotonic()
    code, _, err = run(home, "sync")
    assert time.monotonic() - started < 5  # not the retries a real provider's network gets
    assert code == ExitCode.USER_ERROR
    assert "The demo sandbox for bank is not running" in err
    assert "portal sync --demo" in err
    code, out, _ = run(home, "status")
    assert "bank's last sync failed: The demo sandbox for bank is not running" in " ".join(
        out.split()
    )


@pytest.mark.parametrize("failure", ["provider", "auth"])
def test_status_shows_why_the_last_sync_failed(tmp_path: Path, failure: str) -> None:
    from portal.app import Portal
    from portal.auth.flows import auto_approve_browser
    from portal.http import RetryPolicy
    from portal.provider import sandbox_endpoints
    from portal.sandbox import Chaos
    from portal_bank.sandbox import BankSandbox

    home = tmp_path / "home"
    quick = RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.01)
    with BankSandbox() as bank, Portal.open(home=home, retry_policy=quick) as portal:
        connection = portal.connect(
            "bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank)
        )
        if failure == "provider":
            bank.set_chaos(Chaos(rate=1.0, kinds=("5xx",)))
        else:
            portal.vault.delete(connection.id)  # the tokens are lost: connect again
        [result] = portal.sync(["bank"])
    assert result.error is not None
    code, out, _ = run(home, "status")
    assert code == ExitCode.OK
    shown = " ".join(out.split())
    assert f"bank's last sync failed: {' '.join(str(result.error).split())}" in shown


def test_a_resync_says_what_was_new_what_changed_and_what_was_merely_confirmed(
    tmp_path: Path,
) -> None:
    from portal.app import Portal
    from portal.auth.flows import auto_approve_browser
    from portal.provider import sandbox_endpoints
    from portal_bank.sandbox import BankSandbox

    home = tmp_path / "home"

    def synced() -> dict[str, Any]:
        code, out, err = run(home, "sync", "bank", "--json")
        assert code == ExitCode.OK, err
        [bank_result] = json.loads(out)["providers"]
        return dict(bank_result)

    with BankSandbox() as bank:
        with Portal.open(home=home) as portal:
            portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
        first = synced()
        assert first["new"] == first["records"] and first["changed"] == dict.fromkeys(
            first["records"], 0
        )

        code, out, _ = run(home, "sync", "bank")  # nothing happened at the bank since
        assert code == ExitCode.OK
        cells = _summary_cells(out)  # what was fetched again was only confirmed
        assert re.fullmatch(r"\d+ unchanged", cells["Transactions"]), cells
        assert cells["Balances"] == f"{first['records']['balances']} unchanged"

        with sqlite3.connect(home / "portal.db") as db:
            query = "SELECT count(*) FROM transactions WHERE status = 'Pending'"
            [(pending,)] = db.execute(query).fetchall()
        assert pending > 0
        bank.add_activity(3)  # three new card payments, and every pending one is booked
        third = synced()
    assert third["new"]["transactions"] == 3
    assert third["changed"]["transactions"] == pending
    assert third["records"]["transactions"] >= 3 + pending


def _summary_cells(out: str) -> dict[str, str]:
    """The first provider's cell of each row of the sync summary, by the row's label."""
    rows = [line.split("│") for line in out.splitlines() if line.count("│") == 3]
    return {row[1].strip(): row[2].strip() for row in rows}
