"""The conformance suite as a user meets it: `portal conformance`, its report, its waivers.

The reference bank plugin passes every check (or skips it with a declared reason) in one
full run through the real command, which also writes the JUnit XML and the JSON report
that CI keeps; the pieces the report is built from are specified on their own below.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from defusedxml import ElementTree

from portal.record import Entity
from portal.sandbox import MOVES
from portal.specvariants import GENERATED
from portal_conformance.declaration import Declaration, DeclarationError, Waiver, load_declaration
from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_conformance.report import Outcome, build, tier, to_markdown
from portal_conformance.rules.legibility import label_of
from portal_conformance.rules.rawfields import Normalise, dropped_paths, paths
from portal_conformance.rules.rawfields import name as path_name

PORTAL = str(Path(sys.executable).with_name("portal"))
ROOT = Path(__file__).resolve().parent.parent


def portal(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PORTAL, *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.parametrize("provider", ["utility", "telco", "retailer"])
def test_every_other_first_party_plugin_reaches_gold(tmp_path: Path, provider: str) -> None:
    report = gold_report(tmp_path, provider)
    # Every variant the sandbox declares was synced and held to its truth: sparse and
    # faulty at least, for each of them.
    variants = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_variant[")}
    assert {"test_variant[sparse]", "test_variant[faulty]"} <= set(variants)
    assert set(variants.values()) == {"passed"}


def gold_report(tmp_path: Path, provider: str) -> dict[str, Any]:
    """``portal conformance PROVIDER``'s JSON report, once it held that the provider reaches
    gold, no check failed, and both scores are 100."""
    done = portal(
        "conformance",
        provider,
        "--report",
        "json",
        "--report-file",
        "report.json",
        cwd=tmp_path,
        env={"PORTAL_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    [report] = json.loads((tmp_path / "report.json").read_text())["providers"]
    assert [c["test"] for c in report["checks"] if c["outcome"] == "failed"] == []
    assert report["tier"] == "gold"
    assert report["completeness_score"] == 100 and report["legibility_score"] == 100
    return report  # type: ignore[no-any-return]


def outcomes_of(report: dict[str, Any]) -> dict[str, str]:
    """A provider's report as each check's test name to its outcome."""
    return {c["test"]: c["outcome"] for c in report["checks"]}


@pytest.mark.slow
def test_the_reference_bank_plugin_passes_every_check(tmp_path: Path) -> None:
    done = portal(
        "conformance",
        "bank",
        "--report",
        "json",
        "--report-file",
        "report.json",
        "--junit-xml",
        "junit.xml",
        cwd=tmp_path,
        env={"PORTAL_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    [report] = json.loads((tmp_path / "report.json").read_text())["providers"]
    failed = [c["test"] for c in report["checks"] if c["outcome"] == "failed"]
    assert not failed
    assert report["tier"] == "gold"
    assert report["completeness_score"] == 100 and report["legibility_score"] == 100
    tests = {c["test"] for c in report["checks"]}
    # Generated per entity and per field, and every family of DESIGN §5 is there.
    assert {
        "test_legible[transactions.amount]",
        "test_exact_count[transactions]",
        "test_reconcile[balances~transactions]",
        "test_resilience[retry_after_date]",
        "test_crash_resume[sigkill]",
        "test_deterministic[Pacific/Chatham]",
        "test_secrets[logs]",
        "test_egress[sync]",
        "test_budget[memory_flat]",
    } <= tests
    # The customer's life moved on step by step, and the plugin followed every step.
    changes = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_changes[")}
    assert changes == {f"test_changes[{step}]": "passed" for step in MOVES}
    # One check per variant the sandbox declares, each a sync of its own held to its truth.
    variants = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_variant[")}
    assert variants == {
        "test_variant[sparse]": "passed",
        "test_variant[spec-edge]": "passed",
        "test_variant[forbidden]": "passed",
    }
    # One check per variant generated from the specification it declares (Open Banking's).
    generated = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_spec_variant[")}
    assert generated == {f"test_spec_variant[{name}]": "passed" for name in GENERATED}
    for check in report["checks"]:
        if check["outcome"] == "skipped":
            assert check["message"], f"{check['test']} was skipped without a reason"
    # The bank offers sign-in from another device, so the device flow is checked, not skipped.
    outcomes = {c["test"]: c["outcome"] for c in report["checks"]}
    for which in ("interval", "slow_down", "expiry"):
        assert outcomes[f"test_oauth[device_{which}]"] == "passed"
    # Tokens over time, each sync in a process of its own: checked, not skipped.
    for scenario in ("outside_margin", "near_expiry", "revoked_mid_sync"):
        assert outcomes[f"test_credentials[{scenario}]"] == "passed"
    suite = ElementTree.parse(tmp_path / "junit.xml").getroot()
    assert int(suite.find("testsuite").get("tests")) == len(report["checks"])


WAIVED_PLUGIN = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(bank.PROVIDER, name="{name}", display_name="Waived bank")
PORTAL_CONFORMANCE = {{"{name}": {{"waivers": [{{
    "check": "test_legible[transactions.merchant_category_code]",
    "reason": "Our card processor sends no category names yet.",
    "link": "https://example.com/tracker/42",
    "expires": "{expires}",
}}]}}}}

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    return bank.fetch(client=client, cursors=cursors)

@hookimpl
def normalise(stream, item, ref):
    records = bank.normalise(stream=stream, item=item, ref=ref)
    for record in records:
        if hasattr(record, "merchant_category_label"):
            record.merchant_category_label = None
    return records
"""


