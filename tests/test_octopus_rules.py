"""Octopus Energy's written-down rules: the reference's examples and the sandbox obey them,
and the plugin copes with every shape they allow (optional fields absent, nulls, unknown
codes, empty lists, negative prices, long periods)."""

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portal.errors import SkippableError
from portal.record import Account, Product, Unit, Usage
from portal_octopus import labels, mapping, rules
from portal_octopus.dataset import OctopusHome
from portal_octopus.expected import truth

DATA = Path(__file__).parent / "data" / "octopus"


def _fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def ref(entity: type, provider_id: str) -> str:
    return f"{entity.__name__}:{provider_id}"


def normalised(account: dict[str, Any]) -> list[Any]:
    """The account answer taken apart as fetch does, each item normalised."""
    return [
        entity
        for stream, items in mapping.take_apart(account)
        for item in items
        for entity in mapping.NORMALISERS[stream](item, ref)
    ]


# -- the rules hold for what the reference shows and what the sandbox serves -------------


def test_the_references_examples_obey_the_rules() -> None:
    assert list(rules.violations(_fixture("account.json"), rules.ACCOUNT)) == []
    assert (
        list(rules.violations(_fixture("consumption.json"), rules.page_of(rules.CONSUMPTION))) == []
    )
    page = _fixture("standard-unit-rates.json")
    assert list(rules.violations(page, rules.page_of(rules.CHARGE))) == []


def test_the_rules_catch_what_the_reference_forbids() -> None:
    account = _fixture("account.json")
    point = account["properties"][0]["electricity_meter_points"][0]
    del point["mpan"]
    point["agreements"][0]["valid_from"] = "17/12/2020"
    point["agreements"][1]["tariff_code"] = "electricity please"
    account["properties"][0]["gas_meter_points"][0]["meters"][0]["serial_number"] = None
    account["number"] = "12345"
    found = list(rules.violations(account, rules.ACCOUNT))
    assert found == [
        "number: '12345' is not of the form A-[0-9A-Z]{8}",
        "properties[0].electricity_meter_points[0].mpan: required, missing",
        "properties[0].electricity_meter_points[0].agreements[0].valid_from: not a datetime",
        "properties[0].electricity_meter_points[0].agreements[1].tariff_code:"
        " 'electricity please' is not of the form " + rules.TARIFF_CODE.pattern,
        "properties[0].gas_meter_points[0].meters[0].serial_number: may not be null",
    ]
    page = _fixture("consumption.json")
    page["results"][0]["consumption"] = "0.187"
    page["results"][1]["interval_end"] = "2026-05-25T23:00:00"  # no offset
    assert list(rules.violations(page, rules.page_of(rules.CONSUMPTION))) == [
        "results[0].consumption: not a number",
        "results[1].interval_end: not a datetime",
    ]


@pytest.mark.parametrize("variant", ["standard", "sparse"])
def test_everything_the_sandbox_holds_obeys_the_rules(variant: str) -> None:
    home = OctopusHome(days=5, variant=variant)
    assert list(rules.violations(home.account(), rules.ACCOUNT)) == []
    for meter in home.meters:
        page = {
            "count": len(meter.readings),
            "next": None,
            "previous": None,
            "results": meter.readings,
        }
        assert list(rules.consumption_violations(page)) == []
    for tariff in home.tariffs.values():
        assert rules.tariff_parts(tariff.code) is not None
        for charge, items in tariff.charges.items():
            assert charge in rules.CHARGES[tariff.fuel]
            page = {"count": len(items), "next": None, "previous": None, "results": items}
            assert list(rules.violations(page, rules.page_of(rules.CHARGE))) == []
    served = truth(home)
    assert {k: len(v) for k, v in served.items()} == {
        "accounts": 5,
        # Agreements; Flexible's 3 rates and standing charge, gas Flexible's 2 and 1; Agile's
        # 240 half-hourly prices and standing charge; Agile Outgoing's 140 (it began later).
        "products": 4 + (3 + 1) + (2 + 1) + (240 + 1) + (140 + 1),
        "usage": 240 + 140 + 140,
    }


# -- the plugin copes with what the rules allow -----------------------------------------


