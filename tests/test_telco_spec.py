"""The telco plugin against TMF678, TMF637, TMF644, TMF629 and TMF635: Demo Telecom's bills,
products, privacy profiles, customer and usage are valid, and whatever those documents allow a
telco to serve, portal stores, through the real path (sandbox on a socket, real OAuth, a real
SQLite file). The documents' rules are ``portal_telco.rules``."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import synced_once
from portal.app import Portal
from portal.record import Account, Bill, Consent, Inference, Party, Product, Usage
from portal_telco import labels, rules
from portal_telco.sandbox import TelcoSandbox
from portal_telco.variants import VARIANTS

VALID = [name for name, variant in VARIANTS.items() if variant.name != "faulty"]
PARTY = {"id": "CUS-1", "@referredType": "Individual"}


@contextmanager
def _synced_once(sandbox: TelcoSandbox, home: Path) -> Iterator[Portal]:
    """``sandbox`` synced once through OAuth into a store of its own, under ``home``."""
    with sandbox, synced_once(home, sandbox, "telco") as portal:
        yield portal


@pytest.fixture(scope="module", params=list(VARIANTS))
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Portal, TelcoSandbox]]:
    """Each variant of Demo Telecom, synced once through OAuth into a store of its own."""
    sandbox = TelcoSandbox(variant=request.param)
    with _synced_once(sandbox, tmp_path_factory.mktemp(request.param) / "home") as portal:
        yield portal, sandbox


def _derived_id(served: dict[str, Any], contracts: dict[str, str]) -> str:
    """A bill without an id is its contract's bill for its period, written here."""
    period = served["billingPeriod"]
    contract = contracts[served["billingAccount"]["id"]]
    return f"{contract}:{period['startDateTime']}:{period['endDateTime']}"


def _money(value: dict[str, Any]) -> Decimal:
    return Decimal(repr(value["value"]))


@pytest.mark.parametrize(
    ("definition", "value", "problem"),
    [
        ("CustomerBill", {"state": "overdue"}, "CustomerBill.state is 'overdue', not one of"),
        ("CustomerBill", {"billDate": "26/05/2026"}, "CustomerBill.billDate is '26/05/2026'"),
        ("CustomerBill", {"billDate": "2026-05-26T06:00:00"}, "CustomerBill.billDate is"),
        ("CustomerBill", {"amountDue": {"value": "18.00"}}, "CustomerBill.amountDue.value is"),
        ("CustomerBill", {"billingAccount": {"name": "x"}}, "CustomerBill.billingAccount.id is"),
        ("CustomerBill", {"taxItem": {"taxRate": 20}}, "CustomerBill.taxItem is"),
        ("AppliedCustomerBillingRate", {}, "AppliedCustomerBillingRate.id is required"),
        ("Product", {"status": "gone"}, "Product.status is 'gone', not one of"),
        ("Product", {"relatedParty": [{"id": "1"}]}, "Product.relatedParty[0].@referredType"),
        (
            "AppliedCustomerBillingRate",
            {"id": "1", "characteristic": [{"name": "quantity"}]},
            "AppliedCustomerBillingRate.characteristic[0].value is required",
        ),
        ("PartyPrivacyProfile", {}, "PartyPrivacyProfile.agreedByParty is required"),
        (
            "PartyPrivacyProfile",
            {"agreedByParty": {"id": "CUS-1"}},
            "PartyPrivacyProfile.agreedByParty.@referredType is required",
        ),
        (
            "PartyPrivacyProfile",
            {"agreedByParty": PARTY, "partyPrivacyProfileCharacteristic": [{"value": True}]},
            "PartyPrivacyProfile.partyPrivacyProfileCharacteristic[0].name is required",
        ),
        (
            "PartyPrivacyProfile",
            {"agreedByParty": PARTY, "validFor": {"startDateTime": "14/08/2019"}},
            "PartyPrivacyProfile.validFor.startDateTime is '14/08/2019', not a date-time",
        ),
        ("Customer", {"name": "Ann"}, "Customer.engagedParty is required"),
        (
            "Customer",
            {"engagedParty": PARTY, "contactMedium": [{"mediumType": "email"}]},
            "Customer.contactMedium[0].characteristic is required",
        ),
        (
            "Customer",
            {"engagedParty": PARTY, "creditProfile": [{"creditScore": 812.5}]},
            "Customer.creditProfile[0].creditProfileDate is required",
        ),
        (
            "Customer",
            {"engagedParty": PARTY, "creditProfile": [{"creditScore": 812.5}]},
            "Customer.creditProfile[0].creditScore is 812.5, not a integer",
        ),
        (
            "Customer",
            {"engagedParty": PARTY, "account": [{"id": "BA-1"}]},
            "Customer.account[0].name",
        ),
        ("Usage", {"status": "pending"}, "Usage.status is 'pending', not one of"),
        ("Usage", {"usageDate": "25/04/2026 06:29"}, "Usage.usageDate is '25/04/2026 06:29'"),
        ("Usage", {"usageCharacteristic": [{"value": 3}]}, "Usage.usageCharacteristic[0].name"),
        ("Usage", {"usageCharacteristic": [{"name": "duration"}]}, "Usage.usageCharacteristic"),
        (
            "Usage",
            {"ratedProductUsage": [{"productRef": {"name": "Mobile"}}]},
            "Usage.ratedProductUsage[0].productRef.id is required",
        ),
        (
            "Usage",
            {"ratedProductUsage": [{"taxRate": "20"}]},
            "Usage.ratedProductUsage[0].taxRate is '20', not a number",
        ),
        ("Usage", {"relatedParty": [{"id": "CUS-1"}]}, "Usage.relatedParty[0].@referredType"),
        ("Usage", {"usageSpecification": {"name": "x"}}, "Usage.usageSpecification.id"),
    ],
)
def test_the_rules_name_what_the_documents_forbid(
    definition: str, value: Any, problem: str
) -> None:
    found = rules.problems(definition, value)
    assert any(p.startswith(problem) for p in found), found


