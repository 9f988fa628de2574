"""The tier: a check this run could not exercise blocks it; one that does not apply does not."""

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
GOLD = ("oauth", "secrets", "egress", "budget")


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


def test_a_check_that_does_not_apply_or_is_declared_unsupported_leaves_the_tier_open() -> None:
    everything = [passed(f) for f in BRONZE + SILVER + GOLD]
    does_not_apply = Outcome(
        "acme", "test_reconcile[usage~readings]", "reconcile", "usage~readings", "skipped",
        "'acme' delivers no usage",
    )  # fmt: skip
    declared = Outcome(
        "acme", "test_resilience[slow]", "resilience", "slow", "skipped",
        "declared unsupported by the plugin: our gateway answers at once or not at all",
    )  # fmt: skip
    assert tier([*everything, does_not_apply, declared]) == "gold"
