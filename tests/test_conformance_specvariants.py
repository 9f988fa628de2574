"""The suite's specification variants: what a plugin declaring no specification, or a wrong
generator, is told (``portal_conformance.rules.specvariants``).

That a plugin crashing on a generated answer fails is the self-test's
broken_unknown_scheme; that the first-party bank passes every generated variant is the
reference plugin's full run in ``test_conformance.py``.
"""

from pathlib import Path

import pytest

from portal_conformance.failures import CheckFailed, NotExercised
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from test_conformance import portal

SLOPPY_PLUGIN = """
import dataclasses
import json

from portal import hookimpl
from portal.specvariants import Varied
from portal_bank import plugin as bank
from portal_bank.spec_variants import OpenBankingSpecification


class Sloppy(OpenBankingSpecification):
    # Adds its unknown field to the envelope's Links too, which the specification closes;
    # and says it can serve other currencies, but serves every answer as it is.
    def vary(self, variant, path, content_type, body):
        if variant == "other_currency":
            return Varied(body, [], 0)
        varied = super().vary(variant, path, content_type, body)
        if varied is None:
            return None
        answer = json.loads(varied.body)
        answer["Links"]["PortalConformanceAddition"] = "x"
        return Varied(json.dumps(answer).encode(), varied.items, varied.changes)


def _sandbox():
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=200)


PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="sloppy", sandbox=_sandbox, specification=Sloppy()
)
PORTAL_CONFORMANCE = {"sloppy": bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register):
    register(PROVIDER)


@hookimpl
def fetch(client, cursors):
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream, item, ref):
    return bank.normalise(stream=stream, item=item, ref=ref)
"""


def test_a_plugin_declaring_no_specification_is_told_so_plainly_in_the_report(
    tmp_path: Path,
) -> None:
    done = portal(
        "conformance",
        "retailer",
        "-k",
        "spec_variant",
        "--report",
        "md",
        cwd=tmp_path,
        env={"PORTAL_HOME": str(tmp_path / "home")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert (
        "| `test_spec_variant[(no specification declared)]` | skipped | the plugin declares no"
        " published specification of its API (Provider.specification" in done.stdout
    )


def test_a_generator_that_serves_what_its_specification_forbids_fails_naming_it(
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sloppy.py").write_text(SLOPPY_PLUGIN, encoding="utf-8")
    with (
        Harness("sloppy", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(CheckFailed) as failed,
    ):
        run_check(harness, "spec_variant", "unknown_fields")
    message = str(failed.value)
    assert "The specification's generator failed on" in message
    assert "Links.PortalConformanceAddition is not a field the specification allows" in message
    assert "where: Sloppy.vary, variant 'unknown_fields'" in message


def test_a_variant_declared_but_never_generated_blocks_the_tier_saying_so(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "sloppy.py").write_text(SLOPPY_PLUGIN, encoding="utf-8")
    with (
        Harness("sloppy", tmp_path / "work", plugins_dir=plugins) as harness,
        pytest.raises(NotExercised) as skipped,
    ):
        run_check(harness, "spec_variant", "other_currency")
    assert "generated no 'other_currency' change in any of the" in skipped.value.reason