def test_the_rules_allow_what_the_documents_leave_open() -> None:
    assert rules.problems("CustomerBill", {}) == []  # nothing of a bill is required
    assert rules.problems("Product", {"status": "active"}) == []  # nor of a product, its name
    assert rules.problems("AppliedCustomerBillingRate", {"id": "1"}) == []
    subclass = {"@type": "DemoBill", "@baseType": "CustomerBill", "points": 12, "relatedParty": []}
    assert rules.problems("CustomerBill", subclass) == []
    assert rules.problems("CustomerBill", {"amountDue": {"unit": "JPY", "value": 1200}}) == []
    # A privacy profile needs only who agreed; purposes and statuses are free text.
    assert rules.problems("PartyPrivacyProfile", {"agreedByParty": PARTY}) == []
    trait = {"name": "email", "value": False, "privacyUsagePurpose": "RESEARCH"}
    profile = {
        "agreedByParty": PARTY,
        "status": "agreed",
        "partyPrivacyProfileCharacteristic": [trait],
    }
    assert rules.problems("PartyPrivacyProfile", profile) == []
    # A customer needs only its engaged party; a contact medium's type is free text.
    medium = {"mediumType": "whatsapp", "characteristic": {}}
    assert rules.problems("Customer", {"engagedParty": PARTY, "contactMedium": [medium]}) == []
    # Nothing of a usage is required; its type is free text, its status one of seven words.
    assert rules.problems("Usage", {}) == []
    rated = {"productRef": {"id": "PRD-1"}, "taxIncludedRatingAmount": {"unit": "JPY", "value": 3}}
    usage = {"usageType": "fax", "status": "rerated", "ratedProductUsage": [rated]}
    assert rules.problems("Usage", {**usage, "@type": "MyUsage", "networkGeneration": "5G"}) == []


def _served_problems(truth: dict[str, list[dict[str, Any]]]) -> list[str]:
    found = [p for b in truth["bills"] for p in rules.problems("CustomerBill", b)]
    rates = truth["applied_rates"]
    found += [p for r in rates for p in rules.problems("AppliedCustomerBillingRate", r)]
    found += [p for product in truth["products"] for p in rules.problems("Product", product)]
    profiles = truth["privacy_profiles"]
    found += [p for pp in profiles for p in rules.problems("PartyPrivacyProfile", pp)]
    found += [p for u in truth["usage"] for p in rules.problems("Usage", u)]
    return found + [p for c in truth["customer"] for p in rules.problems("Customer", c)]


