"""test_changes: one home follows the sandbox's customer step by step (rules/changes.py).

A plugin that declares no budget, or whose sandbox plays no step, is refused rather than
waved through. That the reference bank passes every step is test_conformance.py's full run;
the broken banks each step must catch are in conformance/tests/broken (the self-test).
"""

from pathlib import Path

import pytest
from pydantic import ValidationError

from portal.scaffold import new_plugin
from portal_conformance.declaration import Declaration, ResyncBudget
from portal_conformance.failures import CheckFailed, NotApplicable
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "conformance" / "tests" / "broken"


def test_a_plugin_that_declares_no_resync_budget_is_refused_before_anything_is_played(
    tmp_path: Path,
) -> None:
    with Harness("bank", tmp_path) as harness:
        harness.declaration = harness.declaration.model_copy(update={"resync_budget": None})
        with pytest.raises(CheckFailed, match="declares no resync_budget") as refused:
            run_check(harness, "changes", "arrive")
        assert "PORTAL_CONFORMANCE['bank']['resync_budget']" in refused.value.fix
        assert "changes" not in harness.__dict__.get("_cache", {})  # nothing synced for it


def test_a_sandbox_that_plays_no_step_fails_unless_the_plugin_declares_why(
    tmp_path: Path,
) -> None:
    # broken_last_page's sandbox is a bank made on demand: nothing pending, no steps.
    with Harness("broken_last_page", tmp_path, plugins_dir=BROKEN) as harness:
        with pytest.raises(CheckFailed, match="plays no step") as failed:
            run_check(harness, "changes", "full_page")
        assert "['unsupported']['changes']" in failed.value.fix
        harness.declaration = Declaration(unsupported={"changes": "No pending items, ever."})
        with pytest.raises(NotApplicable, match="No pending items, ever"):
            run_check(harness, "changes", "full_page")


def test_a_resync_budget_counts_accounts_and_pages_of_what_is_new() -> None:
    budget = ResyncBudget(per_sync=5, per_account=9, items_per_request=100)
    assert budget.allowed(accounts=2, changed=0) == 23
    assert budget.allowed(accounts=2, changed=1) == 24
    assert budget.allowed(accounts=2, changed=101) == 25
    with pytest.raises(ValidationError, match="items_per_request"):
        ResyncBudget(per_sync=5, per_account=9, items_per_request=0)
    with pytest.raises(ValidationError, match="per_page"):
        Declaration.model_validate(
            {
                "resync_budget": {
                    "per_sync": 1,
                    "per_account": 1,
                    "items_per_request": 1,
                    "per_page": 1,
                }
            }
        )


def acme_plugins(tmp_path: Path, moves: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A plugin as ``portal plugin new`` writes it, its sandbox playing ``moves``."""
    package = tmp_path / "portal-acme"
    new_plugin("acme", "bank", package)
    sandbox = package / "src" / "portal_acme" / "sandbox.py"
    code = sandbox.read_text(encoding="utf-8")
    assert 'moves = ("full_page", "arrive")' in code
    sandbox.write_text(code.replace('("full_page", "arrive")', moves), encoding="utf-8")
    monkeypatch.syspath_prepend(str(package / "src"))
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "acme.py").write_text("from portal_acme.plugin import *  # noqa: F403\n")
    return folder


def test_a_sandbox_that_plays_only_new_arrivals_is_synced_once_before_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugins = acme_plugins(tmp_path, '("arrive",)', monkeypatch)
    with Harness("acme", tmp_path / "work", plugins_dir=plugins) as harness:
        figures = run_check(harness, "changes", "arrive")
        # The re-sync asked for the accounts, the party and the preferences, and for each of
        # the two accounts its balances and what followed its offset (five new transactions
        # each), and nothing more.
        assert figures == {"requests": 7.0, "changed_items": 10.0}
        with pytest.raises(CheckFailed, match="does not play the step 'full_page'"):
            run_check(harness, "changes", "full_page")
