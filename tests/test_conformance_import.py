"""The conformance suite's import mode: an import-only provider graded on its sample files.

The files cookbook's shop reaches gold on its sample files (tests/test_cookbooks.py); here
three flaws put into its reader each fail the check written for them (a crash on a
damaged file, a connection during an import, memory that grows with the history), so each
check is seen to fail; and the pieces the checks are built from are specified.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal_conformance.report import Outcome, tier
from portal_conformance.rules.files import damage

ROOT = Path(__file__).resolve().parent.parent
FLAWS = {
    # Reads a short row's cells by position: a file cut off mid-line crashes it.
    "careless": ("            if len(row) != len(COLUMNS):", "            if False:"),
    # Asks a server something while reading a file.
    "connects": (
        "def read(path):\n",
        "def read(path):\n    __import__('socket').socket().connect_ex(('127.0.0.1', 9))\n",
    ),
    # Keeps every row it read (and a copy of a page's worth of bytes for each).
    "hoards": (
        "            page.append(dict(zip(COLUMNS, row, strict=True)))\n",
        "            page.append(dict(zip(COLUMNS, row, strict=True)))\n"
        "            HOARD.append(bytes(200_000))\n",
    ),
}


def flawed_shops(folder: Path) -> list[str]:
    """The files cookbook's Corner Shop plugin, once per flaw, each under its own name."""
    text = (ROOT / "cookbooks" / "files.md").read_text(encoding="utf-8")
    plugin = "\n\n".join(re.findall(r"```python\n(.*?)```", text, re.S)) + "\nHOARD = []\n"
    folder.mkdir()
    for name, (good, bad) in FLAWS.items():
        assert plugin.count(good) == 1, good
        code = plugin.replace(good, bad).replace('"cornershop"', repr(name))
        (folder / f"{name}.py").write_text(code, encoding="utf-8")
    return list(FLAWS)


@pytest.mark.slow
def test_each_flaw_of_an_importer_fails_the_check_written_for_it(tmp_path: Path) -> None:
    """The cookbook's plugin reaches gold (tests/test_cookbooks.py); each flaw put into it
    fails the check written for that flaw, and only that one."""
    names = flawed_shops(tmp_path / "plugins")
    report = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--noconftest", "-q",
         "-c", os.devnull, "--rootdir", str(tmp_path), "--pyargs", "portal_conformance.checks",
         *(f"--portal-provider={n}" for n in names), "--portal-plugins-dir",
         str(tmp_path / "plugins"), "--portal-report", "json", "--portal-report-file",
         str(report), "-k", "damaged or offline or memory_flat or exact_count"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PORTAL_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    reports = json.loads(report.read_text())["providers"]
    outcome = {r["provider"]: {c["test"]: c["outcome"] for c in r["checks"]} for r in reports}
    assert all(r["mode"] == "import" for r in reports)
    failed = {(p, t) for p, tests in outcome.items() for t, o in tests.items() if o == "failed"}
    assert failed == {
        ("careless", "test_damaged[truncated]"),
        ("connects", "test_offline[import]"),
        ("hoards", "test_budget[memory_flat]"),
    }, done.stdout[-3000:]
    assert all(tests["test_exact_count[purchases]"] == "passed" for tests in outcome.values())
    said = {(r["provider"], c["test"]): c["message"] for r in reports for c in r["checks"]}
    assert "crashed with ValueError" in said["careless", "test_damaged[truncated]"]  # zip()
    assert "tried to reach 127.0.0.1:9" in said["connects", "test_offline[import]"]
    assert "so memory grows with the history" in said["hoards", "test_budget[memory_flat]"]


def test_a_damaged_file_is_cut_inside_a_record_or_garbled_in_the_middle() -> None:
    data = b"a,b\r\n1,2\r\n3,4\r\n"
    cut = damage(data, "truncated")
    assert data.startswith(cut) and len(cut) < len(data) and not cut.endswith((b"\n", b"\r"))
    garbled = damage(data, "garbled")
    assert garbled.startswith(data[:9]) and garbled.endswith(data[9:]) and b"\x00" in garbled
    assert damage(data, "empty") == b""


def test_an_import_only_tier_needs_its_own_groups_not_a_services() -> None:
    groups = {
        "declaration": "declaration",
        "exact_count": "completeness",
        "reconcile": "reconciliation",
        "legible": "legibility",
        "damaged": "resilience",
        "idempotent": "idempotence",
        "deterministic": "determinism",
        "delivery": "delivery",
        "offline": "egress",
    }
    passed = [Outcome("shop", f"test_{f}[x]", f, "x", "passed", mode="import") for f in groups]
    assert tier(passed) == "silver"  # no budgets measured yet
    budgets = Outcome("shop", "test_budget[x]", "budget", "x", "passed", mode="import")
    assert tier([*passed, budgets]) == "gold"
    # The same outcomes from a provider with a sandbox lack OAuth, secrets, variants...
    as_sync = [Outcome(o.provider, o.test, o.family, o.param, o.outcome) for o in passed]
    assert tier([*as_sync, budgets]) == "bronze"
