"""Words for the codes Monzo's API sends, so that no code reaches a person bare.

An unknown code still gets words saying what it is (``label``); a status code's meaning in
portal's common vocabulary comes from ``TRANSACTION_STATES`` through ``state_of``, which
makes a code missing there ``unknown``.
"""

from __future__ import annotations

from portal.record.vocab import State

ACCOUNT_TYPES = {
    "uk_retail": "Current account",
    "uk_retail_joint": "Joint current account",
    "uk_prepaid": "Prepaid account",
    "pot": "Savings pot",
    "account": "Monzo account",
}
CATEGORIES = {
    "general": "General",
    "eating_out": "Eating out",
    "expenses": "Expenses",
    "transport": "Transport",
    "cash": "Cash",
    "bills": "Bills",
    "entertainment": "Entertainment",
    "shopping": "Shopping",
    "holidays": "Holidays",
    "groceries": "Groceries",
    "mondo": "Top-up",
    "income": "Income",
    "savings": "Savings",
    "transfers": "Transfers",
}
DECLINE_REASONS = {
    "INSUFFICIENT_FUNDS": "Declined: not enough money in the account",
    "CARD_INACTIVE": "Declined: the card was not active",
    "CARD_BLOCKED": "Declined: the card was frozen or blocked",
    "INVALID_CVC": "Declined: wrong security code (CVC)",
    "OTHER": "Declined",
}
TRANSACTION_STATUSES = {
    "settled": "Settled",
    "pending": "Authorised, not settled yet",
    "declined": "Declined",
}
TRANSACTION_STATES = {
    "settled": State.booked,
    "pending": State.pending,
    "declined": State.rejected,
}
ACCOUNT_STATUSES = {"open": "Open", "closed": "Closed", "deleted": "Deleted"}
ACCOUNT_STATES = {"open": State.active, "closed": State.closed, "deleted": State.closed}
BALANCE_TYPES = {
    "balance": "Available balance",
    "pot": "Pot balance",
}
IDENTIFIER_SCHEMES = {"sort_code_account_number": "UK sort code and account number"}

# ISO 18245 merchant category codes: the ones the demo customer meets, and common ones.
MERCHANT_CATEGORIES = {
    "4111": "Commuter transport",
    "4121": "Taxis and ride-hailing",
    "4814": "Telecommunication services",
    "4899": "Cable and streaming services",
    "4900": "Utilities",
    "5311": "Department stores",
    "5411": "Grocery stores and supermarkets",
    "5499": "Food stores",
    "5541": "Petrol stations",
    "5812": "Restaurants",
    "5813": "Bars and pubs",
    "5814": "Fast food",
    "5912": "Pharmacies",
    "5942": "Book shops",
    "6011": "Cash machines",
    "7832": "Cinemas",
}


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code) or f"{what.capitalize()} {code} (no label known)"
