"""The utility plugin through the real path: Green Button sandbox on a socket, real OAuth, SQLite."""

import io
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.errors import ProviderError
from portal.http import RetryPolicy
from portal.importing import BadFile, import_file
from portal.provider import sandbox_endpoints
from portal.record import Account, Bill, Consent, Party, Processing, Product, Usage
from portal.sandbox import Chaos
from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_utility import espi
from portal_utility.sandbox import UtilitySandbox
from values import differences, spoiling_one_value

LONDON = ZoneInfo("Europe/London")
TABLES = ["party", "accounts", "products", "bills", "usage", "consents", "processing"]
TABLES += ["raw_items", "rejections"]
BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
    b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">'
    b"<title>&lol2;</title></feed>"
)
EARLY = datetime(2025, 11, 20, 9, tzinfo=LONDON)
"""A Demo Energy clock with five weeks of readings (the autumn change in them) and one bill."""
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:espi="http://naesb.org/espi">'
    b"<title>&xxe;</title></feed>"
)


def _open(home: Path) -> Portal:
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    return Portal.open(
        home=home, vault=vault, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
    )


def _connect(portal: Portal, sandbox: UtilitySandbox) -> None:
    portal.connect(
        "utility", browser=auto_approve_browser, endpoints=sandbox_endpoints(sandbox), timeout=10
    )


