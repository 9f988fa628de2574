"""The other shapes Monzo's reference allows the sandbox to serve the same customer in.

- ``sparse``: every field the reference does not require left out (``portal_monzo.rules``):
  accounts with only their id, description and opening; pots without style, goal or
  current account; transactions without category, decline reason, account, local amount
  or counterparty. A correct plugin stores exactly what is served.
- ``faulty``: two transactions break the reference's rules (an amount that is not a whole
  number of minor units, a ``created`` that is not RFC 3339); a correct plugin rejects
  exactly those two, saying why, and stores the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from portal_monzo import rules

VARIANTS = ("standard", "sparse", "faulty")
KINDS = {"accounts": "account", "pots": "pot", "transactions": "transaction"}
FAULTY_REJECTED = 2


def _optional(kind: str) -> set[str]:
    return {name for name, rule in rules.RULES[kind].items() if not rule.required}


def serve(
    variant: str, key: str, items: list[dict[str, Any]], spoiled: Mapping[str, str]
) -> list[dict[str, Any]]:
    """``items`` of ``key`` (accounts, pots, transactions) as ``variant`` serves them;
    ``spoiled`` names the transactions ``faulty`` spoils (``planted``)."""
    if variant == "sparse" and key in KINDS:
        dropped = _optional(KINDS[key])
        return [{k: v for k, v in item.items() if k not in dropped} for item in items]
    if variant == "faulty" and key == "transactions":
        return [_spoiled(item, spoiled.get(item["id"])) for item in items]
    return items


def planted(transaction_ids: list[str]) -> dict[str, str]:
    """Which transactions the ``faulty`` variant spoils, and how: two, a third and two thirds
    of the way through."""
    ids = sorted(transaction_ids)
    return {ids[len(ids) // 3]: "amount", ids[2 * len(ids) // 3]: "created"}


def _spoiled(item: dict[str, Any], how: str | None) -> dict[str, Any]:
    if how == "amount":
        return {**item, "amount": item["amount"] / 100}  # pounds as a float: not minor units
    if how == "created":
        return {**item, "created": "22/08/2015 12:20"}  # not RFC 3339
    return item
