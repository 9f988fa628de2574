"""`portal plugin new` writes a plugin that passes the conformance suite as made, and
cookbooks/ci.md's commands run as written (tests/test_cookbooks.py's rule: docs execute).

`pip install -e DIR` is the one command not run for real: the test's environment is shared,
so the new package is put on the path instead (its source folder, and a one-line plugins
folder standing in for its entry point), which is what an editable install amounts to.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from portal.errors import UserError
from portal.scaffold import new_plugin
from portal_conformance.declaration import load_declaration

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COOKBOOK = (ROOT / "cookbooks" / "ci.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", COOKBOOK, re.S)


def run_cookbook(tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run the cookbook's shell block line by line, as a person would in a terminal."""
    cwd, done = tmp_path, []
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home")}
    env.pop("PORTAL_PLUGINS_DIR", None)
    for line in blocks("sh")[0].strip().splitlines():
        words = shlex.split(line)
        if words[0] == "cd":
            cwd = cwd / words[1]
            continue
        if words[:3] == ["pip", "install", "-e"]:
            package = cwd / words[3].split("[")[0]
            shim = tmp_path / "entry-points"
            shim.mkdir()
            [module] = [p.name for p in (package / "src").iterdir() if p.is_dir()]
            (shim / f"{module}.py").write_text(f"from {module}.plugin import *  # noqa\n")
            env["PYTHONPATH"] = str(package / "src")
            env["PORTAL_PLUGINS_DIR"] = str(shim)
            continue
        command = (
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *words[1:]]
            if words[0] == "pytest"
            else [str(BIN / words[0]), *words[1:]]
        )
        result = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, f"{line}\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        done.append(result)
    return done


@pytest.mark.slow
def test_the_scaffolded_plugin_passes_every_check_as_the_cookbook_runs_it(tmp_path: Path) -> None:
    new, tests, _conformance = run_cookbook(tmp_path)
    assert "Wrote" in new.stdout
    assert " passed" in tests.stdout
    package = tmp_path / "portal-acme-energy"
    report = (package / "conformance.md").read_text(encoding="utf-8")
    assert "tier: **gold**" in report
    assert "completeness score: 100/100" in report and "legibility score: 100/100" in report
    assert "| FAIL |" not in report
    assert (package / "conformance.xml").read_text(encoding="utf-8").count("<testcase") > 100


def test_the_cookbook_ci_files_are_the_ones_the_scaffold_writes(tmp_path: Path) -> None:
    written = new_plugin("acme_energy", "utility", tmp_path / "p", "Acme Energy")
    by_name = {p.name: p.read_text(encoding="utf-8") for p in written}
    [workflow] = blocks("yaml")
    [tox] = blocks("ini")
    assert by_name["conformance.yml"] == workflow
    assert by_name["tox.ini"] == tox
    # The commands CI runs are the ones the shell block (run above) runs.
    commands = blocks("sh")[0]
    for run in re.findall(r"- run: (.*)", workflow):
        assert run in commands


def test_the_cookbook_waiver_declaration_is_valid() -> None:
    namespace: dict[str, object] = {}
    exec(blocks("python")[0], namespace)  # noqa: S102 - the cookbook's own example
    module = SimpleNamespace(__name__="acme", **namespace)
    declaration = load_declaration(module, "acme_energy")
    assert declaration.waiver_for("test_legible[transactions.description]") is not None
    assert declaration.unsupported_reason("permissions")


def test_plugin_new_refuses_what_cannot_work(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="provider name"):
        new_plugin("Acme-Energy", "utility", tmp_path / "a")
    with pytest.raises(UserError, match="sector"):
        new_plugin("acme", "airline", tmp_path / "b")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        new_plugin("acme", "bank", tmp_path / "c")


def test_plugin_new_writes_valid_python_for_every_sector(tmp_path: Path) -> None:
    for sector in ("bank", "utility", "telco", "retailer", "other"):
        for path in new_plugin(f"acme_{sector}", sector, tmp_path / sector):
            if path.suffix == ".py":
                compile(path.read_text(encoding="utf-8"), str(path), "exec")
    expected = ["pyproject.toml", "README.md", "tox.ini", "conformance.yml", "plugin.py",
                "sandbox.py", "__init__.py", "conftest.py", "test_plugin.py"]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "bank").rglob("*") if p.is_file()) == sorted(expected)
