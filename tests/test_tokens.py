"""Token responses from a server portal did not write: nonsense is refused, naming the field.

Every case runs the real flow against the sandbox, which answers the real tokens with one
field spoiled; the tokens it issued are revoked, and nothing is stored.
"""

import time
from typing import Any

import pytest

from conftest import connect
from portal.app import Portal
from portal.auth.device import DeviceCode
from portal.errors import AuthError
from portal.provider import sandbox_endpoints
from portal.record.tables import Connection
from portal.sandbox.oauth import OMIT
from portal_bank.sandbox import BankSandbox

ABSURD: list[tuple[dict[str, Any], str]] = [
    ({"expires_in": float("nan")}, "expires_in is NaN"),
    ({"expires_in": float("inf")}, "expires_in is infinite"),
    ({"expires_in": -60}, "expires_in is -60 seconds"),
    ({"expires_in": 0}, "expires_in is 0 seconds"),
    ({"expires_in": "soon"}, "expires_in is text"),
    ({"expires_in": 10**30}, "expires_in is 1e[+]30 seconds"),
    ({"expires_in": 20 * 365 * 24 * 3600}, "outside 1 to 10 years"),
    ({"expires_in": True}, "expires_in is a boolean"),
    ({"refresh_token_expires_in": -1}, "refresh_token_expires_in is -1 seconds"),
    ({"token_type": OMIT}, "token_type is missing"),
    ({"token_type": "mac"}, "token_type is 'mac', not Bearer"),
    ({"access_token": 12345}, "access_token is a number"),
    ({"access_token": ""}, "access_token is an empty string"),
    ({"refresh_token": ["a", "b"]}, "refresh_token is a structure"),
]


@pytest.mark.parametrize(("patch", "named"), ABSURD, ids=[n for _, n in ABSURD])
def test_an_absurd_token_response_is_refused_naming_the_field_and_revoked(
    portal: Portal, bank: BankSandbox, patch: dict[str, Any], named: str
) -> None:
    bank.patch_token_responses(patch)
    with pytest.raises(AuthError, match=f"tokens portal cannot use .*{named}") as caught:
        connect(portal, bank)
    assert "portal revoked them" in caught.value.message
    assert portal.store.connections() == []
    assert ("refresh_token", "refresh_token") in bank.revocations or "refresh_token" in patch


def test_a_numeric_string_lifetime_is_read_as_seconds(portal: Portal, bank: BankSandbox) -> None:
    bank.patch_token_responses({"expires_in": "120"})  # as some servers send it
    connection = connect(portal, bank)
    tokens = portal.vault.get(connection.id)
    assert tokens is not None and tokens.values["expires_in"] == 120
    assert tokens.expires_at is not None and 100 < tokens.expires_at - time.time() <= 120


def test_an_absurd_answer_to_the_device_grant_is_refused_too(portal: Portal) -> None:
    def approve(code: DeviceCode) -> None:
        bank.approve_device(code.user_code)

    with BankSandbox(device_interval=0.2) as bank:
        bank.patch_token_responses({"expires_in": float("nan")})
        with pytest.raises(AuthError, match="expires_in is NaN"):
            portal.connect(
                "bank", device=True, show_code=approve, endpoints=sandbox_endpoints(bank)
            )
        assert ("refresh_token", "refresh_token") in bank.revocations
    assert portal.store.connections() == []


def _refreshing_sync(portal: Portal, bank: BankSandbox) -> tuple[Connection, Exception | None]:
    bank.expire_tokens()  # the next request gets a 401 and refreshes
    [result] = portal.sync()
    [stored] = portal.store.connections()
    return stored, result.error


@pytest.mark.parametrize(
    ("patch", "named"),
    [({"expires_in": float("nan")}, "expires_in is NaN"), ({"token_type": OMIT}, "missing")],
)
def test_an_absurd_answer_to_a_refresh_ends_the_sync_clearly_and_keeps_the_data(
    portal: Portal, bank: BankSandbox, patch: dict[str, Any], named: str
) -> None:
    connect(portal, bank)
    portal.sync()
    before = portal.store.counts()
    bank.patch_token_responses(patch)
    stored, error = _refreshing_sync(portal, bank)
    assert isinstance(error, AuthError), error
    assert named in error.message and "refresh" in error.message
    assert stored.status == "needs_reconnect"
    assert portal.store.counts() == before
    assert ("refresh_token", "refresh_token") in bank.revocations
