"""The tier: every skip blocks it but a check the plugin declared unsupported; the scores and
counts say "not measured" rather than a number no check stands behind."""

from portal_conformance.report import Outcome, build, tier, to_markdown

BRONZE = ("declaration", "exact_count", "reconcile", "legible")
SILVER = (
    "variant",
    "resilience",
    "crash_resume",
    "idempotent",
    "changes",
    "deterministic",
    "delivery",
)
GOLD = ("oauth", "secrets", "egress", "budget", "permissions")


def passed(family: str) -> Outcome:
    return Outcome("acme", f"test_{family}[x]", family, "x", "passed")


def test_a_check_skipped_because_its_fault_never_struck_blocks_its_tier() -> None:
    everything = [passed(f) for f in BRONZE + SILVER + GOLD]
    not_exercised = Outcome(
        "acme", "test_resilience[retry_after_date]", "resilience", "retry_after_date",
        "skipped", "no retry after date struck in this sync", blocks=True,
    )  # fmt: skip
    assert tier(everything) == "gold"
    assert tier([*everything, not_exercised]) == "bronze"
    assert "| skipped (blocks the tier) |" in to_markdown(build([*everything, not_exercised]))


def test_only_a_check_the_plugin_declared_unsupported_leaves_the_tier_open() -> None:
    everything = [passed(f) for f in BRONZE + SILVER + GOLD]
    declared = Outcome(
        "acme", "test_resilience[slow]", "resilience", "slow", "skipped",
        "declared unsupported by the plugin: our gateway answers at once or not at all",
    )  # fmt: skip
    could_not_run = Outcome(
        "acme", "test_permissions[usage]", "permissions", "usage", "skipped",
        "'acme' declares no scope for usage", blocks=True,
    )  # fmt: skip
    assert tier([*everything, declared]) == "gold"
    assert tier([*everything, declared, could_not_run]) == "silver"


def test_a_score_with_no_check_behind_it_is_not_measured_and_earns_no_tier() -> None:
    only_gold = [passed(f) for f in GOLD]
    [report] = build(only_gold)
    assert report["completeness_score"] is None and report["tier"] == "none"
    text = to_markdown([report])
    assert "- completeness score: not measured (no check behind it ran)" in text
    assert "None" not in text and "n/a" not in text


def test_the_report_counts_the_states_a_plugin_left_unknown() -> None:
    states = Outcome("acme", "test_legible[bills.state]", "legible", "bills.state", "passed")
    states.stats = {"checked": 12, "illegible": 0, "unknown": 3}
    [report] = build([states])
    assert report["states"] == {"checked": 12, "unknown": 3}
    assert (
        "- states: 3 of 12 records with a status say it is unknown in portal's vocabulary"
        " of states" in to_markdown([report])
    )


def test_a_failure_in_the_markdown_report_says_what_to_do_about_it() -> None:
    failed = Outcome(
        "acme", "test_exact_count[transactions]", "exact_count", "transactions", "failed",
        "2 of 40 transactions never arrived.\n  where: the transactions stream of 'acme'\n"
        "  fix: Follow every page to the last one.",
    )  # fmt: skip
    text = to_markdown(build([failed]))
    assert (
        "| `test_exact_count[transactions]` | FAIL | 2 of 40 transactions never arrived."
        " Fix: Follow every page to the last one. |"
    ) in text
