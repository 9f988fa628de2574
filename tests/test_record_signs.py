"""Every amount is signed from the customer's side (docs/amount-signs.md), and the
first-party plugins keep to it: each sandbox synced through OAuth into a real store, and a
real credit-card download imported.

Money held or moving (Balance, Transaction): positive is to the customer's good in that
account (money in, money held, debt paid off), negative against it (money out, debt owed or
taken on). Amounts a provider asks for or prices (Bill, Purchase, RecurringPayment): positive
is what the customer pays, negative what they get back.
"""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import synced_once
from portal.app import Portal
from portal.importing import import_file
from portal.record import Account, Balance, Bill, Purchase, RecurringPayment, Transaction
from portal_bank.sandbox import BankSandbox
from portal_retailer.sandbox import RetailerSandbox
from portal_telco.sandbox import TelcoSandbox
from portal_utility.sandbox import UtilitySandbox

QFX = Path(__file__).parent / "data" / "chase-card-2026-02.qfx"


def synced(tmp: pytest.TempPathFactory, sandbox: Any, provider: str) -> Iterator[Portal]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        with sandbox as running, synced_once(tmp.mktemp(provider) / "home", running, provider) as p:
            yield p


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    yield from synced(tmp_path_factory, BankSandbox(), "bank")


def rows(portal: Portal, entity: type, provider: str) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, provider))


def by_account_type(portal: Portal, entity: type, provider: str) -> dict[str, list[dict[str, Any]]]:
    kinds = {a["id"]: a["account_type"] for a in rows(portal, Account, provider)}
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows(portal, entity, provider):
        found.setdefault(kinds[row["account_id"]], []).append(row)
    return found


def signs(found: list[dict[str, Any]], code: str, field: str = "amount") -> set[int]:
    """The signs (1, -1) of ``field`` among the rows whose category code ends with ``code``."""
    return {
        (row[field] > 0) - (row[field] < 0)
        for row in found
        if str(row.get("category_code") or row.get("balance_type")).endswith(code)
    }


def test_a_current_account_counts_money_in_positive_and_money_out_negative(bank: Portal) -> None:
    current = by_account_type(bank, Transaction, "bank")["CurrentAccount"]
    assert signs(current, "SalaryPayment") == {1}
    assert signs(current, "POSTransaction") == {-1}  # a card payment
    assert signs(current, "DirectDebitPayment") == {-1}  # the utility's bill, paid
    assert signs(current, "StandingOrder") == {-1}
    assert signs(current, "Refund") == {1}
    balances = by_account_type(bank, Balance, "bank")["CurrentAccount"]
    assert signs(balances, "Booked") == {1}  # in credit: the customer's money


def test_a_credit_card_counts_spending_and_what_is_owed_negative(bank: Portal) -> None:
    card = by_account_type(bank, Transaction, "bank")["CreditCard"]
    assert signs(card, "POSTransaction") == {-1}  # a purchase adds to the debt
    assert signs(card, "Refund") == {1}
    assert signs(card, "DomesticCreditTransfer") == {1}  # paying the card off
    balances = by_account_type(bank, Balance, "bank")["CreditCard"]
    assert {(b["balance_type"], b["amount"] < 0) for b in balances} == {
        (kind, True)
        for kind in ("OpeningBooked", "ClosingBooked", "InterimBooked", "InterimAvailable")
    }  # owed
    assert {b["credit_limit"] > 0 for b in balances} == {True}


def test_a_card_statement_bill_is_what_is_owed_and_its_payment_is_its_negative(
    bank: Portal,
) -> None:
    bills = rows(bank, Bill, "bank")
    assert bills and {b["total"] > 0 for b in bills} == {True}  # what the customer must pay
    for bill in bills:
        assert bill["total"] == sum((Decimal(line["amount"]) for line in bill["lines"]), Decimal(0))
    payments = [p for p in rows(bank, RecurringPayment, "bank") if p["amount"] is not None]
    assert payments and {p["amount"] > 0 for p in payments} == {True}  # what each one costs


def test_an_imported_card_download_is_signed_as_the_card_plugins_are(tmp_path: Path) -> None:
    with Portal.open(home=tmp_path / "home") as app:
        import_file(app, QFX)
        found = rows(app, Transaction, "ofx")
        purchases = [t for t in found if t["category_code"] == "DEBIT"]
        payments = [t for t in found if t["category_code"] == "PAYMENT"]
        assert purchases and {t["amount"] < 0 for t in purchases} == {True}
        assert payments and {t["amount"] > 0 for t in payments} == {True}
        balances = {b["balance_type"]: b for b in rows(app, Balance, "ofx")}
        assert balances["LEDGERBAL"]["amount"] == Decimal("-909.29")  # owed
        # What is left to spend is the customer's, and is labelled as such.
        assert balances["AVAILBAL"]["amount"] == Decimal("7090.71")
        assert balances["AVAILBAL"]["balance_type_label"].startswith("Available to spend")


@pytest.mark.parametrize(
    ("sandbox", "provider"), [(UtilitySandbox, "utility"), (TelcoSandbox, "telco")]
)
def test_a_utility_or_telco_bill_is_what_is_owed_and_a_credit_on_it_is_negative(
    tmp_path_factory: pytest.TempPathFactory, sandbox: type, provider: str
) -> None:
    for portal in synced(tmp_path_factory, sandbox(), provider):
        bills = rows(portal, Bill, provider)
        assert bills and {b["total"] > 0 for b in bills} == {True}
        lines = [line for b in bills for line in b["lines"]]
        credits = [line for line in lines if _is_credit(line["description"])]
        charges = [line for line in lines if not _is_credit(line["description"])]
        # Lines are kept as JSON: their amounts are exact decimal strings.
        assert charges and {Decimal(line["amount"]) >= 0 for line in charges} == {True}
        assert {Decimal(line["amount"]) < 0 for line in credits} <= {True}


def _is_credit(description: str) -> bool:
    return any(word in description.lower() for word in ("discount", "credit", "refund"))


def test_a_loyalty_scheme_counts_points_held_positive_and_a_return_takes_them_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    for portal in synced(tmp_path_factory, RetailerSandbox(), "retailer"):
        points = rows(portal, Balance, "retailer")
        assert points and {b["amount"] >= 0 and b["unit"] == "point" for b in points} == {True}
        purchases = rows(portal, Purchase, "retailer")
        orders = [p for p in purchases if p["kind"] != "return"]
        returns = [p for p in purchases if p["kind"] == "return"]
        assert orders and {p["total"] > 0 for p in orders} == {True}  # what was paid
        assert returns and {p["total"] < 0 for p in returns} == {True}  # money back
        taken_back = [p["points_earned"] for p in returns if p["points_earned"] is not None]
        assert taken_back and {n < 0 for n in taken_back} == {True}
        earned = [p["points_earned"] for p in orders if p["points_earned"] is not None]
        assert earned and {n >= 0 for n in earned} == {True}
