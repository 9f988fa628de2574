"""The checks of DESIGN §5, one test per check, entity, field or scenario.

Run: ``pytest --pyargs portal_conformance.checks --portal-provider NAME`` or
``portal conformance NAME``. Tests are generated from ``portal_conformance.registry``:
``test_legible[transactions.amount]``, ``test_exact_count[balances]``,
``test_resilience[retry_after_seconds]``... Every failure says what is wrong, where, and
how to fix it; a check that does not apply is skipped with its reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.plugins import Plugins
from portal_conformance.failures import CheckFailed, DeclaredUnsupported, NotApplicable
from portal_conformance.harness import IMPORT, SYNC, Harness, importer_of
from portal_conformance.plugin import NOT_GENERATED, SKIP_BLOCKS, STATS, plugins_dir
from portal_conformance.registry import BY_NAME, run_check

_PLUGINS = pytest.StashKey[Plugins]()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    family = BY_NAME.get(metafunc.function.__name__.removeprefix("test_"))
    if family is None or "param" not in metafunc.fixturenames:
        return
    names: list[str] = metafunc.config.getoption("portal_provider")
    if not names:
        raise pytest.UsageError("Name the provider to check: --portal-provider NAME.")
    plugins = metafunc.config.stash.get(_PLUGINS, None)
    if plugins is None:  # loaded once for all the families, not once per family
        plugins = Plugins.load(plugins_dir=plugins_dir(metafunc.config))
        metafunc.config.stash[_PLUGINS] = plugins
    modes = {n: IMPORT if importer_of(plugins, plugins.provider(n)) else SYNC for n in names}
    cases = [(n, p) for n in names for p in family.params_in(plugins.provider(n), modes[n])]
    # A family with nothing to check here is collected once and deselected (plugin.py),
    # rather than left to pytest's "empty parameter set" skip, which reads as a check.
    cases = cases or [(names[0], NOT_GENERATED)]
    ids = [p if len(names) == 1 else f"{n}-{p}" for n, p in cases]
    metafunc.parametrize(("provider_name", "param"), cases, ids=ids)


def _run(harness: Harness, family: str, param: str, request: pytest.FixtureRequest) -> None:
    skipped: str | None = None
    failed: CheckFailed | None = None
    try:
        figures = run_check(harness, family, param)
    except NotApplicable as skip:
        skipped = skip.reason
        # Only the plugin's own declaration, with its reason, leaves the tier open.
        request.node.stash[SKIP_BLOCKS] = not isinstance(skip, DeclaredUnsupported)
    except CheckFailed as failure:
        failed = failure
    # Outside the except blocks, so the report shows the message alone, not a chain.
    if skipped is not None:
        pytest.skip(skipped)
    if failed is not None:
        request.node.stash[STATS] = failed.stats
        pytest.fail(str(failed), pytrace=False)
    if isinstance(figures, dict):
        request.node.stash[STATS] = figures


def _test(family: str) -> Any:
    def test(conformance: Harness, param: str, request: pytest.FixtureRequest) -> None:
        _run(conformance, family, param, request)

    test.__name__ = f"test_{family}"
    test.__doc__ = BY_NAME[family].doc
    return test


test_declaration = _test("declaration")
test_permissions = _test("permissions")
test_category_delivered = _test("category_delivered")
test_exact_count = _test("exact_count")
test_required_fields = _test("required_fields")
test_parents_resolve = _test("parents_resolve")
test_values = _test("values")
test_matches_served = _test("matches_served")
test_no_silent_drop = _test("no_silent_drop")
test_kept_files = _test("kept_files")
test_raw_fields = _test("raw_fields")
test_reconcile = _test("reconcile")
test_legible = _test("legible")
test_oauth = _test("oauth")
test_credentials = _test("credentials")
test_secrets = _test("secrets")
test_egress = _test("egress")
test_offline = _test("offline")
test_quota = _test("quota")
test_variant = _test("variant")
test_spec_variant = _test("spec_variant")
test_resilience = _test("resilience")
test_damaged = _test("damaged")
test_crash_resume = _test("crash_resume")
test_idempotent = _test("idempotent")
test_changes = _test("changes")
test_writes = _test("writes")
test_deterministic = _test("deterministic")
test_delivery = _test("delivery")
test_budget = _test("budget")
# Last: it searches every run the checks above made.
test_secrets_every_run = _test("secrets_every_run")
