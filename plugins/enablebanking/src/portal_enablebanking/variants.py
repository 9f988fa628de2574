"""The same person served in the other shapes Enable Banking's reference allows, or breaks.

``sparse`` (valid): only what the reference requires of an account (its type, currency and
identification hashes: no IBAN, no name, no product), of a balance (no last committed
transaction; the available one dated by its ``reference_date`` only), and of a transaction
(amount, indicator, status and a date; no remittance information, parties, codes, value
date or running balance), with ``null`` optional fields and empty lists as the reference's
own example has them. ``faulty``: a transaction whose ``credit_debit_indicator`` is neither
CRDT nor DBIT, a pending one with no date at all, and a balance with no moment; a correct
plugin rejects those three with their reasons and stores the rest.
"""

from __future__ import annotations

from typing import Any

from portal.variants import FAULTY, VALID, Variant

VARIANTS = {
    "sparse": Variant(
        "sparse", VALID, "Only the fields the reference requires; nulls and empty lists."
    ),
    "faulty": Variant(
        "faulty",
        FAULTY,
        "A transaction without a direction, one without a date, a balance"
        " without a moment: each must be rejected with its reason.",
    ),
}
REJECTED = {"transactions": 2, "balances": 1}
"""What a correct plugin rejects of the ``faulty`` variant."""

_ACCOUNT_REQUIRED = (
    "cash_account_type",
    "currency",
    "identification_hash",
    "identification_hashes",
)
_TRANSACTION_KEPT = (
    "entry_reference",
    "transaction_amount",
    "credit_debit_indicator",
    "status",
    "booking_date",
)


def sparse_transaction(item: dict[str, Any], n: int) -> None:
    """Strip a transaction to what the reference requires, in place (and a date)."""
    dated = "booking_date" if item.get("booking_date") else "transaction_date"
    for key in list(item):
        if key not in (*_TRANSACTION_KEPT, dated):
            del item[key]
    # The reference's own example sends absent optional fields as null, and lists empty.
    if n % 3 == 0:
        item["reference_number"] = None
    if n % 3 == 1:
        item["remittance_information"] = []


def reshape(data: dict[str, Any], variant: str) -> None:
    """Make the demo ``variant``'s shape, in place, before anything is served."""
    if variant == "sparse":
        for account in data["accounts"]:
            for key in list(account):
                if key not in _ACCOUNT_REQUIRED:
                    del account[key]
        for key, history in data["histories"].items():
            for n, item in enumerate(history.items + data["pending"][key]):
                sparse_transaction(item, n)
    if variant == "faulty":
        eur = data["accounts"][0]["identification_hash"]
        data["planted"] = [
            {"entry_reference": "faulty-0001", "credit_debit_indicator": "NONE", "status": "BOOK",
             "transaction_amount": {"currency": "EUR", "amount": "1.00"},
             "booking_date": "2026-11-20"},
            {"transaction_amount": {"currency": "EUR", "amount": "9.99"},
             "credit_debit_indicator": "DBIT", "status": "PDNG"},
        ]  # fmt: skip
        data["planted_balance"] = {
            "name": "Balance for information",
            "balance_amount": {"currency": "EUR", "amount": "0.00"},
            "balance_type": "INFO",
        }
        data["pending"][eur] = [*data["pending"][eur], *data["planted"]]


def shape_balances(data: dict[str, Any], variant: str) -> None:
    """The variant's balances, restated after each change of the data."""
    for key, balances in data["balances"].items():
        if variant == "sparse":
            for balance in balances:
                balance.pop("last_committed_transaction", None)
                if "last_change_date_time" in balance:
                    balance["reference_date"] = balance.pop("last_change_date_time")[:10]
        if variant == "faulty" and key == data["accounts"][0]["identification_hash"]:
            balances.append(data["planted_balance"])


def held(pending: list[dict[str, Any]], data: dict[str, Any]) -> list[dict[str, Any]]:
    """The pending payments that count against the available balance (not the planted)."""
    planted = data.get("planted", [])
    return [p for p in pending if not any(p is q for q in planted)]
