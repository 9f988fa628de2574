"""The bank beyond accounts and transactions: arrangements, payees, statements, products, offers.

One sync of the Demo Bank sandbox (Open Banking v3.1 direct-debits, standing-orders,
scheduled-payments, beneficiaries, statements with their files, product, offers, and the
bank's processing notice) is checked against what the sandbox says it served, and against
the transactions those things must agree with.
"""

import hashlib
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import connect
from portal.app import Portal
from portal.record import (
    Account,
    Bill,
    Document,
    Payee,
    Processing,
    Product,
    RecurringPayment,
    Transaction,
)
from portal_bank.customer import LONDON
from portal_bank.sandbox import BankSandbox
from portal_bank.statements import statement_pdf

Synced = tuple[Portal, BankSandbox]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        home = tmp_path_factory.mktemp("bank") / "home"
        with BankSandbox() as bank, Portal.open(home=home) as portal:
            connect(portal, bank)
            [result] = portal.sync()
            assert result.ok, result.error
            assert result.rejected == 0
            yield portal, bank


def rows(portal: Portal, entity: type) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, "bank"))


def by_provider_id(portal: Portal, entity: type) -> dict[str, dict[str, Any]]:
    return {r["provider_id"]: r for r in rows(portal, entity)}


def test_every_new_category_holds_exactly_what_was_served(synced: Synced) -> None:
    portal, bank = synced
    truth = bank.ground_truth()
    counts = portal.store.counts()["bank"]
    served = {
        "recurring_payments": 12,  # Demo Telecom's two billing accounts: a mandate each
        "payees": 6,
        "products": 5,
        "documents": 46,
        "bills": 23,
        "processing": 5,
    }
    assert {k: len(truth[k]) for k in served} == served
    assert {k: counts[k] for k in served} == served


def test_a_cancelled_direct_debit_and_its_last_collection(synced: Synced) -> None:
    portal, _ = synced
    payments = by_provider_id(portal, RecurringPayment)
    now_tv = next(p for p in payments.values() if p["payee"] == "NOW TV")
    assert (now_tv["kind"], now_tv["status"]) == ("direct_debit", "Inactive")
    assert now_tv["status_label"] == "Cancelled: no longer collected"
    assert now_tv["last_payment_on"] == date(2025, 5, 22)
    assert now_tv["extra"]["PreviousPaymentAmount"] == {"Amount": "9.99", "Currency": "GBP"}
    collected = [t for t in rows(portal, Transaction) if t["reference"] == "NOWTV 7781204"]
    assert len(collected) == 7  # November 2024 to May 2025, then nothing
    assert max(t["booked_at"] for t in collected).astimezone(LONDON).date() == date(2025, 5, 22)
    active = [p for p in payments.values() if p["kind"] == "direct_debit"]
    assert sorted(p["status"] for p in active).count("Active") == 7


def test_a_standing_order_with_a_final_payment(synced: Synced) -> None:
    portal, _ = synced
    sister = by_provider_id(portal, RecurringPayment)["standing-order:SO-0002"]
    assert sister["payee"] == "C ASHWORTH" and sister["amount"] == Decimal("75.00")
    assert sister["frequency"] == "IntrvlMnthDay:01:28"
    assert sister["frequency_label"] == "Every month on day 28"
    assert sister["first_payment_on"] == date(2025, 3, 28)
    assert sister["next_payment_on"] == date(2026, 11, 30)  # the 28th is a Saturday
    # The most recent payment made (LastPaymentDateTime), not the final one still due,
    # which stays in extra as served.
    assert sister["last_payment_on"] == date(2026, 10, 28)
    assert sister["extra"]["FinalPaymentDateTime"] == "2026-12-28T00:00:00+00:00"
    assert sister["extra"]["NumberOfPayments"] == "22"
    paid = [t for t in rows(portal, Transaction) if t["reference"] == "LOAN REPAYMENT"]
    assert len(paid) == 20 and {t["amount"] for t in paid} == {Decimal("-75.00")}


