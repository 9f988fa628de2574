"""What each item the Bridge serves must say in the customer's record, field by field.

The sandbox's side of the conformance suite's ``values`` check (``Sandbox.expected_records``),
read from the SimpleFIN protocol (``portal_simplefin.rules`` and the plugin's README), from
the items exactly as served: moments are UNIX epoch seconds (UTC), amounts numeric strings
signed as the protocol signs them (positive is money into the account, which is the
record's sign too), ``pending: true`` a transaction not yet posted (the protocol's only
status), dated by ``transacted_at`` when ``posted`` is 0. Nothing here comes from the
plugin's mapping: the words are ``portal_simplefin.labels``'.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from portal.record.vocab import State
from portal_simplefin.labels import BALANCE_TYPES, MERCHANT_CATEGORIES
from portal_simplefin.rules import is_custom_currency

Expected = dict[str, dict[str, dict[str, Any]]]


def _at(epoch: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def expected(served: dict[str, list[dict[str, Any]]], owners: dict[str, str]) -> Expected:
    """Every served item's expected record, ``{category: {provider id: {field: value}}}``.

    ``served`` is the sandbox's ground truth; ``owners`` names each transaction's account
    (the document nests transactions in their account; the truth lists them flat).
    Transactions of an account in a custom currency are refused, and so is one whose
    amount is not a numeric string: neither is stated.
    """
    currency = {a["id"]: a["currency"] for a in served["accounts"]}
    transactions = {}
    for item in served["transactions"]:
        account = owners[item["id"]]
        found = transaction(item, account, currency[account])
        if found is not None:
            transactions[found[0]] = found[1]
    return {
        "accounts": {a["id"]: _account(a) for a in served["accounts"]},
        "balances": {
            f"{b['id']}:{kind}": _balance(b, kind, currency[b["id"]])
            for b in served["balances"]
            for kind in BALANCE_TYPES
            if kind in b
        },
        "transactions": transactions,
    }


def _account(item: dict[str, Any]) -> dict[str, Any]:
    currency = item["currency"]
    custom = is_custom_currency(currency)
    used = ("id", "name", "currency", "balance", "available-balance", "balance-date")
    extra = {f"extra.{k}": v for k, v in item.items() if k not in used}
    if custom:
        extra["extra.currency"] = currency
    return {
        "name": item["name"],
        "account_type": "account",
        "account_type_label": "Account (SimpleFIN does not say what kind)",
        "status": None,
        "status_label": None,
        "state": None,
        "currency": None if custom else currency,
        "opened_on": None,
        "identifiers": [],
        **extra,
    }


def _balance(item: dict[str, Any], kind: str, currency: str) -> dict[str, Any]:
    custom = is_custom_currency(currency)
    return {
        "account_id": item["id"],
        "amount": Decimal(item[kind]),
        "currency": None if custom else currency,
        "unit": "point" if custom else None,
        "balance_type": kind,
        "balance_type_label": BALANCE_TYPES[kind],
        "as_of": _at(item["balance-date"]),
        "credit_limit": None,
        # The account's other ids (its connection's), as served with it.
        **{f"extra.{k}": v for k, v in item.items() if k not in ("id", kind, "balance-date")},
    }


def transaction(
    item: dict[str, Any], account: str, currency: str
) -> tuple[str, dict[str, Any]] | None:
    """A transaction's provider id and expected fields; None for one a plugin must refuse."""
    if is_custom_currency(currency) or not isinstance(item["amount"], str):
        return None
    pending = item.get("pending") is True
    mcc = item.get("mcc")
    used = ("id", "posted", "amount", "description", "transacted_at", "pending", "mcc")
    return f"{account}/{item['id']}", {
        "account_id": account,
        "booked_at": _at(item["posted"] or item.get("transacted_at")),
        "value_at": _at(item.get("transacted_at")),
        "amount": Decimal(item["amount"]),
        "currency": currency,
        "status": "pending" if pending else "posted",
        "status_label": "Pending (not yet posted)" if pending else "Posted",
        "state": State.pending if pending else State.booked,
        "description": item["description"],
        "reference": None,
        "counterparty": None,
        "merchant_name": None,
        "merchant_category_code": mcc,
        "merchant_category_label": MERCHANT_CATEGORIES.get(mcc) if mcc else None,
        "category_code": None,
        "category_label": None,
        "balance_after": None,
        **{f"extra.{k}": v for k, v in item.items() if k not in used},
    }
