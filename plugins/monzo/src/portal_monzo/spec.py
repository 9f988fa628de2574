"""Monzo's answers in every shape its reference allows, generated from the written-down rules.

The plugin's ``portal.specvariants.Specification``: for an answer of the API and one of the
generated variants, it walks each object of the answer against its rule
(``portal_monzo.rules``) and changes it everywhere the rules allow, never a sample:

- ``optional_absent``: every field the reference does not require is left out, in the
  expanded merchant too;
- ``unknown_codes``: a transaction's ``category`` and ``decline_reason`` (lists Monzo adds
  to) are codes no list holds; the account types stay, as the reference closes that list;
- ``unknown_fields``: every object gets a field no version defines (Monzo's are open:
  real answers carry many the reference never names);
- ``other_currency``: every currency is another ISO 4217 code.

``problems`` checks a body with the same rules; the suite checks every generated body with
it before serving it.
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
from portal_monzo import rules

SOURCE = "Monzo API reference, https://docs.monzo.com (github.com/monzo/docs source/includes)"
UNKNOWN_FIELD = "portal_conformance_addition"
UNKNOWN_FIELD_VALUE = "A field a later version of the API might add"
UNKNOWN_CODES_BY_FIELD = {
    "category": "portal_conformance_unlisted",
    "decline_reason": "PORTAL_CONFORMANCE_UNLISTED",
}
OTHER_CURRENCIES = {"GBP": "EUR"}
"""The currency ``other_currency`` serves instead of each; any other becomes GBP."""

ENDPOINTS = {"/accounts": "accounts", "/pots": "pots", "/transactions": "transactions"}
"""List answers: their path, and the key of the list (each item follows its kind's rule)."""
KINDS = {"accounts": "account", "pots": "pot", "transactions": "transaction"}
NESTED = {("transaction", "merchant"): "merchant"}
"""Fields holding an object with a rule of its own (an expanded merchant)."""


def vary(variant: str, kind: str, item: Any) -> tuple[Any, int]:
    """``item`` (a ``kind`` of object) as ``variant`` serves it, and how many changes it took."""
    if not isinstance(item, dict):
        return item, 0
    fields = rules.RULES[kind]
    out: dict[str, Any] = {}
    changes = 0
    for name, value in item.items():
        rule = fields.get(name)
        nested = NESTED.get((kind, name))
        if rule is not None and variant == OPTIONAL_ABSENT and not rule.required:
            changes += 1
            continue
        if nested is not None and isinstance(value, dict):
            out[name], n = vary(variant, nested, value)
            changes += n
        elif variant == UNKNOWN_CODES and kind == "transaction" and name in UNKNOWN_CODES_BY_FIELD:
            out[name] = UNKNOWN_CODES_BY_FIELD[name]
            changes += 1
        elif variant == OTHER_CURRENCY and rule is not None and rule.check is rules.is_currency:
            out[name] = OTHER_CURRENCIES.get(value, "GBP")
            changes += 1
        else:
            out[name] = value
    if variant == UNKNOWN_FIELDS:
        out[UNKNOWN_FIELD] = UNKNOWN_FIELD_VALUE
        changes += 1
    return out, changes


class MonzoSpecification:
    """Monzo's API reference, generating the answers it allows."""

    source: str = SOURCE
    variants: Sequence[str] = (OPTIONAL_ABSENT, UNKNOWN_CODES, UNKNOWN_FIELDS, OTHER_CURRENCY)

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """The answer to ``path`` with every object varied as ``variant`` allows."""
        if "json" not in content_type:
            return None
        parsed = json.loads(body)
        if path == "/balance":
            varied, n = vary(variant, "balance", parsed)
            return Varied(json.dumps(varied, ensure_ascii=False).encode(), [varied], n)
        key = ENDPOINTS.get(path)
        if key is None or not isinstance(parsed, dict) or not isinstance(parsed.get(key), list):
            return None
        made = [vary(variant, KINDS[key], item) for item in parsed[key]]
        parsed[key] = [v for v, _ in made]
        text = json.dumps(parsed, ensure_ascii=False)
        return Varied(text.encode(), parsed[key], sum(n for _, n in made))

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way a JSON answer to ``path`` breaks the written-down rules."""
        if "json" not in content_type:
            return []
        parsed = json.loads(body)
        if path == "/balance":
            return rules.problems("balance", parsed)
        key = ENDPOINTS.get(path)
        if key is None:
            return []
        if not isinstance(parsed, dict) or not isinstance(parsed.get(key), list):
            return [f"the answer to {path} holds no {key} list"]
        return [
            f"{key}[{n}]: {problem}"
            for n, item in enumerate(parsed[key])
            for problem in rules.problems(KINDS[key], item)
        ]

    def __repr__(self) -> str:
        return f"MonzoSpecification({self.source!r})"


SPECIFICATION = MonzoSpecification()
"""The specification the Monzo plugin declares (``Provider.specification``)."""
