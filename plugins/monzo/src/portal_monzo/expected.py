"""What each object the Monzo sandbox serves must say in the record, from what Monzo's fields
mean (docs.monzo.com), for the conformance suite's ``values`` check.

Written from the reference, not from ``portal_monzo.mapping``: amounts are "in minor units
of the currency" (pence: ``-510`` is -5.10 GBP; yen have none), "a negative amount
indicates a debit", ``settled`` is "an empty string" while "authorised but not yet
complete", ``decline_reason`` is "only present on declined transactions".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from portal.record.vocab import State
from portal_monzo import rules

Expected = dict[str, dict[str, Any]]

_DIGITS = {"JPY": 0}
_TYPES = {
    "uk_retail": "Current account",
    "uk_retail_joint": "Joint current account",
    "account": "Monzo account",  # an account that does not say its type (the docs' example)
}
_CATEGORY_WORDS = {
    "groceries": "Groceries",
    "eating_out": "Eating out",
    "transport": "Transport",
    "shopping": "Shopping",
    "entertainment": "Entertainment",
    "holidays": "Holidays",
    "bills": "Bills",
    "income": "Income",
    "savings": "Savings",
    "transfers": "Transfers",
    "mondo": "Top-up",
}
_MCC_WORDS = {
    "5411": "Grocery stores and supermarkets",
    "5814": "Fast food",
    "4111": "Commuter transport",
    "5912": "Pharmacies",
    "4899": "Cable and streaming services",
    "5942": "Book shops",
    "7832": "Cinemas",
    "5812": "Restaurants",
    "5311": "Department stores",
}
_DECLINED = {
    "INSUFFICIENT_FUNDS": "Declined: not enough money in the account",
    "INVALID_CVC": "Declined: wrong security code (CVC)",
}


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(minor) / Decimal(10) ** _DIGITS.get(currency, 2)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _london_day(value: str) -> date:
    return _instant(value).astimezone(ZoneInfo("Europe/London")).date()


def _without(item: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in keys}


def account(a: dict[str, Any]) -> dict[str, Any]:
    kind = a.get("type", "account")
    what = _TYPES[kind]
    names = " and ".join(o["preferred_name"] for o in a.get("owners", []))
    closed = a.get("closed", False)
    identifiers = []
    if "sort_code" in a:
        code = a["sort_code"]
        identifiers.append(
            {
                "scheme": "sort_code_account_number",
                "scheme_label": "UK sort code and account number",
                "identification": f"{code[0:2]}-{code[2:4]}-{code[4:6]} {a['account_number']}",
                "name": names or None,
            }
        )
    return {
        "name": f"{what} ({names})" if names else what,
        "account_type": kind,
        "account_type_label": what,
        "status": "closed" if closed else "open",
        "status_label": "Closed" if closed else "Open",
        "state": State.closed if closed else State.active,
        "currency": a.get("currency"),
        "opened_on": _london_day(a["created"]),
        "identifiers": identifiers,
        "extra": _without(a, "id", "type", "closed", "currency", "created"),
    }


def pot_account(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": p["name"],
        "account_type": "pot",
        "account_type_label": "Savings pot",
        "status": "deleted" if p["deleted"] else "open",
        "status_label": "Deleted" if p["deleted"] else "Open",
        "state": State.closed if p["deleted"] else State.active,
        "currency": p["currency"],
        "opened_on": _london_day(p["created"]),
        "identifiers": [],
        "extra": _without(p, "id", "name", "deleted", "currency", "created", "balance", "updated"),
    }


def pot_balance(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": p["id"],
        "amount": _money(p["balance"], p["currency"]),
        "currency": p["currency"],
        "unit": None,
        "balance_type": "pot",
        "balance_type_label": "Pot balance",
        "as_of": _instant(p["updated"]),
        "credit_limit": None,
        "extra": {},
    }


def balance(account: dict[str, Any], b: dict[str, Any], newest: str | None) -> dict[str, Any]:
    return {
        "account_id": account["id"],
        "amount": _money(b["balance"], b["currency"]),
        "currency": b["currency"],
        "unit": None,
        "balance_type": "balance",
        "balance_type_label": "Available balance",
        # Monzo's balance states no moment: it stands since the newest transaction.
        "as_of": _instant(newest or account["created"]),
        "credit_limit": None,
        "extra": {"total_balance": b["total_balance"], "spend_today": b["spend_today"]},
    }


def transaction(t: dict[str, Any], account_id: str) -> dict[str, Any]:
    shop = t["merchant"] if isinstance(t["merchant"], dict) else None
    category = t.get("category")
    party = t.get("counterparty") or {}
    mcc = t["metadata"].get("mcc")
    if "decline_reason" in t:
        status, words, state = "declined", _DECLINED[t["decline_reason"]], State.rejected
    elif t["settled"]:
        status, words, state = "settled", "Settled", State.booked
    else:
        status, words, state = "pending", "Authorised, not settled yet", State.pending
    return {
        "account_id": account_id,
        "booked_at": _instant(t["created"]),
        "value_at": _instant(t["settled"]) if t["settled"] else None,
        "amount": _money(t["amount"], t["currency"]),
        "currency": t["currency"],
        "status": status,
        "status_label": words,
        "state": state,
        "description": t["description"],
        "reference": None,
        "counterparty": party.get("name"),
        "merchant_name": shop["name"] if shop else None,
        "merchant_category_code": mcc,
        "merchant_category_label": _MCC_WORDS[mcc] if mcc else None,
        "category_code": category,
        "category_label": _CATEGORY_WORDS[category] if category else None,
        "balance_after": None,
        "extra": _without(t, "id", "created", "settled", "amount", "currency", "description"),
    }


def expected(served: dict[str, Any], rejected: set[str] | None = None) -> dict[str, Expected]:
    """``Sandbox.expected_records`` for what the sandbox serves (``MonzoSandbox.served``),
    leaving out the transactions a correct plugin rejects."""
    rejected = rejected or set()
    txs = served["transactions"]
    newest = {
        a: max((t["created"] for t in ts if rules.is_time(t["created"])), default=None)
        for a, ts in txs.items()
    }
    return {
        "accounts": {
            **{a["id"]: account(a) for a in served["accounts"]},
            **{p["id"]: pot_account(p) for p in served["pots"]},
        },
        "balances": {
            **{
                f"{a['id']}:balance": balance(a, served["balances"][a["id"]], newest[a["id"]])
                for a in served["accounts"]
            },
            **{f"{p['id']}:balance": pot_balance(p) for p in served["pots"]},
        },
        "transactions": {
            t["id"]: transaction(t, account)
            for account, ts in txs.items()
            for t in ts
            if t["id"] not in rejected
        },
    }
