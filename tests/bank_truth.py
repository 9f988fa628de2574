"""What the Demo Bank sandbox served, compared with what a portal store holds."""

import sqlite3
from decimal import Decimal
from typing import Any

from portal.app import Portal
from portal.record import Account, Balance, Consent, Party, Transaction
from portal_bank.sandbox import BankSandbox


def _signed(item: dict[str, Any]) -> Decimal:
    amount = Decimal(item["Amount"]["Amount"])
    return amount if item["CreditDebitIndicator"] == "Credit" else -amount


def _stored(portal: Portal, entity: type) -> dict[str, dict[str, Any]]:
    return {row["provider_id"]: row for row in portal.store.rows(entity)}


def _snapshot(portal: Portal) -> list[tuple[Any, ...]]:
    """Every row of the record and the raw payloads (not the bookkeeping of when syncs ran)."""
    database = portal.store.engine.url.database
    assert database is not None
    tables = [
        "party",
        "accounts",
        "balances",
        "transactions",
        "consents",
        "raw_items",
        "rejections",
    ]
    with sqlite3.connect(database) as db:
        return [(t, *row) for t in tables for row in db.execute(f"SELECT * FROM {t} ORDER BY 1")]  # noqa: S608


def assert_store_matches(portal: Portal, bank: BankSandbox) -> None:
    truth = bank.ground_truth()
    transactions = _stored(portal, Transaction)
    assert set(transactions) == {t["TransactionId"] for t in truth["transactions"]}
    for served in truth["transactions"]:
        row = transactions[served["TransactionId"]]
        assert row["amount"] == _signed(served)
        assert row["status"] == served["Status"]
    assert set(_stored(portal, Account)) == {a["AccountId"] for a in truth["accounts"]}
    assert len(_stored(portal, Balance)) == len(truth["balances"])
    assert set(_stored(portal, Party)) == {p["PartyId"] for p in truth["party"]}
    consents = set(_stored(portal, Consent))
    assert {f"marketing:{p['PreferenceId']}" for p in truth["marketing_preferences"]} <= consents
    assert (
        len(consents) == len(truth["marketing_preferences"]) + 1
    )  # plus this connection's consent
    # The rest of the Account and Transaction API: one record per served item, by category.
    counts = portal.store.counts().get("bank", {})
    for category in (
        "recurring_payments",
        "payees",
        "products",
        "documents",
        "bills",
        "processing",
    ):
        assert counts.get(category, 0) == len(truth[category]), category
