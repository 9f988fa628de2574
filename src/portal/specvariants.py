"""Specification-valid variants: answers a provider's published specification allows, generated.

A sandbox serves its data one way; the specification a provider publishes (an OpenAPI
document, an XSD) allows many others, and a plugin meets them in production: optional
fields left out, codes from an open list it has never seen, fields added in a later minor
version, other currencies. A plugin that declares the specification it reads lets the
conformance suite *generate* those shapes from it, rather than rely on the few a sandbox
author thought of::

    PROVIDER = Provider(..., specification=AcmeSpecification())

where ``AcmeSpecification`` follows the ``Specification`` protocol below: for an answer of
the API (its path under the API base and its body) and one of the generated variants, it
returns the body varied in every place the specification allows that variant (every
optional field, not a sample), the items the answer holds, and how many changes it made.
It also checks a body against the specification, so that every generated body is checked
before it is served: a generator that makes an invalid body is found at once.

The conformance suite (``test_spec_variant[NAME]``) syncs the plugin against its sandbox
with every answer rewritten at the sandbox (``portal.sandbox.Sandbox.rewrite_answers``), so
the plugin meets the variant on the wire, and requires that no item makes the plugin fail,
that every item becomes a record or a rejection with a reason, and that nothing is invented.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

OPTIONAL_ABSENT = "optional_absent"
EMPTY_ARRAYS = "empty_arrays"
UNKNOWN_CODES = "unknown_codes"
UNKNOWN_FIELDS = "unknown_fields"
OTHER_CURRENCY = "other_currency"

GENERATED: dict[str, str] = {
    OPTIONAL_ABSENT: "every optional field left out, at every depth",
    EMPTY_ARRAYS: "every optional array served empty",
    UNKNOWN_CODES: "a code the plugin cannot know in every open (extensible) code list",
    UNKNOWN_FIELDS: "an additional, unknown field in every object the specification leaves open",
    OTHER_CURRENCY: "every currency another ISO 4217 code",
}
"""Every variant a specification can generate, and what it changes, in words."""

TAKES_AWAY = frozenset({OPTIONAL_ABSENT, EMPTY_ARRAYS})
"""Variants that take information away: an item may then be refused (with a reason) or make
other records (a statement without its amounts is no bill). The others add or change only:
every item makes at least the records it makes as served, and no more."""


@dataclass(frozen=True)
class Varied:
    """One answer, varied: the body to serve, the items it holds, how many changes it made."""

    body: bytes
    items: Sequence[Any] = field(default_factory=list)
    """The items of the answer as served (each one the plugin should make records of)."""
    changes: int = 0


@runtime_checkable
class Specification(Protocol):
    """A provider API's published specification, able to generate the answers it allows."""

    source: str
    """Where the specification is published (document, version), for the report."""
    variants: Sequence[str]
    """Which of ``GENERATED`` this specification allows (an XSD without ``xs:any`` allows
    no unknown fields, a single-currency API no other currency)."""

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """``body``, the answer to ``path`` (under the API base), as ``variant`` serves it.

        None for an answer the specification does not describe (it is served as it is).
        Deterministic: the same answer varies the same way every time.
        """
        ...  # pragma: no cover - a protocol

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way ``body`` breaks the specification, one sentence each (none: valid)."""
        ...  # pragma: no cover - a protocol


def declared_specification(provider: Any) -> Specification | None:
    """The specification a provider declares (``Provider.specification``), if any."""
    spec = getattr(provider, "specification", None)
    return spec if isinstance(spec, Specification) else None


__all__ = [
    "EMPTY_ARRAYS",
    "GENERATED",
    "OPTIONAL_ABSENT",
    "OTHER_CURRENCY",
    "TAKES_AWAY",
    "UNKNOWN_CODES",
    "UNKNOWN_FIELDS",
    "Specification",
    "Varied",
    "declared_specification",
]
