"""test_writes: the write hook of a plugin that declares Provider.writes (rules/writes.py).

The plugin under test is *Quill & Co* (``conformance/tests/writes/writable.py``): a small
provider whose sandbox lets the customer's permissions be changed (a JSON Merge Patch of a
permission, a DELETE of a consent), sound under the name ``writable``, and registered again
under other names, each with one defect the suite must catch (its ``BROKEN``).
"""

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.control.tables import AskedChange
from portal.plugins import Plugins
from portal_conformance.failures import CheckFailed, SetupFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import BY_NAME, TIERS, run_check
from portal_conformance.report import Outcome, tier

ROOT = Path(__file__).resolve().parent.parent
WRITES = ROOT / "conformance" / "tests" / "writes"
DECLARED = ["marketing.email", "marketing.sms", "marketing.post", "profiling", "consent"]

BROKEN = {
    "writable_not_held": ("marketing.email", "does not release marketing by email: no"),
    "writable_toggles": ("marketing.sms", "changed what the provider serves"),
    "writable_wrong_item": ("profiling", "perm-email"),
    "writable_applies_anything": ("unknown", "it answered applied (done)"),
    "writable_raises": ("unknown", "raised HTTPStatusError"),
    "writable_leaks": ("secrets", "access token"),
}
"""Each broken variant, the check that must fail it, and what its failure must say."""


def test_the_family_is_generated_per_declared_key_and_not_at_all_without_writes() -> None:
    plugins = Plugins.load(plugins_dir=WRITES)
    family = BY_NAME["writes"]
    assert family.params(plugins.provider("writable")) == [*DECLARED, "unknown", "secrets"]
    assert family.params(plugins.provider("octopus")) == []  # Octopus declares no writes
    assert family.imports is None  # no write side in a file
    silver = dict(TIERS)["silver"]
    assert "writes" in silver


@pytest.mark.slow
def test_a_sound_write_hook_passes_every_write_check(tmp_path: Path) -> None:
    with Harness("writable", tmp_path, plugins_dir=WRITES) as harness:
        for param in [*DECLARED, "unknown", "secrets"]:
            figures = run_check(harness, "writes", param)
            assert figures, param
        run = harness.__dict__["_cache"]["writes"]["run"]
        # Every change asked twice, recorded, and held after the next sync.
        table = AskedChange.__table__  # type: ignore[attr-defined]
        with run.portal.store.engine.connect() as db:
            rows = list(db.execute(select(table.c.key, table.c.outcome, table.c.held)))
        assert sorted({r.key for r in rows}) == sorted(DECLARED)
        assert len(rows) == 2 * len(DECLARED)
        applied = [r for r in rows if r.outcome == "applied"]
        assert applied and all(r.held for r in applied)
        assert {r.outcome for r in rows} == {"applied", "already"}
        assert run.portal.unheld == []
        # The answers are kept as what portal printed: the last secret search reads them.
        assert any("perm-email is now opted_out" in text for text in run.outputs)


@pytest.mark.slow
@pytest.mark.parametrize("variant", sorted(BROKEN))
def test_a_broken_write_hook_fails_its_check(variant: str, tmp_path: Path) -> None:
    param, named = BROKEN[variant]
    with (
        Harness(variant, tmp_path, plugins_dir=WRITES) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "writes", param)
    failure = failed.value
    assert not isinstance(failure, SetupFailed), str(failure)
    assert failure.what and failure.where and failure.fix
    assert named in str(failure), str(failure)


@pytest.mark.slow
def test_a_write_scope_is_least_needed_only_for_a_plugin_that_declares_writes(
    tmp_path: Path,
) -> None:
    with Harness("writable", tmp_path, plugins_dir=WRITES) as harness:
        run_check(harness, "declaration", "scopes")  # ("read", "write"), and it writes
        harness.provider = dataclasses.replace(harness.provider, writes=())
        with pytest.raises(CheckFailed, match="write grant more than reading"):
            run_check(harness, "declaration", "scopes")


def test_the_tier_needs_the_write_checks_to_pass_only_where_they_ran() -> None:
    families = ("declaration", "exact_count", "reconcile", "legible", "variant", "resilience",
                "crash_resume", "idempotent", "changes", "deterministic", "delivery", "oauth",
                "secrets", "egress", "budget", "permissions")  # fmt: skip
    everything = [Outcome("acme", f"test_{f}[x]", f, "x", "passed") for f in families]
    assert tier(everything) == "gold"  # a plugin that declares no writes
    wrote = Outcome("acme", "test_writes[profiling]", "writes", "profiling", "failed")
    assert tier([*everything, wrote]) == "bronze"


@pytest.mark.slow
def test_withdrawing_portals_own_grant_is_seen_as_the_next_sync_losing_its_access(
    tmp_path: Path,
) -> None:
    with Harness("writable_own_grant", tmp_path, plugins_dir=WRITES) as harness:
        for param in [*DECLARED, "unknown", "secrets"]:
            run_check(harness, "writes", param)
        run = harness.__dict__["_cache"]["writes"]["run"]
        assert run.connection.consent_id == "consent-ledgerly"
        assert not run.results[-1].ok  # the sync after: access ended, said so


@pytest.mark.slow
def test_a_provider_refusing_a_declared_change_fails_it_with_its_reason_made_inert(
    tmp_path: Path,
) -> None:
    with (
        Harness("writable_refused", tmp_path, plugins_dir=WRITES) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "writes", "marketing.email")
    said = str(failed.value)
    assert "it answered refused (Locked\\x1b]8;;https://evil.example\\x07 click" in said, said
    assert "\x1b" not in said and "\u202e" not in said and "\x07" not in said


def test_portal_s_own_grant_is_known_behind_a_plugin_s_namespace() -> None:
    from portal_conformance.rules.writes import _is_own

    assert _is_own("authorization:1", "1")  # the Green Button Authorization portal holds
    assert _is_own("C-7", "C-7")
    assert not _is_own("authorization:11", "1") and not _is_own("C-7", None)