@pytest.mark.slow
def test_a_waived_check_is_reported_waived_and_an_expired_waiver_fails(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    for name, expires in (("waived", "2999-12-31"), ("lapsed", "2020-01-01")):
        (plugins / f"{name}.py").write_text(WAIVED_PLUGIN.format(name=name, expires=expires))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--noconftest", "-q",
         "-c", os.devnull, "--rootdir", str(tmp_path),
         "--pyargs", "portal_conformance.checks", "--portal-provider", "waived",
         "--portal-provider", "lapsed", "--portal-plugins-dir", str(plugins),
         "-k", "merchant_category_code or waivers", "--portal-report", "json",
         "--portal-report-file", str(tmp_path / "report.json")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout[-3000:]
    reports = {
        r["provider"]: r for r in json.loads((tmp_path / "report.json").read_text())["providers"]
    }
    outcome = {(p, c["test"]): c["outcome"] for p, r in reports.items() for c in r["checks"]}
    code = "test_legible[transactions.merchant_category_code]"
    assert outcome[("waived", code)] == "waived"
    assert outcome[("waived", "test_declaration[waivers]")] == "passed"
    assert outcome[("lapsed", code)] == "failed"
    assert outcome[("lapsed", "test_declaration[waivers]")] == "failed"
    assert "expired" in done.stdout


def test_a_sandbox_without_variants_gets_its_variant_check_skipped_with_the_reason(
    tmp_path: Path,
) -> None:
    # broken_float_money's sandbox is a plain zero-argument factory, as a plugin's that
    # predates variants: it keeps working, and the report says why nothing was checked and
    # what to do; the skip blocks the tier, as the plugin never declared variants unsupported.
    done = portal(
        "--plugins-dir",
        str(ROOT / "conformance" / "tests" / "broken"),
        "conformance",
        "broken_float_money",
        "-k",
        "test_variant",
        "--report",
        "md",
        cwd=tmp_path,
        env={"PORTAL_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert (
        "| `test_variant[(none declared)]` | skipped (blocks the tier) | the sandbox declares"
        " no variants (portal.variants.SandboxVariants" in done.stdout
    )


UNDECLARED_PLUGIN = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(bank.PROVIDER, name="undeclared", display_name="Undeclared bank")

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    return bank.fetch(client=client, cursors=cursors)

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream=stream, item=item, ref=ref)
"""


def test_every_skip_blocks_the_tier_but_a_check_the_plugin_declared_unsupported(
    tmp_path: Path,
) -> None:
    # The same bank twice: the reference one declares permissions unsupported, with its
    # reason; its copy declares nothing, so the check that cannot run blocks its tier.
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "undeclared.py").write_text(UNDECLARED_PLUGIN)
    checks = {}
    for name in ("bank", "undeclared"):
        done = portal(
            "--plugins-dir", str(plugins), "conformance", name, "-k",
            "test_permissions and party", "--report", "json", "--report-file", f"{name}.json",
            cwd=tmp_path, env={"PORTAL_HOME": str(tmp_path / name)},
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        [report] = json.loads((tmp_path / f"{name}.json").read_text())["providers"]
        [checks[name]] = report["checks"]
    declared, undeclared = checks["bank"], checks["undeclared"]
    assert (declared["outcome"], declared["blocks"]) == ("skipped", False)
    assert declared["message"].startswith("declared unsupported by the plugin: Demo Bank")
    assert (undeclared["outcome"], undeclared["blocks"]) == ("skipped", True)
    assert (
        "declare the scope that grants it, or declare 'permissions.party'"
        in (undeclared["message"])
    )


def test_a_partial_run_says_what_it_did_not_measure_in_words(tmp_path: Path) -> None:
    done = portal(
        "conformance", "bank", "-k", "test_legible and state", "--report", "md",
        cwd=tmp_path, env={"PORTAL_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = done.stdout
    assert "- tier: **none**" in report
    assert "- completeness score: not measured (no check behind it ran)" in report
    assert "- legibility score: 100/100" in report
    assert re.search(r"- states: 0 of \d+ records with a status say it is unknown", report)
    assert "completeness not measured (no check behind it ran), legibility 100/100" in report
    # Words a person reads: no score of None, no pointer into portal's own design notes.
    helped = portal("conformance", "--help", cwd=tmp_path).stdout
    for internal in ("None/100", "n/a", "§", "DESIGN", ".md)", "portal_conformance."):
        assert internal not in report, internal
        assert internal not in helped, internal


def test_a_check_the_providers_declaration_gives_nothing_to_check_is_left_out_not_skipped(
    tmp_path: Path,
) -> None:
    # Demo Mart holds no documents, so there is no kept file to check: no test, no skip,
    # and no report line for a provider called "NotSetType.token".
    done = portal(
        "conformance", "retailer", "-k", "kept_files or declaration", "--report", "md",
        cwd=tmp_path, env={"PORTAL_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "kept_files" not in done.stdout
    assert "NotSetType" not in done.stdout + done.stderr
    assert "skipped" not in done.stdout.splitlines()[-1], done.stdout[-500:]


def test_a_waiver_needs_a_reason_a_link_and_an_expiry() -> None:
    plugin = SimpleNamespace(
        __name__="acme_plugin",
        PORTAL_CONFORMANCE={"acme": {"waivers": [{"check": "test_legible[x.y]", "reason": "bad"}]}},
    )

    with pytest.raises(DeclarationError, match="link") as error:
        load_declaration(plugin, "acme")
    assert "expires" in str(error.value) and "reason" in str(error.value)


def test_a_waiver_covers_checks_by_name_until_its_last_day() -> None:
    waiver = Waiver(
        check="test_legible[transactions.*]",
        reason="Descriptions arrive truncated; fix in progress.",
        link="https://example.com/42",
        expires=date(2026, 12, 31),
    )
    declared = Declaration(waivers=(waiver,))
    assert declared.waiver_for("test_legible[transactions.description]") is waiver
    assert declared.waiver_for("test_legible[balances.amount]") is None
    assert not waiver.expired(date(2026, 12, 31)) and waiver.expired(date(2027, 1, 1))


def outcome(group_family: str, result: str, test: str = "") -> Outcome:
    return Outcome("acme", test or f"test_{group_family}[x]", group_family, "x", result)


def test_the_tier_rises_only_while_every_group_of_it_passes() -> None:
    bronze = [outcome(f, "passed") for f in ("declaration", "exact_count", "reconcile", "legible")]
    silver = [outcome(f, "passed") for f in ("variant", "resilience", "crash_resume",
                                             "idempotent", "changes", "deterministic",
                                             "delivery")]  # fmt: skip
    gold = [outcome(f, "passed") for f in ("oauth", "secrets", "egress", "budget", "permissions")]
    assert tier(bronze) == "bronze"
    assert tier(bronze + silver) == "silver"
    assert tier(bronze + silver + gold) == "gold"
    assert tier(bronze + silver + gold + [outcome("secrets", "failed")]) == "silver"
    assert tier([*bronze[1:], outcome("declaration", "failed")]) == "none"
    assert tier(bronze + silver + [*gold[1:], outcome("oauth", "waived")]) == "gold"
    # A plugin that fails on a shape its specification allows is not silver.
    assert tier(bronze + silver + gold + [outcome("variant", "failed")]) == "bronze"
    # A group the plugin declared unsupported (every check skipped with its reason) does not.
    assert tier([*bronze[:2], outcome("reconcile", "skipped"), bronze[3]]) == "bronze"


def test_the_report_scores_completeness_by_checks_and_legibility_by_values() -> None:
    legible = outcome("legible", "passed")
    legible.stats = {"checked": 90}
    illegible = outcome("legible", "failed", "test_legible[y]")
    illegible.stats = {"checked": 10, "illegible": 10}
    outcomes = [outcome("exact_count", "passed"), outcome("raw_fields", "failed", "test_raw_fields[x]"),
                outcome("exact_count", "skipped", "test_exact_count[y]"), legible, illegible]  # fmt: skip
    [report] = build(outcomes)
    assert report["completeness_score"] == 50
    assert report["legibility_score"] == 90
    text = to_markdown([report])
    assert "| `test_raw_fields[x]` | FAIL |" in text and "legibility score: 90/100" in text


def test_code_fields_find_their_label_field() -> None:
    from portal.record.model import Transaction

    assert label_of(Transaction, "status") == "status_label"
    assert label_of(Transaction, "merchant_category_code") == "merchant_category_label"
    assert label_of(Transaction, "amount") is None


RAW_PARTY = {
    "Name": "Siobhán Ashworth",
    "Address": [{"Line": "27 Elmwood Road", "County": "Greater London"}, {"Line": "Flat 3"}],
    "Meta": {"Source": "web", "Seen": "2026-01-01"},
}


def party_normaliser(extra: Callable[[dict[str, Any]], dict[str, Any]]) -> Normalise:
    """A normalise hook that maps the name and address lines, and puts ``extra(item)`` in extra."""
    from portal.record import Address, Origin, Party

    def normalise(stream: str, item: dict[str, Any]) -> list[Entity]:
        addresses = [Address(lines=[a["Line"]]) for a in item.get("Address", [])]
        return [
            Party(
                provider_id="P-1",
                origin=Origin.provided,
                full_name=item["Name"],
                addresses=addresses,
                extra=extra(item),
            )
        ]

    return normalise


def test_raw_field_paths_reach_into_objects_and_into_each_object_of_an_array() -> None:
    assert [path_name(p) for p in dict.fromkeys(paths(RAW_PARTY))] == [
        "Name",
        "Address",
        "Address[].Line",
        "Address[].County",
        "Meta",
        "Meta.Source",
        "Meta.Seen",
    ]


def test_a_nested_raw_field_dropped_silently_is_named_by_its_path() -> None:
    normalise = party_normaliser(lambda item: {"Meta": item["Meta"]})
    assert dropped_paths(normalise, "party", RAW_PARTY, set()) == ["Address[].County"]


def test_a_dropped_field_is_reported_without_the_fields_beneath_it() -> None:
    normalise = party_normaliser(lambda item: {})
    assert dropped_paths(normalise, "party", RAW_PARTY, set()) == ["Address[].County", "Meta"]


def test_a_nested_raw_field_kept_under_its_path_or_declared_ignored_is_accounted_for() -> None:
    def rest(item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Meta": item["Meta"],
            "Address": [{"County": a.get("County")} for a in item["Address"]],
        }

    assert dropped_paths(party_normaliser(rest), "party", RAW_PARTY, set()) == []
    nothing_kept = party_normaliser(lambda item: {})
    assert dropped_paths(nothing_kept, "party", RAW_PARTY, {"Address[].County", "Meta"}) == []


def test_conformance_without_the_suite_installed_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from portal.cli import ExitCode, cli

    # As after the README's first command, which installs portal and its plugins only.
    monkeypatch.setitem(sys.modules, "portal_conformance", None)
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "conformance", "bank"])
    assert result.exit_code == ExitCode.USER_ERROR
    assert "The conformance suite (portal-conformance) is not installed here." in result.stderr
    assert "-m pip install -e conformance" in result.stderr
    assert "Traceback" not in result.output


MISDECLARED_PLUGIN = """
import dataclasses
from portal import hookimpl
from portal.variants import FAULTY, SandboxVariants, Variant
from portal_retailer import plugin as retailer

# The retailer's sandbox, its valid sparse variant declared faulty by mistake.
SANDBOX = SandboxVariants(retailer.SANDBOX.build, Variant("sparse", FAULTY))
PROVIDER = dataclasses.replace(retailer.PROVIDER, name="misdeclared", sandbox=SANDBOX)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(provider, client, cursors):
    return retailer.fetch(provider=provider, client=client, cursors=cursors)

@hookimpl
def normalise(stream, item, ref):
    return retailer.normalise(stream=stream, item=item, ref=ref)
"""


def test_a_variant_declared_faulty_that_plants_nothing_fails_naming_the_variant(
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "misdeclared.py").write_text(MISDECLARED_PLUGIN, encoding="utf-8")
    with (
        Harness("misdeclared", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "variant", "sparse")
    message = str(failed.value)
    assert "faulty variant 'sparse'" in message
    assert "declared faulty but its sandbox plants nothing to reject" in message
    # The variant's own home is gone once its check is done.
    assert not (tmp_path / "work" / "variant-sparse").exists()


def test_every_check_family_is_a_test_pytest_collects() -> None:
    from portal_conformance import checks
    from portal_conformance.registry import FAMILIES

    assert [f.name for f in FAMILIES if not hasattr(checks, f"test_{f.name}")] == []
