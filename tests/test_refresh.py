"""Refresh: proactive and reactive, one token call however many requests, rotation never lost."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import connect
from portal.app import Portal
from portal.auth.refresh import TokenKeeper
from portal.auth.tokens import TokenSet
from portal.auth.vault import Vault
from portal.errors import AuthError
from portal.record import Transaction
from portal_bank.sandbox import BankSandbox


def expire_locally(portal: Portal, connection_id: str) -> TokenSet:
    tokens = portal.vault.get(connection_id)
    assert tokens is not None
    portal.vault.put(
        connection_id, TokenSet({**tokens.as_dict(), "expires_at": int(time.time()) - 5})
    )
    return tokens


def hammer(portal: Portal, path: str, threads: int = 10) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(threads)
    with portal.client("bank") as client:

        def one() -> None:
            barrier.wait()
            statuses.append(client.get(path).status_code)

        workers = [threading.Thread(target=one) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    return statuses


def test_many_requests_meeting_an_expired_token_make_one_refresh(
    portal: Portal, bank: BankSandbox
) -> None:
    connection = connect(portal, bank)
    before = expire_locally(portal, connection.id)
    assert hammer(portal, "accounts") == [200] * 10
    assert bank.token_requests.get("refresh_token", 0) == 1
    after = portal.vault.get(connection.id)
    assert after is not None and after.refresh_token != before.refresh_token


def test_a_401_refreshes_once_reactively(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    bank.expire_tokens()  # the provider drops the token early; portal still thinks it is valid
    assert hammer(portal, "accounts") == [200] * 10
    assert bank.token_requests.get("refresh_token", 0) == 1


def test_two_processes_refreshing_at_once_make_one_token_call(
    tmp_path: Path, bank: BankSandbox
) -> None:
    home = tmp_path / "home"
    with Portal.open(home=home) as portal:
        connection = connect(portal, bank)
        expire_locally(portal, connection.id)
    portal_bin = str(Path(sys.executable).with_name("portal"))
    processes = [
        subprocess.Popen(
            [portal_bin, "--home", str(home), "sync", "--quiet"], stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], errors
    assert bank.token_requests.get("refresh_token", 0) == 1
    with Portal.open(home=home) as portal:
        assert len(list(portal.store.rows(Transaction))) == len(bank.ground_truth()["transactions"])


def test_a_revoked_grant_asks_to_connect_again_and_keeps_the_data(
    portal: Portal, bank: BankSandbox
) -> None:
    connection = connect(portal, bank)
    portal.sync()
    before = portal.store.counts()
    bank.withdraw_consent()
    [result] = portal.sync()
    assert isinstance(result.error, AuthError)
    assert "run portal connect bank again" in str(result.error).lower()
    assert bank.token_requests.get("refresh_token", 0) == 1  # one try, no retry loop
    assert portal.store.counts() == before
    [stored] = portal.store.connections()
    assert stored.id == connection.id and stored.status == "needs_reconnect"


@pytest.mark.parametrize("error", ["invalid_grant"])
def test_a_refresh_refused_as_invalid_grant_is_an_auth_error(
    portal: Portal, bank: BankSandbox, error: str
) -> None:
    connection = connect(portal, bank)
    expire_locally(portal, connection.id)
    bank.fail_refresh_with(error)
    [result] = portal.sync()
    assert isinstance(result.error, AuthError) and error in result.error.message


def test_the_client_a_plugin_gets_exposes_no_vault_and_shows_no_token(
    portal: Portal, bank: BankSandbox
) -> None:
    connect(portal, bank)
    with portal.client("bank") as client:
        token = client.token["access_token"]
        assert token not in repr(client) and token not in str(client)
        public = {name: value for name, value in vars(client).items() if not name.startswith("_")}
        assert not any(isinstance(value, Vault | TokenKeeper) for value in public.values())
        assert not any(value is portal.vault or value is portal.store for value in public.values())
