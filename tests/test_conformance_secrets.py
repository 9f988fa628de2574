"""The conformance suite's secret search covers every fault scenario, and never shows a secret.

Failure paths are where tokens slip into a log line or an error: the search runs syncs in
which a fault outlasts the client's retries (a final 5xx, a final timeout, a refused
refresh) besides the main, chaos and Retry-After syncs, and searches each one's logs,
errors and store for every secret the sandbox issued or received.
"""

from pathlib import Path

import pytest

from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_conformance.rules.canary import encodings

BROKEN = Path(__file__).resolve().parent.parent / "conformance" / "tests" / "broken"
OUTLASTING = {
    "a 5xx that outlasts the retries": "answered 503",
    "a timeout that outlasts the retries": "timed out",
    "a refused refresh": "(invalid_grant)",
}


@pytest.mark.slow
def test_the_reference_bank_passes_a_search_that_includes_every_fault_outlasting_the_retries(
    tmp_path: Path,
) -> None:
    with Harness("bank", tmp_path) as harness:
        for place in ("logs", "errors", "store"):
            run_check(harness, "secrets", place)
        canary = harness.__dict__["_cache"]["canary"]
    errors = canary["places"]["errors"]
    for scenario, says in OUTLASTING.items():
        # Each scenario really ended the sync with an error, and that error was searched.
        failed = [text for where, text in errors.items() if where.startswith(f"{scenario}:")]
        assert failed, f"{scenario}: no error was searched (the fault did not outlast)"
        assert any(says in text for text in failed), failed
    logs = canary["places"]["logs"]
    for scenario in ("the chaos sync", "the Retry-After sync", *OUTLASTING):
        assert any(where.startswith(f"{scenario}:") for where in logs), scenario
    assert {"access_token", "refresh_token", "code"} <= set(canary["secrets"].values())


@pytest.mark.slow
def test_a_leak_is_named_by_scenario_place_and_kind_never_by_any_part_of_the_secret(
    tmp_path: Path,
) -> None:
    with (
        Harness("broken_leaks_on_failure", tmp_path, plugins_dir=BROKEN) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "secrets", "errors")
    message = str(failed.value)
    assert "a 5xx that outlasts the retries: error 0 (access token)" in message
    for secret in harness.__dict__["_cache"]["canary"]["secrets"]:
        for form in encodings(secret):
            assert form[:6] not in message


@pytest.mark.slow
def test_the_last_search_reads_every_run_of_the_suite_variants_and_printed_output_included(
    tmp_path: Path,
) -> None:
    with Harness("bank", tmp_path) as harness:
        first = run_check(harness, "secrets_every_run", "logs_errors_output")
        # A variant's runs are freed when its harness closes; their traces stay searched.
        run_check(harness, "variant", "sparse")
        second = run_check(harness, "secrets_every_run", "logs_errors_output")
        traces = {t.name: t for t in harness.every_run()}
    assert second["runs searched"] > first["runs searched"] >= 6
    assert "main (variant sparse)" in traces
    # portal sync ran in a process of its own on the main home, and what it printed was kept.
    assert any("Fetched this run" in text for text in traces["main"].outputs), traces["main"]
