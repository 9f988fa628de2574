"""A sandbox's variants: the same demo customer served in other shapes, declared by kind.

A provider's sandbox serves its data one way; the published specification usually allows
others (optional fields left out, other currencies, unknown codes), and a plugin must
accept those too. A sandbox that can serve such variants says so by wrapping its factory::

    def _sandbox(variant: str = "standard") -> Sandbox:
        from portal_acme.sandbox import AcmeSandbox  # loading the plugin never imports Flask

        return AcmeSandbox(variant=variant)


    PROVIDER = Provider(
        ...,
        sandbox=SandboxVariants(
            _sandbox,
            Variant("sparse", VALID, "Only the fields the specification requires."),
            Variant("faulty", FAULTY, "One bill's date is not a date; it must be rejected."),
        ),
    )

``PROVIDER.sandbox()`` still builds the usual sandbox (a zero-argument factory, as for a
sandbox without variants, which needs no change); ``PROVIDER.sandbox(variant="sparse")``
builds it for one variant. The kind says what a correct plugin does with it:

- ``VALID``: shapes the specification allows. The plugin stores exactly the variant's
  ground truth, rejecting nothing beyond the sandbox's declared ``truth_rejections``.
- ``FAULTY``: planted violations. The plugin rejects exactly the planted items (declared in
  ``truth_rejections``), each with a reason, stores the rest, and the sync completes.

The conformance suite syncs the plugin against each declared variant (``test_variant[NAME]``)
and compares the store with that variant's ground truth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from portal.sandbox import Sandbox

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
Kind = Literal["valid", "faulty"]
VALID: Kind = "valid"
"""Specification-valid shapes: the plugin stores exactly the truth."""
FAULTY: Kind = "faulty"
"""Planted violations: the plugin rejects exactly the planted items, with reasons."""


@dataclass(frozen=True)
class Variant:
    """One shape a sandbox can serve: its name, its kind and what it changes, in words."""

    name: str
    kind: Kind
    about: str = ""

    def __post_init__(self) -> None:
        # The name becomes a test id (test_variant[sparse]) and a folder name: keep it plain.
        if not _NAME.fullmatch(self.name) or self.name == "standard":
            raise ValueError(
                f"Variant name {self.name!r} must be letters, digits, '.', '_' or '-' (and not"
                " 'standard', which the factory builds when called with no variant)."
            )
        if self.kind not in (VALID, FAULTY):
            raise ValueError(
                f"Variant {self.name!r} has kind {self.kind!r}; use VALID or FAULTY"
                " (portal.variants)."
            )


class SandboxVariants:
    """A ``Provider.sandbox`` factory that can also build the sandbox for each declared variant.

    ``build()`` must build the usual sandbox and ``build(variant=name)`` the sandbox serving
    variant ``name`` (neither started). Calling the factory with no variant builds the usual
    one, so everything that takes a zero-argument sandbox factory keeps working.
    """

    def __init__(self, build: Callable[..., Sandbox], *variants: Variant) -> None:
        names = [v.name for v in variants]
        doubled = sorted({n for n in names if names.count(n) > 1})
        if doubled:
            raise ValueError(f"Sandbox variants declared twice: {', '.join(doubled)}.")
        self.build = build
        self.variants: dict[str, Variant] = {v.name: v for v in variants}

    def __call__(self, variant: str | None = None) -> Sandbox:
        """The sandbox (not started): the usual one, or the one serving ``variant``."""
        if variant is None:
            return self.build()
        if variant not in self.variants:
            raise ValueError(
                f"The sandbox has no variant {variant!r}; it declares"
                f" {', '.join(self.variants) or 'none'}."
            )
        return self.build(variant=variant)

    def __iter__(self) -> Iterator[Variant]:
        return iter(self.variants.values())

    def __repr__(self) -> str:
        build = getattr(self.build, "__qualname__", self.build)
        return f"SandboxVariants({build}, {', '.join(self.variants) or 'no variants'})"


def declared_variants(factory: Any) -> dict[str, Variant]:
    """The variants a ``Provider.sandbox`` factory declares (none for a plain factory)."""
    return dict(factory.variants) if isinstance(factory, SandboxVariants) else {}
