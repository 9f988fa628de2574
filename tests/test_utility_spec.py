"""The utility plugin against the ESPI schema: what Demo Energy serves is valid, and whatever
ESPI allows a provider to serve, portal stores, through the real path (sandbox on a socket,
real OAuth, a real SQLite file). The schema's rules are ``portal_utility.rules``."""

import io
import json
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import synced_once
from portal.app import Portal
from portal.record import Bill, Usage
from portal_utility import espi, rules
from portal_utility.sandbox import UtilitySandbox
from portal_utility.variants import VARIANTS

LONDON = ZoneInfo("Europe/London")
EARLY = datetime(2025, 11, 20, 9, tzinfo=LONDON)
"""Five weeks of readings (the autumn clock change in them) and one bill per meter."""
VALID = [name for name, variant in VARIANTS.items() if not variant.faulty]
UNITS = {
    "72": (Decimal("0.001"), "kWh"),
    "42": (Decimal(1), "m3"),
    "119": (Decimal("0.028316846592"), "m3"),  # a cubic foot is exactly 0.3048^3 m3
    "169": (Decimal(1), "therm"),
}
"""ESPI UnitSymbolKind to the factor and unit portal stores, written here independently."""


def _sandbox(variant: str) -> UtilitySandbox:
    return UtilitySandbox(now=EARLY, page_size=7, variant=variant)


def _synced(home: Path, sandbox: UtilitySandbox) -> Portal:
    return synced_once(home, sandbox, "utility")


@pytest.fixture(scope="module", params=list(VARIANTS))
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Portal, UtilitySandbox]]:
    """Each variant of Demo Energy, synced once into a store of its own."""
    with _sandbox(request.param) as sandbox:
        home = tmp_path_factory.mktemp(request.param) / "home"
        with _synced(home, sandbox) as portal:
            yield portal, sandbox


def _served_entries(sandbox: UtilitySandbox) -> list[dict[str, Any]]:
    return list(espi.entries(io.BytesIO(sandbox.download_my_data()), "the batch"))


def _raw_items(portal: Portal) -> Iterator[tuple[str, dict[str, Any]]]:
    database = portal.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        query = "SELECT stream, payload FROM raw_items WHERE provider = 'utility'"
        for stream, payload in db.execute(query):
            yield stream, json.loads(payload)


# -- the rules themselves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "content", "problem"),
    [
        ("ReadingType", {"uom": "Wh"}, "ReadingType.uom is 'Wh', not a UnitSymbolKind"),
        ("ReadingType", {"uom": "72", "kind": "12"}, "ReadingType.kind is out of the schema's"),
        ("IntervalReading", {"value": "2.5"}, "IntervalReading.value is '2.5', not a Int48"),
        ("IntervalReading", {"value": str(2**48)}, "IntervalReading.value is '28147497671065"),
        ("UsageSummary", {"currency": "826"}, "UsageSummary.statusTimeStamp is required"),
        (
            "UsageSummary",
            {"statusTimeStamp": "1", "currency": "GBP"},
            "UsageSummary.currency is 'GBP'",
        ),
        ("UsagePoint", {"amiBillingReady": "3"}, "UsagePoint.amiBillingReady is '3'"),
        ("UsagePoint", {"connectionState": "1"}, "UsagePoint.connectionState is '1'"),
        ("UsagePoint", {"colour": "green"}, "UsagePoint.colour is not an element of UsagePoint"),
        ("UsagePoint", {"ServiceCategory": {}}, "UsagePoint.ServiceCategory.kind is required"),
        (
            "IntervalBlock",
            {"IntervalReading": [{"timePeriod": {"start": "1"}}]},
            "IntervalBlock.IntervalReading[0].timePeriod.duration is required",
        ),
        ("LocalTimeParameters", {"tzOffset": "0"}, "LocalTimeParameters.dstOffset is required"),
    ],
)
def test_the_rules_name_what_the_schema_forbids(
    resource: str, content: dict[str, Any], problem: str
) -> None:
    assert any(p.startswith(problem) for p in rules.problems(resource, content)), rules.problems(
        resource, content
    )


def test_the_rules_allow_what_the_schema_leaves_open() -> None:
    minimal = {
        "ReadingType": {},  # every element of a ReadingType is optional
        "IntervalReading": {},
        "IntervalBlock": {},
        "MeterReading": {},
        "UsageSummary": {"statusTimeStamp": "1700000000"},
        "ElectricPowerUsageSummary": {"statusTimeStamp": "1700000000"},
        "UsagePoint": {"ServiceDeliveryPoint": {"name": "1"}},  # the ESPI 1.x spelling
    }
    for resource, content in minimal.items():
        assert rules.problems(resource, content) == [], resource
    unnamed = {"flowDirection": "1001", "powerOfTenMultiplier": "-7", "uom": "999"}
    assert rules.problems("ReadingType", unnamed) == []  # open code lists
    assert not rules.named("UnitSymbolKind", "999") and rules.named("UnitSymbolKind", "169")


