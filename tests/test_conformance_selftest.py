"""The conformance suite tests itself: every broken variant fails the check made for it.

Each file in ``conformance/tests/broken`` is the bank plugin with one defect and names, in
``EXPECTED_FAILURE``, the check that must catch it. Only that check runs per variant (in
process, against the variant's own sandbox), so the variants stay affordable; that the
reference plugin passes every check is ``test_conformance.py``'s full run.
"""

import ast
from pathlib import Path

import pytest

from portal_conformance.failures import CheckFailed, SetupFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import BY_NAME, run_check

BROKEN = Path(__file__).resolve().parent.parent / "conformance" / "tests" / "broken"
VARIANTS = sorted(p.stem for p in BROKEN.glob("broken_*.py"))


def declared(variant: str, name: str) -> object:
    """A constant a variant declares (None if it does not), read without importing it."""
    tree = ast.parse((BROKEN / f"{variant}.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == name:
            return ast.literal_eval(node.value)
    return None


def expected_failure(variant: str) -> tuple[str, str]:
    """The (family, param) a variant declares it must fail."""
    value = declared(variant, "EXPECTED_FAILURE")
    assert isinstance(value, tuple), f"{variant} declares no EXPECTED_FAILURE"
    family, param = value
    return family, param


def test_there_are_at_least_fifteen_variants_each_aimed_at_a_real_check() -> None:
    assert len(VARIANTS) >= 15
    aimed = {expected_failure(v) for v in VARIANTS}
    assert len(aimed) == len(VARIANTS), "two variants prove the same check"
    for family, _ in aimed:
        assert family in BY_NAME


def test_every_family_of_the_registry_is_a_test_of_the_suite() -> None:
    """A family registered but never collected would be a check no plugin ever meets."""
    from portal_conformance import checks
    from portal_conformance.registry import FAMILIES

    for family in FAMILIES:
        test = getattr(checks, f"test_{family.name}", None)
        assert callable(test), f"checks.py has no test_{family.name}"


@pytest.mark.slow
@pytest.mark.parametrize("variant", VARIANTS)
def test_broken_variant_fails_its_check(variant: str, tmp_path: Path) -> None:
    family, param = expected_failure(variant)
    with (
        Harness(variant, tmp_path, plugins_dir=BROKEN) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, family, param)
    failure = failed.value
    # The check itself caught the defect: connecting and syncing worked.
    assert not isinstance(failure, SetupFailed), str(failure)
    # Every failure says what is wrong, where, and how to fix it.
    assert failure.what and failure.where and failure.fix
    assert "\n  where: " in str(failure) and "\n  fix: " in str(failure)
    # Where a variant says what the message must name (the exact field, say), it does.
    named = declared(variant, "EXPECTED_IN_MESSAGE") or ()
    assert isinstance(named, tuple)
    for expected in named:
        assert expected in str(failure), str(failure)