def test_the_sparse_variant_leaves_out_every_optional_field_and_the_faulty_one_breaks_three_rules() -> (
    None
):
    sparse = OctopusHome(days=5, variant="sparse")
    prop = sparse.account()["properties"][0]
    optional = {("property", r.name) for r in rules.PROPERTY if not r.required} | {
        ("electricity", r.name) for r in rules.ELECTRICITY_POINT if not r.required
    }
    assert ("property", "address_line_3") in optional and ("property", "county") in optional
    assert "address_line_3" not in prop and "county" not in prop
    importing, exporting = prop["electricity_meter_points"]
    assert "is_export" not in importing and exporting["is_export"] is True
    assert not {"profile_class", "consumption_standard"} & set(importing)
    assert all("registers" not in m for m in importing["meters"])
    charges = [c for t in sparse.tariffs.values() for items in t.charges.values() for c in items]
    assert charges and all("payment_method" not in c for c in charges)
    faulty = OctopusHome(days=5, variant="faulty")
    gas = faulty.meters[2].readings
    page = {"count": len(gas), "next": None, "previous": None, "results": gas}
    assert [v.split(":")[0] for v in rules.consumption_violations(page)] == [
        "results[0].consumption",
        "results[1].consumption",
        "results[2]",
    ]
    assert faulty.spoiled() == gas[:3] and sparse.spoiled() == []


def test_the_reference_account_example_becomes_the_account_its_home_points_and_tariffs() -> None:
    entities = normalised(_fixture("account.json"))
    accounts = [e for e in entities if isinstance(e, Account)]
    products = [e for e in entities if isinstance(e, Product)]
    assert [a.provider_id for a in accounts] == [
        "A-AAAA1111",
        "property:1234567",
        "electricity:1000000000000",
        "gas:1234567890",
    ]
    assert accounts[1].name == "10 Example Street, LONDON W1 1AA"
    assert accounts[1].state == "active"
    assert [i.identification for i in accounts[2].identifiers] == [
        "1000000000000",
        "1111111111",
        "2222222222",
    ]
    assert len(products) == 6
    last = products[2]
    assert last.name == "Flexible Octopus"
    assert last.description == (
        "Tariff E-1R-VAR-22-11-01-N: product VAR-22-11-01, single-rate meter,"
        " Southern Scotland region"
    )
    assert str(last.valid_from) == "2023-04-01" and last.valid_to is None
    assert str(products[1].valid_to) == "2023-03-31"  # ends at midnight: its last day before
    assert last.account_id == "Account:electricity:1000000000000"


def test_optional_fields_absent_nulls_and_empty_lists_are_kept_as_they_come() -> None:
    account = _fixture("account.json")
    prop = account["properties"][0]
    for key in ("address_line_2", "address_line_3", "county"):
        del prop[key]
    prop["moved_in_at"] = None
    prop["moved_out_at"] = "2024-01-31T12:00:00Z"
    point = prop["electricity_meter_points"][0]
    for key in ("profile_class", "consumption_standard", "is_export"):
        del point[key]
    del point["meters"][0]["registers"]
    prop["gas_meter_points"] = []
    entities = normalised(account)
    home = entities[1]
    assert isinstance(home, Account)
    assert (home.state, home.status_label, home.opened_on) == ("closed", "Moved out", None)
    assert home.extra["moved_out_at"] == "2024-01-31T12:00:00Z"
    assert [e.provider_id for e in entities if isinstance(e, Account)][2:] == [
        "electricity:1000000000000"
    ]
    assert mapping.account({"number": "A-AAAA1111", "properties": []}, ref)[0].name == (
        "Octopus Energy account A-AAAA1111"
    )


def test_unknown_codes_are_named_as_unknown_never_dropped() -> None:
    account = _fixture("account.json")
    agreements = account["properties"][0]["electricity_meter_points"][0]["agreements"]
    agreements[0]["tariff_code"] = "E-2R-SPACESHIP-30-01-01-Q"  # a product and region portal lacks
    agreements[1]["tariff_code"] = "EXPORT-SOMETHING-NEW"  # a code of a form portal cannot read
    agreements[2]["shiny_new_field"] = {"nested": 1}
    products = [e for e in normalised(account) if isinstance(e, Product)]
    assert products[0].name == "Octopus product SPACESHIP-30-01-01"
    assert "day and night (Economy 7) meter" in (products[0].description or "")
    assert "region Q (not known to portal)" in (products[0].description or "")
    assert products[1].name == "Tariff EXPORT-SOMETHING-NEW"
    assert products[2].extra["shiny_new_field"] == {"nested": 1}
    rate = {
        "value_exc_vat": 20,
        "value_inc_vat": 21,
        "valid_from": "2026-01-01T00:00:00Z",
        "valid_to": None,
        "payment_method": "PAID_IN_SEASHELLS",
        "tariff": {
            "code": "E-1R-VAR-22-11-01-N",
            "charge": "day-unit-rates",
            "point": "electricity:1",
        },
    }
    [product] = mapping.charge(rate, ref)
    assert isinstance(product, Product)
    assert (
        product.extra["payment_method_label"]
        == "payment method PAID_IN_SEASHELLS (not known to portal)"
    )
    assert product.product_type == "day_unit_rate" and product.valid_to is None


