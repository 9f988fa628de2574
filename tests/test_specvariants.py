"""What a provider may declare as its specification (``portal.specvariants``).

The generators themselves are the plugins' (``test_bank_spec_variants.py``); the suite
that serves their answers is ``test_conformance_specvariants.py``.
"""

import dataclasses
from typing import Any

import pytest

from portal.errors import ConfigError
from portal.specvariants import GENERATED, Varied, declared_specification
from portal_bank.plugin import PROVIDER


class Declared:
    """A specification that generates nothing: enough to be declared."""

    source = "Acme API 1.0 (openapi.yaml)"

    def __init__(self, *variants: str) -> None:
        self.variants = variants

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        return None

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        return []


def test_a_provider_declares_any_of_the_variants_portal_generates() -> None:
    spec = Declared(*GENERATED)
    assert declared_specification(dataclasses.replace(PROVIDER, specification=spec)) is spec
    assert declared_specification(dataclasses.replace(PROVIDER, specification=None)) is None


def test_a_variant_portal_cannot_generate_is_refused_naming_it() -> None:
    with pytest.raises(ConfigError, match="optional_absence") as refused:
        dataclasses.replace(PROVIDER, specification=Declared("optional_absence"))
    assert "optional_absent" in refused.value.hint


@pytest.mark.parametrize("declared", [object(), "openapi.yaml"])
def test_a_specification_that_cannot_generate_is_refused(declared: Any) -> None:
    with pytest.raises(ConfigError, match=r"portal\.specvariants\.Specification"):
        dataclasses.replace(PROVIDER, specification=declared)