# -- what the sandbox serves ---------------------------------------------------------------


@pytest.mark.parametrize("variant", VALID)
def test_every_variant_serves_only_what_the_schema_allows(variant: str) -> None:
    with _sandbox(variant) as sandbox:
        entries = _served_entries(sandbox)
    served = {entry["resource"] for entry in entries}
    assert served >= {"UsagePoint", "MeterReading", "ReadingType", "IntervalBlock"}
    found = [p for e in entries for p in rules.problems(e["resource"], e["content"])]
    assert found == []


def test_the_faulty_variant_serves_exactly_its_faults() -> None:
    with _sandbox("faulty") as sandbox:
        entries = _served_entries(sandbox)
    found = {
        p.split(" is ")[0].split("[")[0] + (" (order)" if "out of the schema's order" in p else "")
        for e in entries
        for p in rules.problems(e["resource"], e["content"])
    }
    reading_type = {f"ReadingType.{name} (order)" for name in ("timeAttribute", "phase", "kind")}
    assert found >= reading_type  # elements out of order: portal reads them all the same
    assert found - {f for f in found if f.startswith("ReadingType.")} == {
        "IntervalBlock.IntervalReading",
        "UsageSummary.currency",
    }


def test_what_the_sync_received_over_the_socket_is_valid(
    synced: tuple[Portal, UtilitySandbox],
) -> None:
    portal, sandbox = synced
    checked = 0
    for stream, item in _raw_items(portal):
        parts: list[tuple[str, Any]] = []
        if stream == "usage_points":
            parts = [("UsagePoint", item["UsagePoint"]["content"])]
            if item["LocalTimeParameters"]:
                parts.append(("LocalTimeParameters", item["LocalTimeParameters"]["content"]))
        elif stream.startswith("readings:"):
            parts = [
                ("ReadingType", item["ReadingType"]),
                ("IntervalReading", item["IntervalReading"]),
            ]
        elif stream == "usage_summaries":
            entry = item["UsageSummary"]
            parts = [(entry["resource"], entry["content"])]
        for resource, content in parts:
            checked += 1
            found = rules.problems(resource, content, ordered=False)  # JSON kept no order
            if sandbox.utility.variant.faulty:
                found = [p for p in found if "IntervalReading.value" not in p]
                found = [p for p in found if "UsageSummary.currency" not in p]
            assert found == [], (stream, found)
    assert checked > 1000


# -- what portal stores --------------------------------------------------------------------


def test_each_variant_stores_every_reading_as_served(
    synced: tuple[Portal, UtilitySandbox],
) -> None:
    portal, sandbox = synced
    truth = sandbox.ground_truth()
    rejected = portal.store.rejections("utility")
    usage = {row["provider_id"]: row for row in portal.store.rows(Usage, "utility")}
    assert len(usage) + sandbox.truth_rejections.get("usage", 0) == len(truth["usage"])
    for served in truth["usage"]:
        key = f"{served['usage_point']}:{served['usage_point']}:{served['start']}"
        if key not in usage:
            assert sandbox.truth_rejections, key
            continue
        row = usage[key]
        factor, unit = UNITS[served["uom"]]
        assert row["unit"] == unit
        assert (
            row["quantity"] == Decimal(served["value"]).scaleb(int(served["multiplier"])) * factor
        )
        assert row["duration_seconds"] == served["duration"]
        assert int(row["started_at"].timestamp()) == served["start"]
        assert row["quality"] == (served["quality"] or "0")
        assert row["quality_label"]  # an unnamed code still gets words
        assert row["meter_id"] in ("1900018742138", "7405213906")  # either delivery point name
        if served["cost"] is None:
            assert row["charge"] is None
        elif "currency" in row["extra"]["reading_type"]:
            assert (row["charge"], row["currency"]) == (Decimal(served["cost"]).scaleb(-5), "GBP")
        else:  # no currency to give it: kept as served, saying why
            assert row["charge"] is None and row["extra"]["cost"] == served["cost"]
    assert len(rejected) == sum(sandbox.truth_rejections.values())


