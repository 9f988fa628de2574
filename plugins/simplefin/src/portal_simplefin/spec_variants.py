"""The Bridge's answers in the other shapes the SimpleFIN protocol allows, generated from its rules.

The plugin's ``portal.specvariants.Specification``: for an answer of ``GET /accounts`` and
one of the generated variants, it changes the document in every place the protocol
(``portal_simplefin.rules``) allows, never a sample:

- ``optional_absent``: every optional attribute of every account, transaction and error
  is left out (``available-balance``, ``extra``, ``transacted_at``, ``pending``, ``mcc``,
  ``conn_id`` of an error...), but an account's ``transactions``: they are the items
  themselves, and an account without them is the answer to another question
  (``balances-only``). A pending transaction left without ``pending`` and
  ``transacted_at`` is a posting with no date; the plugin refuses it, saying why;
- ``unknown_codes``: every error code gets a subcode nobody listed (``con.`` + another
  word: read as its bare prefix) and every ``mcc`` a category portal has no words for;
- ``unknown_fields``: every object gets an attribute the protocol does not define (it
  leaves every object open; the Bridge adds ``holdings``, ``payee``, ``memo``);
- ``other_currency``: every account's ISO 4217 currency is another one.

The protocol's only optional arrays are the deprecated ``errors`` and ``transactions``
(see above), so ``empty_arrays`` is not declared.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from portal.specvariants import (
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_CODES,
    UNKNOWN_FIELDS,
    Varied,
)
from portal_simplefin import rules

PATH = "/accounts"
UNKNOWN_FIELD = "portal-conformance-addition"
UNKNOWN_SUBCODE = "portalunlisted"
UNKNOWN_MCC = "0001"
OTHER_CURRENCIES = {"USD": "EUR", "CAD": "GBP"}
"""The currency ``other_currency`` serves instead of each; any other becomes JPY."""
_KEEP = {"transactions"}


def _object(
    variant: str, value: dict[str, Any], rule: dict[str, rules.Rule]
) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    changes = 0
    for name, inner in value.items():
        required = rule.get(name, (True, ""))[0]
        if variant == OPTIONAL_ABSENT and name in rule and not required and name not in _KEEP:
            changes += 1
            continue
        out[name] = inner
    if variant == UNKNOWN_FIELDS:
        out[UNKNOWN_FIELD] = "an attribute a server added"
        changes += 1
    return out, changes


def _transaction(variant: str, txn: dict[str, Any]) -> tuple[dict[str, Any], int]:
    out, changes = _object(variant, txn, rules.TRANSACTION)
    if variant == UNKNOWN_CODES and "mcc" in out:
        out["mcc"] = UNKNOWN_MCC
        changes += 1
    return out, changes


def _account(variant: str, account: dict[str, Any], v2: bool) -> tuple[dict[str, Any], int]:
    rule = dict(rules.ACCOUNT)
    rule["conn_id" if v2 else "org"] = (True, "")  # required in its version
    out, changes = _object(variant, account, rule)
    if variant == OTHER_CURRENCY and not rules.is_custom_currency(out["currency"]):
        out["currency"] = OTHER_CURRENCIES.get(out["currency"], "JPY")
        changes += 1
    if isinstance(out.get("org"), dict) and variant == UNKNOWN_FIELDS:
        out["org"] = {**out["org"], UNKNOWN_FIELD: "an attribute a server added"}
        changes += 1
    txns = []
    for txn in out.get("transactions") or []:
        varied, n = _transaction(variant, txn)
        txns.append(varied)
        changes += n
    if "transactions" in out:
        out["transactions"] = txns
    return out, changes


def _error(variant: str, error: dict[str, Any]) -> tuple[dict[str, Any], int]:
    rule = {**rules.ERROR, "msg": (True, "text")}
    out, changes = _object(variant, error, rule)
    if variant == UNKNOWN_CODES:
        out["code"] = str(out["code"]).split(".", 1)[0] + "." + UNKNOWN_SUBCODE
        changes += 1
    return out, changes


def vary_document(variant: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The Account Set ``body`` as ``variant`` serves it, and how many changes that made."""
    v2 = "errlist" in body
    changes = 0
    required = {"errors": (not v2, ""), "errlist": (v2, ""), "connections": (v2, "")}
    out, n = _object(variant, body, {**rules.ACCOUNT_SET, **required})
    changes += n
    accounts = []
    for account in body["accounts"]:
        varied, n = _account(variant, account, v2)
        accounts.append(varied)
        changes += n
    out["accounts"] = accounts
    if v2:
        errors = [_error(variant, e) for e in body["errlist"]]
        out["errlist"] = [e for e, _ in errors]
        changes += sum(n for _, n in errors)
        if variant == UNKNOWN_FIELDS:
            out["connections"] = [{**c, UNKNOWN_FIELD: "added"} for c in body["connections"]]
            changes += len(body["connections"])
    return out, changes


class SimpleFinSpecification:
    """The SimpleFIN protocol (1.0 draft and 2.0), generating the answers it allows."""

    source: str = rules.SOURCE
    variants: Sequence[str] = (OPTIONAL_ABSENT, UNKNOWN_CODES, UNKNOWN_FIELDS, OTHER_CURRENCY)

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """The Account Set at ``/accounts`` with every place ``variant`` allows changed."""
        if path != PATH or "json" not in content_type:
            return None
        document = json.loads(body)
        if not isinstance(document, dict) or not isinstance(document.get("accounts"), list):
            return None
        varied, changes = vary_document(variant, document)
        items = [
            *({k: v for k, v in a.items() if k != "transactions"} for a in varied["accounts"]),
            *(t for a in varied["accounts"] for t in a.get("transactions") or []),
        ]
        return Varied(json.dumps(varied, ensure_ascii=False).encode(), items, changes)

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way an Account Set breaks the protocol."""
        if path != PATH or "json" not in content_type:
            return []
        return rules.problems(json.loads(body))

    def __repr__(self) -> str:
        return "SimpleFinSpecification()"


SPECIFICATION = SimpleFinSpecification()
"""The specification the SimpleFIN plugin declares (``Provider.specification``)."""
