"""Variants: the plugin holds up against every shape its sandbox declares it can serve.

A sandbox declares its variants with ``portal.variants.SandboxVariants``: specification-
valid shapes (``VALID``: the store holds exactly the variant's truth) and planted
violations (``FAULTY``: exactly the planted items rejected, each with a reason, the rest
stored, the sync complete). Each variant gets a sync of its own against the sandbox built
for it, judged by the same exact-completeness comparison as the main run
(``rules.completeness``), so a variant is held to exactly what the usual sandbox is.
"""

from __future__ import annotations

from portal.provider import Provider
from portal.variants import FAULTY, declared_variants
from portal_conformance.failures import CheckFailed, NotApplicable
from portal_conformance.harness import Harness
from portal_conformance.rules import completeness

NONE_DECLARED = "(none declared)"
"""The parameter of the one, skipped, variant check of a sandbox that declares none."""


def names(provider: Provider) -> list[str]:
    """The variant names to check: those the sandbox declares, or one placeholder."""
    return list(declared_variants(provider.sandbox)) or [NONE_DECLARED]


def variant(h: Harness, name: str) -> dict[str, float]:
    """Sync against the sandbox's variant ``name``; the store must match that variant's truth."""
    declared = declared_variants(h.provider.sandbox)
    if not declared:
        raise NotApplicable(
            "the sandbox declares no variants (portal.variants.SandboxVariants declares the"
            " other shapes it can serve): declare the shapes the provider's specification"
            " allows, or declare 'variants' unsupported with the reason"
        )
    kind = declared[name].kind
    with h.for_variant(name) as v:
        return _judge(v, name, kind)


def _judge(v: Harness, name: str, kind: str) -> dict[str, float]:
    try:
        v.require_main_ok()
        truth = v.truth
        planted = sum(truth.rejections.values())
        if kind == FAULTY and not planted:
            raise CheckFailed(
                "The variant is declared faulty but its sandbox plants nothing to reject.",
                where=f"{type(v.main.sandbox).__name__}.truth_rejections",
                fix="Count the planted items in truth_rejections, or declare the variant VALID.",
            )
        categories = [c.value for c in v.provider.categories if c.value in truth.items]
        for category in categories:
            completeness.exact_count(v, category)
            completeness.no_silent_drop(v, category)
    except CheckFailed as failure:
        # The same failure, saying which variant showed it.
        raise type(failure)(
            f"Against the sandbox's {kind} variant {name!r}: {failure.what}",
            where=f"{failure.where}, sandbox variant {name!r}",
            fix=failure.fix,
            stats=failure.stats,
        ) from None
    records = sum(truth.expected_records(c) for c in categories)
    return {"records": float(records), "rejections": float(planted)}
