"""The customer record refuses values a person could not trust."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from portal.record import ENTITIES, Transaction, portal_id, titles


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
