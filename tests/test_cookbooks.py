"""Every cookbook's code runs: its Python blocks make the plugin, its shell blocks drive it."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def named_blocks(text: str, language: str) -> dict[str, str]:
    """Blocks whose fence names the file they belong in, e.g. ```python test_larder.py."""
    return dict(re.findall(rf"```{language} (\S+)\n(.*?)```", text, re.S))


def run_shell_block(block: str, cwd: Path, env: dict[str, str]) -> list[str]:
    outputs = []
    for line in block.strip().splitlines():
        words = shlex.split(line)
        assignments = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
        command = [w for w in words if w.split("=", 1)[0] not in assignments]
        if command[0] == "pytest":
            command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *command[1:]]
        else:
            command[0] = str(BIN / command[0])
        done = subprocess.run(
            command,
            cwd=cwd,
            env={**env, **assignments},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout)
    return outputs


def run_sector_cookbook(
    tmp_path: Path, cookbook: str, module: str, *, files: tuple[str, ...] = ("python",)
) -> tuple[str, list[str], list[str]]:
    """Write the cookbook's plugin and named files, run its shell blocks; return what they printed.

    Returns the cookbook's text, its shell blocks and their outputs, one per command.
    """
    text = (ROOT / "cookbooks" / cookbook).read_text(encoding="utf-8")
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / module).write_text("\n\n".join(blocks(text, "python")), encoding="utf-8")
    named = {name: code for kind in files for name, code in named_blocks(text, kind).items()}
    for name, code in named.items():
        (tmp_path / name).write_text(code, encoding="utf-8")
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home")}
    env.pop("PORTAL_PLUGINS_DIR", None)
    shell = blocks(text, "sh")
    outputs = [out for block in shell for out in run_shell_block(block, tmp_path, env)]
    return text, shell, outputs


def assert_ci_runs_the_cookbook(text: str, shell: list[str]) -> None:
    """The CI example runs exactly the commands the cookbook runs, after installing
    distributions that exist (here: the ones this test environment runs on)."""
    from importlib.metadata import distribution

    [ci] = blocks(text, "yaml")
    install, *steps = re.findall(r"^\s*- run: (.*)$", ci, re.M)
    for package in install.split()[2:]:
        distribution(re.sub(r"\[.*\]", "", package))
    assert steps == [line for block in shell[1:] for line in block.strip().splitlines()]


@pytest.mark.slow
def test_writing_a_provider_plugin(tmp_path: Path) -> None:
    text = (ROOT / "cookbooks" / "writing-a-provider-plugin.md").read_text(encoding="utf-8")
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    (folder / "acme.py").write_text("\n\n".join(blocks(text, "python")), encoding="utf-8")
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home")}
    env.pop("PORTAL_PLUGINS_DIR", None)
    outputs = [out for block in blocks(text, "sh") for out in run_shell_block(block, tmp_path, env)]
    providers, sync, status, conformance = outputs
    assert "Acme Credit Union" in providers
    assert "acme" in sync and "250" in sync  # every transaction the sandbox holds
    assert "acme" in status
    assert "3 passed" in conformance


@pytest.mark.slow
def test_retailer_cookbook(tmp_path: Path) -> None:
    text, shell, outputs = run_sector_cookbook(tmp_path, "retailer.md", "larder.py")
    providers, sync, status, tests, conformance = outputs
    assert "Larder & Loom" in providers
    # Thirty purchases and a return: every one the sandbox holds, none rejected.
    assert re.search(r"Orders, receipts and returns\W+31\b", sync), sync
    assert re.search(r"Rejected\D+0\b", sync), sync
    assert "larder" in status
    assert "3 passed" in tests
    assert "passed" in conformance
    assert_ci_runs_the_cookbook(text, shell)


@pytest.mark.slow
def test_telco_cookbook(tmp_path: Path) -> None:
    text, shell, outputs = run_sector_cookbook(tmp_path, "telco.md", "nimbus.py")
    providers, sync, status, tests, conformance = outputs
    assert "Nimbus Mobile" in providers
    # Every call, text and session and every bill the sandbox holds, none rejected.
    assert re.search(r"Metered usage\W+270\b", sync), sync
    assert re.search(r"Bills and statements\W+3\b", sync), sync
    assert re.search(r"Rejected\D+0\b", sync), sync
    assert "nimbus" in status
    assert "3 passed" in tests
    assert "passed" in conformance and "failed" not in conformance
    assert_ci_runs_the_cookbook(text, shell)


@pytest.mark.slow
def test_utility_cookbook(tmp_path: Path) -> None:
    text, shell, outputs = run_sector_cookbook(tmp_path, "utility.md", "kestrel.py")
    providers, sync, status, tests, conformance = outputs
    assert "Kestrel Power" in providers
    # Five days of half-hours, one of them 23 hours long, and the bill: none rejected.
    assert re.search(r"Metered usage\W+238\b", sync), sync
    assert re.search(r"Bills and statements\W+1\b", sync), sync
    assert re.search(r"Rejected\D+0\b", sync), sync
    assert "kestrel" in status
    assert "4 passed" in tests
    # Every check passes, or is waived as the cookbook declares (reported as xfailed).
    assert re.search(r"\b\d+ passed", conformance) and not re.search(r"\b\d+ failed", conformance)
    assert_ci_runs_the_cookbook(text, shell)


@pytest.mark.slow
def test_bank_cookbook(tmp_path: Path) -> None:
    text, shell, outputs = run_sector_cookbook(
        tmp_path, "bank.md", "kittiwake.py", files=("python", "csv")
    )
    providers, sync, imported, status, tests, conformance = outputs
    assert "kittiwake" in providers and "Kittiwake" in providers  # the table wraps the name
    # Every transaction (three pages), balance, arrangement and purpose; none rejected.
    assert re.search(r"Transactions\W+120\b", sync), sync
    assert re.search(r"Direct debits, standing orders and subscriptions\W+3\b", sync), sync
    assert re.search(r"Rejected\D+0\b", sync), sync
    assert "Transactions: 5 (5 new)" in imported, imported
    assert re.search(r"Transactions\W+125\b", status), status
    assert "4 passed" in tests
    assert re.search(r"\b\d+ passed", conformance) and not re.search(r"\b\d+ failed", conformance)
    assert_ci_runs_the_cookbook(text, shell)
