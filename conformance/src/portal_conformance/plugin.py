"""pytest plugin: the suite's options, fixtures, waivers and report.

Run the checks with ``pytest --pyargs portal_conformance.checks --portal-provider NAME``
(or ``portal conformance NAME``). Plugin authors also get fixtures for their own tests:
``portal_home``, ``provider_sandbox``, ``synced_portal`` and ``conformance`` (the harness).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.engine.sync import SyncResult
from portal.provider import Provider, sandbox_endpoints
from portal.sandbox import Sandbox
from portal.shown import shown
from portal_conformance.harness import Harness
from portal_conformance.report import Outcome, build, score_text, to_json, to_markdown

_OUTCOMES = pytest.StashKey[list[Outcome]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("portal", "portal conformance")
    group.addoption(
        "--portal-provider",
        action="append",
        default=[],
        metavar="NAME",
        help="Run the conformance checks against this provider's sandbox.",
    )
    group.addoption(
        "--portal-plugins-dir",
        default=os.environ.get("PORTAL_PLUGINS_DIR"),
        metavar="DIR",
        help="Also load plugins from this folder [env PORTAL_PLUGINS_DIR].",
    )
    group.addoption(
        "--portal-report",
        choices=("md", "json"),
        default=None,
        help="Write the conformance report (scores, tier, every check) in this format.",
    )
    group.addoption(
        "--portal-report-file",
        default=None,
        metavar="FILE",
        help="Where to write the report [default: the terminal].",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_OUTCOMES] = []


NOT_GENERATED = "(not generated)"
"""The parameter of a check family the provider's declaration gives nothing to check (no
documents to keep files of): collected under it, then deselected, never a skip."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the checks no parameter of the provider's declaration calls for."""

    def generated(item: pytest.Item) -> bool:
        callspec = getattr(item, "callspec", None)
        return callspec is None or callspec.params.get("param") != NOT_GENERATED

    kept = [item for item in items if generated(item)]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if not generated(item)])
        items[:] = kept


def plugins_dir(config: pytest.Config) -> Path | None:
    """The extra plugins folder, if one was given."""
    value = config.getoption("portal_plugins_dir")
    return Path(value) if value else None


# -- fixtures for plugin authors --------------------------------------------------------


@pytest.fixture
def portal_home(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Portal]:
    """A portal home (store and vault) in a temporary folder."""
    home = tmp_path / "portal-home"
    # A file vault in the temporary home: a test run never touches the machine's keyring.
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with Portal.open(home=home, vault=vault, plugins_dir=plugins_dir(request.config)) as portal:
        yield portal


@pytest.fixture
def provider_name(request: pytest.FixtureRequest) -> str:
    """The provider under test: from --portal-provider, or overridden in a plugin's tests."""
    names = request.config.getoption("portal_provider")
    name: str | None = getattr(request, "param", None) or (names[0] if names else None)
    if not name:
        pytest.fail("Name the provider to check: --portal-provider NAME.", pytrace=False)
    return name


@pytest.fixture
def provider(portal_home: Portal, provider_name: str) -> Provider:
    """The provider's declaration."""
    return portal_home.plugins.provider(provider_name)


@pytest.fixture
def provider_sandbox(provider: Provider) -> Iterator[Sandbox]:
    """The provider's sandbox, started on 127.0.0.1 for one test."""
    if provider.sandbox is None:
        pytest.fail(f"{provider.name} declares no sandbox: the conformance suite needs one.")
    with provider.sandbox() as sandbox:
        yield sandbox


def sync_against(portal: Portal, provider: Provider, sandbox: Sandbox) -> SyncResult:
    """Connect to the sandbox through the real OAuth flow and sync once."""
    portal.connect(
        provider.name,
        browser=auto_approve_browser,
        endpoints=sandbox_endpoints(sandbox),
        timeout=30,
    )
    [result] = portal.sync([provider.name])
    return result


@pytest.fixture
def synced_portal(
    portal_home: Portal, provider: Provider, provider_sandbox: Sandbox
) -> tuple[Portal, Any]:
    """A portal connected to the provider's sandbox and synced once, with that sync's result."""
    return portal_home, sync_against(portal_home, provider, provider_sandbox)