def test_scheduled_payments_and_payees(synced: Synced) -> None:
    portal, _ = synced
    scheduled = [p for p in rows(portal, RecurringPayment) if p["kind"] == "scheduled_payment"]
    hmrc = next(p for p in scheduled if p["payee"] == "HMRC SELF ASSESSMENT")
    assert (hmrc["amount"], hmrc["next_payment_on"]) == (Decimal("1284.60"), date(2027, 1, 29))
    payees = {p["name"]: p for p in rows(portal, Payee)}
    assert len(payees) == 6
    rent = payees["Harbour Lettings Ltd"]
    assert rent["kind_label"] == "Trusted payee (paid without extra checks)"
    assert rent["identifiers"][0]["scheme_label"] == "Sort code and account number"
    assert rent["origin"] == "provided"


def test_each_statement_is_a_document_known_by_its_file(synced: Synced) -> None:
    portal, bank = synced
    documents = by_provider_id(portal, Document)
    for served in bank.ground_truth()["documents"]:
        stored = documents[f"statement:{served['StatementId']}"]
        pdf = statement_pdf(served)
        assert stored["digest"] == hashlib.sha256(pdf).hexdigest()
        assert (stored["size_bytes"], stored["content_type"]) == (len(pdf), "application/pdf")
    first = documents[f"statement:{bank.bank.current_id[:8]}-202411"]
    assert first["title"] == "Everyday Account statement for November 2024"
    assert first["issued_on"] == date(2024, 12, 1)


def _signed(amount: dict[str, Any]) -> Decimal:
    value = Decimal(amount["Amount"]["Amount"])
    return value if amount["CreditDebitIndicator"] == "Credit" else -value


def test_statements_reconcile_with_the_transactions_of_their_month(synced: Synced) -> None:
    portal, bank = synced
    months: dict[tuple[str, date], list[Decimal]] = {}
    for t in rows(portal, Transaction):
        if t["status"] == "Booked":
            key = (t["account_id"], t["booked_at"].astimezone(LONDON).date().replace(day=1))
            months.setdefault(key, []).append(t["amount"])
    previous_closing: dict[str, Decimal] = {}
    for served in bank.ground_truth()["documents"]:
        amounts = {
            a["Type"].removeprefix("UK.OBIE."): _signed(a) for a in served["StatementAmount"]
        }
        start = datetime.fromisoformat(served["StartDateTime"]).date()
        month = months[_account_id(portal, served["AccountId"]), start]
        assert amounts["TotalCredits"] == sum(a for a in month if a > 0)
        assert amounts["TotalDebits"] == sum(a for a in month if a < 0)
        assert amounts["ClosingBalance"] == (
            amounts["StartingBalance"] + amounts["TotalCredits"] + amounts["TotalDebits"]
        )
        if served["AccountId"] in previous_closing:
            assert amounts["StartingBalance"] == previous_closing[served["AccountId"]]
        previous_closing[served["AccountId"]] = amounts["ClosingBalance"]


def _account_id(portal: Portal, provider_account_id: str) -> str:
    return next(
        a["id"]
        for a in portal.store.rows(Account, "bank")
        if a["provider_id"] == provider_account_id
    )


def test_card_bills_add_up_and_are_settled_by_the_payment_from_the_current_account(
    synced: Synced,
) -> None:
    portal, bank = synced
    bills = rows(portal, Bill)
    assert len(bills) == 23
    payments = {
        t["booked_at"].astimezone(LONDON).date(): -t["amount"]
        for t in rows(portal, Transaction)
        if t["description"] == "DEMOBANK CARD PAYMENT"
    }
    for bill in bills:
        assert sum((Decimal(line["amount"]) for line in bill["lines"]), Decimal(0)) == bill["total"]
        assert bill["due_on"].day >= 20 and bill["due_on"].weekday() < 5
        assert bill["account_id"] == _account_id(portal, bank.bank.card_id)
        # The statement never says whether it was paid (these all were): issued, not due.
        assert bill["state"] == "issued"
        if bill["total"] > 0:  # paid in full on the due date, as the demo customer always does
            assert payments[bill["due_on"]] == bill["total"], bill["bill_number"]


