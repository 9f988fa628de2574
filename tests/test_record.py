"""The customer record refuses values a person could not trust."""

import json
import random
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from portal.batch import Batch, RawPayload
from portal.export import export
from portal.record import (
    CATEGORY_LABELS,
    ENTITIES,
    STATE_LABELS,
    UNIT_LABELS,
    Account,
    Balance,
    Bill,
    Category,
    Consent,
    Document,
    Entity,
    Inference,
    Origin,
    Party,
    Payee,
    Processing,
    Product,
    Purchase,
    RecurringPayment,
    State,
    Transaction,
    Unit,
    Usage,
    nested_titles,
    portal_id,
    titles,
)
from portal.record.tables import TABLES
from portal.record.vocab import state_of
from portal.store import Store, sqlite_url


def _transaction(**overrides: object) -> Transaction:
    values: dict[str, object] = dict(
        provider_id="t1",
        account_id="a1",
        booked_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        amount="-12.30",
        currency="gbp",
        status="Booked",
        status_label="Booked",
        description="Café Nero",
    )
    values.update(overrides)
    return Transaction(**values)


def test_money_is_an_exact_decimal_and_currency_is_normalised() -> None:
    t = _transaction()
    assert t.amount == Decimal("-12.30") and str(t.amount) == "-12.30"
    assert t.currency == "GBP"


def test_currency_and_country_codes_are_exactly_pycountrys() -> None:
    # The codes are read from pycountry's data file rather than through its lookups.
    import pycountry

    from portal.record.types import _country, _currency

    currencies = {c.alpha_3 for c in pycountry.currencies}
    countries = {c.alpha_2 for c in pycountry.countries}
    assert len(currencies) > 150 and len(countries) > 240
    assert all(_currency(code.lower()) == code for code in currencies)
    assert all(_country(f" {code.lower()} ") == code for code in countries)
    for code in ("XXY", "GBX", "POINTS"):
        with pytest.raises(ValueError, match="ISO 4217"):
            _currency(code)
    for code in ("UK", "XX", "GBR"):
        with pytest.raises(ValueError, match="ISO 3166"):
            _country(code)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount", 12.3, "never a float"),
        ("amount", "12,30", "not a decimal amount"),
        ("amount", "NaN", "finite"),
        ("currency", "GBX", "ISO 4217"),
        ("booked_at", datetime(2026, 1, 2), "timezone"),  # noqa: DTZ001 - the point of the test
        ("description", "Caf\u00c3\u00a9", "mojibake"),
        ("description", "bad\x07bell", "control characters"),
    ],
)
def test_illegible_values_are_refused_naming_the_field(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _transaction(**{field: value})
    assert field in str(error.value)
    assert message in str(error.value)


def test_every_field_of_every_entity_has_a_title_and_description() -> None:
    for entity in ENTITIES:
        for name, (title, description) in titles(entity).items():
            assert (title and title != name) or name in {"id"}, (
                f"{entity.__name__}.{name} has no title"
            )
            assert description, f"{entity.__name__}.{name} has no description"


def test_portal_ids_are_stable_and_distinct() -> None:
    assert portal_id("bank", "transactions", "t1") == portal_id("bank", "transactions", "t1")
    assert portal_id("bank", "transactions", "t1") != portal_id("bank", "accounts", "t1")
    assert portal_id("bank", "transactions", "t1") != portal_id("other", "transactions", "t1")


def test_a_portal_id_is_exactly_the_uuid5_of_provider_category_and_provider_id() -> None:
    # Every store's ids are these: a faster way of making them must not change one.
    import uuid

    namespace = uuid.UUID("6f1d3c52-9a47-4c1e-8f0b-7f3f0c2b9e11")
    rng = random.Random(20261202)
    alphabet = "abcXYZ019-_/ é€😀"
    for _ in range(5_000):
        provider_id = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        expected = str(uuid.uuid5(namespace, f"bank\x1ftransactions\x1f{provider_id}"))
        assert portal_id("bank", "transactions", provider_id) == expected, provider_id


# -- the whole record: every entity, from construction to the store to an export --------------

WHEN = datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC)
DIGEST = "a" * 64