@pytest.mark.parametrize("variant", VALID)
def test_every_variant_serves_only_what_the_documents_allow(variant: str) -> None:
    truth = TelcoSandbox(variant=variant).ground_truth()
    assert _served_problems(truth) == []
    assert len(truth["bills"]) == 11 and len(truth["applied_rates"]) > 11
    assert len(truth["privacy_profiles"]) == 7
    assert len(truth["usage"]) > 1000


def test_the_faulty_variant_serves_exactly_its_faults() -> None:
    truth = TelcoSandbox(variant="faulty").ground_truth()
    assert _served_problems(truth) == [
        "CustomerBill.billDate is '26/05/2026', not a date-time",
        "PartyPrivacyProfile.validFor.startDateTime is '14/08/2019', not a date-time",
        "Usage.usageDate is '25/04/2026 06:29', not a date-time",
    ]


def test_each_variant_stores_every_bill_as_served(synced: tuple[Portal, TelcoSandbox]) -> None:
    portal, sandbox = synced
    truth = sandbox.ground_truth()
    bills = {row["provider_id"]: row for row in portal.store.rows(Bill, "telco")}
    rejected = sandbox.truth_rejections.get("bills", 0)
    assert len(bills) == len(truth["bills"]) - rejected
    contracts = {p["billingAccount"]["id"]: p["id"] for p in truth["accounts"]}
    for served in truth["bills"]:
        provider_id = served.get("id") or _derived_id(served, contracts)
        if provider_id not in bills:
            assert rejected, provider_id
            continue
        row = bills[provider_id]
        assert ("id_derived" in row["extra"]) == ("id" not in served)
        # Charges are asked for by bill id: a bill without one comes without them.
        rates = [r for r in truth["applied_rates"] if r["bill"]["id"] == served.get("id")]
        lines = sum((Decimal(line["amount"]) for line in row["lines"]), Decimal(0))
        assert len(row["lines"]) == len(rates)
        if "taxIncludedAmount" in served:
            assert row["total"] == _money(served["taxIncludedAmount"])
            assert lines == (row["total"] if rates else 0)
            assert row["currency"] == served["taxIncludedAmount"]["unit"]
            assert "total_from" not in row["extra"]
        else:  # the total is its lines', each its tax-excluded amount plus its tax
            expected = sum(
                (
                    _money(r["taxExcludedAmount"]) + _money(r["appliedTax"][0]["taxAmount"])
                    for r in rates
                ),
                Decimal(0),
            )
            assert row["total"] == lines == expected and row["extra"]["total_from"]
        period_end = datetime.fromisoformat(served["billingPeriod"]["endDateTime"]).date()
        issued = served.get("billDate")
        assert row["issued_on"] == (datetime.fromisoformat(issued).date() if issued else period_end)
        assert row["status"] == served.get("state", "not_stated") and row["status_label"]
        for key in ("@type", "@baseType", "@schemaLocation", "loyaltyPointsEarned"):
            assert row["extra"].get(key) == served.get(key)  # kept as served


def test_what_the_documents_forbid_is_rejected_with_its_reason(
    synced: tuple[Portal, TelcoSandbox],
) -> None:
    portal, sandbox = synced
    reasons = sorted(r["reason"] for r in portal.store.rejections("telco"))
    if not sandbox.truth_rejections:
        assert reasons == []
        return
    assert sandbox.truth_rejections == {"bills": 1, "consents": 1, "usage": 1}
    [bill, profile, usage] = reasons
    assert "billDate '26/05/2026' is not an RFC 3339 date-time" in bill
    assert "PPP-0001 validFor.startDateTime '14/08/2019' is not an RFC 3339" in profile
    assert "usage USG-0000001 usageDate '25/04/2026 06:29' is not an RFC 3339" in usage


def test_each_variant_stores_every_product_with_a_name(
    synced: tuple[Portal, TelcoSandbox],
) -> None:
    portal, sandbox = synced
    truth = sandbox.ground_truth()
    products = {row["provider_id"]: row for row in portal.store.rows(Product, "telco")}
    accounts = {row["provider_id"]: row for row in portal.store.rows(Account, "telco")}
    assert products.keys() == {p["id"] for p in truth["products"]}
    assert accounts.keys() == {p["id"] for p in truth["accounts"]}
    for served in truth["products"]:
        # TMF637 leaves a product's name optional: then its offering's, or its specification's.
        offering, spec = served.get("productOffering", {}), served["productSpecification"]
        named = served.get("name") or spec["name"]
        assert products[served["id"]]["name"] == (offering.get("name") or named)
        if served["id"] in accounts:
            assert accounts[served["id"]]["name"] == named
        assert products[served["id"]]["extra"].get("@type") == served.get("@type")


