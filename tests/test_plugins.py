"""Plugin loading: entry points, a plugins folder, broken plugins, provider-scoped hooks."""

import os
from pathlib import Path

import pytest

from portal import hookspecs
from portal.errors import ConfigError, UnknownProvider
from portal.plugins import Plugins

DECLARE = """
from portal import Provider, OAuthClient, InventoryItem, hookimpl
from portal.record import Category, Sector

@hookimpl
def register_providers(register):
    register(Provider(
        name="{name}", display_name="{name} Ltd", sector=Sector.other,
        api_base="https://api.{name}.example/v1",
        oauth=OAuthClient(authorize_url="https://{name}.example/authorize",
                          token_url="https://{name}.example/token",
                          client_id="c", scopes=("read",)),
        inventory=(InventoryItem(Category.accounts, "accounts"),),
    ))

@hookimpl
def fetch():
    return "{name}"
"""


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(text)


def test_the_bank_plugin_is_found_through_its_entry_point() -> None:
    plugins = Plugins.load()
    assert plugins.provider("bank").display_name == "Demo Bank"
    assert plugins.pm.get_plugin("bank") is not None


def test_plugins_dir_loads_files_and_each_provider_gets_only_its_own_hooks(tmp_path: Path) -> None:
    for name in ("alpha", "beta"):
        _write(tmp_path, name, DECLARE.format(name=name))
    plugins = Plugins.load(plugins_dir=tmp_path, entry_points=False)
    assert set(plugins.providers) == {"alpha", "beta"}
    # No dispatch boilerplate in the plugins: the engine calls only the provider's own hook.
    args = {"provider": None, "client": None, "cursors": None}
    assert plugins.caller("alpha", "fetch")(**args) == "alpha"
    assert plugins.caller("beta", "fetch")(**args) == "beta"


def test_a_broken_plugin_is_a_warning_naming_it_and_the_others_still_load(tmp_path: Path) -> None:
    _write(tmp_path, "broken", "raise RuntimeError('boom')")
    _write(tmp_path, "fine", DECLARE.format(name="fine"))
    plugins = Plugins.load(plugins_dir=tmp_path, entry_points=False)
    assert "fine" in plugins.providers
    assert any("broken.py" in p and "boom" in p for p in plugins.problems)


def test_a_broken_plugin_is_an_error_under_strict(tmp_path: Path) -> None:
    _write(tmp_path, "broken", "raise RuntimeError('boom')")
    with pytest.raises(ConfigError, match=r"broken\.py"):
        Plugins.load(plugins_dir=tmp_path, entry_points=False, strict=True)


def test_a_misspelled_hook_is_caught(tmp_path: Path) -> None:
    _write(tmp_path, "typo", "from portal import hookimpl\n@hookimpl\ndef fecth(): pass\n")
    with pytest.raises(ConfigError, match="fecth"):
        Plugins.load(plugins_dir=tmp_path, entry_points=False)


def test_a_plain_http_endpoint_is_refused_with_the_plugin_named(tmp_path: Path) -> None:
    _write(
        tmp_path, "insecure", DECLARE.format(name="insecure").replace("https://api.", "http://api.")
    )
    plugins = Plugins.load(plugins_dir=tmp_path, entry_points=False)
    assert "insecure" not in plugins.providers
    assert any("not HTTPS" in p for p in plugins.problems)


def test_plugin_loading_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_LOAD_PLUGINS", "")
    plugins = Plugins.load()
    with pytest.raises(UnknownProvider, match=r"installed: none"):
        plugins.provider("bank")


def test_a_missing_plugins_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        Plugins.load(plugins_dir=tmp_path / "nope")


def test_every_hook_spec_is_documented() -> None:
    hooks = (
        "register_providers",
        "authenticate",
        "revoke",
        "apply_change",
        "fetch",
        "normalise",
        "prepare_delivery",
        "deliver",
        "register_importers",
    )
    declared = {n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), "portal_spec")}
    assert declared == set(hooks)  # a new hook joins this list, and so gets documented
    for name in hooks:
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and len(spec.__doc__.split()) > 20, name


@pytest.mark.parametrize("writable_by_all", ["folder", "file"])
def test_a_plugins_dir_anyone_can_write_to_is_refused(tmp_path: Path, writable_by_all: str) -> None:
    from click.testing import CliRunner

    from portal.cli import ExitCode, cli

    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o700)
    planted = folder / "demo.py"
    planted.write_text(DECLARE.format(name="planted"))
    (folder if writable_by_all == "folder" else planted).chmod(0o777)
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path / "home"), "--plugins-dir", str(folder), "providers"]
    )
    assert result.exit_code == ExitCode.CONFIG
    assert "is writable by every user on this machine" in result.stderr
    assert "chmod go-w" in result.stderr
    assert "planted" not in result.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a folder to another user")
def test_a_plugins_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "plugins"
    folder.mkdir(mode=0o755)
    os.chown(folder, 65534, 65534)
    with pytest.raises(ConfigError, match="belongs to another user"):
        Plugins.load(plugins_dir=folder, entry_points=False)


HANGS = {
    "import": "import time\ntime.sleep(10**6)\n",
    "register_providers": (
        "import time\nfrom portal import hookimpl\n\n"
        "@hookimpl\ndef register_providers(register):\n    time.sleep(10**6)\n"
    ),
    "register_importers": (
        "import time\nfrom portal import hookimpl\n\n"
        "@hookimpl\ndef register_importers(register):\n    time.sleep(10**6)\n"
    ),
}


@pytest.mark.parametrize("where", sorted(HANGS))
def test_a_plugin_that_hangs_while_loading_is_reported_and_portal_goes_on(
    tmp_path: Path, where: str
) -> None:
    import subprocess
    import sys
    import time

    plugins = tmp_path / "plugins"
    _write(plugins, "stuck", HANGS[where])
    _write(plugins, "fine", DECLARE.format(name="fine"))
    command = "import" if where == "register_importers" else "providers"
    args = ["--plugins-dir", str(plugins), command] + (["--list"] if command == "import" else [])
    started = time.monotonic()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("portal")), "--home", str(tmp_path / "h"), *args],
        env={**os.environ, "PORTAL_PLUGIN_LOAD_SECONDS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 0, done.stderr
    assert "did not answer within 1 s" in done.stderr
    assert "stuck" in done.stderr
    if command == "providers":
        assert "fine" in done.stdout  # the others were loaded and are listed


def test_a_register_hook_that_raises_is_a_warning_and_the_others_still_load(
    tmp_path: Path,
) -> None:
    raising = "from portal import hookimpl\n\n@hookimpl\ndef register_providers(register):\n"
    _write(tmp_path, "raising", raising + "    raise RuntimeError('no declaration today')\n")
    _write(tmp_path, "fine", DECLARE.format(name="fine"))
    plugins = Plugins.load(plugins_dir=tmp_path, entry_points=False)
    assert "fine" in plugins.providers
    assert any("raising" in p and "no declaration today" in p for p in plugins.problems)