def test_each_variant_stores_its_bills_with_london_dates_and_a_total(
    synced: tuple[Portal, UtilitySandbox],
) -> None:
    portal, sandbox = synced
    truth = {b["id"]: b for b in sandbox.ground_truth()["bills"]}
    bills = {row["bill_number"]: row for row in portal.store.rows(Bill, "utility")}
    if sandbox.utility.variant.faulty:
        assert bills == {}
        return
    assert bills.keys() == truth.keys() and len(bills) == 2
    for number, bill in bills.items():
        served = truth[number]["content"]
        # The first billing period runs from 15 October to 14 November, London time, with or
        # without LocalTimeParameters.
        assert (bill["period_start"], bill["period_end"]) == (
            date(2025, 10, 15),
            date(2025, 11, 14),
        )
        assert bill["currency"] == "GBP"
        # A consumption in a unit portal does not record leaves the bill whole, kept as served.
        recorded = served["overallConsumptionLastPeriod"]["uom"] in UNITS
        assert (bill["extra"]["consumption"] is not None) == recorded
        assert bool(bill["extra"].get("unread_measurements")) == (not recorded)
        lines = sum((Decimal(line["amount"]) for line in bill["lines"]), Decimal(0))
        unpriced = [x for x in served["costAdditionalDetailLastPeriod"] if "amount" not in x]
        assert bill["extra"].get("unpriced_lines", []) == unpriced  # kept, not as a charge
        if "billLastPeriod" in served:
            assert bill["total"] == Decimal(served["billLastPeriod"]).scaleb(-5) == lines
            assert "total_derived" not in bill["extra"]
        else:  # ESPI leaves billLastPeriod optional: the total is the lines', and says so
            assert bill["total"] == lines > 0
            assert "billLastPeriod" in bill["extra"]["total_derived"]


def test_faults_the_schema_forbids_are_rejected_each_with_its_reason(
    synced: tuple[Portal, UtilitySandbox],
) -> None:
    portal, sandbox = synced
    rejections = portal.store.rejections("utility")
    if sandbox.utility.variant.unrecorded:  # valid, but no unit portal records: said so
        assert len(rejections) == sandbox.truth_rejections["usage"] > 30
        assert {r["reason"] for r in rejections} == {
            "unit of measure 38 (Watts (real power)) is not a consumption portal records;"
            " expected one of 72 (Watt-hours (real energy)), 42 (Cubic metres), 119 (Cubic"
            " feet), 169 (Therms)"
        }
        return
    if not sandbox.utility.variant.faulty:
        assert rejections == []
        return
    by_stream: dict[str, list[str]] = {}
    for rejection in rejections:
        stream = "usage" if rejection["stream"].startswith("readings:") else rejection["stream"]
        by_stream.setdefault(stream, []).append(rejection["reason"])
    expected = sandbox.truth_rejections
    assert {k: len(v) for k, v in by_stream.items()} == {
        "usage": expected["usage"],
        "usage_summaries": expected["bills"],
    }
    assert all("is not an ESPI integer reading" in reason for reason in by_stream["usage"])
    assert all("'GBP' is not an ISO 4217 numeric" in r for r in by_stream["usage_summaries"])


def test_unnamed_codes_are_kept_with_words_saying_so(tmp_path: Path) -> None:
    with _sandbox("codes") as sandbox, _synced(tmp_path / "home", sandbox) as portal:
        usage = list(portal.store.rows(Usage, "utility"))
        [bill, _] = sorted(portal.store.rows(Bill, "utility"), key=lambda b: b["bill_number"])
    labels = {(row["quality"], row["quality_label"]) for row in usage}
    assert ("1009", "Reading quality 1009 (no label known)") in labels
    electricity = next(row for row in usage if row["unit"] == "kWh")
    assert electricity["extra"]["flow_direction_label"] == "Direction 1001 (no label known)"
    assert electricity["extra"]["reading_type"]["extension"]  # the schema's extension, kept
    tax = next(line for line in bill["lines"] if line["category_code"] == "1005")
    assert tax["category_label"] == "Charge 1005 (no label known)"


def test_readings_without_a_time_period_get_the_ids_they_have_with_one(tmp_path: Path) -> None:
    """ESPI places a reading with no timePeriod by its order in the block: its id is the same."""
    ids = {}
    for variant in ("standard", "units"):
        with _sandbox(variant) as sandbox, _synced(tmp_path / variant, sandbox) as portal:
            ids[variant] = {row["provider_id"]: row["id"] for row in portal.store.rows(Usage)}
    assert ids["units"] == ids["standard"] and len(ids["units"]) > 1000