def _consent_id(served: dict[str, Any], trait: dict[str, Any]) -> str:
    """A permission's id: its profile's and its channel; without a profile id, written here."""
    channel = trait.get("name")
    if "id" in served:
        return f"{served['id']}:{channel}" if channel else str(served["id"])
    purpose = trait.get("privacyUsagePurpose") or "-"
    return f"{served['agreedByParty']['id']}:{purpose}:{channel or '-'}"


def test_each_variant_stores_every_permission_as_served(
    synced: tuple[Portal, TelcoSandbox],
) -> None:
    portal, sandbox = synced
    served_profiles = sandbox.ground_truth()["privacy_profiles"]
    consents = {row["provider_id"]: row for row in portal.store.rows(Consent, "telco")}
    rejected = sandbox.truth_rejections.get("consents", 0)
    assert len(consents) == len(served_profiles) - rejected
    kinds = {
        "MARKETING": "marketing",
        "THIRD_PARTY_SHARING": "data_sharing",
        "PROFILING": "profiling",
    }
    for served in served_profiles:
        # TMF644 asks for no characteristic: then the profile is one permission.
        [trait] = served.get("partyPrivacyProfileCharacteristic") or [{}]
        provider_id = _consent_id(served, trait)
        if provider_id not in consents:
            assert rejected, provider_id
            continue
        row = consents[provider_id]
        assert ("id_derived" in row["extra"]) == ("id" not in served)
        assert row["channel"] == trait.get("name")
        assert bool(row["channel_label"]) == ("name" in trait)
        # TMF644 leaves the status optional: then the characteristic's value says it.
        status = served.get("status") or trait.get("value") or "not_stated"
        assert row["status"] == status and row["status_label"]
        purpose = trait.get("privacyUsagePurpose")
        assert row["kind"] == kinds.get(purpose or "", "other")
        if purpose and purpose not in kinds:  # a purpose of the telco's own, kept in its words
            assert purpose in row["kind_label"]
        named = served.get("description") or served.get("name")
        assert row["purpose"] == (named or row["kind_label"])
        start = (served.get("validFor") or {}).get("startDateTime")
        granted = None if status == "refused" or not start else datetime.fromisoformat(start)
        assert row["granted_at"] == granted
        for key in ("@type", "@baseType", "@schemaLocation", "consentSource"):
            assert row["extra"].get(key) == served.get(key)  # kept as served
        # lastUpdate is the telco's own: a date-time is used, anything else kept as served.
        updated = served.get("lastUpdate")
        if updated and "T" in updated:
            assert row["status_updated_at"] == datetime.fromisoformat(updated)
            assert "lastUpdate" not in row["extra"]
        else:
            assert row["status_updated_at"] is None
            assert row["extra"].get("lastUpdate") == updated
        if trait:
            assert row["extra"]["characteristic"].get("valueType") == trait.get("valueType")


_MAPPED_MEDIA = {"email": "email", "mobile": "mobile", "telephone": "phone"}
_ADDRESS = "postalAddress"


def test_each_variant_stores_the_customer_as_served(synced: tuple[Portal, TelcoSandbox]) -> None:
    portal, sandbox = synced
    [served] = sandbox.ground_truth()["customer"]
    [row] = portal.store.rows(Party, "telco")
    engaged = served["engagedParty"]
    # TMF629 leaves a customer's id optional: then its engaged party, which it requires, names it.
    assert row["provider_id"] == served.get("id", f"engagedParty:{engaged['id']}")
    assert ("id_derived" in row["extra"]) == ("id" not in served)
    assert row["full_name"] == (served.get("name") or engaged["name"])
    media = served["contactMedium"]
    for kind, column in _MAPPED_MEDIA.items():
        [medium] = [m for m in media if m["mediumType"] == kind]
        assert row[column] == medium["characteristic"].get(
            "emailAddress" if kind == "email" else "phoneNumber"
        )
    assert len(row["addresses"]) == len([m for m in media if m["mediumType"] == _ADDRESS])
    # A contact medium of a type portal has no column for is kept whole, as served.
    for medium in media:
        if medium["mediumType"] not in (*_MAPPED_MEDIA, _ADDRESS):
            assert medium in row["extra"]["contactMedium"]
    for key in ("@type", "@baseType", "@schemaLocation", "loyaltyTier", "status"):
        assert row["extra"].get(key) == served.get(key)  # kept as served
    inferences = {r["provider_id"]: r for r in portal.store.rows(Inference, "telco")}
    for profile in served["creditProfile"]:
        found = inferences[f"{row['provider_id']}:creditProfile:{profile['creditProfileDate']}"]
        assert str(profile["creditScore"]) in found["value"] and "None" not in found["value"]
        assert ("risk rating" in found["value"]) == ("creditRiskRating" in profile)


