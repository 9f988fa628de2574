"""The CLI's output layer: one way to print, safe logs, and a quiet end when the reader goes."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import portal.cli
from portal.cli import ExitCode, cli

SOURCES = [
    *sorted(Path(portal.cli.__file__).parent.glob("*.py")),
    Path(portal.cli.__file__).parent.parent / "progress.py",
]
PORTAL = str(Path(sys.executable).with_name("portal"))
HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil\nWARNING forged line"


def _bypasses(tree: ast.AST) -> list[str]:
    """Calls that print or build rich output without going through portal.cli.output."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = getattr(func.value, "id", "") if isinstance(func, ast.Attribute) else ""
        if (owner, name) in {("click", "echo"), ("click", "secho")} or name in {
            "Console",
            "Table",
            "print",
        }:
            literal = node.args and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            # ``console.print(table)`` prints a table built by output.table: allowed.
            if name == "print" and isinstance(func, ast.Attribute) and not literal:
                continue
            found.append(f"line {node.lineno}: {ast.unparse(node)[:80]}")
    return found


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_commands_print_only_through_the_output_layer(source: Path) -> None:
    if source.name == "output.py":
        return
    assert _bypasses(ast.parse(source.read_text(encoding="utf-8"))) == []


def test_the_guard_sees_a_bypass() -> None:
    planted = 'import click\nclick.echo(f"{x}")\nconsole.print("[red]x")\nConsole()\n'
    assert len(_bypasses(ast.parse(planted))) == 3


def _home_with_records(tmp_path: Path) -> Path:
    home, statement = tmp_path / "home", tmp_path / "midata.csv"
    statement.write_text(
        "Date,Type,Merchant/Description,Debit/Credit,Balance\n01/01/2026,POS,CAFE,-£1.00,£99.00\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["--home", str(home), "import", str(statement)])
    assert result.exit_code == 0, result.output
    return home


@pytest.mark.parametrize(
    "args",
    # A rich table (status) and plain lines (export).
    [["status"], ["export", "--format", "jsonl", "--out", "{out}"]],
    ids=lambda args: args[0],
)
def test_a_reader_that_stops_early_ends_the_command_quietly(
    tmp_path: Path, args: list[str]
) -> None:
    home = _home_with_records(tmp_path)
    command = [PORTAL, "--home", str(home), *(a.format(out=tmp_path / "out") for a in args)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=os.environ.copy()
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # `| head -0`: the reader is gone before portal writes a line
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert code == ExitCode.BROKEN_PIPE, err
    assert err == ""  # no traceback, no "Internal error", no "Exception ignored"


def test_log_lines_carry_no_control(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "broken.py").write_text(f"raise RuntimeError({HOSTILE!r})\n", encoding="utf-8")
    done = subprocess.run(
        [PORTAL, "-v", "--home", str(tmp_path / "home"), "--plugins-dir", str(plugins), "status"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    logged = [line for line in done.stderr.splitlines() if "failed to load" in line]
    assert logged and "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil\\nWARNING forged" in logged[0]
    assert not any(c in done.stderr for c in "\x1b\x9b\u202e")
    assert not any(line.startswith("WARNING forged") for line in done.stderr.splitlines())
