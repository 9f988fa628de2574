"""Stable ids for the items a bank sends without one.

Open Banking v3.1 leaves most ids optional (``TransactionId``, ``StatementId``,
``DirectDebitId``, ``ProductId``, ``OfferId``...). An item without one gets an id derived
from its content: a SHA-256 of the fields that say which item it is (its account, and for
a transaction when it was booked, the amount, its direction, its references and
counterparty...), never of the fields that change over its life (a transaction's status,
value date and running balance; a direct debit's last collection). A re-sync derives the
same id, so it adds nothing; two different items differ in those fields, so they do not
collide.

Two items can be identical in every field: two coffees for the same price at the same
minute. They are still two payments, so both are kept. The fetch numbers such twins in the
order the bank lists them (``number``): the second one carries ``portal:occurrence: 1``, the
third 2, and the number is part of its derived id. Both twins are always served together
(a transaction query is by booking time, and twins share theirs), so a re-sync numbers them
the same way. What this cannot do: if a bank that sends no ``TransactionId`` changes a
pending transaction's amount or booking time when it books it, the booked one is a new
item, and the pending one stays in the store beside it (the specification gives nothing to
link them by).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

OCCURRENCE = "portal:occurrence"
"""The key ``number`` adds to the second and later of identical items without an id."""

IDENTITY: dict[str, tuple[str, tuple[str, ...]]] = {
    "transactions": (
        "TransactionId",
        (
            "AccountId",
            "BookingDateTime",
            "Amount",
            "CreditDebitIndicator",
            "TransactionReference",
            "TransactionInformation",
            "BankTransactionCode",
            "ProprietaryBankTransactionCode",
            "MerchantDetails",
            "CreditorAccount",
            "DebtorAccount",
            "CardInstrument",
            "AddressLine",
        ),
    ),
    "direct_debits": ("DirectDebitId", ("AccountId", "MandateIdentification", "Name")),
    "standing_orders": (
        "StandingOrderId",
        (
            "AccountId",
            "Frequency",
            "Reference",
            "FirstPaymentDateTime",
            "FirstPaymentAmount",
            "CreditorAccount",
        ),
    ),
    "scheduled_payments": (
        "ScheduledPaymentId",
        (
            "AccountId",
            "ScheduledPaymentDateTime",
            "InstructedAmount",
            "Reference",
            "CreditorAccount",
        ),
    ),
    "beneficiaries": ("BeneficiaryId", ("AccountId", "Reference", "CreditorAccount")),
    "product": ("ProductId", ("AccountId", "ProductType", "ProductName", "SecondaryProductId")),
    "offers": (
        "OfferId",
        ("AccountId", "OfferType", "StartDateTime", "EndDateTime", "Description"),
    ),
    "statements": ("StatementId", ("AccountId", "Type", "StartDateTime", "EndDateTime")),
}
"""Per stream kind: the id field, and the fields whose content identifies an item without it."""


def own_or_derived(kind: str, item: dict[str, Any]) -> str:
    """The item's own id, or one derived from its content (``derived:`` and 32 hex digits)."""
    key, _ = IDENTITY[kind]
    own = item.get(key)
    return own if isinstance(own, str) and own else derived(kind, item)


def derived(kind: str, item: dict[str, Any], *, account_id: str | None = None) -> str:
    """The id of an item without its own: the digest of what identifies it, and its number."""
    _, fields = IDENTITY[kind]
    values = [item.get(name) for name in fields]
    if values[0] is None and account_id is not None:
        values[0] = account_id  # a beneficiary need not name its account: its path does
    values.append(item.get(OCCURRENCE, 0))
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "derived:" + hashlib.sha256(text.encode()).hexdigest()[:32]


def number(
    kind: str, items: list[dict[str, Any]], seen: Counter[str], account_id: str | None = None
) -> list[dict[str, Any]]:
    """Mark the twins among ``items`` that have no id of their own; return ``items``.

    ``seen`` counts the derived ids met so far in the stream, across its pages. An item
    with its own id costs one dictionary lookup.
    """
    key, _ = IDENTITY[kind]
    for item in items:
        if not isinstance(item, dict):
            continue  # normalise rejects it, saying why
        own = item.get(key)
        if isinstance(own, str) and own:
            continue
        first = derived(kind, item, account_id=account_id)
        n = seen[first]
        seen[first] = n + 1
        if n:
            item[OCCURRENCE] = n
    return items