def test_shapes_the_documents_forbid_are_rejected_saying_where(tmp_path: Path) -> None:
    # Objects and arrays served as something else, a characteristic without its name and a
    # credit profile without a date-time: each item is refused naming what and where, and
    # the rest is stored; nothing fails inside the plugin.
    sandbox = TelcoSandbox()
    profiles, customer = sandbox.telco.privacy_profiles, sandbox.telco.customer
    profiles[0]["validFor"] = "2019-08-14"
    profiles[1]["partyPrivacyProfileCharacteristic"] = ["email"]
    profiles[2]["partyPrivacyProfileCharacteristic"] = [{"value": "refused"}]
    customer["creditProfile"][0]["creditProfileDate"] = "08/03/2025"
    with _synced_once(sandbox, tmp_path / "home") as portal:
        reasons = sorted(r["reason"] for r in portal.store.rejections("telco"))
        stored = len(list(portal.store.rows(Consent, "telco")))
    assert stored == len(profiles) - 3
    expected = [
        "customer CUS-5519204 creditProfileDate '08/03/2025' is not an RFC 3339 date-time",
        "privacy profile PPP-0001 validFor is '2019-08-14', not an object as TMF644 requires",
        "privacy profile PPP-0002 characteristic 1 is 'email', not an object as TMF644 requires",
        "privacy profile PPP-0003 characteristic 1 has no name, which TMF644 requires",
    ]
    assert len(reasons) == len(expected), reasons
    for wanted in expected:
        assert any(wanted in reason for reason in reasons), (wanted, reasons)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (
            "contactMedium",
            {"mediumType": "email"},
            "customer CUS-5519204 contactMedium is {'mediumType': 'email'}, not an array of"
            " objects as TMF629 requires",
        ),
        (
            "engagedParty",
            "IND-88341",
            "customer CUS-5519204 engagedParty is 'IND-88341', not an object as TMF629 requires",
        ),
    ],
)
def test_a_customer_shaped_as_tmf629_forbids_is_rejected_saying_where(
    tmp_path: Path, field: str, value: Any, reason: str
) -> None:
    sandbox = TelcoSandbox()
    sandbox.telco.customer[field] = value
    with _synced_once(sandbox, tmp_path / "home") as portal:
        [rejected] = [r["reason"] for r in portal.store.rejections("telco")]
        assert list(portal.store.rows(Party, "telco")) == []
    assert reason in rejected


def _usage_id(served: dict[str, Any]) -> str:
    """A usage's id; without one, its product's, date and type, written here."""
    product = served["ratedProductUsage"][0]["productRef"]["id"]
    return served.get("id") or f"{product}:{served['usageDate']}:{served['usageType']}"


