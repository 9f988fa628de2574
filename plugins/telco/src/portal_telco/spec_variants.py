"""TM Forum answers in the other shapes the documents allow, generated from their rules.

The telco's ``portal.specvariants.Specification``: for a collection the API serves and one
of the generated variants, it walks each item against its definition
(``portal_telco.rules.DEFINITIONS``) and changes it in every place the documents allow,
never a sample:

- ``optional_absent``: every property a definition does not require is left out, at every
  depth, but an item's own ``id`` (a bill is then ``{"id": ...}``: TMF678 requires nothing
  of it, but items with nothing to tell them apart are one page served again);
- ``empty_arrays``: every array is served empty (no definition requires one);
- ``unknown_fields``: every object gets a property of a sub-class (no object forbids one);
- ``other_currency``: every ``Money.unit`` is another ISO 4217 code.

The documents keep no open code lists of their own (a rate's ``type`` or a usage's
``usageType`` are free text they describe by example), so ``unknown_codes`` is not
declared. The telco's own resources beside TM Forum's (the processing notice, the
inferences) are served as they are.
"""

from __future__ import annotations

import json
from typing import Any

from portal.specvariants import (
    EMPTY_ARRAYS,
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_FIELDS,
    Varied,
)
from portal_telco import rules

COLLECTIONS = {
    "/tmf-api/customerManagement/v4/customer": "Customer",
    "/tmf-api/productInventory/v4/product": "Product",
    "/tmf-api/customerBillManagement/v4/customerBill": "CustomerBill",
    "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate": "AppliedCustomerBillingRate",
    "/tmf-api/privacyManagement/v4/partyPrivacyProfile": "PartyPrivacyProfile",
    "/tmf-api/usageManagement/v4/usage": "Usage",
}
"""Each TM Forum collection the plugin reads, by its path, and its items' definition."""
UNKNOWN_FIELD = "portalConformanceAddition"
OTHER_CURRENCIES = {"GBP": "EUR"}
"""The currency ``other_currency`` serves instead of each; any other becomes GBP."""


def vary(variant: str, kind: str, value: Any) -> tuple[Any, int]:
    """``value`` (of type ``kind`` in ``rules``) as ``variant`` serves it, and the changes."""
    if kind.startswith("[") and isinstance(value, list):
        varied = [vary(variant, kind[1:-1], element) for element in value]
        return [v for v, _ in varied], sum(n for _, n in varied)
    if kind in rules.DEFINITIONS and isinstance(value, dict):
        return _vary_object(variant, kind, value)
    return value, 0


def _vary_object(variant: str, kind: str, value: dict[str, Any]) -> tuple[Any, int]:
    properties, required = rules.DEFINITIONS[kind]
    out: dict[str, Any] = {}
    changes = 0
    for name, inner in value.items():
        inner_kind = properties.get(name)
        if inner_kind is None:  # a sub-class's own property: as it is
            out[name] = inner
        elif variant == OPTIONAL_ABSENT and name not in required:
            changes += 1
        elif variant == EMPTY_ARRAYS and inner_kind.startswith("[") and inner:
            out[name] = []
            changes += 1
        elif variant == OTHER_CURRENCY and kind == "Money" and name == "unit":
            out[name] = OTHER_CURRENCIES.get(inner, "GBP")
            changes += 1
        else:
            out[name], n = vary(variant, inner_kind, inner)
            changes += n
    if variant == UNKNOWN_FIELDS:
        out[UNKNOWN_FIELD] = "a property of a sub-class"
        changes += 1
    return out, changes


def _item(variant: str, kind: str, item: Any) -> tuple[Any, int]:
    varied, changes = vary(variant, kind, item)
    if variant == OPTIONAL_ABSENT and isinstance(varied, dict) and "id" in item:
        # An item keeps its own id: items with nothing to tell them apart make pages that
        # are the page before served again, which the engine rightly stops as a loop.
        return {"id": item["id"], **varied}, changes - 1
    return varied, changes


class TmForumSpecification:
    """TMF678, TMF637, TMF644, TMF629 and TMF635 v4, generating the answers they allow."""

    source = rules.SOURCE
    variants = (OPTIONAL_ABSENT, EMPTY_ARRAYS, UNKNOWN_FIELDS, OTHER_CURRENCY)

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """The collection at ``path`` with every item varied as ``variant`` allows."""
        kind = COLLECTIONS.get(path)
        if kind is None or "json" not in content_type:
            return None
        items = json.loads(body)
        if not isinstance(items, list):
            return None
        varied = [_item(variant, kind, item) for item in items]
        served = [v for v, _ in varied]
        text = json.dumps(served, ensure_ascii=False)
        return Varied(text.encode(), served, sum(n for _, n in varied))

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way the items of a collection break their definition."""
        kind = COLLECTIONS.get(path)
        if kind is None or "json" not in content_type:
            return []
        items = json.loads(body)
        if not isinstance(items, list):
            return [f"{path} answers {type(items).__name__}, not an array"]
        return [p for n, item in enumerate(items) for p in rules.problems(kind, item, f"[{n}]")]

    def __repr__(self) -> str:
        return "TmForumSpecification()"


SPECIFICATION = TmForumSpecification()
"""The specification the telco plugin declares (``Provider.specification``)."""
