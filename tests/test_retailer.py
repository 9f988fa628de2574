"""The retailer plugin through the real path: Demo Mart's sandbox on a socket, real OAuth, SQLite.

One sync is shared by the read-only tests of this module; tests that change the sandbox or
the grant get their own.
"""

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.engine.sync import SyncResult
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import (
    ENTITIES,
    Account,
    Balance,
    Consent,
    Entity,
    Inference,
    Party,
    Processing,
    Purchase,
)
from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_retailer.dataset import (
    GUEST_RECEIPT,
    PART_RETURNED,
    POINTS_SPENT,
    RETURNED_IN_STORE,
    DemoRetailer,
)
from portal_retailer.sandbox import CLIENT_ID, RetailerSandbox
from test_sandbox import REDIRECT, authorize, pkce, redirected
from values import differences, spoiling_one_value

Synced = tuple[Portal, RetailerSandbox, SyncResult]


def _open(home: Path) -> Portal:
    return Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1))


def _connect_and_sync(portal: Portal, shop: RetailerSandbox) -> SyncResult:
    portal.connect(
        "retailer", browser=auto_approve_browser, endpoints=sandbox_endpoints(shop), timeout=10
    )
    [result] = portal.sync(["retailer"])
    return result


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """Demo Mart's sandbox, connected through the authorization-code flow and synced once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")  # never the keyring of the machine running tests
        patch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)
        home = tmp_path_factory.mktemp("retailer") / "home"
        with RetailerSandbox() as shop, _open(home) as portal:
            yield portal, shop, _connect_and_sync(portal, shop)


@pytest.fixture
def shop() -> Iterator[RetailerSandbox]:
    """A fresh Demo Mart sandbox for a test that changes it."""
    with RetailerSandbox() as sandbox:
        yield sandbox


def _rows(portal: Portal, entity: type[Entity]) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, "retailer"))


def _snapshot(portal: Portal) -> dict[str, list[dict[str, Any]]]:
    return {e.category.value: _rows(portal, e) for e in ENTITIES}


def _assert_store_matches(portal: Portal, shop: RetailerSandbox) -> None:
    truth = shop.ground_truth()
    counts = portal.store.counts()["retailer"]
    assert {k: v for k, v in counts.items() if k != "rejections"} == {
        category: len(items) for category, items in truth.items()
    }
    stored = {r["provider_id"] for r in _rows(portal, Purchase)}
    assert stored == {p["id"] for p in truth["purchases"]}


def test_sync_stores_exactly_what_the_sandbox_served(synced: Synced) -> None:
    portal, shop, result = synced
    assert result.ok, result.error
    assert result.rejected == 0
    truth = shop.ground_truth()
    assert {k: len(v) for k, v in truth.items()} == {
        "party": 1,
        "accounts": 1,
        "balances": 22,
        "purchases": 64,
        "consents": 4,
        "inferences": 5,
        "processing": 6,
    }
    assert result.records == {k: len(v) for k, v in truth.items()}
    _assert_store_matches(portal, shop)
    # Orders page by an opaque cursor, and every page was followed.
    cursors = [r.query for r in shop.requests if r.path.endswith("/orders") and r.status == 200]
    assert len(cursors) == 4 and all("cursor=" in q for q in cursors[1:])  # 62, 20 a page


def test_every_total_is_the_sum_of_its_lines(synced: Synced) -> None:
    portal, _, _ = synced
    purchases = [Purchase.model_validate(r) for r in _rows(portal, Purchase)]
    for p in purchases:
        assert p.lines, p.order_number
        assert sum(line.amount for line in p.lines) == p.total, p.order_number
        assert (p.total < 0) == (p.kind == "return"), p.order_number
    assert Counter(p.kind for p in purchases) == {"receipt": 46, "order": 16, "return": 2}


def test_points_balances_are_points_earned_minus_points_spent(synced: Synced) -> None:
    portal, _, _ = synced
    purchases = [Purchase.model_validate(r) for r in _rows(portal, Purchase)]
    balances = [Balance.model_validate(r) for r in _rows(portal, Balance)]
    [account] = _rows(portal, Account)
    assert {b.account_id for b in balances} == {account["id"]}
    for balance in balances:
        assert balance.unit == "point" and balance.currency is None
        moved = sum(
            (p.points_earned or 0) - (p.points_spent or 0)
            for p in purchases
            if p.account_id == account["id"] and p.purchased_at <= balance.as_of
        )
        assert balance.amount == moved, balance.provider_id  # from 0 when she joined
    [now] = [b for b in balances if b.balance_type == "current"]
    assert now.amount == Decimal(1445)


def test_the_awkward_cases_arrive_as_the_shop_has_them(synced: Synced) -> None:
    portal, _, _ = synced
    by_number = {r["order_number"]: Purchase.model_validate(r) for r in _rows(portal, Purchase)}
    guest = by_number[GUEST_RECEIPT]
    assert guest.account_id is None and guest.points_earned is None  # card left at home
    assert guest.channel == "in_store" and guest.store == "Demo Mart Brixton"

    returns = {p.original_order_number: p for p in by_number.values() if p.kind == "return"}
    tights = by_number[PART_RETURNED]
    assert tights.status_label == "Partly returned" and tights.store is None
    back = returns[PART_RETURNED]
    assert back.channel_label == "By post" and back.total == Decimal("-28.00")
    assert [(line.sku, line.quantity) for line in back.lines] == [("402905", 1)]
    assert back.points_earned == -28
    assert by_number[RETURNED_IN_STORE].status == "partially_returned"
    assert returns[RETURNED_IN_STORE].store == "Demo Mart Clapham Junction"

    spent = by_number[POINTS_SPENT]
    assert spent.points_spent == 1000 and spent.total == Decimal("144.00")
    [redeemed] = [line for line in spent.lines if line.unit == "point"]
    assert redeemed.quantity == 1000 and redeemed.amount == Decimal("-10.00")

    consents = {r["provider_id"]: Consent.model_validate(r) for r in _rows(portal, Consent)}
    withdrawn = consents["MP-01"]
    assert withdrawn.status_label == "Withdrawn" and withdrawn.granted_at is not None
    assert withdrawn.status_updated_at is not None
    assert withdrawn.status_updated_at > withdrawn.granted_at


def test_what_the_shop_derived_and_why_it_processes_are_delivered(synced: Synced) -> None:
    portal, _, _ = synced
    inferences = [Inference.model_validate(r) for r in _rows(portal, Inference)]
    assert {i.origin for i in inferences} == {"inferred"}
    assert {i.kind for i in inferences} == {"segment", "score", "trait"}
    assert {str(i.score) for i in inferences if i.score is not None} == {"0.12", "0.55", "0.81"}
    notice = {r["purpose_code"]: Processing.model_validate(r) for r in _rows(portal, Processing)}
    assert all(p.retention and p.source and p.legal_basis_label for p in notice.values())
    automated = [p for p in notice.values() if p.automated_decision]
    assert {p.purpose_code for p in automated} == {"fraud", "profiling"}
    assert all(p.automated_logic and p.automated_consequences for p in automated)
    abroad = [r for p in notice.values() for r in p.recipients if r.country == "US"]
    assert abroad and all(r.safeguard for r in abroad)
    [party] = [Party.model_validate(r) for r in _rows(portal, Party)]
    assert party.full_name == "Siobhán Ashworth" and party.origin == "provided"


def test_resync_adds_nothing(synced: Synced) -> None:
    portal, _, _ = synced
    before = _snapshot(portal)
    [again] = portal.sync(["retailer"])
    assert again.ok and again.rejected == 0
    assert _snapshot(portal) == before
    # From the cursors: only the orders and returns changed at the last change come again.
    assert again.records["purchases"] == 2


def test_new_shopping_is_fetched_from_the_cursor(tmp_path: Path, shop: RetailerSandbox) -> None:
    with _open(tmp_path / "home") as portal:
        first = _connect_and_sync(portal, shop)
        assert first.ok and first.records["purchases"] == 64
        shop.add_activity(3)
        [second] = portal.sync(["retailer"])
        assert second.ok and second.records["purchases"] == 2 + 3  # the two boundary items, again
        _assert_store_matches(portal, shop)
        [now] = [r for r in _rows(portal, Balance) if r["balance_type"] == "current"]
        earned = sum(
            (r["points_earned"] or 0) - (r["points_spent"] or 0)
            for r in _rows(portal, Purchase)
            if r["account_id"] == now["account_id"]
        )
        assert now["amount"] == earned > Decimal(1445)


def test_a_narrower_grant_returns_less(tmp_path: Path, shop: RetailerSandbox) -> None:
    shop.register_client(CLIENT_ID, scope="profile orders")  # the customer shares less
    with _open(tmp_path / "home") as portal:
        result = _connect_and_sync(portal, shop)
        assert result.ok, result.error
        assert set(result.records) == {"party", "processing", "purchases"}
    asked = {r.path.rsplit("/v2/", 1)[-1] for r in shop.requests if "/v2/" in r.path}
    assert asked == {"customer", "privacy/processing", "orders", "returns"}


def test_the_api_refuses_what_the_grant_does_not_cover_and_bad_cursors(
    shop: RetailerSandbox,
) -> None:
    shop.register_client("narrow", scope="profile")
    with httpx.Client(base_url=shop.api_base) as http:
        assert http.get("/orders").status_code == 401
        token = _token(shop, "narrow", "profile")
        auth = {"Authorization": f"Bearer {token}"}
        assert http.get("/customer", headers=auth).status_code == 200
        assert http.get("/orders", headers=auth).status_code == 403
    full = _token(shop, CLIENT_ID, "profile orders")
    with httpx.Client(base_url=shop.api_base, headers={"Authorization": f"Bearer {full}"}) as http:
        bad = http.get("/orders", params={"cursor": "bm90LWEtY3Vyc29y"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
        naive = http.get("/orders", params={"updated_since": "2026-01-01T00:00:00"})
        assert naive.status_code == 400 and "UTC offset" in naive.json()["error"]["message"]
        since = "2026-10-01T00:00:00+01:00"
        recent = http.get("/orders", params={"updated_since": since}).json()["data"]
        cut = datetime.fromisoformat(since)
        assert recent and all(datetime.fromisoformat(o["updated_at"]) >= cut for o in recent)


def _token(shop: RetailerSandbox, client_id: str, scope: str) -> str:
    """An access token through the real authorization-code flow with PKCE, driven by hand."""
    verifier, challenge = pkce()
    with httpx.Client(timeout=10) as http:
        answer = redirected(
            authorize(
                http,
                shop,
                client_id=client_id,
                scope=scope,
                code_challenge=challenge,
                code_challenge_method="S256",
            )
        )
        response = http.post(
            shop.token_url,
            data={
                "grant_type": "authorization_code",
                "code": answer["code"],
                "redirect_uri": REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_the_readme_shows_an_order_exactly_as_served() -> None:
    import json
    import re

    from portal_retailer.dataset import DemoRetailer

    readme = Path(__file__).parent.parent / "plugins" / "retailer" / "README.md"
    [example] = re.findall(r"```json\n(.*?)```", readme.read_text(encoding="utf-8"), re.S)
    assert json.loads(example) in DemoRetailer().orders


def test_the_demo_syncs_the_retailer(tmp_path: Path) -> None:
    from portal.demo import demo_sync, running_sandboxes

    with _open(tmp_path / "home") as portal:
        with running_sandboxes(portal) as every:  # what `portal sync --demo` starts
            assert isinstance(every.get("retailer"), RetailerSandbox)
        [result] = demo_sync(portal, ["retailer"])
    assert result.ok and result.records["purchases"] == 64


def test_every_stored_value_is_what_the_sandbox_says_it_means(synced: Synced) -> None:
    portal, shop, _ = synced
    assert differences(portal, "retailer", shop.expected_records()) == []


def test_an_order_not_yet_handed_over_is_pending_as_schema_org_orderstatus_says(
    tmp_path: Path, shop: RetailerSandbox
) -> None:
    # processing is schema.org's OrderProcessing, dispatched its OrderInTransit.
    online = [o for o in shop.shop.orders if o["type"] == "online"]
    for order, status in zip(online[-2:], ["processing", "dispatched"], strict=True):
        order["status"] = status
    with _open(tmp_path / "home") as portal:
        assert _connect_and_sync(portal, shop).ok
        assert differences(portal, "retailer", shop.expected_records()) == []
        stored = {r["provider_id"]: r for r in _rows(portal, Purchase)}
        assert [
            (stored[o["id"]]["state"], stored[o["id"]]["status_label"]) for o in online[-2:]
        ] == [
            ("pending", "Being prepared"),
            ("pending", "On its way"),
        ]


def test_a_store_name_cut_short_in_delivery_fails_the_values_check(tmp_path: Path) -> None:
    receipt = next(o for o in DemoRetailer().orders if o["store"])
    plugins = spoiling_one_value(
        tmp_path / "plugins", "orders", receipt["id"], "store", "value[:9]"
    )
    with (
        Harness("retailer", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "values", "purchases")
    message = str(failed.value)
    assert f"id={receipt['id']}" in message
    assert f"store served as {receipt['store']['name']!r}" in message
    assert "(cut to 9 of" in message
