"""A sync under chaos ends with exactly what the provider served, with bounded retries."""

import email.utils
import time
from pathlib import Path

import pytest

from bank_truth import _snapshot, assert_store_matches
from conftest import connect
from portal.app import Portal
from portal.errors import ProviderError
from portal.http import RetryPolicy
from portal.sandbox import Chaos, Fault
from portal.sandbox.chaos import KINDS, ChaosMonkey
from portal_bank.sandbox import BankSandbox

RETRYING = ("429", "429-date", "5xx", "reset", "truncated")
"""Chaos kinds that cost the client one retry per faulty request (slow and 401 cost none)."""


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_fifth_of_requests_failing_still_ends_with_exactly_the_served_set(
    portal: Portal, seed: int
) -> None:
    with BankSandbox(page_size=40) as bank:
        connect(portal, bank)
        bank.set_chaos(Chaos(rate=0.2, seed=seed, slow_seconds=0.05))
        [result] = portal.sync()
        assert result.ok, result.error
        assert_store_matches(portal, bank)
        counts = bank.chaos_counts
        faulty = sum(n for kind, n in counts.items() if kind != "ok")
        served = sum(counts.values())
        assert faulty >= 0.1 * served, counts  # the switch really was on
        assert result.retries == sum(counts.get(kind, 0) for kind in RETRYING), counts
        # every early revocation cost exactly one refresh, and no more
        assert bank.token_requests.get("refresh_token", 0) == counts.get("401", 0)
        bank.set_chaos(None)
        before = _snapshot(portal)
        [again] = portal.sync()
        assert again.ok and _snapshot(portal) == before  # no duplicates, nothing new


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_fault_is_survived_on_its_own(
    tmp_path: Path, bank: BankSandbox, kind: str
) -> None:
    bank.set_chaos(Chaos(rate=0.06, kinds=(kind,), seed=7, slow_seconds=0.05))
    with Portal.open(home=tmp_path, retry_policy=RetryPolicy(initial_wait=0.01)) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok, f"{kind}: {result.error}"
        assert bank.chaos_counts.get(kind, 0) > 0, bank.chaos_counts
        assert_store_matches(portal, bank)


def test_a_cursor_loop_is_reported_not_followed(portal: Portal) -> None:
    with BankSandbox(page_size=50) as bank:
        connect(portal, bank)
        bank.set_chaos(Chaos(rate=0, loop_after=3))
        [result] = portal.sync()
        assert isinstance(result.error, ProviderError)
        assert "loops back to a page it already served" in result.error.message
        transactions = [r for r in bank.requests if "/transactions" in r.path]
        assert len(transactions) < 10  # stopped at the loop, not after running out of patience
        bank.set_chaos(None)
        [resumed] = portal.sync()
        assert resumed.ok, resumed.error
        assert_store_matches(portal, bank)


def test_the_monkey_is_reproducible_and_keeps_to_its_rate() -> None:
    draws = [ChaosMonkey(Chaos(rate=0.2, seed=5)) for _ in range(2)]
    kinds = [[m.decide().kind for _ in range(2000)] for m in draws]
    assert kinds[0] == kinds[1]
    share = sum(k is not None for k in kinds[0]) / 2000
    assert 0.17 < share < 0.30  # 20% drawn, plus the second request of each 5xx burst


def test_a_429_with_an_http_date_waits_until_that_date(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    bank.add_fault(Fault(path="/accounts$", status=429, headers={"Retry-After": when}))
    assert portal.client("bank").get_json("accounts")["Data"]["Account"]
    limited, retried = [r for r in bank.requests if r.path.endswith("/accounts")]
    assert limited.status == 429 and retried.status == 200
    assert retried.started - limited.at >= 1.0  # HTTP dates have whole seconds


def test_retry_after_as_a_date_is_read_as_seconds_from_now() -> None:
    from portal.http import parse_retry_after

    when = email.utils.formatdate(time.time() + 3, usegmt=True)
    wait = parse_retry_after(when)
    assert wait is not None and 1.5 < wait <= 3.0
