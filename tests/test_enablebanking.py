"""The Enable Banking plugin through the real path: its sandbox on a socket, JWTs, SQLite.

One connect and sync is shared by the read-only tests of this module; tests that change
the sandbox, the session or the quota get their own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.app import Portal
from portal.auth.credentials import Ask, CredentialHelpers
from portal.auth.flows import auto_approve_browser
from portal.engine.sync import SyncResult
from portal.errors import AuthError, QuotaReached, UserError
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Account, Balance, Transaction
from portal_enablebanking import rules, signing
from portal_enablebanking.plugin import PROVIDER
from portal_enablebanking.sandbox import APPLICATION_ID, EnableBankingSandbox
from values import differences

Synced = tuple[Portal, EnableBankingSandbox, SyncResult]


def _open(home: Path, *, quotas: bool = False) -> Portal:
    portal = Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1))
    portal.quotas = quotas
    return portal


def _connect(portal: Portal, sandbox: EnableBankingSandbox, **answers: str) -> Any:
    return portal.connect(
        "enablebanking",
        browser=auto_approve_browser,
        endpoints=sandbox_endpoints(sandbox),
        answers={**sandbox.connect_answers(), **answers},
        timeout=10,
    )


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """The sandbox, connected through the bank's redirect and synced once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        home = tmp_path_factory.mktemp("enablebanking") / "home"
        with EnableBankingSandbox() as bank, _open(home) as portal:
            _connect(portal, bank)
            [result] = portal.sync(["enablebanking"])
            yield portal, bank, result


@pytest.fixture
def bank() -> Iterator[EnableBankingSandbox]:
    with EnableBankingSandbox() as sandbox:
        yield sandbox


def signed_client(bank: EnableBankingSandbox, pem: str | None = None) -> httpx.Client:
    auth = signing.SignedJWT(APPLICATION_ID, pem or bank.private_key_pem())
    return httpx.Client(base_url=bank.base_url, auth=auth, timeout=10)


# -- what a sync stores --------------------------------------------------------------------


def test_a_sync_stores_exactly_what_the_sandbox_serves(synced: Synced) -> None:
    portal, bank, result = synced
    assert result.ok, result.error
    truth = bank.ground_truth()
    for entity, category in (
        (Account, "accounts"),
        (Balance, "balances"),
        (Transaction, "transactions"),
    ):
        assert len(list(portal.store.rows(entity, "enablebanking"))) == len(truth[category])
    assert differences(portal, "enablebanking", bank.expected_records()) == []


def test_connect_keeps_the_sessions_validity_as_the_grants_expiry(synced: Synced) -> None:
    portal, bank, _ = synced
    connection = portal.store.connection("enablebanking")
    [session] = bank.sessions.values()
    assert connection is not None and connection.grant_expires_at is not None
    assert (
        connection.grant_expires_at.isoformat(timespec="seconds")
        == session["valid_until"][:19] + "+00:00"
    )
    kept = portal.vault.get(connection.id)
    assert kept is not None and kept.values["session_id"] == session["id"]


def test_a_resync_asks_only_from_the_newest_day_and_adds_nothing(synced: Synced) -> None:
    portal, bank, _ = synced
    before = {e: len(list(portal.store.rows(e, "enablebanking"))) for e in (Account, Transaction)}
    asked = len(bank.requests)
    [result] = portal.sync(["enablebanking"])
    assert result.ok, result.error
    again = bank.requests[asked:]
    # The session once; each account's details, balances and transactions (one page).
    assert len(again) == 1 + 3 * 2
    windows = [r.query for r in again if r.path.endswith("/transactions")]
    assert windows == ["date_from=2026-11-26", "date_from=2026-11-16"]
    assert {e: len(list(portal.store.rows(e, "enablebanking"))) for e in before} == before


# -- the sandbox follows the reference -------------------------------------------------------


