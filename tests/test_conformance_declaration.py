"""What a plugin declares to the suite is refused when it names nothing the suite checks.

Through the real ``portal conformance`` command, against the bank plugin under a new name.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PORTAL = str(Path(sys.executable).with_name("portal"))

DECLARING_BANK = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(bank.PROVIDER, name="declaring", display_name="Declaring bank")
PORTAL_CONFORMANCE = {{"declaring": {{"unsupported": {{{key!r}: "Our proxy never cuts a body."}}}}}}


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


def conformance(tmp_path: Path, key: str) -> subprocess.CompletedProcess[str]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "declaring.py").write_text(DECLARING_BANK.format(key=key))
    return subprocess.run(
        [PORTAL, "--plugins-dir", str(plugins), "conformance", "declaring",
         "-k", "test_declaration and waivers"],
        cwd=tmp_path, env={**os.environ, "PORTAL_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_an_unsupported_declaration_naming_no_check_is_refused_with_the_likely_name(
    tmp_path: Path,
) -> None:
    # A typo would otherwise declare nothing: the check it meant runs (or skips) unannounced.
    done = conformance(tmp_path, "resilience.truncate")
    assert done.returncode != 0
    assert (
        "PORTAL_CONFORMANCE['declaring']['unsupported'] names no check of the suite:"
        " 'resilience.truncate' (did you mean 'resilience.truncated'?)"
    ) in done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("key", ["resilience.truncated", "resilience", "oauth.device_flow"])
def test_an_unsupported_declaration_naming_a_check_family_or_group_is_accepted(
    tmp_path: Path, key: str
) -> None:
    done = conformance(tmp_path, key)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "names no check" not in done.stdout


SCOPED_TELCO = """
import dataclasses
from portal import hookimpl
from portal_telco import plugin as telco

PROVIDER = dataclasses.replace(telco.PROVIDER, name="scoped", display_name="Scoped telco")
PORTAL_CONFORMANCE = {"scoped": {"category_scopes": {"bills": ["bills", "usage"]}}}


@hookimpl
def register_providers(register):
    register(PROVIDER)


@hookimpl
def fetch(client, cursors):
    return telco.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream, item, ref):
    return telco.normalise(stream=stream, item=item, ref=ref)
"""


@pytest.mark.slow
def test_a_category_granted_by_several_scopes_is_checked_under_a_grant_without_any_of_them(
    tmp_path: Path,
) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "scoped.py").write_text(SCOPED_TELCO)
    done = subprocess.run(
        [PORTAL, "--plugins-dir", str(plugins), "conformance", "scoped",
         "-k", "test_permissions and bills", "--report", "md"],
        cwd=tmp_path, env={**os.environ, "PORTAL_HOME": str(tmp_path / "home")},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
    assert "| `test_permissions[bills]` | pass |" in done.stdout
