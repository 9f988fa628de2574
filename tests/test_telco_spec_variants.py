"""The telco's generated answers, and what one of them showed: bills of a contract that names
no billing account.

The generator (``portal_telco.spec_variants``) is the telco's ``Specification``: it must keep
every item valid by the TM Forum documents' rules (``portal_telco.rules``) and change it in
every place the variant allows. The collections are the sandbox's, exactly as served.
"""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import synced_once
from portal.record import Bill
from portal.record.tables import Rejection
from portal.specvariants import (
    EMPTY_ARRAYS,
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_FIELDS,
    declared_specification,
)
from portal_telco import rules
from portal_telco.plugin import PROVIDER
from portal_telco.sandbox import TelcoSandbox
from portal_telco.spec_variants import COLLECTIONS, SPECIFICATION, UNKNOWN_FIELD

TRUTH_KEYS = {
    "Customer": "customer",
    "Product": "products",
    "CustomerBill": "bills",
    "AppliedCustomerBillingRate": "applied_rates",
    "PartyPrivacyProfile": "privacy_profiles",
    "Usage": "usage",
}
Visit = Callable[[str, dict[str, Any], bool], None]


@pytest.fixture(scope="module")
def served() -> dict[str, list[Any]]:
    """Each collection the generator varies, by path, as the sandbox serves it."""
    with TelcoSandbox() as sandbox:
        truth = sandbox.ground_truth()
    return {path: truth[TRUTH_KEYS[kind]] for path, kind in COLLECTIONS.items()}


def _varied(variant: str, path: str, items: list[Any]) -> tuple[list[Any], int]:
    body = json.dumps(items).encode()
    varied = SPECIFICATION.vary(variant, path, "application/json", body)
    assert varied is not None, path
    assert SPECIFICATION.problems(path, "application/json", varied.body) == []
    return json.loads(varied.body), varied.changes


def _walk(kind: str, value: Any, visit: Visit, top: bool = True) -> None:
    """Call ``visit(definition, object, is_an_item)`` for every object the rules describe."""
    if kind.startswith("[") and isinstance(value, list):
        for element in value:
            _walk(kind[1:-1], element, visit, top=False)
    elif kind in rules.DEFINITIONS and isinstance(value, dict):
        visit(kind, value, top)
        properties, _ = rules.DEFINITIONS[kind]
        for name, inner in value.items():
            if name in properties:
                _walk(properties[name], inner, visit, top=False)


def _every(served: dict[str, list[Any]], variant: str, visit: Visit) -> int:
    changes = 0
    for path, items in served.items():
        varied, n = _varied(variant, path, items)
        assert len(varied) == len(items)
        changes += n
        for item in varied:
            _walk(COLLECTIONS[path], item, visit)
    return changes


def test_the_telco_declares_the_tm_forum_documents() -> None:
    assert declared_specification(PROVIDER) is SPECIFICATION
    assert "TMF678" in SPECIFICATION.source


def test_optional_absent_keeps_only_what_is_required_and_each_items_id(
    served: dict[str, list[Any]],
) -> None:
    left: list[str] = []

    def visit(kind: str, value: dict[str, Any], item: bool) -> None:
        properties, required = rules.DEFINITIONS[kind]
        kept = required | ({"id"} if item else set())
        left.extend(f"{kind}.{k}" for k in value if k in properties and k not in kept)

    assert _every(served, OPTIONAL_ABSENT, visit) > 1000
    assert left == []


def test_empty_arrays_serves_every_array_empty(served: dict[str, list[Any]]) -> None:
    filled: list[str] = []

    def visit(kind: str, value: dict[str, Any], item: bool) -> None:
        properties, _ = rules.DEFINITIONS[kind]
        filled.extend(k for k, v in value.items() if properties.get(k, "").startswith("[") and v)

    assert _every(served, EMPTY_ARRAYS, visit) > 10
    assert filled == []


def test_unknown_fields_adds_a_property_to_every_object(served: dict[str, list[Any]]) -> None:
    objects: list[bool] = []
    changes = _every(served, UNKNOWN_FIELDS, lambda k, v, i: objects.append(UNKNOWN_FIELD in v))
    assert changes == len(objects) > 100 and all(objects)


def test_other_currency_changes_every_currency(served: dict[str, list[Any]]) -> None:
    def units(variant: str | None) -> list[str]:
        found: list[str] = []

        def visit(kind: str, value: dict[str, Any], item: bool) -> None:
            if kind == "Money" and "unit" in value:
                found.append(value["unit"])

        for path, items in served.items():
            for item in _varied(variant, path, items)[0] if variant else items:
                _walk(COLLECTIONS[path], item, visit)
        return found

    before, after = units(None), units(OTHER_CURRENCY)
    assert len(before) == len(after) > 10
    assert all(a != b for a, b in zip(before, after, strict=True))


def _no_billing_accounts(path: str, content_type: str, body: bytes) -> bytes:
    if not path.endswith("/productInventory/v4/product"):
        return body
    return json.dumps(
        [{k: v for k, v in p.items() if k != "billingAccount"} for p in json.loads(body)]
    ).encode()


@pytest.fixture
def unlinked(tmp_path: Path) -> Iterator[tuple[TelcoSandbox, Any]]:
    with TelcoSandbox() as sandbox:
        sandbox.rewrite_answers(_no_billing_accounts)
        with synced_once(tmp_path / "home", sandbox, "telco") as portal:
            yield sandbox, portal


def test_bills_of_contracts_naming_no_billing_account_arrive_and_are_refused_saying_why(
    unlinked: tuple[TelcoSandbox, Any],
) -> None:
    sandbox, portal = unlinked
    assert list(portal.store.rows(Bill, "telco")) == []
    table = Rejection.__table__  # type: ignore[attr-defined]
    with portal.store.engine.connect() as db:
        rows = db.execute(select(table.c.stream, table.c.reason).where(table.c.provider == "telco"))
        refused = [reason for stream, reason in rows if stream.startswith("bills")]
    assert len(refused) == len(sandbox.ground_truth()["bills"]) > 0
    assert set(refused) == {"a bill arrived on a stream that names no contract"}
