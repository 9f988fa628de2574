"""The sandbox's account of refresh tokens over time, through real sockets.

The authorization server knows which refresh token is current; it judges every refresh it
is asked for and can make an access token expire soon, or be revoked partway through a
sync, without anyone waiting.
"""

from collections.abc import Iterator

import httpx
import pytest

from portal_bank.sandbox import BankSandbox
from test_sandbox import api, connect, refresh


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """One client for the test, closed afterwards."""
    with httpx.Client(timeout=10) as client:
        yield client


def test_the_server_says_which_refresh_token_is_current(
    bank: BankSandbox, http: httpx.Client
) -> None:
    first = connect(http, bank)
    assert bank.refresh_token_state(first["refresh_token"]) == "current"
    second = refresh(http, bank, first["refresh_token"]).json()
    assert bank.refresh_token_state(first["refresh_token"]) == "rotated"
    assert bank.refresh_token_state(second["refresh_token"]) == "current"
    assert bank.refresh_token_state("never-issued") == "unknown"
    http.post(
        bank.revocation_url,
        data={"token": second["refresh_token"], "client_id": "portal-demo"},
    )
    assert bank.refresh_token_state(second["refresh_token"]) == "revoked"


def test_every_refresh_is_judged_when_it_arrives_and_no_token_is_kept(
    bank: BankSandbox, http: httpx.Client
) -> None:
    first = connect(http, bank)
    bank.expire_tokens(within=20)
    second = refresh(http, bank, first["refresh_token"]).json()
    replay = refresh(http, bank, first["refresh_token"])
    assert replay.status_code == 400  # a rotated refresh token is refused
    refresh(http, bank, "never-issued")
    fresh, reused, unknown = bank.refresh_uses
    assert fresh.state == "current" and not fresh.access_revoked
    assert fresh.access_left is not None and 18 < fresh.access_left <= 20
    assert reused.state == "rotated"
    assert unknown.state == "unknown" and unknown.access_left is None
    kept = repr(bank.refresh_uses)
    assert first["refresh_token"] not in kept and second["access_token"] not in kept


def test_tokens_can_be_made_to_expire_soon_without_waiting(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    bank.expire_tokens(within=30)
    # Still good until then: a token about to expire is not an expired one.
    assert api(http, f"{bank.api_base}/accounts", token).status_code == 200
    bank.expire_tokens(within=3600)  # never moves an expiry later
    refresh(http, bank, token["refresh_token"])
    [use] = bank.refresh_uses
    assert use.access_left is not None and use.access_left <= 30
    bank.expire_tokens()
    assert api(http, f"{bank.api_base}/accounts", token).status_code == 401


def test_an_access_token_can_be_revoked_after_a_number_of_api_requests(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    bank.revoke_access_after(2)
    statuses = [api(http, f"{bank.api_base}/accounts", token).status_code for _ in range(4)]
    assert statuses == [200, 200, 401, 401]
    assert "invalid_token" in api(http, f"{bank.api_base}/party", token).headers.get(
        "WWW-Authenticate", ""
    )
    renewed = refresh(http, bank, token["refresh_token"]).json()
    [use] = bank.refresh_uses
    assert use.access_revoked and use.state == "current"
    # The switch is spent: the new token is left alone.
    assert [api(http, f"{bank.api_base}/accounts", renewed).status_code for _ in range(3)] == [
        200
    ] * 3