def test_every_answer_the_sandbox_gives_obeys_the_reference(bank: EnableBankingSandbox) -> None:
    with signed_client(bank) as api:
        started = api.post("/auth", json={
            "access": {"valid_until": "2027-01-01T00:00:00+00:00"},
            "aspsp": {"name": "Mock ASPSP", "country": "FI"}, "state": "s1",
            "redirect_url": "https://portal.example/enablebanking", "psu_type": "personal",
        }).json()  # fmt: skip
        assert rules.check("StartAuthorizationResponse", started) == []
        sent_back = httpx.get(started["url"]).headers["location"]
        code = httpx.URL(sent_back).params["code"]
        session = api.post("/sessions", json={"code": code}).json()
        assert rules.check("AuthorizeSessionResponse", session) == []
        for account in session["accounts"]:
            uid = account["uid"]
            assert rules.check("AccountResource", api.get(f"/accounts/{uid}/details").json()) == []
            assert rules.check("HalBalances", api.get(f"/accounts/{uid}/balances").json()) == []
            page = api.get(f"/accounts/{uid}/transactions").json()
            while True:
                assert rules.check("HalTransactions", page) == []
                if not page.get("continuation_key"):
                    break
                page = api.get(
                    f"/accounts/{uid}/transactions",
                    params={"continuation_key": page["continuation_key"]},
                ).json()
        refused = api.post("/sessions", json={"code": code})  # a code is used once
        assert refused.status_code == 400 and rules.check("ErrorResponse", refused.json()) == []
        assert refused.json()["error"] == "WRONG_AUTHORIZATION_CODE"
        closed = api.delete(f"/sessions/{session['session_id']}")
        assert closed.json() == {"message": "OK"}
        gone = api.get(f"/accounts/{session['accounts'][0]['uid']}/balances")
        assert (gone.status_code, gone.json()["error"]) == (401, "CLOSED_SESSION")


@pytest.mark.parametrize("variant", ["sparse", "faulty"])
def test_each_variant_serves_what_the_reference_allows_or_only_its_planted_faults(
    variant: str,
) -> None:
    sandbox = EnableBankingSandbox(variant=variant)
    problems = []
    for account in sandbox.ground_truth()["accounts"]:
        problems += rules.check("AccountResource", account)
    for key in sandbox.data["histories"]:
        problems += rules.check("HalBalances", {"balances": sandbox.data["balances"][key]})
        problems += rules.check(
            "HalTransactions", {"transactions": sandbox.data["transactions"][key]}
        )
    planted = [
        "HalTransactions.transactions[191].credit_debit_indicator 'NONE' is not one of its codes"
    ]
    assert problems == ([] if variant == "sparse" else planted)
    if variant == "sparse":  # nothing optional left to lean on
        assert all(set(a) == {"cash_account_type", "currency", "identification_hash",
                              "identification_hashes", "uid"} for a in sandbox.ground_truth()["accounts"])  # fmt: skip


