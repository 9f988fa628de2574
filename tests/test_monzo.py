"""The Monzo plugin through the real path: its sandbox on a socket, OAuth with the person's own
client, the approval in the app, SQLite; and the 90-day rule on both sides of its five minutes.

One sync is shared by the read-only tests; tests that change the sandbox or the clock get
their own.
"""

import functools
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.app import Portal
from portal.auth.credentials import CredentialHelpers
from portal.auth.flows import auto_approve_browser
from portal.engine.sync import SyncResult
from portal.errors import AuthError
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Account, Balance, Entity, State, Transaction
from portal_monzo import plugin, rules
from portal_monzo.sandbox import INSUFFICIENT, MonzoSandbox
from values import differences

Synced = tuple[Portal, MonzoSandbox, SyncResult]


def _open(home: Path) -> Portal:
    return Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1))


def _connect(portal: Portal, sandbox: MonzoSandbox, **kw: Any) -> None:
    portal.connect(
        "monzo",
        answers=sandbox.connect_answers(),
        browser=auto_approve_browser,
        endpoints=sandbox_endpoints(sandbox),
        timeout=10,
        **kw,
    )


def _sync(portal: Portal) -> SyncResult:
    [result] = portal.sync(["monzo"])
    return result


def _rows(portal: Portal, entity: type[Entity]) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, "monzo"))


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """The sandbox, connected with the person's client and synced once, at once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        patch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)
        home = tmp_path_factory.mktemp("monzo") / "home"
        with MonzoSandbox() as bank, _open(home) as portal:
            _connect(portal, bank)
            yield portal, bank, _sync(portal)


@pytest.fixture
def bank() -> Iterator[MonzoSandbox]:
    with MonzoSandbox(history_days=200) as sandbox:
        yield sandbox


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Portal]:
    with _open(tmp_path / "home") as portal:
        yield portal


def test_a_sync_stores_exactly_what_monzo_served(synced: Synced) -> None:
    portal, bank, result = synced
    assert result.ok, result.error
    truth = bank.ground_truth()
    assert len(_rows(portal, Account)) == len(truth["accounts"]) + len(truth["pots"]) == 4
    assert len(_rows(portal, Balance)) == 4
    assert len(_rows(portal, Transaction)) == len(truth["transactions"])
    assert differences(portal, "monzo", bank.expected_records()) == []


def test_merchants_foreign_money_declines_and_pending_arrive_legibly(synced: Synced) -> None:
    portal, _, _ = synced
    rows = _rows(portal, Transaction)
    paris = [r for r in rows if r["extra"]["local_currency"] == "EUR"]
    assert paris and {r["merchant_name"] for r in paris} == {"Café de Flore", "Monoprix"}
    assert all(r["currency"] == "GBP" and r["amount"] < 0 for r in paris)
    assert {r["merchant_category_code"] for r in paris} == {"5812", "5311"}
    declined = [r for r in rows if r["state"] == State.rejected]
    assert {r["status_label"] for r in declined} == {
        "Declined: not enough money in the account",
        "Declined: wrong security code (CVC)",
    }
    assert len([r for r in rows if r["state"] == State.pending]) == 3
    debits = [r for r in rows if r["extra"]["scheme"] == "bacs"]
    assert {r["counterparty"] for r in debits} == {"OCTOPUS ENERGY", "LB HACKNEY"}


def test_pots_are_accounts_with_their_own_balance(synced: Synced) -> None:
    portal, _, _ = synced
    pots = {r["name"]: r for r in _rows(portal, Account) if r["account_type"] == "pot"}
    assert set(pots) == {"Holiday", "Rainy day"}
    balances = {r["account_id"]: r for r in _rows(portal, Balance)}
    assert balances[pots["Holiday"]["id"]]["amount"] > 0


def test_a_resync_asks_only_for_what_is_new(synced: Synced) -> None:
    portal, bank, _ = synced
    before = len(bank.requests)
    result = _sync(portal)
    assert result.ok
    asked = [r for r in bank.requests[before:]]
    # The accounts; per account its transactions (one page), its balance and its pots.
    assert len(asked) == 1 + 2 * 3, [r.path for r in asked]
    since = [r.query for r in asked if r.path == "/transactions"]
    assert all("since=" in q and "since=20" in q for q in since)


def test_the_first_sync_within_five_minutes_fetches_the_whole_history(
    bank: MonzoSandbox, home: Portal
) -> None:
    _connect(home, bank)
    bank.travel(timedelta(minutes=4))
    assert _sync(home).ok
    served = bank.ground_truth()["transactions"]
    oldest = min(t["created"] for t in served)
    assert oldest < (bank.now() - timedelta(days=150)).isoformat()
    assert len(_rows(home, Transaction)) == len(served)


def test_after_five_minutes_it_keeps_the_last_90_days_and_says_so(
    bank: MonzoSandbox, home: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    _connect(home, bank)
    bank.travel(timedelta(minutes=5, seconds=1))
    with caplog.at_level(logging.WARNING, logger="portal.monzo"):
        result = _sync(home)
    assert result.ok, result.error
    served = bank.ground_truth()["transactions"]
    floor = (datetime.now(UTC) - timedelta(days=89)).isoformat()
    recent = [t for t in served if t["created"] > floor]
    assert 0 < len(recent) < len(served)
    assert {r["provider_id"] for r in _rows(home, Transaction)} == {t["id"] for t in recent}
    warned = [r.getMessage() for r in caplog.records if "90 days" in r.getMessage()]
    assert len(warned) == 2  # one for each account, naming it
    assert "Current account" in warned[0] and "Joint current account" in warned[1]
    assert all("portal connect monzo" in w and " before " in w for w in warned)
    refused = [r for r in bank.requests if r.path == "/transactions" and r.status == 403]
    # Each account's first request, refused, and read once more for Monzo's reason; never again.
    assert len(refused) == 4 and all("since=20" in r.query for r in refused)


def test_a_late_resync_keeps_what_it_had_and_names_the_gap(
    bank: MonzoSandbox,
    home: Portal,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _connect(home, bank)
    assert _sync(home).ok
    had = len(_rows(home, Transaction))
    later = datetime.now(UTC) + timedelta(days=100)
    bank.travel(timedelta(days=100))
    monkeypatch.setattr(plugin, "_now", lambda: later)
    with caplog.at_level(logging.WARNING, logger="portal.monzo"):
        assert _sync(home).ok
    assert len(_rows(home, Transaction)) == had
    assert any("between" in r.getMessage() for r in caplog.records)


def _sleeping(monkeypatch: pytest.MonkeyPatch, sleep: Any) -> None:
    """The helpers ``authenticate`` gets sleep with ``sleep``: no test waits for real."""
    made = functools.partial(CredentialHelpers, sleep=sleep)
    monkeypatch.setattr("portal.app.CredentialHelpers", made)


def test_connect_waits_until_the_person_approves_in_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    told: list[str] = []
    with MonzoSandbox(in_app_approval="manual") as bank, _open(tmp_path / "home") as portal:
        polls = 0

        def approve_on_the_third_look(seconds: float) -> None:
            nonlocal polls
            polls += 1
            if polls == 3:
                bank.approve_in_app()

        _sleeping(monkeypatch, approve_on_the_third_look)
        _connect(portal, bank, tell=told.append)
        assert polls == 3 and any("Monzo app" in t for t in told)
        waited = [r for r in bank.requests if r.path == "/accounts"]
        assert [r.status for r in waited] == [403, 403, 403, 200]
        assert _sync(portal).ok


def test_connect_gives_up_when_nobody_approves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    _sleeping(monkeypatch, slept.append)
    with MonzoSandbox(in_app_approval="manual") as bank, _open(tmp_path / "home") as portal:
        with pytest.raises(AuthError, match="approve"):
            portal.connect(
                "monzo",
                answers=bank.connect_answers(),
                browser=auto_approve_browser,
                endpoints=sandbox_endpoints(bank),
                timeout=30,
            )
        assert sum(slept) >= 30 and len(slept) == 10
        assert portal.store.connection("monzo") is None


def test_disconnect_logs_out_at_monzo(bank: MonzoSandbox, home: Portal) -> None:
    _connect(home, bank)
    tokens = home.vault.get(home.store.connection("monzo").id)  # type: ignore[union-attr]
    assert tokens is not None
    done = home.disconnect("monzo")
    assert done.revoked and done.failures == []
    assert bank.logouts == 1
    answer = httpx.get(
        f"{bank.base_url}/ping/whoami",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=5,
    )
    assert answer.status_code == 401


def test_secrets_stay_out_of_logs_store_and_reprs(
    bank: MonzoSandbox, home: Portal, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _connect(home, bank)
        assert _sync(home).ok
    connection = home.store.connection("monzo")
    assert connection is not None
    tokens = home.vault.get(connection.id)
    assert tokens is not None
    secrets = [bank.client_secret, tokens.access_token, tokens.refresh_token]
    # portal's records, not the sandbox's authorization server (the service's side, which
    # issued the tokens and logs them as authlib's server does).
    server = ("authlib.oauth2.rfc6749", "authlib.oauth2.rfc7636", "authlib.integrations.flask")
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(server))
    stored = (home.home / "portal.db").read_bytes() if (home.home / "portal.db").exists() else b""
    for secret in secrets:
        assert secret and secret not in logged
        assert secret.encode() not in stored
        assert secret not in repr(tokens) and secret not in repr(connection)


def test_monzo_error_bodies_are_monzos(bank: MonzoSandbox, home: Portal) -> None:
    _connect(home, bank)
    tokens = home.vault.get(home.store.connection("monzo").id)  # type: ignore[union-attr]
    assert tokens is not None
    bearer = {"Authorization": f"Bearer {tokens.access_token}"}
    # The token response and /ping/whoami have the reference's fields (tests/data/monzo).
    data = Path(__file__).parent / "data" / "monzo"
    documented = json.loads((data / "token.json").read_text())
    assert set(documented) <= set(tokens.values) and "scope" not in tokens.values
    whoami = httpx.get(f"{bank.base_url}/ping/whoami", headers=bearer, timeout=5).json()
    assert set(whoami) == set(json.loads((data / "whoami.json").read_text()))
    missing = httpx.get(f"{bank.base_url}/transactions", headers=bearer, timeout=5)
    assert missing.status_code == 400
    assert missing.json()["code"] == "bad_request.missing_param.account_id"
    bank.approved = False  # as before the person approved in the app
    waiting = httpx.get(f"{bank.base_url}/accounts", headers=bearer, timeout=5)
    assert (waiting.status_code, waiting.json()["code"]) == (403, INSUFFICIENT)
    unknown = httpx.get(f"{bank.base_url}/nowhere", timeout=5)
    assert unknown.json()["code"] == "not_found"
    for answer in (missing, waiting, unknown):
        assert rules.problems("error", answer.json()) == []
        assert set(answer.json()) == {"code", "message"}


@pytest.mark.slow
def test_monzo_reaches_gold(tmp_path: Path) -> None:
    from test_conformance import gold_report

    report = gold_report(tmp_path, "monzo")
    outcomes = {c["test"]: c["outcome"] for c in report["checks"]}
    shapes = {t: o for t, o in outcomes.items() if t.startswith(("test_variant[", "test_spec_"))}
    assert {"test_variant[sparse]", "test_variant[faulty]"} <= set(shapes)
    assert len(shapes) == 6 and set(shapes.values()) == {"passed"}
    skipped = {t for t, o in outcomes.items() if o == "skipped"}
    assert skipped == {
        "test_declaration[scopes]",
        "test_oauth[scopes_not_widened]",
        *(f"test_permissions[{c}]" for c in ("accounts", "balances", "transactions")),
        "test_changes[withdraw]",
        "test_changes[empty]",
    }


def test_refreshes_keep_the_persons_own_client(bank: MonzoSandbox, home: Portal) -> None:
    # Monzo refreshes need the client's secret: a refresh that forgot it would make the next
    # one fail (invalid_client), a sync or a process later.
    _connect(home, bank)
    connection = home.store.connection("monzo")
    assert connection is not None
    for _ in range(2):
        bank.expire_tokens()
        assert _sync(home).ok
    assert bank.token_requests.get("refresh_token") == 2
    kept = home.vault.get(connection.id)
    assert kept is not None and kept.values["client_secret"] == bank.client_secret


def test_a_resync_sees_payments_settle_and_new_ones_arrive(
    bank: MonzoSandbox, home: Portal
) -> None:
    _connect(home, bank)
    assert _sync(home).ok
    pending = {r["provider_id"] for r in _rows(home, Transaction) if r["state"] == State.pending}
    assert len(pending) == 3
    bank.move_on("book")  # Monzo settles them under the same ids
    bank.move_on("arrive")
    assert _sync(home).ok
    rows = {r["provider_id"]: r for r in _rows(home, Transaction)}
    assert {rows[p]["state"] for p in pending} == {State.booked}
    assert len([r for r in rows.values() if r["state"] == State.pending]) == 3  # the new ones
    assert differences(home, "monzo", bank.expected_records()) == []


def test_the_demo_connects_with_the_sandbox_customers_own_client(home: Portal) -> None:
    from portal.demo import demo_sync

    [result] = demo_sync(home, ["monzo"])
    assert result.ok, result.error
    assert len(_rows(home, Account)) == 4


@pytest.mark.parametrize("variant", ["sparse", "faulty"])
def test_the_shapes_the_reference_allows_are_stored_and_its_violations_rejected(
    home: Portal, variant: str
) -> None:
    with MonzoSandbox(variant=variant) as other:
        _connect(home, other)
        result = _sync(home)
        assert result.ok, result.error
        assert differences(home, "monzo", other.expected_records()) == []
        served = other.ground_truth()["transactions"]
        kept = len(_rows(home, Transaction))
        assert kept == len(served) - other.truth_rejections.get("transactions", 0)
        reasons = sorted(str(r["reason"]) for r in home.store.rejections("monzo"))
        if variant == "faulty":
            assert len(reasons) == 2
            assert "amount" in reasons[0] + reasons[1] and "created" in reasons[0] + reasons[1]
            assert all(r.startswith("Not a valid Monzo transaction") for r in reasons)
        else:
            assert reasons == []