@pytest.fixture(scope="module")
def utility() -> Iterator[UtilitySandbox]:
    """One Demo Energy for the module, in pages of 31 days, so every meter's feed pages."""
    with UtilitySandbox() as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def synced(utility: UtilitySandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal connected to Demo Energy through OAuth and synced once."""
    with _open(tmp_path_factory.mktemp("utility") / "home") as portal:
        _connect(portal, utility)
        [result] = portal.sync(["utility"])
        assert result.ok, result.error
        assert result.rejected == 0, portal.store.rejections()
        yield portal


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Portal]:
    with _open(tmp_path / "home") as portal:
        yield portal


@pytest.fixture
def early() -> Iterator[UtilitySandbox]:
    """A Demo Energy of its own for one test, with a short history and week-long pages."""
    with UtilitySandbox(now=EARLY, page_size=7) as sandbox:
        yield sandbox


def _stored(portal: Portal, entity: type, provider: str = "utility") -> dict[str, dict[str, Any]]:
    return {row["provider_id"]: row for row in portal.store.rows(entity, provider)}


def _snapshot(portal: Portal) -> list[tuple[Any, ...]]:
    database = portal.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        return [(t, *row) for t in TABLES for row in db.execute(f"SELECT * FROM {t} ORDER BY 1")]  # noqa: S608


def _expected_usage(truth: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    # In the sandbox each usage point has one MeterReading of the same id.
    return {f"{u['usage_point']}:{u['usage_point']}:{u['start']}": u for u in truth["usage"]}


def _local(row: dict[str, Any]) -> date:
    return row["started_at"].astimezone(LONDON).date()


def test_sync_stores_exactly_what_the_sandbox_served(
    synced: Portal, utility: UtilitySandbox
) -> None:
    truth = utility.ground_truth()
    counts = synced.store.counts()["utility"]
    assert {t: counts.get(t, 0) for t in TABLES[:7]} == {
        "party": 1,
        "accounts": 5,  # the customer account, two supply agreements, two supply points
        "products": len(truth["products"]),
        "bills": len(truth["bills"]),
        "usage": len(truth["usage"]),
        "consents": 1,
        "processing": len(truth["processing"]),
    }
    assert (len(truth["usage"]), len(truth["bills"])) == (9065, 12)
    usage, expected = _stored(synced, Usage), _expected_usage(truth)
    assert usage.keys() == expected.keys()
    for provider_id, served in expected.items():
        row = usage[provider_id]
        assert row["quantity"] == Decimal(served["value"]).scaleb(-3)
        assert row["duration_seconds"] == served["duration"]
        assert row["quality"] == (served["quality"] or "0")
        assert int(row["started_at"].timestamp()) == served["start"]
    assert {row["unit"] for row in usage.values()} == {"kWh", "m3"}
    [party] = _stored(synced, Party).values()
    assert party["full_name"] == "Siobhán Ashworth" and party["email"]
    assert [a["kind"] for a in party["addresses"]] == ["Street address", "Supply address"]


def test_two_meters_with_their_supply_numbers(synced: Portal) -> None:
    accounts = _stored(synced, Account)
    points = {k: v for k, v in accounts.items() if k.startswith("usage-point:")}
    assert {p["account_type"] for p in points.values()} == {"electricity_supply", "gas_supply"}
    assert {p["currency"] for p in points.values()} == {"GBP"}  # from the supply agreement
    usage = list(synced.store.rows(Usage, "utility"))
    meters = Counter((row["meter_id"], row["unit"], row["account_id"]) for row in usage)
    assert {(meter, unit) for meter, unit, _ in meters} == {
        ("1900018742138", "kWh"),
        ("7405213906", "m3"),
    }
    assert {account for _, _, account in meters} == {p["id"] for p in points.values()}


def test_dst_days_have_46_and_50_half_hours(synced: Portal) -> None:
    per_day: Counter[tuple[str, date]] = Counter()
    lengths: dict[date, int] = {}
    for row in synced.store.rows(Usage, "utility"):
        per_day[(row["unit"], _local(row))] += 1
        if row["unit"] == "m3":
            lengths[_local(row)] = row["duration_seconds"]
    assert per_day[("kWh", date(2025, 10, 26))] == 50  # clocks went back: 25 hours
    assert per_day[("kWh", date(2026, 3, 29))] == 46  # clocks went forward: 23 hours
    assert per_day[("kWh", date(2026, 1, 10))] == 48
    assert (lengths[date(2025, 10, 26)], lengths[date(2026, 3, 29)]) == (90000, 82800)
    assert all(per_day[("m3", day)] == 1 for day in lengths)


def test_estimated_readings_carry_their_quality_and_label(synced: Portal) -> None:
    estimated = Counter(
        (_local(row), row["quality"], row["quality_label"])
        for row in synced.store.rows(Usage, "utility")
        if row["quality"] != "0"
    )
    assert estimated == {
        (date(2025, 11, 19), "9", "Estimated by linear interpolation"): 12,
        (date(2026, 2, 7), "8", "Estimated using a reference day"): 48,
        (date(2025, 12, 25), "8", "Estimated using a reference day"): 1,
        (date(2026, 3, 2), "8", "Estimated using a reference day"): 1,
    }
    actual = {row["quality_label"] for row in synced.store.rows(Usage, "utility")}
    assert "Valid (actual reading)" in actual


def test_bills_reconcile_with_the_readings_and_with_their_lines(synced: Portal) -> None:
    usage = list(synced.store.rows(Usage, "utility"))
    bills = list(synced.store.rows(Bill, "utility"))
    assert len(bills) == 12
    for bill in bills:
        readings = sum(
            (
                row["quantity"]
                for row in usage
                if row["account_id"] == bill["account_id"]
                and bill["period_start"] <= _local(row) <= bill["period_end"]
            ),
            Decimal(0),
        )
        summary = Decimal(bill["extra"]["consumption"]["quantity"])
        assert readings == summary, bill["bill_number"]  # sum of readings = summary
        lines = bill["lines"]
        energy = [line for line in lines if line["category_code"] == "3"]
        assert sum(Decimal(line["quantity"]) for line in energy) == summary
        assert sum(Decimal(line["amount"]) for line in lines) == bill["total"]
        assert bill["currency"] == "GBP" and bill["period_start"].day == 15
    # The price change on 1 January splits the December-January bills' energy and standing
    # charge lines in two, each at its own rate.
    december = [b for b in bills if b["period_start"] == date(2025, 12, 15)]
    assert len(december) == 2
    for bill in december:
        spans = [(line["period_start"], line["period_end"]) for line in bill["lines"]]
        assert spans.count(("2025-12-15", "2025-12-31")) == 2
        assert spans.count(("2026-01-01", "2026-01-14")) == 2
    mixed = {b["bill_number"] for b in bills if b["extra"]["quality"] == "13"}
    assert mixed == {"1-20251115", "1-20260115", "2-20251215", "2-20260215"}


def test_the_tariff_change_is_two_products_per_fuel(synced: Portal) -> None:
    products = sorted(_stored(synced, Product).values(), key=lambda p: p["provider_id"])
    electricity = [p for p in products if p["product_type"] == "electricity_tariff"]
    assert [(p["valid_from"], p["valid_to"]) for p in electricity] == [
        (date(2025, 10, 1), date(2025, 12, 31)),
        (date(2026, 1, 1), None),
    ]
    rates = [p["prices"][0] for p in electricity]
    assert [(r["amount"], r["unit"]) for r in rates] == [("0.2510", "kWh"), ("0.2637", "kWh")]
    agreements = {p["account_id"] for p in products}
    assert len(agreements) == 2  # each fuel's tariffs hang off its supply agreement


def test_consent_and_processing_notice(synced: Portal) -> None:
    [consent] = _stored(synced, Consent).values()
    assert (consent["kind"], consent["status_label"], consent["grantee"]) == (
        "data_access",
        "Active",
        "portal",
    )
    assert "BlockDuration=daily" in consent["permissions"]
    processing = _stored(synced, Processing)
    assert len(processing) == 5
    credit = processing["processing:credit-check"]
    assert credit["automated_decision"] and credit["automated_logic"]
    transfer = processing["processing:usage-insights"]
    assert transfer["recipients"][0]["country"] == "US" and transfer["third_country_safeguards"]


def test_no_code_is_left_without_a_label(synced: Portal) -> None:
    for entity in (Party, Account, Product, Usage, Bill, Consent, Processing):
        for row in synced.store.rows(entity, "utility"):
            assert "no label known" not in repr(row), (entity.__name__, row["provider_id"])


def test_resync_adds_nothing_then_fetches_only_new_days(
    fresh: Portal, early: UtilitySandbox
) -> None:
    _connect(fresh, early)
    [first] = fresh.sync(["utility"])
    assert first.ok and first.records["bills"] == 2
    before = _snapshot(fresh)
    [again] = fresh.sync(["utility"])
    assert again.ok and again.rejected == 0
    assert _snapshot(fresh) == before
    # Only the last block of each meter is fetched again (the cursor is inclusive).
    assert again.records["usage"] == 48 + 1
    early.advance(3)
    [third] = fresh.sync(["utility"])
    assert third.records["usage"] == 4 * 48 + 4  # the last known day again, and 3 new
    truth = early.ground_truth()
    assert _stored(fresh, Usage).keys() == _expected_usage(truth).keys()
    assert first.records["usage"] == len(truth["usage"]) - 3 * 48 - 3


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        ("entities", "declares the entity 'lol'"),
        ("external", "declares the external entity 'xxe' pointing at 'file:///etc/passwd'"),
    ],
)
def test_a_hostile_feed_stops_the_sync_naming_the_attack(
    fresh: Portal, early: UtilitySandbox, kind: str, named: str
) -> None:
    _connect(fresh, early)
    early.tamper_feeds(kind)
    [result] = fresh.sync(["utility"])
    assert isinstance(result.error, ProviderError)
    assert named in result.error.message and "/IntervalBlock" in result.error.message
    assert not fresh.store.counts().get("utility", {}).get("usage")
    assert "root:" not in repr(list(fresh.store.rows(Usage)))


def test_a_paging_loop_stops_the_sync_naming_it(fresh: Portal, early: UtilitySandbox) -> None:
    _connect(fresh, early)
    early.set_chaos(Chaos(rate=0.0, loop_after=2))
    [result] = fresh.sync(["utility"])
    assert isinstance(result.error, ProviderError)
    assert "loops back to a page it already served" in result.error.message


def test_a_feed_cut_short_is_fetched_again(fresh: Portal, early: UtilitySandbox) -> None:
    _connect(fresh, early)
    early.tamper_feeds("truncated", times=2)
    [result] = fresh.sync(["utility"])
    assert result.ok, result.error
    assert result.retries >= 2
    assert fresh.store.counts()["utility"]["usage"] == len(early.ground_truth()["usage"])


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (BOMB, "declares the entity 'lol'"),
        (XXE, "declares the external entity 'xxe' pointing at 'file:///etc/passwd'"),
        (b'<!DOCTYPE feed SYSTEM "http://evil.example/x.dtd"><feed/>', "external DTD"),
        (b"<!DOCTYPE feed [<!ELEMENT feed ANY>]><feed/>", "carries a DTD"),
        (b"<feed><entry><id>1</id>", "not well-formed XML at line 1"),
    ],
)
def test_the_parser_refuses_unsafe_or_broken_xml_by_name(body: bytes, named: str) -> None:
    with pytest.raises(espi.FeedError, match="GET /feed") as caught:
        list(espi.entries(io.BytesIO(body), "GET /feed"))
    assert named in caught.value.message


def test_a_download_my_data_file_imports_to_the_same_readings(
    early: UtilitySandbox, fresh: Portal, tmp_path: Path
) -> None:
    download = tmp_path / "DemoEnergy_Electric_Gas_2025-11-20.xml"
    download.write_bytes(early.download_my_data())
    result = import_file(fresh, download)
    truth = early.ground_truth()
    assert result.importer.name == "greenbutton" and result.provider == "greenbutton"
    assert result.added == {"accounts": 2, "usage": len(truth["usage"]), "bills": 2}
    assert _stored(fresh, Usage, "greenbutton").keys() == _expected_usage(truth).keys()
    again = import_file(fresh, download)
    assert again.added == {"accounts": 0, "usage": 0, "bills": 0}


def test_a_hostile_download_is_refused_whole_naming_the_entity(
    fresh: Portal, tmp_path: Path
) -> None:
    for name, body, named in (
        ("bomb.xml", BOMB, "declares the entity 'lol'"),
        ("xxe.xml", XXE, "declares the external entity 'xxe'"),
    ):
        path = tmp_path / name
        path.write_bytes(body)
        with pytest.raises(BadFile, match=named):
            import_file(fresh, path)
    assert not fresh.store.counts().get("greenbutton")


def test_a_feed_cut_short_is_fetched_again_by_the_client_and_one_always_cut_is_named(
    tmp_path: Path,
) -> None:
    from conftest import synced_once
    from portal.sandbox.faults import Fault

    with UtilitySandbox() as sandbox:
        # Twice cut short, then whole: the sync ends as if nothing happened.
        sandbox.add_fault(Fault(path="IntervalBlock", malformed=True, times=2))
        with synced_once(tmp_path / "twice", sandbox, "utility") as portal:
            assert portal.store.counts()["utility"]["usage"] > 0
        assert not [f for f in sandbox.faults if not f.always and f.times > 0]  # both struck
        # Cut short on every attempt: the sync ends with an error naming the feed.
        sandbox.add_fault(Fault(path="IntervalBlock", malformed=True, always=True))
        with Portal.open(
            home=tmp_path / "always", retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.02)
        ) as portal:
            endpoints = sandbox_endpoints(sandbox)
            portal.connect("utility", browser=auto_approve_browser, endpoints=endpoints, timeout=10)
            [result] = portal.sync(["utility"])
    assert isinstance(result.error, ProviderError)
    assert "sent a body portal cannot read from GET http://127.0.0.1:" in result.error.message
    assert "IntervalBlock" in result.error.message
    assert "not well-formed XML" in result.error.message


def test_every_stored_value_is_what_the_sandbox_says_it_means(
    synced: Portal, utility: UtilitySandbox
) -> None:
    # Among them: an agreement that starts at a London midnight in summer time opened that
    # London day, not the UTC day before.
    assert differences(synced, "utility", utility.expected_records()) == []


def test_a_name_folded_to_ascii_in_delivery_fails_the_values_check(tmp_path: Path) -> None:
    plugins = spoiling_one_value(
        tmp_path / "plugins", "customer", "customer:1", "full_name", "value.replace('á', 'a')"
    )
    with (
        Harness("utility", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "values", "party")
    message = str(failed.value)
    assert "provider_id=customer:1" in message
    assert "full_name served as 'Siobhán Ashworth', delivered as 'Siobhan Ashworth'" in message
    assert "(folded to ASCII)" in message
