"""A sandbox's variants: declared by kind on its factory, built on demand, none by default."""

import pytest

from portal.plugins import Plugins
from portal.variants import FAULTY, VALID, SandboxVariants, Variant, declared_variants


class Built:
    """What a factory was asked to build (a stand-in for a sandbox: nothing is started)."""

    def __init__(self, variant: str = "standard") -> None:
        self.variant = variant


def factory() -> SandboxVariants:
    return SandboxVariants(
        Built,  # type: ignore[arg-type]
        Variant("sparse", VALID, "Only what the specification requires."),
        Variant("faulty", FAULTY, "One bill's date is not a date."),
    )


def test_a_factory_with_variants_builds_the_usual_sandbox_when_called_with_no_argument() -> None:
    built = factory()()
    assert isinstance(built, Built) and built.variant == "standard"


def test_a_factory_with_variants_builds_the_sandbox_for_each_declared_variant() -> None:
    built = factory()(variant="sparse")
    assert isinstance(built, Built) and built.variant == "sparse"
    assert [(v.name, v.kind) for v in factory()] == [("sparse", "valid"), ("faulty", "faulty")]


def test_an_undeclared_variant_is_refused_naming_the_ones_declared() -> None:
    with pytest.raises(ValueError, match="no variant 'euros'; it declares sparse, faulty"):
        factory()(variant="euros")


def test_a_variant_has_a_kind_valid_or_faulty_and_a_plain_name_declared_once() -> None:
    with pytest.raises(ValueError, match="kind 'broken'; use VALID or FAULTY"):
        Variant("odd", "broken")  # type: ignore[arg-type]
    for name in ("../up", "a b", "", "standard"):
        with pytest.raises(ValueError, match="must be letters, digits"):
            Variant(name, VALID)
    with pytest.raises(ValueError, match="declared twice: sparse"):
        SandboxVariants(Built, Variant("sparse", VALID), Variant("sparse", FAULTY))  # type: ignore[arg-type]


def test_a_plain_factory_declares_no_variants() -> None:
    assert declared_variants(Built) == {}
    assert declared_variants(None) == {}
    assert list(declared_variants(factory())) == ["sparse", "faulty"]


def test_each_first_party_sandbox_declares_its_variants_and_builds_each_for_real() -> None:
    plugins = Plugins.load()
    for name, sandbox_kinds in {
        "bank": {"sparse": VALID, "spec-edge": VALID, "forbidden": FAULTY},
        "retailer": {"sparse": VALID, "faulty": FAULTY},
    }.items():
        factory = plugins.provider(name).sandbox
        assert {n: v.kind for n, v in declared_variants(factory).items()} == sandbox_kinds
        for variant in sandbox_kinds:
            # Built, not started: the real sandbox class, serving that variant.
            sandbox = factory(variant=variant)  # type: ignore[call-arg]
            assert sandbox.variant.name == variant  # type: ignore[attr-defined]
    for name in ("utility", "telco"):
        kinds = {v.kind for v in declared_variants(plugins.provider(name).sandbox).values()}
        assert kinds == {VALID, FAULTY}
