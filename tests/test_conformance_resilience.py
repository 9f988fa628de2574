"""The resilience checks always exercise their fault: none is skipped because chaos missed.

They run against a small Demo Bank through the real harness: real sandboxes on sockets, real
OAuth, real SQLite stores.
"""

from pathlib import Path
from typing import Any

import pytest

from portal.sandbox import Chaos
from portal_conformance.harness import Harness, Run
from portal_conformance.registry import run_check

SMALL_BANK = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox():
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=300)


PROVIDER = dataclasses.replace(bank.PROVIDER, name="small", sandbox=_sandbox)


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


@pytest.fixture
def harness(tmp_path: Path) -> Any:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "small.py").write_text(SMALL_BANK)
    with Harness("small", tmp_path / "work", plugins_dir=plugins) as h:
        yield h


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["truncated", "server_errors"])
def test_a_fault_the_shared_chaos_missed_is_planned_in_a_run_of_its_own(
    harness: Harness, scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shared chaos sync drew only slow answers (as requests that overlap can make it
    # miss a kind): the check must still see that fault strike, not skip.
    only_slow = Chaos(rate=0.2, kinds=("slow",), seed=1, slow_seconds=0.01)
    shared = harness.run("chaos", before_sync=lambda r: r.sandbox.set_chaos(only_slow))  # type: ignore[attr-defined]
    harness.__dict__.setdefault("_cache", {})["chaos"] = shared

    runs: list[Run] = []
    run = harness.run

    def recorded(label: str, **options: Any) -> Run:
        runs.append(run(label, **options))
        return runs[-1]

    monkeypatch.setattr(harness, "run", recorded)  # a spy: every run is still real

    run_check(harness, "resilience", scenario)  # passes: raises neither skip nor failure

    (faulted,) = [r for r in runs if r.name.startswith("chaos-")]
    assert faulted.sandbox.faults == []  # the planned fault struck, and the sync recovered
    if scenario == "server_errors":
        assert [r.status for r in faulted.sandbox.requests].count(503) == 2