def test_products_and_offers(synced: Synced) -> None:
    portal, _ = synced
    products = by_provider_id(portal, Product)
    everyday = next(p for p in products.values() if p["name"] == "Everyday Account")
    assert everyday["product_type_label"] == "Personal current account"
    prices = {p["label"]: p for p in everyday["prices"]}
    assert prices["Cash withdrawal abroad"]["amount"] == "1.50"
    assert prices["Cash withdrawal abroad"]["period"] == "per transaction"
    assert "Arranged overdraft 39.90% EAR up to £500.00" in everyday["terms"]
    assert "Non-sterling card payment: 2.99% of the amount" in everyday["terms"]
    card = next(p for p in products.values() if p["name"] == "Rewards Mastercard")
    assert card["product_type"] == "Other" and card["product_type_label"] == "Personal credit card"
    assert "Purchase APR 24.9%" in card["terms"]
    limit = products["offer:OFR-LIMIT-8000"]
    assert limit["product_type_label"] == "Offer: a higher credit limit"
    assert limit["prices"] == [
        {
            "label": "New credit limit",
            "amount": "8000.00",
            "currency": "GBP",
            "unit": None,
            "period": None,
        }
    ]
    assert (limit["valid_from"], limit["valid_to"]) == (date(2026, 10, 1), date(2026, 12, 31))
    assert limit["origin"] == "inferred"
    transfer = products["offer:OFR-BT-18"]
    assert transfer["terms"] == "Rate 0.00%; 18 months" and transfer["extra"] == {"Value": 3}


def test_the_processing_notice_answers_article_15(synced: Synced) -> None:
    portal, _ = synced
    purposes = {p["purpose_code"]: p for p in rows(portal, Processing)}
    assert set(purposes) == {"RUN-ACCOUNTS", "FRAUD", "CREDIT", "MARKETING", "REGULATORY"}
    fraud = purposes["FRAUD"]
    assert fraud["legal_basis_label"] == "Required by law (article 6(1)(c))"
    assert fraud["automated_decision"] and "scored" in fraud["automated_logic"]
    credit = purposes["CREDIT"]
    abroad = [r for r in credit["recipients"] if r["country"] == "ZA"]
    assert abroad and abroad[0]["safeguard"] == "UK International Data Transfer Agreement"
    assert not purposes["MARKETING"]["automated_decision"]
    assert purposes["MARKETING"]["legal_basis"] == "consent"


def test_a_resync_downloads_no_statement_again_and_changes_nothing(synced: Synced) -> None:
    portal, bank = synced
    before = {e: rows(portal, e) for e in (Document, Bill, RecurringPayment, Payee, Product)}
    already = len(bank.requests)
    [again] = portal.sync()
    assert again.ok and again.rejected == 0
    files = [r for r in bank.requests[already:] if r.path.endswith("/file")]
    assert files == []
    assert {e: rows(portal, e) for e in before} == before


def test_a_new_month_brings_its_statement(tmp_path: Path) -> None:
    with BankSandbox() as bank, Portal.open(home=tmp_path / "home") as portal:
        connect(portal, bank)
        portal.sync()
        bank.add_activity(40)  # into November: October's statements are issued
        already = len(bank.requests)
        [again] = portal.sync()
        assert again.ok, again.error
        files = [r for r in bank.requests[already:] if r.path.endswith("/file")]
        assert len(files) == 2
        assert portal.store.counts()["bank"]["documents"] == 48
        assert portal.store.counts()["bank"]["bills"] == 24