@pytest.fixture(scope="session")
def portal_harnesses(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[dict[str, Harness]]:
    """One harness per provider for the whole session (the main sync is shared)."""
    harnesses: dict[str, Harness] = {}
    yield harnesses
    for harness in harnesses.values():
        harness.close()


@pytest.fixture
def conformance(
    portal_harnesses: dict[str, Harness],
    provider_name: str,
    tmp_path_factory: pytest.TempPathFactory,
    pytestconfig: pytest.Config,
) -> Harness:
    """The harness of the provider under test: its sandbox, runs and ground truth."""
    if provider_name not in portal_harnesses:
        workdir = tmp_path_factory.mktemp(f"conformance-{provider_name}")
        portal_harnesses[provider_name] = Harness(
            provider_name, workdir, plugins_dir=plugins_dir(pytestconfig)
        )
    return portal_harnesses[provider_name]


# -- waivers and the report -------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report: pytest.TestReport = yield
    family = getattr(item, "originalname", item.name).removeprefix("test_")
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    module = getattr(getattr(item, "module", None), "__name__", "")
    if "param" not in params or module != "portal_conformance.checks":
        return report
    harness: Harness | None = getattr(item, "funcargs", {}).get("conformance")
    test = f"test_{family}[{params['param']}]"
    if report.when == "call" and report.failed and harness is not None:
        waiver = harness.declaration.waiver_for(test)
        if waiver is not None and not waiver.expired():
            report.outcome = "skipped"
            report.wasxfail = f"waived until {waiver.expires}: {waiver.reason} ({waiver.link})"
        elif waiver is not None:
            report.sections.append(
                (
                    "waiver",
                    f"The waiver for {test} expired on {waiver.expires}; it no longer holds.",
                )
            )
    if report.when == "call" or (report.when == "setup" and not report.passed):
        outcome = "passed" if report.passed else "failed"
        if hasattr(report, "wasxfail"):
            outcome = "waived"
        elif report.skipped:
            outcome = "skipped"
        message = ""
        if report.failed:
            crash = getattr(report.longrepr, "reprcrash", None)
            message = str(crash.message if crash else report.longrepr).removeprefix("Failed: ")
        elif outcome == "skipped" and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2]).removeprefix("Skipped: ")
        elif outcome == "waived":
            message = str(report.wasxfail)
        stats = dict(item.stash.get(STATS, {}))
        # A skip the checks did not explain (no NotApplicable: a raw pytest skip) blocks too.
        blocks = outcome == "skipped" and item.stash.get(SKIP_BLOCKS, True)
        if report.failed:
            # pytest prints the failure: the provider's values in it stay inert on a terminal.
            report.longrepr = shown(str(report.longrepr), multiline=True, limit=100_000)
        item.config.stash[_OUTCOMES].append(
            Outcome(
                str(params.get("provider_name", "")),
                test,
                family,
                str(params["param"]),
                outcome,
                message,
                stats,
                blocks,
                harness.mode if harness is not None else "sync",
            )
        )
    return report


SKIP_BLOCKS = pytest.StashKey[bool]()
"""Whether a check's skip blocks its tier (one it could not exercise in this run)."""
STATS = pytest.StashKey[dict[str, float]]()
"""Figures a check returned or failed with (values checked, seconds measured)."""


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    outcomes = config.stash.get(_OUTCOMES, [])
    if not outcomes:
        return
    reports = build(outcomes)
    fmt = config.getoption("portal_report")
    target = config.getoption("portal_report_file")
    if fmt:
        text = to_json(reports) if fmt == "json" else to_markdown(reports)
        if target:
            Path(target).write_text(text + "\n", encoding="utf-8")
            terminalreporter.write_line(f"portal conformance report written to {target}")
        else:
            terminalreporter.write_line(text)
    for r in reports:
        counts = ", ".join(f"{n} {k}" for k, n in sorted(r["counts"].items()))
        terminalreporter.write_line(
            f"portal conformance: {shown(r['provider'])}: tier {r['tier']}, completeness"
            f" {score_text(r['completeness_score'])}, legibility"
            f" {score_text(r['legibility_score'])}; {counts}"
        )
