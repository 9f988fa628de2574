"""``portal conformance PLUGIN``: run the conformance suite against a plugin's sandbox
(or, for a provider whose data only comes in files, on its importer's sample files).

The suite is the ``portal-conformance`` pytest plugin; this command runs it in-process
with a clean pytest configuration (no conftest.py or ini of the current folder), so the
same command gives the same answer on a laptop and in any CI.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from portal.cli.base import _open, cli, friendly_errors

SUITE = "portal_conformance.checks"


@cli.command(
    name="conformance",
    epilog="\b\nExit codes: pytest's. 0 every check passed (or was waived or skipped),"
    "\n1 a check failed, 2 interrupted, 3 internal error, 4 bad options, 5 no check ran.",
)
@click.argument("plugin")
@click.option(
    "--junit-xml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results as JUnit XML (for CI test reports).",
)
@click.option(
    "--report",
    "report_format",
    type=click.Choice(["md", "json"]),
    help="Print (or with --report-file, write) the report: every check, scores and tier.",
)
@click.option(
    "--report-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the report [default: the terminal].",
)
@click.option("-k", "keyword", metavar="EXPR", help="Only the checks matching EXPR (pytest -k).")
@click.option("-x", "--exitfirst", is_flag=True, help="Stop at the first failing check.")
@click.pass_context
def conformance(
    ctx: click.Context,
    plugin: str,
    junit_xml: Path | None,
    report_format: str | None,
    report_file: Path | None,
    keyword: str | None,
    exitfirst: bool,
) -> None:
    """Check PLUGIN (a provider name, or a plugin offering several) against its sandbox.

    Runs every check of the conformance suite: exact completeness against the sandbox's
    ground truth, legibility value by value, OAuth and secrets, egress, resilience, crash
    and resume, idempotence, determinism, delivery and budgets. Every check that could not
    run blocks the tier, unless the plugin declared it unsupported with a reason.

    A provider with no sandbox whose data comes in files (portal import) is graded on its
    importer's sample files instead: the same completeness, legibility, re-import,
    determinism and export checks, plus damaged files, no network and memory over a
    longer history.
    """
    with friendly_errors(ctx.obj["verbose"]):
        providers = _providers(ctx, plugin)
        _require_suite()
    import pytest

    with tempfile.TemporaryDirectory(prefix="portal-conformance-") as folder:
        ini = Path(folder) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        args = [
            "--pyargs",
            SUITE,
            "-c",
            str(ini),
            "--rootdir",
            folder,
            "--noconftest",
            "-p",
            "no:cacheprovider",
            # portal (through httpx) has imported anyio before pytest starts, so pytest
            # cannot rewrite the asserts of anyio's pytest plugin, and said so on every run.
            "-W",
            "ignore::pytest.PytestAssertRewriteWarning",
            "--show-capture=no",
            "-q",
            *[arg for name in providers for arg in ("--portal-provider", name)],
        ]
        if ctx.obj.get("plugins_dir"):
            args += ["--portal-plugins-dir", str(ctx.obj["plugins_dir"])]
        if junit_xml:
            args += ["--junit-xml", str(junit_xml.resolve())]
        if report_format:
            args += ["--portal-report", report_format]
        if report_file:
            args += ["--portal-report-file", str(report_file.resolve())]
        if keyword:
            args += ["-k", keyword]
        if exitfirst:
            args.append("-x")
        code = pytest.main(args)
    ctx.exit(int(code))


def _require_suite() -> None:
    """Say in one line how to install the suite if it is not here (README's first command
    installs portal and its plugins only)."""
    import importlib

    try:
        for module in ("pytest", "portal_conformance"):
            importlib.import_module(module)
    except ImportError:
        from portal.errors import UserError

        raise UserError(
            "The conformance suite (portal-conformance) is not installed here.",
            hint=f"Install it with: {sys.executable} -m pip install -e conformance"
            " (in your portal clone), or pip install portal-conformance.",
        ) from None


def _providers(ctx: click.Context, plugin: str) -> list[str]:
    portal = _open(ctx)
    plugins = portal.plugins
    if plugin in plugins.providers:
        return [plugin]
    offered = sorted(
        name for name, owner in plugins.owners.items() if plugins.pm.get_name(owner) == plugin
    )
    if offered:
        return offered
    plugins.provider(plugin)  # raises UnknownProvider, listing what is installed
    return []
