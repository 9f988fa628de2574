"""The sandboxes, through real sockets: a hand-driven OAuth flow and the Demo Bank's API.

An httpx client plays both the browser (following the authorization redirect by hand)
and portal (exchanging the code with PKCE S256), so these tests check the sandbox on its
own, without the engine.
"""

import base64
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidClaimError
from joserfc.jwk import KeySet

from portal.sandbox import Fault, Sandbox
from portal_bank.customer import signed
from portal_bank.sandbox import BankSandbox

REDIRECT = "http://127.0.0.1:8123/callback"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """One client for the test, closed afterwards."""
    with httpx.Client(timeout=10) as client:
        yield client


def pkce() -> tuple[str, str]:
    """A code verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize(http: httpx.Client, sandbox: Sandbox, **params: str) -> httpx.Response:
    """Open the authorization URL as a browser would, without following the redirect."""
    query = {
        "response_type": "code",
        "client_id": "portal-demo",
        "redirect_uri": REDIRECT,
        "scope": "accounts",
        "state": "st4te",
        **params,
    }
    return http.get(sandbox.authorize_url, params={k: v for k, v in query.items() if v})


def redirected(response: httpx.Response) -> dict[str, str]:
    """The query parameters of the redirect back to the client."""
    assert response.status_code == 302, response.text
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}


def connect(http: httpx.Client, sandbox: Sandbox, redirect_uri: str = REDIRECT) -> dict[str, Any]:
    """The whole authorization-code flow with PKCE S256; the token response."""
    verifier, challenge = pkce()
    answer = redirected(
        authorize(
            http,
            sandbox,
            redirect_uri=redirect_uri,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    assert answer["state"] == "st4te"
    response = http.post(
        sandbox.token_url,
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect_uri,
            "client_id": "portal-demo",
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    token: dict[str, Any] = response.json()
    return token


def start_device(http: httpx.Client, sandbox: Sandbox, **extra: str) -> dict[str, Any]:
    """Ask the device authorization endpoint for codes (RFC 8628 §3.1)."""
    data = {"client_id": "portal-demo", "scope": "openid accounts", **extra}
    response = http.post(sandbox.device_authorization_url, data=data)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def poll(http: httpx.Client, sandbox: Sandbox, device_code: str) -> httpx.Response:
    """One poll of the token endpoint with a device code (RFC 8628 §3.4)."""
    return http.post(
        sandbox.token_url,
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": "portal-demo"},
    )


def answers(sandbox: Sandbox, device_code: str) -> list[str]:
    return [answer for _, answer in sandbox.device_polls(device_code)]


def refresh(http: httpx.Client, sandbox: Sandbox, refresh_token: str) -> httpx.Response:
    return http.post(
        sandbox.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": "portal-demo",
        },
    )


def api(http: httpx.Client, url: str, token: dict[str, Any], **params: str) -> httpx.Response:
    # params=None, not {}: an empty mapping would drop the query already in a Links.Next URL.
    return http.get(
        url, params=params or None, headers={"Authorization": f"Bearer {token['access_token']}"}
    )


def all_transactions(
    http: httpx.Client, bank: BankSandbox, token: dict[str, Any], account_id: str, **params: str
) -> tuple[list[dict[str, Any]], int]:
    """Every page of one account's transactions, following Links.Next; items and page count."""
    url: str | None = f"{bank.api_base}/accounts/{account_id}/transactions"
    items: list[dict[str, Any]] = []
    pages = 0
    while url:
        body = api(http, url, token, **(params if pages == 0 else {})).raise_for_status().json()
        items += body["Data"]["Transaction"]
        pages += 1
        assert body["Meta"]["TotalPages"] >= pages
        url = body["Links"].get("Next")
    return items, pages


def instant(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["BookingDateTime"])


# -- the authorization server --------------------------------------------------------


