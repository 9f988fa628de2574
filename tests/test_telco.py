"""The telco plugin through the real path: TM Forum sandbox on a socket, real OAuth, real SQLite."""

import sqlite3
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from portal import ProviderError, SkippableError
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.demo import FIRST_PARTY, demo_sync, running_sandboxes
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import (
    Account,
    Bill,
    Consent,
    Inference,
    Party,
    Processing,
    Product,
    Usage,
)
from portal.sandbox import Fault
from portal.sandbox.chaos import Chaos
from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_telco import labels
from portal_telco.dataset import DemoTelecom
from portal_telco.metering import usage as normalise_usage
from portal_telco.sandbox import CLIENT_ID, TelcoSandbox
from values import differences, spoiling_one_value

LONDON = ZoneInfo("Europe/London")
TABLES = ["party", "accounts", "products", "bills", "usage", "consents", "processing"]
TABLES += ["inferences", "raw_items", "rejections"]


def _open(home: Path) -> Portal:
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    return Portal.open(
        home=home, vault=vault, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
    )


def _connect(portal: Portal, sandbox: TelcoSandbox) -> None:
    portal.connect(
        "telco", browser=auto_approve_browser, endpoints=sandbox_endpoints(sandbox), timeout=10
    )


@pytest.fixture(scope="module")
def telco() -> Iterator[TelcoSandbox]:
    """One Demo Telecom for the module; pages of 50 so that every collection really pages."""
    with TelcoSandbox(page_size=50) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def synced(telco: TelcoSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal connected to Demo Telecom through OAuth and synced once."""
    with _open(tmp_path_factory.mktemp("telco") / "home") as portal:
        _connect(portal, telco)
        [result] = portal.sync(["telco"])
        assert result.ok, result.error
        assert result.rejected == 0, portal.store.rejections()
        yield portal


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Portal]:
    with _open(tmp_path / "home") as portal:
        yield portal


def _stored(portal: Portal, entity: type) -> dict[str, dict[str, Any]]:
    return {row["provider_id"]: row for row in portal.store.rows(entity, "telco")}


def _snapshot(portal: Portal) -> list[tuple[Any, ...]]:
    database = portal.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        return [(t, *row) for t in TABLES for row in db.execute(f"SELECT * FROM {t} ORDER BY 1")]  # noqa: S608


def _money(value: dict[str, Any]) -> Decimal:
    return Decimal(repr(value["value"]))


def test_sync_stores_exactly_what_the_sandbox_served(synced: Portal, telco: TelcoSandbox) -> None:
    truth = telco.ground_truth()
    contracts = {p["id"] for p in truth["products"] if not p.get("productRelationship")}
    permissions = {
        f"{p['id']}:{c['name']}"
        for p in truth["privacy_profiles"]
        for c in p["partyPrivacyProfileCharacteristic"]
    }
    assert set(_stored(synced, Party)) == {c["id"] for c in truth["customer"]}
    assert set(_stored(synced, Account)) == {p["id"] for p in truth["accounts"]}
    assert contracts == {"PRD-7704-1123", "PRD-7704-1560"} == {p["id"] for p in truth["accounts"]}
    assert set(_stored(synced, Product)) == {p["id"] for p in truth["products"]}
    assert set(_stored(synced, Bill)) == {b["id"] for b in truth["bills"]}
    assert set(_stored(synced, Usage)) == {u["id"] for u in truth["usage"]}
    assert set(_stored(synced, Consent)) == permissions
    assert set(_stored(synced, Processing)) == {p["id"] for p in truth["processing"]}
    assert len(_stored(synced, Inference)) == len(truth["inferences"]) == 4
    assert len(truth["usage"]) > 1000 and len(truth["bills"]) == 11
    counts = synced.store.counts()["telco"]
    assert counts["usage"] == len(truth["usage"])


def test_every_stored_amount_is_the_served_amount_exactly(
    synced: Portal, telco: TelcoSandbox
) -> None:
    truth = telco.ground_truth()
    usage = _stored(synced, Usage)
    for served in truth["usage"]:
        charge = usage[served["id"]]["charge"]
        assert charge == _money(served["ratedProductUsage"][0]["taxIncludedRatingAmount"])
        # (The store keeps the value, not the scale: "0.0" and "0.00" are one number there;
        # exports write pence, docs/store.md.)
    bills = _stored(synced, Bill)
    for served in truth["bills"]:
        assert bills[served["id"]]["total"] == _money(served["amountDue"])


def test_bill_totals_equal_the_sum_of_their_lines_in_the_store(synced: Portal) -> None:
    bills = list(synced.store.rows(Bill, "telco"))
    assert len(bills) == 11
    for bill in bills:
        lines = [Decimal(line["amount"]) for line in bill["lines"]]
        assert lines, bill["bill_number"]
        assert sum(lines) == bill["total"], bill["bill_number"]
        assert all(line["category_label"] for line in bill["lines"])
    states = {b["status"]: b["status_label"] for b in bills}
    assert states == {"settled": "Paid", "sent": "Issued, not yet paid"}


def test_each_bill_charges_exactly_the_usage_of_its_period(synced: Portal) -> None:
    usage = list(synced.store.rows(Usage, "telco"))
    for bill in synced.store.rows(Bill, "telco"):
        charged = sum(
            (
                Decimal(line["amount"])
                for line in bill["lines"]
                if line["category_code"] == "usageCharge"
            ),
            Decimal(0),
        )
        used = sum(
            (
                u["charge"]
                for u in usage
                if u["account_id"] == bill["account_id"]
                and bill["period_start"]
                <= u["started_at"].astimezone(LONDON).date()
                <= bill["period_end"]
            ),
            Decimal(0),
        )
        assert charged == used, bill["bill_number"]


def test_roaming_usage_is_labelled_with_its_country_and_zone(
    synced: Portal, telco: TelcoSandbox
) -> None:
    roaming = [u for u in synced.store.rows(Usage, "telco") if u["roaming"]]
    served = [
        u
        for u in telco.ground_truth()["usage"]
        if any(c["name"] == "roaming" and c["value"] for c in u["usageCharacteristic"])
    ]
    assert len(roaming) == len(served) > 0
    assert {u["country"] for u in roaming} == {"ES", "US"}
    for row in roaming:
        zone = "europe" if row["country"] == "ES" else "world"
        assert row["kind_label"].endswith(labels.ROAMING_ZONES[zone])
    charged = [u for u in roaming if u["charge"] > 0]
    assert charged and len(charged) < len(roaming)  # a day pass, then free for the day
    at_home = [u for u in synced.store.rows(Usage, "telco") if not u["roaming"]]
    assert {u["country"] for u in at_home} == {"GB"}
    assert all("roaming" not in u["kind_label"] for u in at_home)


def test_usage_is_measured_in_record_units(synced: Portal) -> None:
    units = {(u["kind"], u["unit"]) for u in synced.store.rows(Usage, "telco")}
    assert units == {("call", "second"), ("message", "message"), ("data", "MB")}
    for row in synced.store.rows(Usage, "telco"):
        if row["kind"] == "call":
            assert row["quantity"] == row["duration_seconds"]
        assert row["started_at"].tzinfo is not None


def test_permissions_and_the_processing_notice_arrive_labelled(synced: Portal) -> None:
    consents = list(synced.store.rows(Consent, "telco"))
    withdrawn = [c for c in consents if c["status"] == "withdrawn"]
    assert [(c["channel"], c["status_label"]) for c in withdrawn] == [("post", "You withdrew it")]
    assert withdrawn[0]["expires_at"] is not None
    assert all(c["channel_label"] and c["kind_label"] for c in consents)
    purposes = _stored(synced, Processing)
    assert set(purposes) == {"service", "billing", "fraud", "credit", "marketing", "lawful"}
    assert {p for p, row in purposes.items() if row["automated_decision"]} == {"fraud", "credit"}
    assert purposes["marketing"]["third_country_safeguards"]
    assert purposes["marketing"]["recipients"][0]["country"] == "US"
    assert all(row["legal_basis_label"] for row in purposes.values())


def test_what_the_telco_inferred_arrives_with_its_explanation(synced: Portal) -> None:
    inferred = {row["name"]: row for row in synced.store.rows(Inference, "telco")}
    assert set(inferred) == {
        "Credit score",
        "Marketing segment",
        "Likelihood of leaving within 3 months",
        "Travel abroad",
    }
    assert inferred["Credit score"]["score"] == Decimal(812)
    assert inferred["Likelihood of leaving within 3 months"]["score"] == Decimal("0.12")
    for row in inferred.values():
        assert row["origin"] == "inferred" and row["explanation"] and row["kind_label"]


def test_resync_adds_nothing(synced: Portal, telco: TelcoSandbox) -> None:
    before = _snapshot(synced)
    [again] = synced.sync(["telco"])
    assert again.ok and again.rejected == 0
    assert _snapshot(synced) == before
    # Only usage not yet on a bill (it can still change) is fetched again.
    assert again.records["usage"] < len(telco.ground_truth()["usage"]) / 4


def test_new_usage_arrives_on_the_next_sync(fresh: Portal) -> None:
    with TelcoSandbox() as sandbox:
        _connect(fresh, sandbox)
        fresh.sync(["telco"])
        sandbox.add_activity(days=3)
        [second] = fresh.sync(["telco"])
        assert second.ok, second.error
        truth = sandbox.ground_truth()
        assert set(_stored(fresh, Usage)) == {u["id"] for u in truth["usage"]}
        queries = [r.query for r in sandbox.requests if r.path.endswith("/usage")]
        assert "usageDate.gte" not in queries[0] and "usageDate.gte" in queries[-1]


def test_a_narrower_grant_fetches_less(fresh: Portal) -> None:
    with TelcoSandbox() as sandbox:
        sandbox.register_client(CLIENT_ID, scope="customer privacy")  # the customer said no more
        _connect(fresh, sandbox)
        [result] = fresh.sync(["telco"])
        assert result.ok, result.error
        assert set(result.records) == {"party", "inferences", "consents", "processing"}
        touched = {r.path.split("/")[2] for r in sandbox.requests if r.path.startswith("/tmf-api")}
        assert touched == {"customerManagement", "privacyManagement"}


def test_a_rate_limited_usage_page_is_retried(fresh: Portal) -> None:
    with TelcoSandbox() as sandbox:
        sandbox.add_fault(Fault(path="/usage", status=429, headers={"Retry-After": "0"}, times=2))
        _connect(fresh, sandbox)
        [result] = fresh.sync(["telco"])
        assert result.ok, result.error
        assert result.retries == 2
        assert set(_stored(fresh, Usage)) == {u["id"] for u in sandbox.ground_truth()["usage"]}


def test_a_server_that_ignores_offset_stops_the_sync_naming_the_loop(fresh: Portal) -> None:
    with TelcoSandbox() as sandbox:
        sandbox.set_chaos(Chaos(rate=0.0, loop_after=2))
        _connect(fresh, sandbox)
        [result] = fresh.sync(["telco"])
        assert isinstance(result.error, ProviderError)
        assert "loops" in str(result.error) and "'usage'" in str(result.error)


def test_cut_off_pages_are_fetched_again(fresh: Portal) -> None:
    with TelcoSandbox() as sandbox:
        sandbox.set_chaos(Chaos(rate=0.3, kinds=("truncated",), seed=7))
        _connect(fresh, sandbox)
        [result] = fresh.sync(["telco"])
        assert result.ok, result.error
        assert sandbox.chaos_counts.get("truncated", 0) > 0
        assert set(_stored(fresh, Usage)) == {u["id"] for u in sandbox.ground_truth()["usage"]}


def test_collections_are_paged_the_tmf630_way(synced: Portal, telco: TelcoSandbox) -> None:
    client = synced.client("telco")
    path = "tmf-api/usageManagement/v4/usage"
    first = client.get(path, params={"offset": 0, "limit": 500})
    total = len(telco.ground_truth()["usage"])
    assert first.status_code == 206  # a part of the collection
    assert first.headers["X-Total-Count"] == str(total)
    assert first.headers["X-Result-Count"] == "50" == str(len(first.json()))  # limit is capped
    last = client.get(path, params={"offset": total - 3, "limit": 50})
    assert last.headers["X-Result-Count"] == "3"
    whole = client.get("portal/v1/processing")
    assert whole.status_code == 200 and whole.headers["X-Total-Count"] == "6"
    refused = httpx.get(telco.base_url + "/" + path)
    assert refused.status_code == 401


def test_the_demo_syncs_the_telco(fresh: Portal) -> None:
    with running_sandboxes(fresh) as running:
        assert isinstance(running["telco"], TelcoSandbox)
    [result] = demo_sync(fresh, ["telco"])
    assert result.ok, result.error
    assert result.records["usage"] > 1000
    assert "telco" in FIRST_PARTY


def test_usage_that_cannot_be_read_is_rejected_with_its_reason() -> None:
    # TMF635 leaves usageType free text (a "fax" is kept in its words: tests/test_telco_spec.py);
    # a usage no product is named for has no contract to belong to.
    item: dict[str, Any] = {"id": "USG-1", "usageDate": "2026-05-01T10:00:00Z"}
    with pytest.raises(SkippableError, match="names no product"):
        normalise_usage(item, lambda entity, provider_id: provider_id)
    item["ratedProductUsage"] = [{"productRef": {"id": "PRD-1"}}]
    item["usageDate"] = "01/05/2026"
    with pytest.raises(SkippableError, match="usageDate '01/05/2026' is not an RFC 3339"):
        normalise_usage(item, lambda entity, provider_id: provider_id)


def test_dates_are_the_days_the_bill_prints(synced: Portal, telco: TelcoSandbox) -> None:
    bills = _stored(synced, Bill)
    for served in telco.ground_truth()["bills"]:
        row = bills[served["id"]]
        assert row["issued_on"] == datetime.fromisoformat(served["billDate"]).date()
        assert row["period_start"].day in (1, 25)  # local midnight, never the day before in UTC


def test_every_stored_value_is_what_the_sandbox_says_it_means(
    synced: Portal, telco: TelcoSandbox
) -> None:
    assert differences(synced, "telco", telco.expected_records()) == []


def test_a_mobile_filed_as_the_landline_fails_the_values_check(tmp_path: Path) -> None:
    customer = DemoTelecom().customer
    plugins = spoiling_one_value(
        tmp_path / "plugins", "customer", customer["id"], "phone", "record.mobile"
    )
    with (
        Harness("telco", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "values", "party")
    message = str(failed.value)
    assert f"id={customer['id']}" in message
    assert "phone served as '+44 20 7946 0123', delivered as '+44 7700 900123'" in message
