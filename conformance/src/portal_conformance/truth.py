"""The ground truth a sandbox states, read the same way for every plugin.

The contract (documented on ``Sandbox.ground_truth`` and in the provider cookbook):

- ``sandbox.ground_truth()`` returns the raw items the sandbox serves right now, exactly as
  served, as ``{key: [item, ...]}``. A key is a record category (``"transactions"``); each
  item under it must become exactly one record of that category.
- A key that is not a category is mapped by the sandbox's optional ``truth_categories``
  attribute (``{"marketing_preferences": "consents"}``); a key mapped to ``None`` is
  information only and is not counted.
- Optional ``truth_rejections`` (``{category: n}``): items served under that category that
  a correct plugin must reject with a reason (a deliberately unusable item in the seeded
  data); they are expected as rejections, not as records.

The suite then asserts exact counts: what the sandbox served is what the store holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.record.vocab import Category
from portal_conformance.failures import CheckFailed


@dataclass(frozen=True)
class GroundTruth:
    """What the sandbox served, by record category."""

    items: Mapping[str, list[dict[str, Any]]]
    rejections: Mapping[str, int] = field(default_factory=dict)

    def served(self, category: str) -> int:
        """How many raw items of ``category`` were served."""
        return len(self.items.get(category, ()))

    def expected_records(self, category: str) -> int:
        """How many records of ``category`` a correct plugin stores."""
        return self.served(category) - self.rejections.get(category, 0)

    @property
    def categories(self) -> list[str]:
        """The categories the sandbox states a truth for."""
        return sorted(self.items)


def read_truth(sandbox: Any) -> GroundTruth:
    """Read and check a sandbox's ground truth, mapping its keys to record categories."""
    where = f"{type(sandbox).__name__}.ground_truth()"
    raw = sandbox.ground_truth()
    if not isinstance(raw, Mapping) or not raw:
        raise CheckFailed(
            "The sandbox states no ground truth, so nothing can be checked exactly.",
            where=where,
            fix="Return {category: [raw items as served]} from ground_truth().",
        )
    mapping: Mapping[str, str | None] = getattr(sandbox, "truth_categories", {}) or {}
    known = {c.value for c in Category}
    items: dict[str, list[dict[str, Any]]] = {}
    for key, values in raw.items():
        category = mapping.get(key, key) if key in mapping else key
        if category is None:
            continue
        if category not in known:
            raise CheckFailed(
                f"Ground-truth key {key!r} is not a record category ({', '.join(sorted(known))}).",
                where=where,
                fix=f"Name the key after the category its items become, or map it in"
                f" {type(sandbox).__name__}.truth_categories = {{{key!r}: 'category'}}.",
            )
        items.setdefault(category, []).extend(values)
    rejections = dict(getattr(sandbox, "truth_rejections", {}) or {})
    return GroundTruth(items=items, rejections=rejections)