def _samples() -> dict[type[Entity], dict[str, object]]:
    """One valid set of values per entity, with exact amounts that floats would damage."""
    line = {
        "description": "Oat milk 1L",
        "sku": "OAT-1L",
        "quantity": "2",
        "unit": "item",
        "unit_price": "1.45",
        "amount": "2.90",
        "points_earned": "3",
    }
    return {
        Party: {"full_name": "Ada Lovelace"},
        Account: {"name": "Loyalty", "account_type": "loyalty", "account_type_label": "Loyalty"},
        Product: {
            "name": "Green Fixed 24",
            "product_type": "tariff",
            "product_type_label": "Energy tariff",
            "prices": [
                {"label": "Unit rate", "amount": "0.24513", "currency": "GBP", "unit": "kWh"},
                {"label": "Standing charge", "amount": "0.6012", "currency": "GBP", "unit": "day"},
            ],
            "valid_from": date(2026, 1, 1),
        },
        Balance: {
            "account_id": "a1",
            "amount": "1234.10",
            "currency": "GBP",
            "balance_type": "InterimBooked",
            "balance_type_label": "Interim booked",
            "as_of": WHEN,
        },
        Transaction: {
            "account_id": "a1",
            "booked_at": WHEN,
            "amount": "-0.10",
            "currency": "GBP",
            "status": "Booked",
            "status_label": "Booked",
            "description": "Café",
        },
        Purchase: {
            "kind": "order",
            "kind_label": "Online order",
            "order_number": "W100",
            "purchased_at": WHEN,
            "channel": "online",
            "channel_label": "Online",
            "status": "delivered",
            "status_label": "Delivered",
            "total": "2.90",
            "currency": "GBP",
            "lines": [line],
            "points_earned": "3",
            "points_spent": "0",
        },
        Bill: {
            "account_id": "a1",
            "bill_number": "B1",
            "issued_on": date(2026, 2, 1),
            "period_start": date(2026, 1, 1),
            "period_end": date(2026, 1, 31),
            "total": "84.30",
            "currency": "GBP",
            "status": "paid",
            "status_label": "Paid",
            "lines": [
                {"description": "Energy", "amount": "80.30", "quantity": "327.6", "unit": "kWh"},
                {"description": "VAT", "amount": "4.00"},
            ],
        },
        Usage: {
            "account_id": "a1",
            "kind": "energy",
            "kind_label": "Electricity",
            "started_at": WHEN,
            "duration_seconds": 1800,
            "quantity": "0.137",
            "unit": "kWh",
            "quality": "estimated",
            "quality_label": "Estimated",
            "country": "gb",
            "charge": "0.03",
            "currency": "GBP",
        },
        RecurringPayment: {
            "account_id": "a1",
            "kind": "direct_debit",
            "kind_label": "Direct debit",
            "payee": "Octopus Energy",
            "amount": "84.30",
            "currency": "GBP",
            "status": "active",
            "status_label": "Active",
            "next_payment_on": date(2026, 4, 1),
        },
        Consent: {
            "kind": "marketing",
            "kind_label": "Marketing",
            "purpose": "Offers by email",
            "status": "withdrawn",
            "status_label": "Withdrawn",
        },
        Processing: {
            "purpose": "Personalised offers",
            "purpose_code": "marketing",
            "legal_basis": "consent",
            "legal_basis_label": "Your consent",
            "data_categories": ["purchases", "inferences"],
            "recipients": [{"name": "Mailer Ltd", "kind": "processor", "country": "us"}],
            "third_country_safeguards": "Standard contractual clauses",
            "retention": "2 years after your last purchase",
            "source": "Your purchases",
            "automated_decision": False,
        },
        Inference: {
            "name": "Price sensitivity",
            "kind": "score",
            "kind_label": "Score",
            "value": "High",
            "score": "0.8125",
            "derived_at": WHEN,
        },
        Document: {
            "kind": "statement",
            "kind_label": "Statement",
            "title": "March statement",
            "issued_on": date(2026, 3, 31),
            "content_type": "application/pdf",
            "digest": DIGEST,
            "size_bytes": 48213,
        },
        Payee: {
            "account_id": "a1",
            "name": "Harbour Lettings Ltd",
            "kind": "Trusted",
            "kind_label": "Trusted payee",
            "reference": "RENT FLAT 3",
            "identifiers": [
                {
                    "scheme": "UK.OBIE.SortCodeAccountNumber",
                    "scheme_label": "Sort code and account number",
                    "identification": "20325812345678",
                    "name": "HARBOUR LETTINGS LTD",
                }
            ],
        },
    }


def _build(entity: type[Entity], **overrides: object) -> Entity:
    values = {"provider_id": f"{entity.__name__}-1", **_samples()[entity], **overrides}
    return entity(**values)


def test_every_entity_has_a_sample_and_a_category_of_its_own() -> None:
    assert set(_samples()) == set(ENTITIES)
    assert len({e.category for e in ENTITIES}) == len(ENTITIES) == len(Category)
    assert set(CATEGORY_LABELS) == set(Category)
    assert set(UNIT_LABELS) == set(Unit)
    for entity in ENTITIES:
        assert TABLES[entity].__tablename__ == entity.category.value  # type: ignore[attr-defined]


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.__name__)
def test_every_entity_validates_its_sample(entity: type[Entity]) -> None:
    record = _build(entity)
    assert record.provider_id == f"{entity.__name__}-1"


