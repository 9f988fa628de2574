"""Open Banking's answers in every shape the specification allows, generated from its rules.

The bank's ``portal.specvariants.Specification``: for an answer of the API and one of the
generated variants, it walks each item of the answer against the item's rule
(``portal_bank.spec``) and changes it in every place the rules allow, never a sample:

- ``optional_absent``: every field the rules leave optional is left out, at every depth
  (a required object keeps its required fields and loses its optional ones);
- ``empty_arrays``: every optional array is served empty;
- ``unknown_codes``: every value of an open code list (a namespaced enumeration, or a code
  governed by an external list: ISO 20022 bank transaction codes, a bank's proprietary
  codes, merchant category codes) is one no list holds;
- ``unknown_fields``: every object that is not closed gets a field no version defines;
- ``other_currency``: every currency is another ISO 4217 code.

Only the items change: the envelope (``Links``, ``Meta``) is closed and its links drive
paging, so it is served as it is. ``problems`` checks a body with ``portal_bank.spec_check``;
the suite checks every generated body with it before serving it, and the bank's tests check
every variant of every answer the sandbox serves.
"""

from __future__ import annotations

import json
from typing import Any

from portal.specvariants import (
    EMPTY_ARRAYS,
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_CODES,
    UNKNOWN_FIELDS,
    Varied,
)
from portal_bank import spec_check
from portal_bank.spec import SOURCE
from portal_bank.spec_endpoints import Endpoint
from portal_bank.spec_rules import Rule

UNKNOWN_FIELD = "PortalConformanceAddition"
"""The name of the field ``unknown_fields`` adds: no version of the specification has it."""
UNKNOWN_FIELD_VALUE = "A field a later version of the specification might add"
UNKNOWN_CODE = "UK.PortalConformance.UnlistedCode"
"""The code ``unknown_codes`` serves: a namespace of its own, in no list."""
OTHER_CURRENCIES = {"GBP": "EUR"}
"""The currency ``other_currency`` serves instead of each; any other becomes GBP."""


def _unknown_code(rule: Rule) -> str:
    limit = rule.max_length or len(UNKNOWN_CODE)
    # A short list (a four-character merchant category code) gets digits no list assigns.
    return UNKNOWN_CODE if limit >= len(UNKNOWN_CODE) else "9" * limit


def vary(variant: str, rule: Rule, value: Any) -> tuple[Any, int]:
    """``value`` (following ``rule``) as ``variant`` serves it, and how many changes that took."""
    if rule.kind == "object" and isinstance(value, dict):
        return _vary_object(variant, rule, value)
    if rule.kind == "array" and isinstance(value, list) and rule.items is not None:
        varied = [vary(variant, rule.items, element) for element in value]
        return [v for v, _ in varied], sum(n for _, n in varied)
    if variant == UNKNOWN_CODES and rule.kind == "namespaced" and isinstance(value, str):
        return _unknown_code(rule), 1
    if variant == OTHER_CURRENCY and rule.kind == "currency" and isinstance(value, str):
        return OTHER_CURRENCIES.get(value, "GBP"), 1
    return value, 0


def _vary_object(variant: str, rule: Rule, value: dict[str, Any]) -> tuple[Any, int]:
    out: dict[str, Any] = {}
    changes = 0
    for name, inner in value.items():
        field_rule = rule.fields.get(name)
        if field_rule is None:  # beyond what the rules describe (a bank's own data): as it is
            out[name] = inner
        elif variant == OPTIONAL_ABSENT and not field_rule.required:
            changes += 1
        elif variant == EMPTY_ARRAYS and _emptiable(field_rule) and inner:
            out[name] = []
            changes += 1
        else:
            out[name], n = vary(variant, field_rule, inner)
            changes += n
    if variant == UNKNOWN_FIELDS and not rule.closed:
        out[UNKNOWN_FIELD] = UNKNOWN_FIELD_VALUE
        changes += 1
    return out, changes


def _emptiable(rule: Rule) -> bool:
    return rule.kind == "array" and not rule.required and rule.min_items == 0


def _items(body: Any, endpoint: Endpoint) -> tuple[Any, list[Any]]:
    """Where the items of an answer are: (the object holding them, the items)."""
    data = body.get("Data") if isinstance(body, dict) else None
    if endpoint.key is None:
        return body, [data] if data is not None else []
    if not isinstance(data, dict) or endpoint.key not in data:
        return data, []
    held = data[endpoint.key]
    return data, [held] if endpoint.single else list(held) if isinstance(held, list) else []


class OpenBankingSpecification:
    """Open Banking Account and Transaction API v3.1, generating the answers it allows."""

    source = SOURCE
    variants = (OPTIONAL_ABSENT, EMPTY_ARRAYS, UNKNOWN_CODES, UNKNOWN_FIELDS, OTHER_CURRENCY)

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """The answer to ``path`` with every item varied as ``variant`` allows."""
        found = spec_check.endpoint(path)
        if found is None or "json" not in content_type:
            return None  # a statement's file, or a resource the rules do not cover
        endpoint = found[1]
        parsed = json.loads(body)
        holder, items = _items(parsed, endpoint)
        varied = [vary(variant, endpoint.item, item) for item in items]
        served = [v for v, _ in varied]
        if endpoint.key is None:
            parsed["Data"] = served[0] if served else parsed.get("Data")
        elif items:
            holder[endpoint.key] = served[0] if endpoint.single else served
        text = json.dumps(parsed, ensure_ascii=False)
        return Varied(text.encode(), served, sum(n for _, n in varied))

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way a JSON answer to ``path`` breaks the written-down rules."""
        if spec_check.endpoint(path) is None or "json" not in content_type:
            return []
        return spec_check.response_problems(path, json.loads(body))

    def __repr__(self) -> str:
        return f"OpenBankingSpecification({self.source!r})"


SPECIFICATION = OpenBankingSpecification()
"""The specification the bank plugin declares (``Provider.specification``)."""