def test_each_variant_stores_every_usage_as_served(synced: tuple[Portal, TelcoSandbox]) -> None:
    portal, sandbox = synced
    served_usage = sandbox.ground_truth()["usage"]
    rows = {row["provider_id"]: row for row in portal.store.rows(Usage, "telco")}
    rejected = sandbox.truth_rejections.get("usage", 0)
    assert len(rows) == len(served_usage) - rejected
    for served in served_usage:
        if _usage_id(served) not in rows:
            assert rejected, _usage_id(served)
            continue
        row = rows[_usage_id(served)]
        assert ("id_derived" in row["extra"]) == ("id" not in served)
        assert row["started_at"] == datetime.fromisoformat(served["usageDate"])
        usage_type = served["usageType"]
        # A type of the telco's own (TMF635 leaves it free text) is kept in its own words.
        assert row["kind"] == labels.USAGE_KINDS.get(usage_type, "other")
        if usage_type not in labels.USAGE_KINDS:
            assert usage_type in row["kind_label"] and row["extra"]["usageType"] == usage_type
        traits = {t["name"]: t["value"] for t in served["usageCharacteristic"]}
        if usage_type == "data":
            assert row["quantity"] * 1_000_000 == traits["dataVolume"] and row["unit"] == "MB"
        elif usage_type == "voice":
            assert row["quantity"] == traits["duration"] and row["unit"] == "second"
        else:
            assert row["quantity"] == 1 and row["unit"] in ("message", "item")
        [rated] = served["ratedProductUsage"]
        assert row["charge"] == _money(rated["taxIncludedRatingAmount"])
        assert row["currency"] == rated["taxIncludedRatingAmount"]["unit"]
        assert row["roaming"] == traits["roaming"]
        for key in ("status", "@type", "@baseType", "@schemaLocation", "networkGeneration"):
            assert row["extra"].get(key) == served.get(key)  # kept as served
        assert [r.get("@type") for r in row["extra"]["ratedProductUsage"]] == [rated.get("@type")]


def test_usage_the_document_allows_without_date_type_or_measure_is_stored(
    tmp_path: Path,
) -> None:
    # TMF635 requires nothing of a usage: without usageDate it happened when it was rated;
    # without usageType or characteristics it is a usage of no stated kind, counted once;
    # rated in two currencies, it has no one charge, and each rating keeps its own.
    sandbox = TelcoSandbox()
    usage = sandbox.telco.usage
    undated, untyped, bare, twice = usage[0], usage[1], usage[2], usage[3]
    del undated["usageDate"]
    del untyped["usageType"]
    del bare["usageCharacteristic"]
    in_euros = {"unit": "EUR", "value": 0.12}
    twice["ratedProductUsage"].append(
        {**twice["ratedProductUsage"][0], "taxIncludedRatingAmount": in_euros}
    )
    with _synced_once(sandbox, tmp_path / "home") as portal:
        rows = {row["provider_id"]: row for row in portal.store.rows(Usage, "telco")}
        assert list(portal.store.rejections("telco")) == []
    assert len(rows) == len(usage)
    row = rows[undated["id"]]
    rating_date = undated["ratedProductUsage"][0]["ratingDate"]
    assert row["started_at"] == datetime.fromisoformat(rating_date)
    assert row["extra"]["started_at_from"]
    row = rows[untyped["id"]]
    assert row["kind"] == "other" and "type optional" in row["kind_label"]
    assert "usageType" not in row["extra"]
    row = rows[bare["id"]]
    assert row["quantity"] == 1 and row["direction"] is None and row["roaming"] is None
    row = rows[twice["id"]]
    assert row["charge"] is None and row["currency"] is None
    amounts = [r["taxIncludedRatingAmount"] for r in row["extra"]["ratedProductUsage"]]
    assert amounts == [r["taxIncludedRatingAmount"] for r in twice["ratedProductUsage"]]


def test_usage_shaped_as_tmf635_forbids_is_rejected_saying_where(tmp_path: Path) -> None:
    sandbox = TelcoSandbox()
    usage = sandbox.telco.usage
    usage[0]["usageCharacteristic"] = "voice"
    usage[1]["usageCharacteristic"][0] = {"value": "+447700900123"}
    usage[2]["ratedProductUsage"][0]["productRef"] = "PRD-7704-1123"
    usage[3]["ratedProductUsage"][0]["ratingDate"] = "yesterday"
    usage[4]["usageType"] = 3
    with _synced_once(sandbox, tmp_path / "home") as portal:
        reasons = sorted(r["reason"] for r in portal.store.rejections("telco"))
        stored = len(list(portal.store.rows(Usage, "telco")))
    assert stored == len(usage) - 5
    expected = [
        "usage USG-0000001 usageCharacteristic is 'voice', not an array of objects as TMF635",
        "usage USG-0000002 usageCharacteristic 1 has no name, which TMF635 requires",
        "usage USG-0000003 productRef is 'PRD-7704-1123', not an object as TMF635 requires",
        "usage USG-0000004 ratingDate 'yesterday' is not an RFC 3339 date-time",
        "usage USG-0000005 usageType is 3, not text as TMF635 requires",
    ]
    assert len(reasons) == len(expected), reasons
    for wanted, reason in zip(expected, reasons, strict=True):
        assert wanted in reason, (wanted, reasons)