def test_a_full_pkce_flow_then_every_page_matches_the_ground_truth(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    assert token["token_type"] == "Bearer" and token["scope"] == "accounts"
    assert token["expires_in"] == 3600 and token["refresh_token"] and token["consent_id"]
    truth = bank.ground_truth()
    accounts = api(http, f"{bank.api_base}/accounts", token).json()["Data"]["Account"]
    assert accounts == truth["accounts"]
    served = []
    for account in accounts:
        items, pages = all_transactions(http, bank, token, account["AccountId"])
        assert pages == -(-len(items) // bank.page_size) > 1
        served += items
    assert served == truth["transactions"]
    assert len([t for t in served if t["AccountId"] == accounts[0]["AccountId"]]) > 1000
    assert bank.token_requests == {"authorization_code": 1}


def test_plain_pkce_is_refused(bank: BankSandbox, http: httpx.Client) -> None:
    verifier, _ = pkce()
    answer = redirected(
        authorize(http, bank, code_challenge=verifier, code_challenge_method="plain")
    )
    assert (
        answer["error"] == "invalid_request" and "code" not in answer and answer["state"] == "st4te"
    )
    # Without a method the challenge would be "plain" by default (RFC 7636 §4.3): refused too.
    answer = redirected(authorize(http, bank, code_challenge=verifier))
    assert answer["error"] == "invalid_request" and "code" not in answer


def test_missing_or_wrong_pkce_is_refused(bank: BankSandbox, http: httpx.Client) -> None:
    answer = redirected(authorize(http, bank))
    assert answer["error"] == "invalid_request" and "code" not in answer
    _, challenge = pkce()
    for sent in (None, pkce()[0]):
        code = redirected(
            authorize(http, bank, code_challenge=challenge, code_challenge_method="S256")
        )["code"]
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "portal-demo",
        }
        response = http.post(bank.token_url, data={**data, "code_verifier": sent} if sent else data)
        assert response.status_code == 400
        assert response.json()["error"] == ("invalid_grant" if sent else "invalid_request")


def test_a_code_is_used_once(bank: BankSandbox, http: httpx.Client) -> None:
    verifier, challenge = pkce()
    code = redirected(
        authorize(http, bank, code_challenge=challenge, code_challenge_method="S256")
    )["code"]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "portal-demo",
        "code_verifier": verifier,
    }
    assert http.post(bank.token_url, data=data).status_code == 200
    assert http.post(bank.token_url, data=data).json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:8123/callback",
        "http://127.0.0.2:8123/callback",
        "https://127.0.0.1:8123/callback",
        "http://127.0.0.1:8123/other",
        "http://127.0.0.1:8123/callback/more",
        "http://evil.example/callback",
        "http://127.0.0.1:8123@evil.example/callback",
    ],
)
def test_a_redirect_elsewhere_is_refused_without_redirecting(
    bank: BankSandbox, http: httpx.Client, redirect_uri: str
) -> None:
    _, challenge = pkce()
    response = authorize(
        http,
        bank,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert response.json()["error"] == "invalid_request"


def test_a_loopback_redirect_may_use_any_port(bank: BankSandbox, http: httpx.Client) -> None:
    for port in (1024, 51999):
        assert connect(http, bank, redirect_uri=f"http://127.0.0.1:{port}/callback")["access_token"]


def test_refresh_rotates_the_refresh_token(bank: BankSandbox, http: httpx.Client) -> None:
    first = connect(http, bank)
    second = refresh(http, bank, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["consent_id"] == first["consent_id"]
    replay = refresh(http, bank, first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert refresh(http, bank, second["refresh_token"]).status_code == 200
    assert bank.token_requests == {"authorization_code": 1, "refresh_token": 3}


def test_an_expired_token_gets_401_and_a_refresh_works(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    bank.expire_tokens()
    expired = api(http, f"{bank.api_base}/accounts", token)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    renewed = refresh(http, bank, token["refresh_token"]).json()
    assert api(http, f"{bank.api_base}/accounts", renewed).status_code == 200


def test_the_access_token_lifetime_is_honoured(http: httpx.Client) -> None:
    with BankSandbox(access_token_ttl=1) as bank:
        token = connect(http, bank)
        assert token["expires_in"] == 1
        assert api(http, f"{bank.api_base}/party", token).status_code == 200
        time.sleep(1.05)
        assert api(http, f"{bank.api_base}/party", token).status_code == 401


def test_revoking_an_access_token_or_a_refresh_token(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    revoked = http.post(
        bank.revocation_url, data={"token": token["access_token"], "client_id": "portal-demo"}
    )
    assert revoked.status_code == 200
    assert api(http, f"{bank.api_base}/accounts", token).status_code == 401
    assert refresh(http, bank, token["refresh_token"]).status_code == 200  # the grant lives on

    other = connect(http, bank)
    http.post(
        bank.revocation_url,
        data={
            "token": other["refresh_token"],
            "token_type_hint": "refresh_token",
            "client_id": "portal-demo",
        },
    ).raise_for_status()
    assert refresh(http, bank, other["refresh_token"]).status_code == 400
    assert api(http, f"{bank.api_base}/accounts", other).status_code == 401  # RFC 7009 §2.1
    unknown = http.post(bank.revocation_url, data={"token": "nonsense", "client_id": "portal-demo"})
    assert unknown.status_code == 200  # RFC 7009 §2.2: nothing to reveal


def test_a_confidential_client_authenticates_by_basic_or_post(
    bank: BankSandbox, http: httpx.Client
) -> None:
    bank.register_client("webapp", "s3cret", redirect_uris=["http://127.0.0.1/callback"])
    for auth, extra in (
        (("webapp", "s3cret"), {}),
        (None, {"client_id": "webapp", "client_secret": "s3cret"}),
        (("webapp", "wrong"), {}),
    ):
        verifier, challenge = pkce()
        code = redirected(
            authorize(
                http,
                bank,
                client_id="webapp",
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )["code"]
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            **extra,
        }
        response = http.post(bank.token_url, data=data, auth=auth or httpx.USE_CLIENT_DEFAULT)
        assert response.status_code == (401 if auth and auth[1] == "wrong" else 200), response.text


def test_without_auto_approve_the_customer_approves_or_denies(http: httpx.Client) -> None:
    with BankSandbox(auto_approve=False) as bank:
        _, challenge = pkce()
        page = authorize(http, bank, code_challenge=challenge, code_challenge_method="S256")
        assert page.status_code == 200 and "Approve" in page.text and "Deny" in page.text
        url = page.request.url
        denied = redirected(http.post(url, data={"decision": "deny"}))
        assert (
            denied["error"] == "access_denied"
            and denied["state"] == "st4te"
            and "code" not in denied
        )
        assert redirected(http.post(url, data={"decision": "approve"}))["code"]
        assert len(bank.ground_truth()["consents"]) == 1


# -- faults and the request log ------------------------------------------------------


def test_a_429_with_retry_after_is_served_then_spent(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    bank.add_fault(Fault(path="/accounts$", status=429, headers={"Retry-After": "1"}))
    limited = api(http, f"{bank.api_base}/accounts", token)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Rules.ResourceOverLimit"
    assert api(http, f"{bank.api_base}/accounts", token).status_code == 200
    assert bank.faults == []
    assert [r.status for r in bank.requests if r.path.endswith("/accounts")] == [429, 200]


def test_a_malformed_fault_gives_invalid_json(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    bank.add_fault(Fault(path="/transactions", malformed=True, times=2))
    account_id = bank.ground_truth()["accounts"][0]["AccountId"]
    for _ in range(2):
        broken = api(http, f"{bank.api_base}/accounts/{account_id}/transactions", token)
        assert broken.status_code == 200 and broken.headers["Content-Type"].startswith(
            "application/json"
        )
        with pytest.raises(json.JSONDecodeError):
            json.loads(broken.content)
    assert api(http, f"{bank.api_base}/accounts/{account_id}/transactions", token).json()["Data"]


def test_faults_never_touch_the_authorization_server(bank: BankSandbox, http: httpx.Client) -> None:
    bank.add_fault(Fault(path="", status=503, times=100))
    token = connect(http, bank)
    assert api(http, f"{bank.api_base}/party", token).status_code == 503
    bank.clear_faults()
    assert api(http, f"{bank.api_base}/party", token).status_code == 200


def test_answers_are_rewritten_on_their_way_out_but_never_the_authorization_servers(
    bank: BankSandbox, http: httpx.Client
) -> None:
    rewritten: list[tuple[str, str]] = []

    def rewrite(path: str, content_type: str, body: bytes) -> bytes:
        rewritten.append((path, content_type))
        return json.dumps({**json.loads(body), "Rewritten": True}).encode()

    bank.rewrite_answers(rewrite)
    token = connect(http, bank)  # the OAuth answers are the authorization server's own
    assert api(http, f"{bank.api_base}/party", token).json()["Rewritten"] is True
    missing = api(http, f"{bank.api_base}/accounts/nobody", token)
    assert missing.status_code == 404 and "Rewritten" not in missing.json()
    assert rewritten == [("/open-banking/v3.1/aisp/party", "application/json")]
    bank.rewrite_answers(None)
    assert "Rewritten" not in api(http, f"{bank.api_base}/party", token).json()


def test_a_fault_set_to_always_fails_every_attempt_and_is_never_spent(
    bank: BankSandbox, http: httpx.Client
) -> None:
    bank.add_fault(Fault(path="/party$", status=503, always=True))
    token = connect(http, bank)
    statuses = [api(http, f"{bank.api_base}/party", token).status_code for _ in range(8)]
    assert statuses == [503] * 8
    bank.clear_faults()
    assert api(http, f"{bank.api_base}/party", token).status_code == 200


def test_every_request_is_recorded_and_no_token_is_kept(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    api(http, f"{bank.api_base}/party", token)
    http.get(f"{bank.api_base}/party")
    records = bank.requests
    assert [(r.method, r.path, r.status, r.authorised) for r in records] == [
        ("GET", "/oauth/authorize", 302, False),
        ("POST", "/oauth/token", 200, False),
        ("GET", "/open-banking/v3.1/aisp/party", 200, True),
        ("GET", "/open-banking/v3.1/aisp/party", 401, False),
    ]
    assert all(a.at <= b.at for a, b in itertools.pairwise(records))
    secrets_ = (token["access_token"], token["refresh_token"])
    assert not any(s in repr(r) for r in records for s in secrets_)


def test_a_sandbox_restarts_and_leaves_no_threads_behind(http: httpx.Client) -> None:
    # Compare thread sets, not counts: threads of earlier tests may still be winding down.
    before = set(threading.enumerate())
    sandbox = Sandbox()
    for _ in range(5):
        with sandbox:
            # A kept-alive connection must not hold stop() up or leave its thread running.
            assert http.get(f"{sandbox.base_url}/nowhere").status_code == 404
    assert set(threading.enumerate()) - before == set()
    assert not sandbox.running
    with pytest.raises(RuntimeError, match="not running"):
        sandbox.base_url  # noqa: B018


# -- the Demo Bank's data ------------------------------------------------------------


def test_from_booking_date_time_is_inclusive(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    truth = bank.ground_truth()["transactions"]
    account_id = truth[0]["AccountId"]
    pivot = [t for t in truth if t["AccountId"] == account_id][700]
    since = instant(pivot)
    items, _ = all_transactions(
        http, bank, token, account_id, fromBookingDateTime=pivot["BookingDateTime"]
    )
    expected = [t for t in truth if t["AccountId"] == account_id and instant(t) >= since]
    assert items == expected and items[0]["BookingDateTime"] == pivot["BookingDateTime"]
    bad = api(
        http,
        f"{bank.api_base}/accounts/{account_id}/transactions",
        token,
        fromBookingDateTime="soon",
    )
    assert (
        bad.status_code == 400
        and bad.json()["Errors"][0]["ErrorCode"] == "UK.OBIE.Field.InvalidDate"
    )


def test_transactions_are_ordered_by_instant_across_clock_changes(bank: BankSandbox) -> None:
    for account in bank.ground_truth()["accounts"]:
        items = bank.bank.transactions(account["AccountId"])
        assert [(instant(t), t["TransactionId"]) for t in items] == sorted(
            (instant(t), t["TransactionId"]) for t in items
        )
    night = [
        t["BookingDateTime"] for t in items if t["BookingDateTime"].startswith("2025-10-26T01")
    ]
    assert night == sorted(night, reverse=True)  # 01:40 BST comes before 01:20 GMT


def test_interim_booked_is_the_opening_balance_plus_booked_transactions(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    truth = bank.ground_truth()["transactions"]
    for account in bank.ground_truth()["accounts"]:
        account_id = account["AccountId"]
        served = api(http, f"{bank.api_base}/accounts/{account_id}/balances", token).json()["Data"][
            "Balance"
        ]
        by_type = {b["Type"]: signed(b) for b in served}
        mine = [t for t in truth if t["AccountId"] == account_id]
        booked = sum((signed(t) for t in mine if t["Status"] == "Booked"), Decimal(0))
        pending = sum((signed(t) for t in mine if t["Status"] == "Pending"), Decimal(0))
        assert by_type["InterimBooked"] == by_type["OpeningBooked"] + booked
        assert by_type["InterimAvailable"] == by_type["InterimBooked"] + pending
        last_booked = [t for t in mine if t["Status"] == "Booked"][-1]
        assert signed(last_booked["Balance"]) == by_type["InterimBooked"]


def test_the_data_is_shaped_as_open_banking_serves_it(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect(http, bank)
    truth = bank.ground_truth()
    money = re.compile(r"^\d+\.\d{2}$")
    for item in truth["transactions"]:
        assert money.match(item["Amount"]["Amount"]) and item["Amount"]["Currency"] == "GBP"
        assert item["CreditDebitIndicator"] in ("Credit", "Debit")
        assert ("ValueDateTime" in item) == ("Balance" in item) == (item["Status"] == "Booked")
        assert datetime.fromisoformat(item["BookingDateTime"]).utcoffset() is not None
    pending = [t for t in truth["transactions"] if t["Status"] == "Pending"]
    assert 3 <= len(pending) <= 8
    refunds = [t for t in truth["transactions"] if t["TransactionInformation"].startswith("REFUND")]
    assert refunds and all(
        t["CreditDebitIndicator"] == "Credit" and t["MerchantDetails"] for t in refunds
    )
    party = api(http, f"{bank.api_base}/party", token)
    assert "Siobhán".encode() in party.content  # clean UTF-8, not \u escapes
    assert {p["Status"] for p in truth["marketing_preferences"]} >= {
        "OptedIn",
        "OptedOut",
        "Withdrawn",
    }
    consent = api(
        http, f"{bank.api_base}/account-access-consents/{token['consent_id']}", token
    ).json()["Data"]
    assert consent == truth["consents"][0] and consent["Status"] == "Authorised"
    missing = api(http, f"{bank.api_base}/account-access-consents/nope", token)
    assert missing.status_code == 404 and set(missing.json()) == {"Code", "Message", "Errors"}
    assert api(http, f"{bank.api_base}/accounts/nope/transactions", token).status_code == 404


def test_add_activity_books_the_pending_items_and_adds_new_ones(
    bank: BankSandbox, http: httpx.Client
) -> None:
    before = bank.ground_truth()
    current = before["accounts"][0]["AccountId"]
    pending = {t["TransactionId"] for t in before["transactions"] if t["Status"] == "Pending"}
    latest = max(instant(t) for t in before["transactions"] if t["AccountId"] == current)
    bank.add_activity(25)
    token = connect(http, bank)
    after, _ = all_transactions(http, bank, token, current)
    old = {t["TransactionId"] for t in before["transactions"]}
    new = [t for t in after if t["TransactionId"] not in old]
    assert len(new) == 25 and all(instant(t) > latest and t["Status"] == "Booked" for t in new)
    everything = bank.ground_truth()["transactions"]
    assert len(everything) == len(before["transactions"]) + 25
    assert {t["Status"] for t in everything} == {"Booked"}
    assert all("ValueDateTime" in t for t in everything if t["TransactionId"] in pending)
    interim = next(
        b
        for b in api(http, f"{bank.api_base}/accounts/{current}/balances", token).json()["Data"][
            "Balance"
        ]
        if b["Type"] == "InterimBooked"
    )
    assert signed(after[-1]["Balance"]) == signed(interim)


def test_the_same_seed_serves_the_same_customer(http: httpx.Client) -> None:
    with BankSandbox(seed=7) as one, BankSandbox(seed=7) as two:
        one.add_activity(10)
        two.add_activity(10)
        served = [
            api(http, f"{s.api_base}/accounts", connect(http, s)).json()["Data"] for s in (one, two)
        ]
        assert served[0] == served[1]
        truths = [s.ground_truth() for s in (one, two)]
        for truth in truths:
            truth.pop("consents")  # each connection's consent is new
        assert truths[0] == truths[1]
    assert BankSandbox(seed=8).ground_truth()["transactions"] != truths[0]["transactions"]


# -- the device authorization grant (RFC 8628) ------------------------------------------


def test_a_device_login_approved_on_the_verification_page(http: httpx.Client) -> None:
    with BankSandbox(device_interval=1) as bank:
        codes = start_device(http, bank)
        assert re.fullmatch(r"[A-Z]{4}-[A-Z]{4}", codes["user_code"])
        assert codes["verification_uri"] == f"{bank.base_url}/device"
        assert codes["verification_uri_complete"] == (
            f"{bank.base_url}/device?user_code={codes['user_code']}"
        )
        assert (codes["expires_in"], codes["interval"]) == (600, 1)
        page = http.get(codes["verification_uri_complete"])  # auto_approve: approved at once
        assert page.status_code == 200 and "Approved" in page.text
        token = poll(http, bank, codes["device_code"])  # a first poll may come at any time
        assert token.status_code == 200, token.text
        body = token.json()
        assert body["scope"] == "openid accounts" and body["consent_id"] and body["id_token"]
        assert body["refresh_token_expires_in"] == 90 * 24 * 3600
        keys = KeySet.import_key_set(http.get(bank.jwks_url).json())
        claims = jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims
        assert (claims["iss"], claims["aud"]) == (bank.issuer, "portal-demo")
        assert api(http, f"{bank.api_base}/accounts", body).status_code == 200
        assert refresh(http, bank, body["refresh_token"]).status_code == 200
        again = poll(http, bank, codes["device_code"])  # a device code is used once
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        assert answers(bank, codes["device_code"]) == ["ok", "invalid_grant"]
        assert bank.token_requests == {DEVICE_GRANT: 2, "refresh_token": 1}
        unknown = poll(http, bank, "nonsense")
        assert unknown.json()["error"] == "invalid_grant"
        assert http.get(f"{bank.base_url}/device?user_code=ABCD-EFGH").status_code == 404
        assert "user_code" in http.get(f"{bank.base_url}/device").text  # asks for the code


def test_a_device_login_is_pending_until_the_person_approves(http: httpx.Client) -> None:
    with BankSandbox(device_interval=1, auto_approve=False) as bank:
        codes = start_device(http, bank)
        pending = poll(http, bank, codes["device_code"])
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        # The page asks first; user codes are read without case or dashes (RFC 8628 §6.1).
        typed = codes["user_code"].lower().replace("-", "")
        page = http.get(f"{bank.base_url}/device", params={"user_code": typed})
        assert page.status_code == 200 and "Approve" in page.text and "Deny" in page.text
        decided = http.post(
            f"{bank.base_url}/device", data={"user_code": typed, "decision": "approve"}
        )
        assert decided.status_code == 200 and "Approved" in decided.text
        assert http.get(codes["verification_uri_complete"]).status_code == 404  # decided
        time.sleep(1.05)
        assert poll(http, bank, codes["device_code"]).status_code == 200
        assert answers(bank, codes["device_code"]) == ["authorization_pending", "ok"]


def test_a_denied_device_login_is_access_denied(bank: BankSandbox, http: httpx.Client) -> None:
    codes = start_device(http, bank)
    bank.deny_device(codes["user_code"])
    denied = poll(http, bank, codes["device_code"])
    assert denied.status_code == 400 and denied.json()["error"] == "access_denied"
    assert bank.ground_truth()["consents"] == []  # nothing was granted
    with pytest.raises(LookupError):
        bank.approve_device(codes["user_code"])  # the decision stands


def test_an_unapproved_device_code_expires(http: httpx.Client) -> None:
    with BankSandbox(device_code_ttl=1, device_interval=1) as bank:
        codes = start_device(http, bank)
        assert codes["expires_in"] == 1
        time.sleep(1.05)
        expired = poll(http, bank, codes["device_code"])
        assert expired.status_code == 400 and expired.json()["error"] == "expired_token"
        with pytest.raises(LookupError):
            bank.approve_device(codes["user_code"])


def test_slow_down_adds_five_seconds_for_every_later_poll(http: httpx.Client) -> None:
    with BankSandbox(device_interval=1) as bank:
        codes = start_device(http, bank)
        device_code = codes["device_code"]
        assert poll(http, bank, device_code).json()["error"] == "authorization_pending"
        assert poll(http, bank, device_code).json()["error"] == "slow_down"  # too soon
        # A forced slow_down comes even when the spacing is right (a first poll always is),
        # and it raises that device code's interval just the same.
        other = start_device(http, bank)["device_code"]
        bank.slow_down_next(1)
        assert poll(http, bank, other).json()["error"] == "slow_down"
        time.sleep(1.05)  # enough for the interval stated, not for the 6 s now required
        assert poll(http, bank, device_code).json()["error"] == "slow_down"
        assert poll(http, bank, other).json()["error"] == "slow_down"
        bank.approve_device(codes["user_code"])
        assert poll(http, bank, device_code).json()["error"] == "slow_down"  # approved or not
        polls = bank.device_polls(device_code)
        assert [a for _, a in polls] == ["authorization_pending", *["slow_down"] * 3]
        assert all(a[0] <= b[0] for a, b in itertools.pairwise(polls))
        assert polls[2][0] - polls[1][0] >= 1.0
        assert answers(bank, other) == ["slow_down", "slow_down"]
        assert bank.device_polls_by_code() == {
            device_code: polls,
            other: bank.device_polls(other),
        }
        assert bank.device_polls("nonsense") == []


def test_device_timing_can_be_shortened_for_new_codes_and_codes_can_end_early(
    bank: BankSandbox, http: httpx.Client
) -> None:
    before = start_device(http, bank)
    assert (before["interval"], before["expires_in"]) == (5, 600)  # RFC 8628's, by default
    bank.set_device_timing(interval=0.2, expires_in=30)
    after = start_device(http, bank)
    assert (after["interval"], after["expires_in"]) == (0.2, 30)
    assert poll(http, bank, after["device_code"]).json()["error"] == "authorization_pending"
    time.sleep(0.25)  # the new interval is the one enforced: this poll is not too soon
    assert poll(http, bank, after["device_code"]).json()["error"] == "authorization_pending"
    assert poll(http, bank, before["device_code"]).json()["error"] == "authorization_pending"
    assert poll(http, bank, before["device_code"]).json()["error"] == "slow_down"  # kept 5 s
    bank.expire_device_codes()
    time.sleep(0.25)
    assert poll(http, bank, after["device_code"]).json()["error"] == "expired_token"
    with pytest.raises(LookupError):
        bank.approve_device(after["user_code"])
    with pytest.raises(ValueError, match="must be positive"):
        bank.set_device_timing(interval=0, expires_in=30)


def test_a_confidential_client_authenticates_at_the_device_endpoint(
    bank: BankSandbox, http: httpx.Client
) -> None:
    bank.register_client("tv", "s3cret")
    url = bank.device_authorization_url
    assert http.post(url, data={"client_id": "tv"}).status_code == 401
    assert http.post(url, auth=("tv", "wrong")).status_code == 401
    codes = http.post(url, auth=("tv", "s3cret")).raise_for_status().json()
    bank.approve_device(codes["user_code"])
    token = http.post(
        bank.token_url,
        data={"grant_type": DEVICE_GRANT, "device_code": codes["device_code"]},
        auth=("tv", "s3cret"),
    )
    assert token.status_code == 200 and token.json()["scope"] == "openid accounts"


# -- OpenID Connect ------------------------------------------------------------------


def connect_openid(
    http: httpx.Client, sandbox: Sandbox, nonce: str, scope: str = "openid accounts"
) -> dict[str, Any]:
    """The authorization-code flow for ``scope`` with a nonce; the token response."""
    verifier, challenge = pkce()
    answer = redirected(
        authorize(
            http,
            sandbox,
            scope=scope,
            nonce=nonce,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    )
    data = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT,
        "client_id": "portal-demo",
        "code_verifier": verifier,
    }
    token: dict[str, Any] = http.post(sandbox.token_url, data=data).raise_for_status().json()
    return token


def verified_claims(
    http: httpx.Client, sandbox: Sandbox, id_token: str, nonce: str
) -> dict[str, Any]:
    """Check an ID token as a client must (OIDC Core §3.1.3.7); its claims."""
    keys = KeySet.import_key_set(http.get(sandbox.jwks_url).raise_for_status().json())
    claims: dict[str, Any] = jwt.decode(id_token, keys, algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": sandbox.issuer},
        aud={"essential": True, "value": "portal-demo"},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(claims)
    return claims


def test_an_id_token_verifies_against_the_published_keys(
    bank: BankSandbox, http: httpx.Client
) -> None:
    token = connect_openid(http, bank, nonce="n-0S6_WzA2Mj")
    claims = verified_claims(http, bank, token["id_token"], "n-0S6_WzA2Mj")
    assert claims["sub"] == bank.ground_truth()["party"][0]["PartyId"]
    assert claims["exp"] - claims["iat"] == 300 and claims["at_hash"]
    assert "id_token" not in connect(http, bank)  # no openid scope, no ID token
    # The same nonce again is a replay (OIDC Core §3.1.2.1).
    _, challenge = pkce()
    replay = authorize(
        http,
        bank,
        scope="openid accounts",
        nonce="n-0S6_WzA2Mj",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert redirected(replay)["error"] == "invalid_request"
    # A sandbox that is no OpenID provider issues none and publishes no keys.
    with Sandbox(scopes=("openid", "read")) as plain:
        plain.register_client("portal-demo", redirect_uris=[REDIRECT])
        token = connect_openid(http, plain, nonce="n", scope="openid read")
        assert token["scope"] == "openid read" and "id_token" not in token
        assert http.get(plain.jwks_url).status_code == 404


def test_the_discovery_document(bank: BankSandbox, http: httpx.Client) -> None:
    document = http.get(f"{bank.base_url}/.well-known/openid-configuration").json()
    assert document["issuer"] == bank.issuer == bank.base_url
    assert document["authorization_endpoint"] == bank.authorize_url
    assert document["token_endpoint"] == bank.token_url
    assert document["revocation_endpoint"] == bank.revocation_url
    assert document["device_authorization_endpoint"] == bank.device_authorization_url
    assert document["jwks_uri"] == bank.jwks_url
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["response_types_supported"] == ["code"]
    assert document["subject_types_supported"] == ["public"]
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        DEVICE_GRANT,
    }
    assert document["scopes_supported"] == ["openid", "accounts"]
    [key] = http.get(bank.jwks_url).json()["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"] and "d" not in key


@pytest.mark.parametrize(
    ("kind", "error", "claim"),
    [
        ("nonce", InvalidClaimError, "nonce"),
        ("audience", InvalidClaimError, "aud"),
        ("issuer", InvalidClaimError, "iss"),
        ("expired", ExpiredTokenError, None),
        ("signature", BadSignatureError, None),
    ],
)
def test_a_tampered_id_token_fails_its_check(
    bank: BankSandbox, http: httpx.Client, kind: str, error: type[Exception], claim: str | None
) -> None:
    bank.tamper_id_token(kind)
    token = connect_openid(http, bank, nonce="n-1")
    with pytest.raises(error) as raised:
        verified_claims(http, bank, token["id_token"], "n-1")
    if claim:
        assert getattr(raised.value, "claim", None) == claim
    bank.tamper_id_token(None)
    honest = connect_openid(http, bank, nonce="n-2")
    assert verified_claims(http, bank, honest["id_token"], "n-2")
    with pytest.raises(ValueError, match="Unknown tamper kind"):
        bank.tamper_id_token("everything")


# -- grants: lifetime, withdrawal, widening, revocations and secrets ---------------------


def test_token_responses_say_when_the_refresh_token_expires(http: httpx.Client) -> None:
    with BankSandbox(refresh_token_ttl=3600) as bank:
        token = connect(http, bank)
        assert token["refresh_token_expires_in"] == 3600
        renewed = refresh(http, bank, token["refresh_token"]).json()
        assert renewed["refresh_token_expires_in"] == 3600


def test_withdrawn_consent_stops_every_token(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    rotated = refresh(http, bank, token["refresh_token"]).json()
    bank.withdraw_consent()
    for each in (token, rotated):
        refused = api(http, f"{bank.api_base}/accounts", each)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    again = refresh(http, bank, rotated["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    [consent] = bank.ground_truth()["consents"]
    assert consent["Status"] == "Revoked"
    fresh = connect(http, bank)  # a new consent; the old one reads as revoked
    old = api(http, f"{bank.api_base}/account-access-consents/{token['consent_id']}", fresh)
    assert old.json()["Data"]["Status"] == "Revoked"


def test_widened_scopes_show_in_the_token_response(bank: BankSandbox, http: httpx.Client) -> None:
    bank.widen_scopes("payments")
    token = connect(http, bank)
    assert token["scope"] == "accounts payments"
    assert refresh(http, bank, token["refresh_token"]).json()["scope"] == "accounts payments"
    bank.widen_scopes(None)
    assert connect(http, bank)["scope"] == "accounts"


def test_revocations_are_logged_without_the_tokens(bank: BankSandbox, http: httpx.Client) -> None:
    token = connect(http, bank)
    for data in (
        {"token": token["access_token"], "token_type_hint": "access_token"},
        {"token": token["refresh_token"]},
        {"token": "nonsense", "token_type_hint": "refresh_token"},
    ):
        revoked = http.post(bank.revocation_url, data={**data, "client_id": "portal-demo"})
        assert revoked.status_code == 200
    assert bank.revocations == [
        ("access_token", "access_token"),
        ("", "refresh_token"),
        ("refresh_token", "unknown"),
    ]


def test_every_secret_that_crossed_is_seen(bank: BankSandbox, http: httpx.Client) -> None:
    bank.register_client("webapp", "s3cret-webapp")
    verifier, challenge = pkce()
    location = authorize(
        http, bank, client_id="webapp", code_challenge=challenge, code_challenge_method="S256"
    )
    code = redirected(location)["code"]
    token = http.post(
        bank.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=("webapp", "s3cret-webapp"),
    ).json()
    renewed = refresh(http, bank, token["refresh_token"]).json()  # refused: not portal-demo's
    assert renewed["error"] == "invalid_grant"
    oidc = connect_openid(http, bank, nonce="n")
    codes = start_device(http, bank)
    seen = bank.secrets_seen()
    expected = {
        "s3cret-webapp",
        code,
        verifier,
        token["access_token"],
        token["refresh_token"],
        oidc["access_token"],
        oidc["refresh_token"],
        oidc["id_token"],
        codes["device_code"],
    }
    assert expected <= seen
    kinds = bank.secret_kinds()  # so a leak can be named without showing the secret
    assert kinds[token["access_token"]] == "access_token"
    assert kinds[token["refresh_token"]] == "refresh_token"
    assert kinds[code] == "code" and kinds[verifier] == "code_verifier"
    assert kinds["s3cret-webapp"] == "client_secret"
    assert codes["user_code"] not in seen  # shown to the person on purpose: not a secret


@pytest.mark.parametrize(
    ("error", "status"), [("temporarily_unavailable", 503), ("invalid_grant", 400)]
)
def test_a_refresh_can_be_made_to_fail_once(
    bank: BankSandbox, http: httpx.Client, error: str, status: int
) -> None:
    token = connect(http, bank)
    bank.fail_refresh_with(error)
    failed = refresh(http, bank, token["refresh_token"])
    assert failed.status_code == status and failed.json()["error"] == error
    assert refresh(http, bank, token["refresh_token"]).status_code == 200  # the grant lives on