def test_charges_are_exact_pounds_per_kwh_or_per_day_even_negative() -> None:
    page = _fixture("standard-unit-rates.json")
    context = {
        "code": "E-1R-AGILE-24-10-01-C",
        "charge": "standard-unit-rates",
        "point": "electricity:1",
    }
    products = [mapping.charge({**r, "tariff": context}, ref)[0] for r in page["results"]]
    assert all(isinstance(p, Product) for p in products)
    negative = products[3]
    assert isinstance(negative, Product)
    assert [(p.amount, p.unit, p.currency) for p in negative.prices] == [
        (Decimal("-0.028571"), Unit.kWh, "GBP"),
        (Decimal("-0.030"), Unit.kWh, "GBP"),
    ]
    assert negative.name == "Agile Octopus unit rate"
    standing = mapping.charge(
        {**page["results"][0], "tariff": {**context, "charge": "standing-charges"}}, ref
    )[0]
    assert isinstance(standing, Product)
    assert [(p.unit, p.period) for p in standing.prices] == [(Unit.day, "daily")] * 2
    assert str(standing.valid_from) == str(standing.valid_to) == "2026-05-25"


def test_consumption_in_kwh_for_electricity_and_m3_for_gas() -> None:
    result = _fixture("consumption.json")["results"][0]
    meter = {
        "fuel": "electricity",
        "point": "2000012345678",
        "serial_number": "12L",
        "is_export": True,
    }
    [usage] = mapping.consumption({**result, "meter": meter}, ref)
    assert isinstance(usage, Usage)
    assert (usage.kind, usage.unit, usage.quantity, usage.duration_seconds) == (
        "energy_export",
        Unit.kWh,
        Decimal("0.187"),
        1800,
    )
    assert usage.started_at.isoformat() == "2026-05-25T22:30:00+01:00"
    gas = {"fuel": "gas", "point": "1234567890", "serial_number": "G1", "is_export": False}
    # A longer interval (group_by), an integer and no offset (London time) are all allowed.
    [used] = mapping.consumption(
        {
            "consumption": 3,
            "interval_start": "2026-01-01T00:00:00",
            "interval_end": "2026-01-02T00:00:00",
            "meter": gas,
        },
        ref,
    )
    assert isinstance(used, Usage)
    assert (used.unit, used.quantity, used.duration_seconds) == (Unit.m3, Decimal(3), 86400)
    assert used.started_at.utcoffset() is not None


@pytest.mark.parametrize(
    "broken",
    [
        {"consumption": None},
        {"consumption": "lots"},
        {"interval_end": "2026-05-25T22:00:00+01:00"},  # ends before it starts
        {"interval_start": None},
    ],
)
def test_a_consumption_result_that_breaks_the_rules_is_rejected_with_a_reason(
    broken: dict[str, Any],
) -> None:
    result = {**_fixture("consumption.json")["results"][0], **broken}
    meter = {"fuel": "electricity", "point": "1", "serial_number": "S", "is_export": False}
    with pytest.raises(SkippableError):
        mapping.consumption({**result, "meter": meter}, ref)


def test_every_product_family_and_region_has_words() -> None:
    assert labels.product_name("AGILE-OUTGOING-19-05-13") == "Agile Outgoing Octopus"
    assert labels.product_name("AGILE-24-10-01") == "Agile Octopus"
    assert labels.product_name("OUTGOING-FIX-12M-19-05-13") == "Outgoing Octopus Fixed"
    assert labels.product_name("VAR-22-11-01") == "Flexible Octopus"
    assert labels.product_name("GOLD-1") == "Octopus product GOLD-1"
    assert set(labels.REGIONS) == set("ABCDEFGHJKLMNP")
    assert set(rules.CHARGES["electricity"]) == set(labels.CHARGES)


def test_mapping_never_changes_the_item_it_reads() -> None:
    account = _fixture("account.json")
    kept = copy.deepcopy(account)
    normalised(account)
    assert account == kept