# Each entity refuses a float amount or quantity, a naive timestamp and a bad code, naming
# the field (nested fields by their path, e.g. lines.0.amount).
REFUSALS = [
    (Product, "prices", [{"label": "Rate", "amount": 0.245, "currency": "GBP"}], "never a float"),
    (Product, "prices", [{"label": "Rate", "amount": "0.245", "currency": "XXY"}], "ISO 4217"),
    (Product, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Balance, "amount", 12.5, "never a float"),
    (Balance, "currency", "POINTS", "ISO 4217"),
    (Balance, "as_of", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Purchase, "total", 2.9, "never a float"),
    (Purchase, "points_earned", 3.0, "never a float"),
    (Purchase, "currency", "EUROS", "ISO 4217"),
    (Purchase, "purchased_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (
        Purchase,
        "lines",
        [{"description": "x", "quantity": "1", "unit": "item", "amount": 1.1}],
        "never a float",
    ),
    (
        Purchase,
        "lines",
        [{"description": "x", "quantity": "1", "unit": "bushel", "amount": "1"}],
        "lines.0.unit",
    ),
    (Bill, "total", 84.3, "never a float"),
    (Bill, "currency", "gbpx", "ISO 4217"),
    (Bill, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Bill, "lines", [{"description": "x", "amount": 1.5}], "lines.0.amount"),
    (Usage, "quantity", 0.137, "never a float"),
    (Usage, "charge", 0.03, "never a float"),
    (Usage, "currency", "ZZZ", "ISO 4217"),
    (Usage, "started_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Usage, "country", "UK", "ISO 3166"),
    (Usage, "unit", "furlong", "unit"),
    (RecurringPayment, "amount", 84.3, "never a float"),
    (RecurringPayment, "currency", "STERLING", "ISO 4217"),
    (RecurringPayment, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Processing, "recipients", [{"name": "X", "country": "Narnia"}], "ISO 3166"),
    (Processing, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Processing, "purpose", "Caf\u00c3\u00a9 offers", "mojibake"),
    (Inference, "score", 0.8125, "never a float"),
    (Inference, "derived_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Document, "digest", "not-a-digest", "SHA-256"),
    (Document, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
    (Payee, "name", "Harbour\x07 Lettings", "control characters"),
    (Transaction, "state", "Booked", "'booked'"),  # the provider's code, not portal's word
    (Consent, "state", "revoked", "'withdrawn'"),
    (Payee, "fetched_at", datetime(2026, 1, 1), "timezone"),  # noqa: DTZ001
]


@pytest.mark.parametrize(
    ("entity", "field", "value", "message"),
    REFUSALS,
    ids=[f"{e.__name__}.{f}:{m}" for e, f, _, m in REFUSALS],
)
def test_every_entity_refuses_illegible_values_naming_the_field(
    entity: type[Entity], field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _build(entity, **{field: value})
    assert field in str(error.value)
    assert message in str(error.value)


def test_a_balance_is_money_or_points_never_both_nor_neither() -> None:
    points = _build(Balance, currency=None, unit="point", amount="1250")
    assert points.unit == Unit.point and points.currency is None  # type: ignore[attr-defined]
    for currency, unit in (("GBP", "point"), (None, None)):
        with pytest.raises(ValidationError, match="exactly one of currency"):
            _build(Balance, currency=currency, unit=unit)


def test_an_inference_is_inferred_unless_said_otherwise() -> None:
    assert _build(Inference).origin == Origin.inferred
    assert _build(Purchase).origin == Origin.observed


def _stamped(entity: type[Entity]) -> Entity:
    record = _build(entity)
    record.id = portal_id("shop", entity.category, record.provider_id)
    record.provider, record.connection_id, record.raw_id = "shop", "c1", f"raw-{entity.__name__}"
    record.fetched_at = WHEN
    return record


@pytest.fixture
def full_store(tmp_path: Path) -> Store:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    records = [_stamped(e) for e in ENTITIES]
    raws = [RawPayload(r.raw_id, "all", "{}") for r in records]
    store.commit(Batch("shop", "c1", "all", WHEN, records, raws))
    return store


def _texts(value: object) -> object:
    # A Decimal compared by its digits, so that a float on the way (0.1 becoming
    # 0.1000000000000000055) shows; in one spelling, since the store keeps a money column's
    # value and not its scale (84.30 comes back 84.3; exports write it to the minor unit).
    if isinstance(value, Decimal):
        return f"Decimal:{value.normalize()}"
    if isinstance(value, dict):
        return {k: _texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_texts(v) for v in value]
    return value


@pytest.mark.parametrize("entity", ENTITIES, ids=lambda e: e.__name__)
def test_every_entity_round_trips_exactly_through_sqlite(
    entity: type[Entity], full_store: Store
) -> None:
    rows = list(full_store.rows(entity))
    assert len(rows) == 1
    back = entity.model_validate(rows[0])
    assert _texts(back.model_dump()) == _texts(_stamped(entity).model_dump())
    assert full_store.counts()["shop"][entity.category.value] == 1


def test_exact_values_survive_on_disk(full_store: Store) -> None:
    (price, _), (purchase,), (usage,), (inference,) = (
        next(full_store.rows(Product))["prices"],
        [Purchase.model_validate(r) for r in full_store.rows(Purchase)],
        list(full_store.rows(Usage)),
        list(full_store.rows(Inference)),
    )
    assert price["amount"] == "0.24513"  # JSON keeps the decimal as text, never a float
    assert str(purchase.lines[0].unit_price) == "1.45"  # type: ignore[attr-defined]
    assert str(usage["quantity"]) == "0.137" and usage["started_at"] == WHEN
    assert str(inference["score"]) == "0.8125" and inference["origin"] == "inferred"


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_every_entity_exports_with_titles(fmt: str, full_store: Store, tmp_path: Path) -> None:
    manifest = export(full_store, tmp_path / "out", fmt)
    for entity in ENTITIES:
        name = f"{entity.category.value}.{fmt}"
        info = manifest["files"][name]
        assert info["records"] == 1, name
        assert set(info["fields"]) == set(entity.model_fields)
        assert all(f["title"] and f["description"] for f in info["fields"].values())
        assert (tmp_path / "out" / name).exists()
    lines = manifest["files"][f"purchases.{fmt}"]["fields"]["lines"]["parts"]
    assert lines["unit_price"]["title"] == "Unit price"
    recipients = manifest["files"][f"processing.{fmt}"]["fields"]["recipients"]["parts"]
    assert recipients["safeguard"]["description"]
    if fmt == "jsonl":
        row = json.loads((tmp_path / "out" / "products.jsonl").read_text())
        assert row["prices"][0]["amount"] == "0.24513"


def test_every_value_object_field_has_a_title_and_description() -> None:
    for entity in ENTITIES:
        for name, parts in nested_titles(entity).items():
            for part, (title, description) in parts.items():
                assert title and title != part and description, f"{entity.__name__}.{name}.{part}"


def test_categories_are_labelled_in_the_order_the_record_reads() -> None:
    assert list(CATEGORY_LABELS) == [e.category for e in ENTITIES]


def _payload(rng: random.Random, depth: int = 0) -> object:
    """A random JSON-like value: text beyond ASCII and control characters, integers at
    and past 64 bits, floats, nested lists and objects."""
    alphabet = [chr(c) for c in range(0x80)] + ["é", "€", "😀", "\u2028", "\ufeff", "中"]
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.choice(
            [0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, 10**30, rng.randrange(10**9)]
        )
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return rng.choice([1.5, 1e16, 1e-7, 0.1, -0.0, 123456789.125, float("inf")])
    if kind == 4:
        return "plain"
    if kind == 5:
        return [_payload(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        "".join(rng.choice(alphabet) for _ in range(rng.randrange(6))): _payload(rng, depth + 1)
        for _ in range(rng.randrange(5))
    }


def test_canonical_json_is_exactly_the_text_raw_ids_have_always_digested() -> None:
    # Raw ids are digests of this text: a faster writer must never change a byte of it.
    from portal.record.ids import canonical_json

    def reference(payload: object) -> str:
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    rng = random.Random(20261123)
    payloads = [_payload(rng) for _ in range(20_000)]
    payloads += [{"b": 1, "a": [{"y": '\x00\x1f"\\', "x": 2**64}]}, {1: "int key"}, "\ud800"]
    payloads += [1.5, [1, [2, [3.0]]], {"a": {"b": [{"c": 1e16}]}}, 7, None, [], {}]
    for payload in payloads:
        assert canonical_json(payload) == reference(payload), payload


def test_rest_keeps_what_a_mapping_did_not_use_under_its_own_path() -> None:
    from portal.record.extra import rest

    item = {
        "id": "1",
        "price": {"amount": "2.00", "taxRate": "20"},
        "lines": [{"amount": "1", "unit": "p"}, {"amount": "1"}],
        "terms": [{"name": "x"}],
        "empty": {},
    }
    used = ["id", "price.amount", "lines[].amount", "terms[].name"]
    assert rest(item, used) == {
        "price": {"taxRate": "20"},
        "lines": [{"unit": "p"}, {}],
        "empty": {},
    }


# -- states: portal's common vocabulary beside each provider's own status code ---------------


def test_every_state_of_the_common_vocabulary_has_words() -> None:
    assert set(STATE_LABELS) == set(State)
    assert all(words.strip() and words != state.value for state, words in STATE_LABELS.items())


def test_a_record_keeps_the_providers_code_and_says_its_state_in_portals_words() -> None:
    pending = _transaction(status="PDNG", status_label="Pending", state="pending")
    assert (pending.status, pending.state) == ("PDNG", State.pending)
    assert _transaction().state is None  # not said: the conformance suite fails it


def _status_tables() -> list[tuple[str, dict[str, str], dict[str, State]]]:
    from portal_bank import labels as bank
    from portal_retailer import labels as retailer
    from portal_telco import labels as telco
    from portal_utility import labels as utility

    return [
        ("bank accounts", bank.ACCOUNT_STATUSES, bank.ACCOUNT_STATES),
        ("bank transactions", bank.TRANSACTION_STATUSES, bank.TRANSACTION_STATES),
        ("bank consents", bank.CONSENT_STATUSES, bank.CONSENT_STATES),
        ("bank marketing", bank.PREFERENCE_STATUSES, bank.PREFERENCE_STATES),
        ("bank direct debits", bank.DIRECT_DEBIT_STATUSES, bank.ARRANGEMENT_STATES),
        ("bank standing orders", bank.STANDING_ORDER_STATUSES, bank.ARRANGEMENT_STATES),
        ("retailer purchases", retailer.STATUSES, retailer.STATES),
        ("retailer membership", retailer.MEMBERSHIP_STATUSES, retailer.MEMBERSHIP_STATES),
        ("retailer marketing", retailer.CONSENT_STATUSES, retailer.CONSENT_STATES),
        ("telco products", telco.PRODUCT_STATUSES, telco.PRODUCT_STATES),
        ("telco bills", telco.BILL_STATES, telco.BILL_STATE_MEANINGS),
        ("telco permissions", telco.PERMISSION_STATUSES, telco.PERMISSION_STATES),
        ("utility authorizations", utility.AUTHORIZATION_STATUSES, utility.AUTHORIZATION_STATES),
        ("utility supply points", utility.USAGE_POINT_STATUSES, utility.USAGE_POINT_STATES),
        ("utility agreements", utility.AGREEMENT_STATUSES, utility.AGREEMENT_STATES),
    ]


def test_every_status_code_a_first_party_plugin_knows_means_a_state_not_unknown() -> None:
    for what, labelled, states in _status_tables():
        assert set(labelled) <= set(states), f"{what}: {set(labelled) - set(states)}"
        assert State.unknown not in states.values(), what


def test_a_status_code_no_table_knows_is_deliberately_unknown() -> None:
    assert state_of({"Booked": State.booked}, "Booked") is State.booked
    assert state_of({"Booked": State.booked}, "Settled") is State.unknown
    assert state_of({"Booked": State.booked}, None) is State.unknown


@pytest.mark.parametrize(
    ("amount", "currency", "written"),
    [
        ("84.3", "GBP", "84.30"),
        ("-1", "EUR", "-1.00"),
        ("1500", "JPY", "1500"),
        ("2.5", "BHD", "2.500"),
        ("1.005", "GBP", "1.005"),  # never rounded: the digit beyond pence is kept
        ("1E+100", "GBP", "1E+100"),
        ("7", None, "7"),
    ],
)
def test_money_is_written_to_its_currencys_minor_unit_and_never_rounded(
    amount: str, currency: str | None, written: str
) -> None:
    from portal.record.types import in_minor_units

    assert str(in_minor_units(Decimal(amount), currency)) == written


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", "1234567890.123456"), ("balance_after", "0.1000000000000000055")],
)
def test_money_the_store_could_not_keep_exactly_is_refused_naming_the_field(
    field: str, value: str
) -> None:
    with pytest.raises(ValidationError) as error:
        _transaction(**{field: value})
    assert field in str(error.value) and "more significant digits" in str(error.value)


@pytest.mark.parametrize(
    "value", ["123456789012345", "9223372036854775807", "1234567890123456789.000", "1E-9", "0"]
)
def test_money_of_up_to_15_digits_or_whole_within_64_bits_is_kept(value: str) -> None:
    assert _transaction(amount=value).amount == Decimal(value)
