"""What each item the sandbox serves must become, read from the reference (not the plugin).

Written from what the API reference says each field means: an account is known across
sessions by its ``identification_hash``; ``credit_debit_indicator`` DBIT is money out of
the account (negative); dates are days in UTC (the API assumes UTC for them); a closing
booked balance holds at the end of its ``reference_date``; an available balance at its
``last_change_date_time``; BOOK is booked, PDNG and HOLD are not final. Codes get the
words of the reference's lists (``rules``). Fields without a column of the record stay in
``extra`` as served. A transaction without ``entry_reference`` has no id of the API's that
holds across fetches, so its id is one derived from its content: the sandbox states the
same derivation (``derived_id``) the plugin's README documents.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from portal.record import State
from portal_enablebanking import rules

STATES = {"BOOK": State.booked, "PDNG": State.pending, "HOLD": State.pending}
"""What the reference's statuses the sandbox serves mean, in portal's common states."""


def _day(value: str) -> datetime:
    return datetime.combine(date.fromisoformat(value), time(), UTC)


def _extra(item: dict[str, Any], *mapped: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in mapped}


def derived_id(key: str, item: dict[str, Any]) -> str:
    """The id of a transaction without ``entry_reference``: a digest of what it says."""
    content = {k: v for k, v in item.items() if k != "transaction_id"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"{key}:derived:{digest[:24]}"


def account(a: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    ids = [("IBAN", a["account_id"]["iban"])] if a.get("account_id") else []
    ids += [(i["scheme_name"], i["identification"]) for i in a.get("all_account_ids") or []]
    unique = list(dict.fromkeys(ids))
    kind = rules.CASH_ACCOUNT_TYPES[a["cash_account_type"]]
    return a["identification_hash"], {
        "name": a.get("details") or a.get("product") or f"{kind} in {a['currency']}",
        "account_type": a["cash_account_type"],
        "account_type_label": rules.CASH_ACCOUNT_TYPES[a["cash_account_type"]],
        "currency": a["currency"],
        "identifiers": [
            {"scheme": s, "scheme_label": rules.SCHEME_NAMES[s], "identification": i, "name": None}
            for s, i in unique
        ],
        "extra": _extra(a, "identification_hash", "cash_account_type", "currency", "account_id",
                        "uid"),
    }  # fmt: skip


def balance(key: str, b: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if b.get("last_change_date_time"):
        moment = datetime.fromisoformat(b["last_change_date_time"])
    else:
        moment = _day(b["reference_date"]) + timedelta(days=1)
    return f"{key}:{b['balance_type']}:{b['name']}", {
        "account_id": key,
        "amount": Decimal(b["balance_amount"]["amount"]),
        "currency": b["balance_amount"]["currency"],
        "balance_type": b["balance_type"],
        "balance_type_label": rules.BALANCE_TYPES[b["balance_type"]],
        "as_of": moment,
        "extra": _extra(b, "balance_type", "balance_amount"),
    }


def transaction(key: str, t: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    money = t["transaction_amount"]
    out = t["credit_debit_indicator"] == "DBIT"
    amount = Decimal(money["amount"])
    party = t.get("creditor" if out else "debtor") or {}
    code = t.get("bank_transaction_code") or {}
    mcc = t.get("merchant_category_code")
    after = t.get("balance_after_transaction")
    ident = f"{key}:{t['entry_reference']}" if t.get("entry_reference") else derived_id(key, t)
    return ident, {
        "account_id": key,
        "booked_at": _day(t.get("booking_date") or t["transaction_date"]),
        "value_at": _day(t["value_date"]) if t.get("value_date") else None,
        "amount": -amount if out else amount,
        "currency": money["currency"],
        "status": t["status"],
        "status_label": rules.TRANSACTION_STATUSES[t["status"]],
        "state": STATES[t["status"]],
        "description": " ".join(t.get("remittance_information") or [])
        or party.get("name")
        or code.get("description")
        or rules.CREDIT_DEBIT[t["credit_debit_indicator"]],
        "reference": t.get("reference_number"),
        "counterparty": party.get("name"),
        "merchant_name": party.get("name") if mcc else None,
        "merchant_category_code": mcc,
        "merchant_category_label": rules.MERCHANT_CATEGORIES[mcc] if mcc else None,
        "category_code": f"{code['code']}-{code['sub_code']}" if code else None,
        "category_label": code.get("description"),
        "balance_after": Decimal(after["amount"]) if after else None,
        "extra": _extra(t, "transaction_amount", "status", "booking_date", "value_date",
                        "remittance_information", "reference_number", "merchant_category_code",
                        "balance_after_transaction"),
    }  # fmt: skip


def expected_records(data: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every served item's record, by category and id (not those a plugin must reject)."""
    planted = [*data.get("planted", []), data.get("planted_balance")]

    def kept(item: dict[str, Any]) -> bool:
        return not any(item is p for p in planted)

    return {
        "accounts": dict(account(a) for a in data["accounts"]),
        "balances": dict(
            balance(k, b) for k, items in data["balances"].items() for b in items if kept(b)
        ),
        "transactions": dict(
            transaction(k, t) for k, items in data["transactions"].items() for t in items if kept(t)
        ),
    }
