"""The portal command: the demo, status, export, and errors a person can act on."""

import json
import subprocess
import sys
from pathlib import Path

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
    [bank] = json.loads(out)["providers"]
    assert bank["ok"] and bank["records"]["transactions"] >= 1000 and bank["rejected"] == 0


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