@pytest.mark.parametrize(
    ("how", "error"),
    [
        ("none", "AUTHORIZATION_NOT_PROVIDED"),
        ("another key", "UNAUTHORIZED_ACCESS"),
        ("expired", "UNAUTHORIZED_ACCESS"),
        ("wrong audience", "UNAUTHORIZED_ACCESS"),
    ],
)
def test_the_sandbox_refuses_what_the_api_refuses_with_its_error_body(
    bank: EnableBankingSandbox, how: str, error: str
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = bank.key
    if how == "another key":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = signing.make_jwt(
        APPLICATION_ID, key, now=time.time() - (7200 if how == "expired" else 0)
    )
    if how == "wrong audience":
        head, _, _ = token.split(".")
        body = signing.b64url(json.dumps({"iss": "enablebanking.com", "aud": "api.tilisy.com",
                                          "iat": int(time.time()), "exp": int(time.time()) + 60}).encode())  # fmt: skip
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
        token = f"{head}.{body}.{signing.b64url(signature)}"
    headers = {} if how == "none" else {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{bank.base_url}/application", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == error and rules.check("ErrorResponse", answer.json()) == []


# -- connecting --------------------------------------------------------------------------------


def test_a_bank_enable_banking_does_not_list_is_refused_naming_those_it_does(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    with _open(tmp_path / "home") as portal, pytest.raises(AuthError) as refused:
        _connect(portal, bank, aspsp_name="Nordea")
    assert "no bank named 'Nordea' in FI" in refused.value.message
    assert "Mock ASPSP" in refused.value.hint


def test_a_refusal_at_the_bank_is_an_auth_error_in_the_services_words(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    bank.deny = True
    with (
        _open(tmp_path / "home") as portal,
        pytest.raises(AuthError, match="cancelled the authorisation"),
    ):
        _connect(portal, bank)
    assert not bank.sessions


def test_with_a_redirect_url_that_is_not_loopback_the_person_pastes_where_the_bank_sent_them(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    opened: list[str] = []
    asked: list[Ask] = []

    def browser(url: str) -> None:
        opened.append(httpx.get(url).headers["location"])  # the bank's redirect, not followed

    def prompt(item: Ask) -> str:
        asked.append(item)
        return opened[-1]

    with _open(tmp_path / "home") as portal:
        portal.connect(
            "enablebanking", browser=browser, endpoints=sandbox_endpoints(bank), timeout=10,
            answers={**bank.connect_answers(), "redirect_url": "https://portal.example/enablebanking"},
            ask=prompt,
        )  # fmt: skip
        [result] = portal.sync(["enablebanking"])
    assert result.ok, result.error
    assert [a.name for a in asked] == ["redirected_to"] and asked[0].secret
    assert opened[0].startswith("https://portal.example/enablebanking?code=")


def test_a_loopback_redirect_registered_with_its_port_is_listened_on_there(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    redirect = f"http://127.0.0.1:{port}/enablebanking/callback"
    with _open(tmp_path / "home") as portal:
        _connect(portal, bank, redirect_url=redirect)
    assert bank.sent_back == [redirect] and bank.sessions


def test_asking_where_nobody_can_answer_says_so() -> None:
    helpers = CredentialHelpers(PROVIDER, {}, tell=print, browser=print)
    with pytest.raises(UserError, match="portal cannot ask here"):
        helpers.ask(Ask("redirected_to", "address your browser was sent to"))


# -- secrets -----------------------------------------------------------------------------------


def test_the_key_and_the_jwts_never_reach_the_logs_the_store_or_a_repr(
    bank: EnableBankingSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    home = tmp_path / "home"
    with _open(home) as portal:
        connection = _connect(portal, bank)
        [result] = portal.sync(["enablebanking"])
        tokens = portal.vault.get(connection.id)
        assert tokens is not None
        auth = signing.signed_jwt(tokens.values)
        shown = repr(connection) + repr(tokens) + str(tokens) + repr(result) + repr(auth)
    assert result.ok, result.error
    pem = bank.private_key_pem()
    body = pem.splitlines()[1]  # a line of the key itself
    secrets = [body, *bank.jwts_noted]
    assert bank.jwts_noted
    stored = b"".join(p.read_bytes() for p in home.rglob("*.db*"))
    [session] = bank.sessions.values()
    assert session["id"] not in repr(auth)
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in shown
        assert secret.encode() not in stored


# -- disconnect, expiry, refusals mid-sync -------------------------------------------------------


def test_disconnect_closes_the_session_at_enable_banking(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    with _open(tmp_path / "home") as portal:
        connection = _connect(portal, bank)
        done = portal.disconnect("enablebanking")
        assert portal.vault.get(connection.id) is None
    [session] = bank.sessions.values()
    assert done.revoked and session["status"] == "CLOSED"
    assert [(r.method, r.path) for r in bank.requests][-1] == (
        "DELETE",
        f"/sessions/{session['id']}",
    )


def test_an_expired_session_asks_the_person_to_connect_again(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bank)
        [session] = bank.sessions.values()
        session["valid_until"] = "2026-01-01T00:00:00+00:00"
        [result] = portal.sync(["enablebanking"])
        connection = portal.store.connection("enablebanking")
    assert isinstance(result.error, AuthError)
    assert "The Enable Banking session is expired." in str(result.error)
    assert connection is not None and connection.status == "needs_reconnect"


def test_a_session_closed_elsewhere_is_said_in_words(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bank)
        [session] = bank.sessions.values()
        session["status"] = "REVOKED"  # the person withdrew the access at their bank
        [result] = portal.sync(["enablebanking"])
        connection = portal.store.connection("enablebanking")
    assert isinstance(result.error, AuthError)
    assert "session is revoked" in str(result.error)
    assert connection is not None and connection.status == "needs_reconnect"


# -- the quota -------------------------------------------------------------------------------------


def test_the_fifth_sync_of_a_day_is_refused_with_the_time_of_the_next(
    bank: EnableBankingSandbox, tmp_path: Path
) -> None:
    with _open(tmp_path / "home", quotas=True) as portal:
        _connect(portal, bank)
        results = [portal.sync(["enablebanking"])[0] for _ in range(5)]
    assert [r.ok for r in results] == [True, True, True, True, False]
    refused = results[-1].error
    assert isinstance(refused, QuotaReached)
    assert refused.message.startswith(
        "Enable Banking allows 4 syncs a day for this account; the next is possible at "
    )
    assert "EBA RTS article 36(5)" in refused.message


# -- the conformance suite --------------------------------------------------------------------------


@pytest.mark.slow
def test_enable_banking_reaches_gold(tmp_path: Path) -> None:
    from test_conformance import gold_report, outcomes_of

    report = gold_report(tmp_path, "enablebanking")
    variants = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_variant[")}
    assert variants == {"test_variant[sparse]": "passed", "test_variant[faulty]": "passed"}
    changes = {t: o for t, o in outcomes_of(report).items() if t.startswith("test_changes[")}
    assert changes == {
        **{
            f"test_changes[{s}]": "passed"
            for s in ("full_page", "amend", "withdraw", "book", "arrive")
        },
        "test_changes[empty]": "skipped",
    }
