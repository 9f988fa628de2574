"""Every check family: its test name, the function behind it, its parameters and its group.

The parameters are known from the declaration alone (no sandbox started at collection):
entities and fields come from ``portal.record.model.ENTITIES`` and the provider's declared
inventory, so a new entity or a new plugin is covered without touching the suite.

A provider graded on sample files (import mode, ``portal_conformance.harness``) gets the
families that read what was stored, and import mode's own (damaged files, no network,
memory over a longer history) in place of those about a live service; ``IMPORT_TIERS``
says what each of its tiers needs.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from portal.provider import Provider
from portal.record.model import ENTITIES, Entity
from portal_conformance.declaration import DeclarationError
from portal_conformance.harness import IMPORT, SYNC, Harness
from portal_conformance.rules import (
    budgets,
    canary,
    changes,
    completeness,
    credentials,
    declaration,
    delivery,
    documents,
    files,
    legibility,
    rawfields,
    reconcile,
    resilience,
    security,
    specvariants,
    stability,
    values,
    variants,
    writes,
)


@dataclass(frozen=True)
class Family:
    """One kind of check, generated as ``test_<name>[param]``."""

    name: str
    group: str
    check: Callable[[Harness, str], Any]
    params: Callable[[Provider], list[str]]
    doc: str
    imports: Callable[[Provider], list[str]] | None = None
    """Its parameters in import mode: the same as ``params``, others, or None (not run)."""

    def params_in(self, provider: Provider, mode: str) -> list[str]:
        """The parameters the family runs with for ``provider`` graded in ``mode``."""
        if mode == IMPORT:
            return self.imports(provider) if self.imports is not None else []
        return self.params(provider)


def _entities(provider: Provider) -> list[type[Entity]]:
    declared = {c.value for c in provider.categories}
    return [e for e in ENTITIES if e.category.value in declared]


def _categories(provider: Provider) -> list[str]:
    known = {e.category.value for e in ENTITIES}
    return [c.value for c in provider.categories if c.value in known] or ["(none declared)"]


def _with(field_test: Callable[[str], bool]) -> Callable[[Provider], list[str]]:
    def params(provider: Provider) -> list[str]:
        return [
            e.category.value
            for e in _entities(provider)
            if any(field_test(f) for f in e.model_fields)
        ]

    return params


def _fields(provider: Provider) -> list[str]:
    return [f"{e.category.value}.{f}" for e in _entities(provider) for f in legibility.fields_of(e)]


def _fixed(*values: str) -> Callable[[Provider], list[str]]:
    return lambda provider: list(values)


_PARENTS = {f"{e.__name__.lower()}_id" for e in ENTITIES} - set(Entity.model_fields)

FAMILIES: tuple[Family, ...] = (
    Family(
        "declaration",
        "declaration",
        declaration.declaration,
        _fixed(*declaration.ASPECTS),
        "valid manifest, core inventory, HTTPS, least scopes, limits, sandbox, waivers",
        imports=_fixed(*declaration.IMPORT_ASPECTS),
    ),
    Family(
        "permissions",
        "permissions",
        declaration.permissions,
        _categories,
        "a narrower grant returns less",
    ),
    Family(
        "category_delivered",
        "completeness",
        completeness.category_delivered,
        _categories,
        "every declared category arrives",
        imports=_categories,
    ),
    Family(
        "exact_count",
        "completeness",
        completeness.exact_count,
        _categories,
        "per-entity counts equal what the sandbox served",
        imports=_categories,
    ),
    Family(
        "required_fields",
        "completeness",
        completeness.required_fields,
        _categories,
        "every stored row is a valid record",
        imports=_categories,
    ),
    Family(
        "parents_resolve",
        "completeness",
        completeness.parents_resolve,
        _with(lambda f: f in _PARENTS),
        "every parent reference resolves",
        imports=_with(lambda f: f in _PARENTS),
    ),
    Family(
        "values",
        "completeness",
        values.values,
        _categories,
        "every stored value equals what the sandbox states it served, field by field",
        imports=_categories,
    ),
    Family(
        "matches_served",
        "completeness",
        completeness.matches_served,
        _with(lambda f: f == "currency" or f.endswith("_currency")),
        "currencies come from what was served",
        imports=_with(lambda f: f == "currency" or f.endswith("_currency")),
    ),
    Family(
        "no_silent_drop",
        "completeness",
        completeness.no_silent_drop,
        _categories,
        "raw items in = records + rejections with a reason",
        imports=_categories,
    ),
    Family(
        "kept_files",
        "completeness",
        documents.kept_files,
        _with(lambda f: f == "digest"),
        "every document's digest names a kept file whose bytes match",
        imports=_with(lambda f: f == "digest"),
    ),
    Family(
        "raw_fields",
        "completeness",
        rawfields.raw_fields,
        _categories,
        "every raw field, nested ones too, mapped, kept in extra, or declared ignored",
        imports=_categories,
    ),
    Family(
        "reconcile",
        "reconciliation",
        reconcile.reconcile,
        reconcile.applicable,
        "balances, bills, usage and points add up",
        imports=reconcile.applicable,
    ),
    Family(
        "legible",
        "legibility",
        legibility.legible,
        _fields,
        "every value legible, field by field",
        imports=_fields,
    ),
    Family(
        "oauth",
        "oauth",
        security.oauth,
        security.oauth_checks,
        "PKCE S256, state, loopback, scopes, refresh, revocation, device flow",
    ),
    Family(
        "credentials",
        "oauth",
        credentials.credentials,
        _fixed(*credentials.SYNCS),
        "syncs in processes of their own near expiry and mid-sync revocation: every"
        " rotated refresh token persisted, none used twice, refreshes as expiries explain",
    ),
    Family(
        "secrets",
        "secrets",
        security.secrets,
        _fixed(*security.SECRET_PLACES),
        "canary secrets appear nowhere",
    ),
    Family(
        "secrets_every_run",
        "secrets",
        canary.every_run,
        _fixed("logs_errors_output"),
        "no secret in the logs, errors or printed output of any run the suite made (run last)",
    ),
    Family("egress", "egress", security.egress, _fixed("sync"), "only declared hosts"),
    Family(
        "offline",
        "egress",
        files.offline,
        _fixed(),
        "an import of the sample files connects to nothing",
        imports=_fixed("import"),
    ),
    Family(
        "quota",
        "budgets",
        security.quota,
        lambda p: ["enforced"] if p.quota is not None else [],
        "the service's declared quota of syncs enforced, the refusal said before any request",
    ),
    Family(
        "variant",
        "variants",
        variants.variant,
        variants.names,
        "every shape the sandbox declares: exactly its truth stored, planted faults rejected",
    ),
    Family(
        "spec_variant",
        "variants",
        specvariants.spec_variant,
        specvariants.names,
        "answers generated from the declared specification: nothing crashes, vanishes or is"
        " made up",
    ),
    Family(
        "resilience",
        "resilience",
        resilience.resilience,
        _fixed(*resilience.SCENARIOS),
        "faults leave the store as a clean sync would",
    ),
    Family(
        "damaged",
        "resilience",
        files.damaged,
        _fixed(),
        "sample files truncated, garbled or empty: refused with the file named, every record"
        " as it was",
        imports=_fixed(*files.DAMAGES),
    ),
    Family(
        "crash_resume",
        "crash_resume",
        resilience.crash_resume,
        _fixed(*resilience.CRASH_POINTS),
        "killed and resumed, exactly the served set",
    ),
    Family(
        "idempotent",
        "idempotence",
        stability.idempotent,
        _fixed("resync"),
        "a second sync adds nothing",
        imports=_fixed("reimport"),
    ),
    Family(
        "changes",
        "changes",
        changes.changes,
        changes.step_names,
        "the customer's life moves on: after each step the store equals the truth, and the"
        " re-sync asked only for what is new",
    ),
    Family(
        "writes",
        "writes",
        writes.writes,
        writes.names,
        "each declared change made, seen in the next fetch, and only once; an unknown one"
        " refused clearly; no secret in what it says",
    ),
    Family(
        "deterministic",
        "determinism",
        stability.deterministic,
        _fixed(*stability.ZONES),
        "same output under other zones, locales and hash seeds",
        imports=_fixed(*stability.ZONES),
    ),
    Family(
        "delivery",
        "delivery",
        delivery.delivery,
        _fixed("jsonl", "csv"),
        "exports carry a manifest and round-trip",
        imports=_fixed("jsonl", "csv"),
    ),
    Family(
        "budget",
        "budgets",
        budgets.budget,
        _fixed("memory_flat", "import_time", "requests_per_record"),
        "streaming, import time, requests per record",
        imports=_fixed("memory_flat", "import_time"),
    ),
)

BY_NAME = {f.name: f for f in FAMILIES}

TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bronze", ("declaration", "completeness", "reconciliation", "legibility")),
    (
        "silver",
        (
            "variants",
            "resilience",
            "crash_resume",
            "idempotence",
            "changes",
            "writes",
            "determinism",
            "delivery",
        ),
    ),
    ("gold", ("oauth", "secrets", "egress", "budgets", "permissions")),
)
"""Each tier needs every group of its own and of the tiers below without a failure."""

OPTIONAL_GROUPS = ("writes",)
"""Groups a provider may have no check of at all (a plugin that declares no writes gets no
``test_writes``): their tier needs them without a failure where they ran, not that they
ran."""

IMPORT_TIERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bronze", ("declaration", "completeness", "reconciliation", "legibility")),
    ("silver", ("resilience", "idempotence", "determinism", "delivery")),
    ("gold", ("egress", "budgets")),
)
"""The tiers of a provider graded on sample files: no service, so no OAuth, secrets,
quotas, variants of a service's answers, crashes mid-sync or a life moving on."""

