"""The Octopus Energy plugin through the real path: its sandbox on a socket, the person's API
key as HTTP Basic, SQLite. One sync is shared by the read-only tests of this module; tests
that change the sandbox or the connection get their own."""

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx

from portal.app import Portal
from portal.demo import demo_sync
from portal.engine.sync import SyncResult
from portal.errors import AuthError, PortalError, ProviderError
from portal.http import KeyedClient, RetryPolicy
from portal.provider import Cursors, sandbox_endpoints
from portal.record import ENTITIES, Account, Product, Usage
from portal_octopus import plugin, rules
from portal_octopus.dataset import OctopusHome
from portal_octopus.plugin import _consumption
from portal_octopus.sandbox import OctopusSandbox
from values import differences

Synced = tuple[Portal, OctopusSandbox, SyncResult]
ROOT = Path(__file__).resolve().parent.parent


def _open(home: Path) -> Portal:
    return Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1))


def _connect(portal: Portal, sandbox: OctopusSandbox, **answers: str) -> None:
    portal.connect(
        "octopus",
        answers={**sandbox.connect_answers(), **answers},
        endpoints=sandbox_endpoints(sandbox),
        timeout=10,
    )


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """The sandbox, connected with its key and account number, synced once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")  # never the keyring of the machine running tests
        patch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)
        home = tmp_path_factory.mktemp("octopus") / "home"
        with OctopusSandbox() as sandbox, _open(home) as portal:
            _connect(portal, sandbox)
            [result] = portal.sync(["octopus"])
            yield portal, sandbox, result


@pytest.fixture
def vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_VAULT", "file")
    monkeypatch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)


def _rows(portal: Portal, entity: type) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, "octopus"))


def test_a_sync_stores_exactly_what_the_sandbox_served(synced: Synced) -> None:
    portal, sandbox, result = synced
    assert result.error is None
    served = sandbox.ground_truth()
    stored = {e.category.value: len(_rows(portal, e)) for e in ENTITIES}
    assert {c: stored[c] for c in served} == {c: len(v) for c, v in served.items()}
    assert differences(portal, "octopus", sandbox.expected_records()) == []


def test_the_record_says_what_octopus_means(synced: Synced) -> None:
    portal, _, _ = synced
    usage = _rows(portal, Usage)
    assert Counter((u["kind"], u["unit"]) for u in usage) == {
        ("energy", "kWh"): 240,  # five days
        ("energy_export", "kWh"): 140,  # since the solar export began, 100 half-hours later
        ("gas", "m3"): 140,  # since the smart gas meter began
    }
    points = {a["provider_id"]: a for a in _rows(portal, Account)}
    assert points["electricity:2000098765432"]["account_type_label"] == "Electricity export"
    assert points["property:4210987"]["name"] == "Flat 2, 7 Tentacle Row, LONDON SE1 7PB"
    tariffs = {p["name"] for p in _rows(portal, Product) if p["product_type"].endswith("_tariff")}
    assert tariffs == {"Agile Octopus", "Flexible Octopus", "Agile Outgoing Octopus"}


def test_every_request_carried_the_key_and_lists_were_followed_by_next(synced: Synced) -> None:
    _, sandbox, _ = synced
    api = [r for r in sandbox.requests if r.path.startswith("/v1/")]
    assert api and all(r.authorised and r.status == 200 for r in api)
    # 240 and 140 half-hours: pages of 100, each after the first asked for by its `next`.
    importing = OctopusHome(days=1).meters[0]
    pages = [
        r
        for r in api
        if r.path.endswith(f"/{importing.point}/meters/{importing.serial}/consumption/")
    ]
    assert [("page=2" in r.query, "page=3" in r.query) for r in pages] == [
        (False, False),
        (True, False),
        (False, True),
    ]


def test_a_resync_asks_each_meter_only_from_its_last_half_hour(tmp_path: Path, vault: None) -> None:
    with OctopusSandbox(days=3) as sandbox, _open(tmp_path / "home") as portal:
        _connect(portal, sandbox)
        portal.sync(["octopus"])
        before = len(sandbox.requests)
        sandbox.move_on("arrive")
        [again] = portal.sync(["octopus"])
        assert again.error is None
        asked = [r for r in sandbox.requests[before:] if r.path.endswith("/consumption/")]
        assert len(asked) == 3
        assert all("period_from=2026-11-23T00%3A00%3A00Z" in r.query for r in asked), asked
        # The flexible agreement ended and was read whole: its charges are not asked again.
        assert not any(
            "VAR-22-11-01-C" in r.path and "E-1R" in r.path for r in sandbox.requests[before:]
        )
        # The declared budget: 10 lists, plus a page for each 100 new items (240 arrived).
        assert len(sandbox.requests) - before <= 10 + 3
        assert len(_rows(portal, Usage)) == len(sandbox.ground_truth()["usage"]) == 192 + 2 * 92
        assert differences(portal, "octopus", sandbox.expected_records()) == []


def test_a_wrong_key_is_refused_at_connect_in_octopus_words(tmp_path: Path, vault: None) -> None:
    with OctopusSandbox() as sandbox, _open(tmp_path / "home") as portal:
        wrong = "sk_live_" + "x" * 24
        with pytest.raises(AuthError) as refused:
            _connect(portal, sandbox, api_key=wrong)
        assert "Octopus Energy refused the API key" in str(refused.value)
        assert wrong not in str(refused.value) and sandbox.api_key not in str(refused.value)


def test_an_account_the_key_cannot_read_is_no_account_for_this_key(
    tmp_path: Path, vault: None
) -> None:
    with OctopusSandbox() as sandbox, _open(tmp_path / "home") as portal:
        with pytest.raises(PortalError) as refused:
            _connect(portal, sandbox, account_number="A-00000000")
        assert "no account A-00000000 for this key" in str(refused.value)
        assert sandbox.api_key not in str(refused.value)


def test_answers_that_do_not_look_like_octopus_ones_are_refused_naming_the_label(
    tmp_path: Path, vault: None
) -> None:
    with OctopusSandbox() as sandbox, _open(tmp_path / "home") as portal:
        with pytest.raises(PortalError) as refused:
            _connect(portal, sandbox, api_key="sk_test_not-a-live-key")
        assert "API key" in str(refused.value)
        assert "sk_test_not-a-live-key" not in str(refused.value)
        with pytest.raises(PortalError) as refused:
            _connect(portal, sandbox, account_number="12345678")
        assert "Account number" in str(refused.value)
        assert not [r for r in sandbox.requests if r.path.startswith("/v1/")]


def test_the_key_never_reaches_logs_errors_reprs_or_the_store(
    tmp_path: Path, vault: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with OctopusSandbox(days=1) as sandbox, _open(tmp_path / "home") as portal:
        _connect(portal, sandbox)
        portal.sync(["octopus"])
        key = sandbox.api_key
        assert key not in caplog.text
        for name in ("portal.db", "portal.sqlite"):
            for found in tmp_path.rglob(name):
                assert key.encode() not in found.read_bytes()
        for found in (tmp_path / "home").rglob("*"):
            if found.is_file() and found.stat().st_size < 50_000_000:
                assert key.encode() not in found.read_bytes(), found
        assert key not in repr(portal) and key not in repr(plugin.PROVIDER)


def test_a_key_revoked_mid_life_makes_the_sync_ask_to_connect_again(
    tmp_path: Path, vault: None
) -> None:
    with OctopusSandbox(days=1) as sandbox, _open(tmp_path / "home") as portal:
        _connect(portal, sandbox)
        sandbox.api_key = "sk_live_" + "r" * 24  # the person regenerated the key
        [result] = portal.sync(["octopus"])
        assert isinstance(result.error, AuthError)
        assert "Octopus Energy no longer accepts the API key" in str(result.error)
        assert "portal connect octopus" in result.error.hint
        assert sandbox.api_key not in str(result.error)


def test_a_next_link_that_loops_back_stops_the_sync() -> None:
    base = "https://api.octopus.energy/v1/"
    url = f"{base}electricity-meter-points/1/meters/S/consumption/"
    page = {
        "count": 2,
        "next": f"{url}?order_by=period&page=2",
        "previous": None,
        "results": [
            {
                "consumption": 0.1,
                "interval_start": "2026-01-01T00:00:00Z",
                "interval_end": "2026-01-01T00:30:00Z",
            }
        ],
    }
    looping = {**page, "next": f"{url}?order_by=period&page=2"}
    with respx.mock(assert_all_called=True) as router:
        router.get(url__startswith=url).mock(
            side_effect=[httpx.Response(200, json=page), httpx.Response(200, json=looping)]
        )
        pages = _consumption(_client(base), _no_cursors(), "electricity", "1", "S", False)
        assert len(next(pages).items) == len(next(pages).items) == 1  # pages 1 and 2
        with pytest.raises(ProviderError, match="loops back"):
            next(pages)  # page 2's next is page 2 again


def _client(base: str) -> Any:
    return KeyedClient(plugin.PROVIDER, httpx.BasicAuth("sk_live_" + "k" * 24, ""), base_url=base)


def _no_cursors() -> Any:
    return Cursors({})


@pytest.mark.slow
def test_octopus_reaches_gold(tmp_path: Path) -> None:
    from test_conformance import gold_report

    report = gold_report(tmp_path, "octopus")
    changes = {
        c["test"]: c["outcome"] for c in report["checks"] if c["test"].startswith("test_changes[")
    }
    assert changes["test_changes[full_page]"] == changes["test_changes[arrive]"] == "passed"


def test_the_rules_patterns_are_the_asks_patterns() -> None:
    api_key, number = plugin.PROVIDER.asks
    assert (api_key.name, api_key.secret, number.name, number.secret) == (
        "api_key",
        True,
        "account_number",
        False,
    )
    assert api_key.pattern == rules.API_KEY.pattern
    assert number.pattern == rules.ACCOUNT_NUMBER.pattern


def test_a_keyed_client_carries_the_non_secret_answers_for_fetch_and_never_the_key() -> None:
    key = "sk_live_" + "s" * 24
    client = KeyedClient(
        plugin.PROVIDER,
        httpx.BasicAuth(key, ""),
        base_url="https://api.octopus.energy/v1",
        answers={"api_key": key, "account_number": "A-1B2C3D4E"},
    )
    with client:
        assert dict(client.answers) == {"account_number": "A-1B2C3D4E"}
        assert plugin.account_number(client) == "A-1B2C3D4E"
        assert key not in repr(client) and key not in repr(client.answers)
        with pytest.raises(TypeError):
            client.answers["account_number"] = "A-00000000"  # type: ignore[index]
    with (
        KeyedClient(plugin.PROVIDER, httpx.BasicAuth(key, "")) as bare,
        pytest.raises(AuthError, match="holds no account number"),
    ):
        plugin.account_number(bare)


def test_a_key_credential_is_spared_what_only_oauth_has_and_told_why() -> None:
    from portal_conformance.rules import reconcile, resilience

    assert reconcile.applicable(plugin.PROVIDER) == [reconcile.NONE_APPLICABLE]
    # A refused key ends a sync (the person connects again): chaos draws no 401 for it, as
    # it does for an OAuth login, which refreshes past one.
    kinds = resilience._chaos_kinds(SimpleNamespace(provider=plugin.PROVIDER))  # type: ignore[arg-type]
    assert "401" not in kinds and {"5xx", "reset", "truncated", "slow"} <= set(kinds)
    assert "401" not in resilience.chaos_for(40, kinds).kinds
    oauth = resilience._chaos_kinds(SimpleNamespace(provider=_bank()))  # type: ignore[arg-type]
    assert "401" in oauth


def _bank() -> Any:
    from portal_bank.plugin import PROVIDER

    return PROVIDER


def test_disconnect_forgets_the_key_and_says_how_to_revoke_it_at_octopus(
    tmp_path: Path, vault: None
) -> None:
    with OctopusSandbox(days=1) as sandbox, _open(tmp_path / "home") as portal:
        _connect(portal, sandbox)
        done = portal.disconnect("octopus")
        assert done.revoked is False and done.failures == []
        assert done.revoke_hint.startswith("Regenerate your API key at https://octopus.energy/")
        for found in (tmp_path / "home").rglob("*"):
            if found.is_file():
                assert sandbox.api_key.encode() not in found.read_bytes(), found
        with pytest.raises(PortalError, match="not connected"):
            portal.sync(["octopus"])


def test_a_demo_sync_connects_with_the_sandboxs_own_key(tmp_path: Path, vault: None) -> None:
    with _open(tmp_path / "home") as portal:
        [result] = demo_sync(portal, ["octopus"])
    assert result.error is None
    assert result.records["usage"] == 240 + 140 + 140


def test_an_economy_7_agreement_asks_for_day_and_night_rates_and_standing_charges() -> None:
    base = "https://api.octopus.energy/v1/"
    product = f"{base}products/VAR-22-11-01/electricity-tariffs/E-2R-VAR-22-11-01-A/"
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    agreement = {
        "tariff_code": "E-2R-VAR-22-11-01-A",
        "valid_from": "2024-01-01T00:00:00Z",
        "valid_to": "2024-07-01T00:00:00+01:00",
    }
    with respx.mock(assert_all_called=True) as router:
        asked = [
            router.get(f"{product}{charge}/").mock(return_value=httpx.Response(200, json=empty))
            for charge in ("day-unit-rates", "night-unit-rates", "standing-charges")
        ]
        pages = list(
            plugin._charges(_client(base), _no_cursors(), "electricity", "electricity:1", agreement)
        )
    assert [p.stream.rsplit(":", 1)[1] for p in pages] == [
        "day-unit-rates",
        "night-unit-rates",
        "standing-charges",
    ]
    for route in asked:
        query = route.calls.last.request.url.params
        assert query["period_from"] == "2024-01-01T00:00:00Z"
        assert query["period_to"] == "2024-07-01T00:00:00+01:00"
    # An empty list is a page of nothing; the agreement has ended, so it is read whole.
    assert all(p.items == [] for p in pages)
    assert all(p.cursor == plugin.ChargesSeen(newest=None, complete=True) for p in pages)


def test_an_empty_consumption_list_keeps_the_cursor_where_it_was() -> None:
    base = "https://api.octopus.energy/v1/"
    url = f"{base}gas-meter-points/123456/meters/G1/consumption/"
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    saved = Cursors({"consumption:gas:123456:G1": {"period_from": "2026-01-01T00:00:00Z"}})
    with respx.mock(assert_all_called=True) as router:
        route = router.get(url__startswith=url).mock(return_value=httpx.Response(200, json=empty))
        [page] = _consumption(_client(base), saved, "gas", "123456", "G1", False)
    assert route.calls.last.request.url.params["period_from"] == "2026-01-01T00:00:00Z"
    assert page.items == [] and page.cursor == plugin.Since(period_from="2026-01-01T00:00:00Z")
