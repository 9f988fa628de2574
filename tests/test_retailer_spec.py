"""The retailer plugin against schema.org's Order: Demo Mart's purchases keep their documented
shape, and whatever an Order may leave out, portal still stores, through the real path (sandbox
on a socket, real OAuth, a real SQLite file). The rules are ``portal_retailer.rules``."""

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from conftest import synced_once
from portal.app import Portal
from portal.record import Purchase
from portal_retailer import rules
from portal_retailer.sandbox import RetailerSandbox
from portal_retailer.variants import VARIANTS

VALID = [name for name, variant in VARIANTS.items() if not variant.rejected]
KINDS = {"online": "order", "in_store": "receipt"}


@pytest.fixture(scope="module", params=list(VARIANTS))
def synced(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Portal, RetailerSandbox]]:
    """Each variant of Demo Mart, synced once through OAuth into a store of its own."""
    home = tmp_path_factory.mktemp(request.param) / "home"
    with (
        RetailerSandbox(variant=request.param) as shop,
        synced_once(home, shop, "retailer") as portal,
    ):
        yield portal, shop


def _kind(served: dict[str, Any]) -> str:
    return "return" if "returned_at" in served else "order"


def _expected_id(served: dict[str, Any]) -> str:
    """The id a purchase served without one gets: its kind, number and date, written here."""
    if "id" in served:
        return str(served["id"])
    kind = "return" if "returned_at" in served else KINDS[served["type"]]
    return f"{kind}:{served['number']}:{served.get('placed_at') or served['returned_at']}"


@pytest.mark.parametrize(
    ("kind", "item", "problem"),
    [
        ("order", {"total": "12,50"}, "order.total is '12,50', not a decimal"),
        ("order", {"type": "web"}, "order.type is 'web', not a order type"),
        ("order", {"currency": "POUNDS"}, "order.currency is 'POUNDS', not a currency"),
        ("order", {"placed_at": "2025-04-12T14:27:00"}, "order.placed_at is"),
        ("order", {"lines": [{"points": 2.5}]}, "order.lines[0].points is 2.5, not a whole"),
        ("return", {"channel": "courier"}, "return.channel is 'courier'"),
        (
            "order",
            {"total": "3.00", "lines": [{"amount": "1.00"}, {"amount": "1.50"}]},
            "order.total 3.00 is not the sum of its lines",
        ),
    ],
)
def test_the_rules_name_what_the_documents_forbid(
    kind: str, item: dict[str, Any], problem: str
) -> None:
    found = rules.problems(kind, item)
    assert any(p.startswith(problem) for p in found), found


def test_the_rules_allow_what_schema_org_leaves_open() -> None:
    assert rules.problems("order", {}) == []  # schema.org requires nothing of an Order
    assert rules.problems("order", {"lines": [{"description": "Milk", "amount": "1.55"}]}) == []
    assert set(rules.ORDER_STATUSES.values()) <= {
        "OrderCancelled", "OrderDelivered", "OrderInTransit", "OrderPaymentDue",
        "OrderPickupAvailable", "OrderProblem", "OrderProcessing", "OrderReturned",
    }  # fmt: skip


@pytest.mark.parametrize("variant", VALID)
def test_every_variant_serves_only_what_the_documents_allow(variant: str) -> None:
    purchases = RetailerSandbox(variant=variant).ground_truth()["purchases"]
    assert [p for item in purchases for p in rules.problems(_kind(item), item)] == []
    assert len(purchases) == 64


def test_each_variant_stores_every_purchase_as_served(
    synced: tuple[Portal, RetailerSandbox],
) -> None:
    portal, shop = synced
    served = {_expected_id(p): p for p in shop.ground_truth()["purchases"]}
    stored = {row["provider_id"]: row for row in portal.store.rows(Purchase, "retailer")}
    rejected = shop.truth_rejections.get("purchases", 0)
    assert len(stored) == len(served) - rejected and set(stored) <= set(served)
    for provider_id, row in stored.items():
        item = served[provider_id]
        amounts = [Decimal(line["amount"]) for line in item["lines"]]
        assert row["total"] == (Decimal(item["total"]) if "total" in item else sum(amounts))
        assert [Decimal(line["quantity"]) for line in row["lines"]] == [
            Decimal(line.get("quantity", 1))
            for line in item["lines"]  # schema.org: one
        ]
        assert row["status"] == item.get("status", "not_stated") and row["status_label"]
        assert row["order_number"] == item["number"]
        assert ("id_derived" in row["extra"]) == ("id" not in item)
        assert ("total_derived" in row["extra"]) == ("total" not in item)


def test_what_the_documents_forbid_is_rejected_with_its_reason(
    synced: tuple[Portal, RetailerSandbox],
) -> None:
    portal, shop = synced
    reasons = [r["reason"] for r in portal.store.rejections("retailer")]
    if not shop.truth_rejections:
        assert reasons == []
        return
    [reason] = reasons
    assert "total" in reason and "9,48" in reason


def test_derived_ids_are_the_same_on_every_sync(synced: tuple[Portal, RetailerSandbox]) -> None:
    portal, _ = synced
    before = {row["provider_id"]: row["id"] for row in portal.store.rows(Purchase, "retailer")}
    [result] = portal.sync(["retailer"])
    after = {row["provider_id"]: row["id"] for row in portal.store.rows(Purchase, "retailer")}
    assert result.ok and after == before
