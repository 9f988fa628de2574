"""Credentials over time: syncs in processes of their own keep every rotated refresh token.

Each scenario is one ``portal sync`` in a new process against the same home: an access
token just outside the refresh margin, one inside it, one revoked partway through the
sync. The authorization server rotates the refresh token on every refresh and says which
one is current; the vault must hold that one after every process.
"""

from pathlib import Path

import pytest

from portal_conformance.failures import CheckFailed, NotApplicable
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_conformance.rules.credentials import SYNCS

KEYED = """
import dataclasses
from portal import hookimpl
from portal.auth.tokens import TokenSet
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(bank.PROVIDER, name="keyed_bank", display_name="Keyed bank")

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def authenticate(provider, oauth):
    # An API key: no expiry, nothing to refresh.
    return TokenSet({"access_token": "key-0123456789", "token_type": "Bearer"})

@hookimpl
def fetch(client, cursors):
    return bank.fetch(client=client, cursors=cursors)

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream=stream, item=item, ref=ref)
"""

NOT_ROTATING = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

def _sandbox():
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=10, refresh_tokens="first")

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="steady_bank", display_name="Steady bank", sandbox=_sandbox
)

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

REFRESHES_ITSELF = """
import dataclasses
import time
from portal import hookimpl
from portal_bank import plugin as bank

def _sandbox():
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="careful_bank", display_name="Careful bank", sandbox=_sandbox
)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    # It refreshes by itself when the token is nearly spent, through portal's keeper.
    if client.token["expires_at"] - time.time() < 20:
        client.refresh()
    return bank.fetch(client=client, cursors=cursors)

@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream=stream, item=item, ref=ref)
"""


@pytest.mark.slow
def test_the_reference_bank_keeps_every_rotation_through_syncs_in_new_processes(
    tmp_path: Path,
) -> None:
    with Harness("bank", tmp_path) as harness:
        for scenario in SYNCS:
            run_check(harness, "credentials", scenario)
        seen = harness.__dict__["_cache"]["credentials"]
    # Each scenario really happened: a proactive refresh, and a 401 answered by one refresh.
    assert seen["outside_margin"].refreshes == []
    [proactive] = seen["near_expiry"].refreshes
    assert not proactive.access_revoked and proactive.access_left <= seen["near_expiry"].margin
    [reactive] = seen["revoked_mid_sync"].refreshes
    assert reactive.access_revoked and seen["revoked_mid_sync"].refused >= 1
    assert {s.vault_state for s in seen.values()} == {"current"}


@pytest.mark.slow
def test_a_plugin_that_refreshes_by_itself_through_its_client_keeps_every_rotation(
    tmp_path: Path,
) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "careful_bank.py").write_text(REFRESHES_ITSELF)
    with Harness("careful_bank", tmp_path / "work", plugins_dir=tmp_path / "plugins") as h:
        for scenario in SYNCS:
            run_check(h, "credentials", scenario)
        seen = h.__dict__["_cache"]["credentials"]
    assert len(seen["near_expiry"].refreshes) == 1


def test_a_plugin_signing_in_with_an_api_key_is_not_applicable_and_says_why(
    tmp_path: Path,
) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "keyed_bank.py").write_text(KEYED)
    with (
        Harness("keyed_bank", tmp_path / "work", plugins_dir=tmp_path / "plugins") as harness,
        pytest.raises(NotApplicable) as skipped,
    ):
        run_check(harness, "credentials", "near_expiry")
    assert "neither expires nor comes with a refresh token (an API key)" in skipped.value.reason


def test_a_sandbox_that_does_not_rotate_cannot_prove_the_rotation_and_fails_saying_so(
    tmp_path: Path,
) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "steady_bank.py").write_text(NOT_ROTATING)
    with (
        Harness("steady_bank", tmp_path / "work", plugins_dir=tmp_path / "plugins") as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "credentials", "outside_margin")
    assert "does not rotate refresh tokens (refresh_tokens='first')" in str(failed.value)
    assert "declare 'credentials' unsupported" in failed.value.fix
