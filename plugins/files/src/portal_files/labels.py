"""Words for the codes OFX and midata files use, so that no code reaches a person bare."""

from __future__ import annotations

# OFX 2.2 §11.4.4.3 transaction types.
OFX_TRANSACTION_TYPES = {
    "CREDIT": "Credit",
    "DEBIT": "Debit",
    "INT": "Interest",
    "DIV": "Dividend",
    "FEE": "Fee",
    "SRVCHG": "Service charge",
    "DEP": "Deposit",
    "ATM": "Cash machine",
    "POS": "Card payment",
    "XFER": "Transfer",
    "CHECK": "Cheque",
    "PAYMENT": "Electronic payment",
    "CASH": "Cash withdrawal",
    "DIRECTDEP": "Direct deposit",
    "DIRECTDEBIT": "Direct debit",
    "REPEATPMT": "Standing order or repeating payment",
    "HOLD": "Amount held",
    "OTHER": "Other",
}
OFX_ACCOUNT_TYPES = {
    "CHECKING": "Current account",
    "SAVINGS": "Savings account",
    "MONEYMRKT": "Money market account",
    "CREDITLINE": "Line of credit",
    "CD": "Certificate of deposit",
    "CREDITCARD": "Credit card",
}
OFX_BALANCE_TYPES = {
    "LEDGERBAL": "Ledger balance (booked)",
    "AVAILBAL": "Available to spend (on a card: the credit left)",
}

# The transaction type codes UK banks write in midata files.
MIDATA_TYPES = {
    "POS": "Card payment",
    "DEB": "Card payment",
    "CPT": "Cash machine",
    "ATM": "Cash machine",
    "CSH": "Cash",
    "DD": "Direct debit",
    "D/D": "Direct debit",
    "DDR": "Direct debit",
    "SO": "Standing order",
    "S/O": "Standing order",
    "STO": "Standing order",
    "BGC": "Bank giro credit",
    "BAC": "BACS payment",
    "BP": "Bill payment",
    "FPI": "Faster payment in",
    "FPO": "Faster payment out",
    "TFR": "Transfer",
    "CHQ": "Cheque",
    "DEP": "Deposit",
    "CR": "Credit",
    "DR": "Debit",
    "INT": "Interest",
    "CHG": "Charge",
    "FEE": "Fee",
    "PAY": "Payment",
    "OTH": "Other",
}


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code.upper()) or f"{what.capitalize()} {code} (no label known)"
