"""Monzo's API rules, written down from its published reference (docs.monzo.com).

Each object the plugin reads is described by the fields the reference documents: which
are required, their types and formats, and the codes it lists. ``problems(kind, item)``
says which rules an item breaks; the tests hold everything the sandbox serves to these
rules, and ``normalise`` names the broken ones when it rejects an item.

Where the reference is silent and real answers show a field (an account's ``type``,
``closed`` and ``owners``; a transaction's ``local_amount``, ``local_currency``,
``counterparty`` and ``metadata.mcc``; a pot's ``current_account_id`` and ``goal_amount``),
the field is optional here: the plugin must cope with its absence. The README lists the
pages each rule comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

CATEGORIES = frozenset(
    {
        # docs.monzo.com#transactions lists the first ten, and "mondo" for top-ups.
        "general",
        "eating_out",
        "expenses",
        "transport",
        "cash",
        "bills",
        "entertainment",
        "shopping",
        "holidays",
        "groceries",
        "mondo",
        # Not in the reference, seen in real answers (pymonzo's enums, Monzo's own webhooks).
        "income",
        "savings",
        "transfers",
    }
)
"""Transaction categories Monzo names; a person's own categories (``category_0000...``) and
ones added later must be coped with too (``OPEN_ENUM``)."""

DECLINE_REASONS = frozenset(
    {"INSUFFICIENT_FUNDS", "CARD_INACTIVE", "CARD_BLOCKED", "INVALID_CVC", "OTHER"}
)
"""``decline_reason``: "only present on declined transactions" (docs.monzo.com#transactions)."""

ACCOUNT_TYPES = frozenset({"uk_retail", "uk_retail_joint", "uk_prepaid"})
"""``account_type`` values the list-accounts filter accepts (docs.monzo.com#list-accounts)."""

ID_PREFIXES = {"account": "acc_", "transaction": "tx_", "pot": "pot_", "merchant": "merch_"}

_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)
_CURRENCY = re.compile(r"[A-Z]{3}")


def is_time(value: Any) -> bool:
    """An RFC 3339 timestamp with its offset (``2015-08-22T12:20:18Z``)."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True


def is_settled(value: Any) -> bool:
    """``settled``: a timestamp, or "" while the transaction is authorised but not complete."""
    return value == "" or value is None or is_time(value)


def is_minor_units(value: Any) -> bool:
    """An amount "as a 64bit integer in minor units of the currency" (JSON integer)."""
    return type(value) is int and -(2**63) <= value < 2**63


def is_currency(value: Any) -> bool:
    """An ISO 4217 alphabetic code."""
    return isinstance(value, str) and bool(_CURRENCY.fullmatch(value))


def is_text(value: Any) -> bool:
    return isinstance(value, str)


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_object(value: Any) -> bool:
    return isinstance(value, dict)


def _id_of(kind: str) -> Callable[[Any], bool]:
    prefix = ID_PREFIXES[kind]
    return lambda value: (
        isinstance(value, str) and value.startswith(prefix) and len(value) > len(prefix)
    )


def _merchant(value: Any) -> bool:
    # The merchant's id, its expanded object (?expand[]=merchant), or null for none.
    if value is None or _id_of("merchant")(value):
        return True
    return isinstance(value, dict) and not problems("merchant", value)


@dataclass(frozen=True)
class Field:
    """One documented field: whether it must be there, and the test its value must pass."""

    check: Callable[[Any], bool]
    required: bool = True
    nullable: bool = False


RULES: Mapping[str, Mapping[str, Field]] = {
    # docs.monzo.com#list-accounts: id, description, created are shown; the rest optional.
    "account": {
        "id": Field(_id_of("account")),
        "description": Field(is_text),
        "created": Field(is_time),
        "type": Field(is_text, required=False),
        "closed": Field(is_bool, required=False),
        "currency": Field(is_currency, required=False),
        "country_code": Field(is_text, required=False),
        "owners": Field(lambda v: isinstance(v, list), required=False),
        "account_number": Field(is_text, required=False),
        "sort_code": Field(is_text, required=False),
    },
    # docs.monzo.com#read-balance: four documented fields, all present.
    "balance": {
        "balance": Field(is_minor_units),
        "total_balance": Field(is_minor_units),
        "currency": Field(is_currency),
        "spend_today": Field(is_minor_units),
    },
    # docs.monzo.com#list-pots: the example object.
    "pot": {
        "id": Field(_id_of("pot")),
        "name": Field(is_text),
        "style": Field(is_text, required=False),
        "balance": Field(is_minor_units),
        "currency": Field(is_currency),
        "created": Field(is_time),
        "updated": Field(is_time),
        "deleted": Field(is_bool),
        "goal_amount": Field(is_minor_units, required=False, nullable=True),
        "current_account_id": Field(_id_of("account"), required=False),
    },
    # docs.monzo.com#transactions: the properties table and the example objects.
    "transaction": {
        "id": Field(_id_of("transaction")),
        "amount": Field(is_minor_units),
        "created": Field(is_time),
        "currency": Field(is_currency),
        "description": Field(is_text),
        "merchant": Field(_merchant, nullable=True),
        "metadata": Field(is_object),
        "notes": Field(is_text),
        "is_load": Field(is_bool),
        "settled": Field(is_settled, nullable=True),
        "category": Field(is_text, required=False),
        "decline_reason": Field(is_text, required=False),
        "account_id": Field(_id_of("account"), required=False),
        "local_amount": Field(is_minor_units, required=False),
        "local_currency": Field(is_currency, required=False),
        "counterparty": Field(is_object, required=False, nullable=True),
    },
    # The expanded merchant of docs.monzo.com#retrieve-transaction.
    "merchant": {
        "id": Field(_id_of("merchant")),
        "name": Field(is_text),
        "category": Field(is_text, required=False),
        "group_id": Field(is_text, required=False),
        "logo": Field(is_text, required=False),
        "emoji": Field(is_text, required=False),
        "created": Field(is_time, required=False),
        "address": Field(is_object, required=False, nullable=True),
    },
    # Monzo's error body: {"code": "...", "message": "..."} (docs.monzo.com#errors).
    "error": {
        "code": Field(is_text),
        "message": Field(is_text),
    },
}

OPEN_ENUM = {("transaction", "category"), ("transaction", "decline_reason")}
"""Codes Monzo adds to over time: an unknown one is allowed, and labelled as such."""


def problems(kind: str, item: Any) -> list[str]:
    """Each rule of ``kind`` that ``item`` breaks, in words (empty: it obeys them all)."""
    if not isinstance(item, dict):
        return [f"a {kind} must be a JSON object"]
    found = []
    for name, rule in RULES[kind].items():
        if name not in item:
            if rule.required:
                found.append(f"{name} is required")
            continue
        value = item[name]
        if value is None:
            if not rule.nullable:
                found.append(f"{name} may not be null")
            continue
        if not rule.check(value):
            found.append(f"{name} {value!r} is not valid")
    if kind == "transaction" and "local_amount" in item and "local_currency" not in item:
        found.append("local_amount comes with its local_currency")
    return found


def known_code(kind: str, name: str, value: str) -> bool:
    """Whether ``value`` is one of the codes the reference lists for ``kind.name``."""
    table = {
        ("transaction", "category"): CATEGORIES,
        ("transaction", "decline_reason"): DECLINE_REASONS,
        ("account", "type"): ACCOUNT_TYPES,
    }[(kind, name)]
    return value in table