TIERS_BY_MODE = {SYNC: TIERS, IMPORT: IMPORT_TIERS}


SPECIAL_UNSUPPORTED = ("oauth.device_flow",)
"""Names a plugin may declare unsupported that are neither a family, a group nor a check."""


def unsupported_names(provider: Provider) -> set[str]:
    """Every name a plugin may declare unsupported: a family or group, alone or with a param."""
    names = set(SPECIAL_UNSUPPORTED)
    for family in FAMILIES:
        names |= {family.name, family.group}
        for param in {*family.params(provider), *family.params_in(provider, IMPORT)}:
            names |= {f"{family.name}.{param}", f"{family.group}.{param}"}
    return names


def refuse_unknown_unsupported(harness: Harness) -> None:
    """Refuse a declaration whose ``unsupported`` names no check: a typo would skip nothing."""
    known = unsupported_names(harness.provider)
    unknown = sorted(set(harness.declaration.unsupported) - known)
    if unknown:
        guesses = [
            f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name)
            for name in unknown
            for close in [difflib.get_close_matches(name, known, n=1)]
        ]
        families = sorted({f.group for f in FAMILIES} | {f.name for f in FAMILIES})
        raise DeclarationError(
            f"PORTAL_CONFORMANCE[{harness.name!r}]['unsupported'] names no check of the"
            f" suite: {', '.join(guesses)}. Name a family or group ({', '.join(families)})"
            " alone or with one of its parameters as the report shows it, e.g."
            " 'resilience.truncated' for test_resilience[truncated]."
        )


def run_check(harness: Harness, family: str, param: str) -> Any:
    """Run one check (pytest's generated tests, the self-test and scripts all come here).

    A check the plugin declared unsupported, by its family or group, alone or with this
    parameter, is skipped with the declared reason before it starts, whichever check it is.
    """
    kind = BY_NAME[family]
    harness.unsupported(f"{kind.name}.{param}", f"{kind.group}.{param}", kind.name, kind.group)
    return kind.check(harness, param)
