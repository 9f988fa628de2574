"""Words for the codes the SimpleFIN protocol and portal's reading of it use.

SimpleFIN defines few codes: whether a transaction is pending (``pending``), which of an
account's two balances a balance is, and (since 2026) a transaction's ISO 18245 merchant
category code (``mcc``). An unknown merchant category still gets words saying what it is.
"""

from __future__ import annotations

from portal.record.vocab import State

ACCOUNT_TYPE = "account"
ACCOUNT_TYPE_LABEL = "Account (SimpleFIN does not say what kind)"

BALANCE_TYPES = {
    "balance": "Balance",
    "available-balance": "Available balance",
}
STATUSES = {"posted": "Posted", "pending": "Pending (not yet posted)"}
TRANSACTION_STATES = {"posted": State.booked, "pending": State.pending}

MERCHANT_CATEGORIES = {
    "3504": "Hilton hotels",
    "4111": "Commuter transport",
    "4121": "Taxis and ride-hailing",
    "4511": "Airlines",
    "4900": "Utilities",
    "5311": "Department stores",
    "5411": "Grocery stores and supermarkets",
    "5541": "Service stations",
    "5542": "Automated fuel dispensers",
    "5732": "Electronics stores",
    "5812": "Restaurants",
    "5814": "Fast food restaurants",
    "5912": "Pharmacies",
    "5942": "Book stores",
    "7011": "Hotels and motels",
}
"""ISO 18245 merchant category codes, in words (those the Bridge's US banks use most)."""


def merchant_category(code: str) -> str:
    """The words for ``code``; an unknown code still says what it is."""
    return MERCHANT_CATEGORIES.get(code) or f"Merchant category {code} (no label known)"
