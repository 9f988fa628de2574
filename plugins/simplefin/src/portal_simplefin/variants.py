"""Other ways the SimpleFIN protocol lets the Bridge serve the same person
(``portal_simplefin.rules``): ``SimpleFinSandbox(variant=name)`` serves the accounts
document one such way, and its ground truth states it as served.

- ``v1``: the 1.0 draft's document: ``errors`` as strings, each account with its ``org``
  (domain, name, sfin-url) and no ``conn_id``, no ``connections``;
- ``sparse``: only what the protocol requires: no ``available-balance``, ``extra``, ``mcc``
  or ``transacted_at`` of a posted transaction (a pending one keeps ``pending`` and
  ``transacted_at``: without them a ``posted: 0`` would be a posting in 1970);
- ``miles``: a fourth account in a custom currency (an airline's miles, named by a URL):
  its balance is kept as points; its transactions are refused, each with the reason
  (portal records transactions in ISO 4217 currencies only);
- ``faulty``: one transaction's amount is a JSON number, not a numeric string: portal
  refuses it, saying why, and keeps the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MILES_ACCOUNT = "ACT-71e0aa43-miles"
MILES_CURRENCY = "https://www.alaskaair.example/mileage-plan-miles"
FAULTY_DESCRIPTION = "PAYROLL ACME ROBOTICS INC"


@dataclass(frozen=True)
class Variant:
    """One way of serving the accounts document."""

    name: str
    description: str
    rejected: int = 0
    """How many transactions a correct plugin refuses."""


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("standard", "Every attribute the SimpleFIN protocol 2.0 documents."),
        Variant("v1", "The protocol 1.0 document: errors as strings, org on each account."),
        Variant("sparse", "Only the attributes the protocol requires."),
        Variant(
            "miles",
            "A fourth account in a custom currency (a URL): its balance kept as points, its"
            " three transactions refused with the reason.",
            rejected=3,
        ),
        Variant(
            "faulty",
            "Not valid: one transaction's amount is a JSON number; portal refuses it with"
            " the reason and keeps the rest.",
            rejected=1,
        ),
    )
}
"""Every variant the sandbox can serve, by name."""


def variant(name: str) -> Variant:
    """The variant called ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}: {', '.join(VARIANTS)}.")
    return VARIANTS[name]


def sparse_account(account: dict[str, Any]) -> dict[str, Any]:
    """An account with only its required attributes."""
    for name in ("available-balance", "extra"):
        account.pop(name, None)
    return account


def sparse_transaction(txn: dict[str, Any]) -> dict[str, Any]:
    """A transaction with only its required attributes (a pending one keeps its pending)."""
    for name in ("extra", "mcc"):
        txn.pop(name, None)
    if not txn.get("pending"):
        txn.pop("transacted_at", None)
    return txn
