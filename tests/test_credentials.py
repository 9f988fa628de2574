"""Credentials other than OAuth, through the real path: a key-authorised sandbox on 127.0.0.1.

A small provider ("keyshop") whose API takes HTTP Basic with the person's API key, as
Octopus Energy's does, and a second one whose key arrives as an access URL (as SimpleFIN's).
Connect takes the key from the caller, the environment, standard input or a prompt without
echo; the vault keeps it; a sync uses it; a refusal says so in words; disconnect forgets it
and says how to revoke it; a declared quota of syncs is enforced before any request.
"""

from __future__ import annotations

import base64
import re
import secrets
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import flask
import pytest
from click.testing import CliRunner

from portal import AuthError, Page, Portal, UserError, hookimpl
from portal.auth.credentials import Ask, KeyCredential, basic, basic_in_url
from portal.auth.vault import FileStorage, Vault
from portal.cli import cli
from portal.errors import QuotaReached
from portal.provider import Provider, Quota, sandbox_endpoints
from portal.record.model import Account
from portal.record.vocab import Sector
from portal.sandbox import Sandbox

ACCOUNT = "A-1234ABCD"


class KeyShopSandbox(Sandbox):
    """A service that authorises with HTTP Basic, the API key as user name (Octopus's way)."""

    uses_oauth = False

    def __init__(self) -> None:
        super().__init__()
        self.key = "sk_test_" + secrets.token_hex(12)
        self.accounts = [{"id": f"acc-{n}", "name": f"Account {n}"} for n in range(3)]

    @property
    def api_base(self) -> str:
        return self.base_url + "/v1"

    def authorise(self, request: flask.Request) -> flask.Response | None:
        header = request.headers.get("Authorization", "")
        given = ""
        if header.startswith("Basic "):
            given = base64.b64decode(header[6:]).decode().partition(":")[0]
        self.note_secret(given, "api_key")
        if given != self.key:
            return flask.jsonify({"detail": "Invalid API key."}), 401  # type: ignore[return-value]
        return None

    def connect_answers(self) -> dict[str, str]:
        self.note_secret(self.key, "api_key")
        return {"api_key": self.key, "account_number": ACCOUNT}

    def register_routes(self, app: flask.Flask, require: Any) -> None:
        @app.get("/v1/accounts/<number>/")
        @require("read")
        def account(number: str) -> Any:
            if number != ACCOUNT:
                return flask.jsonify({"detail": "Not found."}), 404
            return {"number": ACCOUNT, "accounts": self.accounts}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        return {"accounts": list(self.accounts)}


ASKS = (
    Ask("api_key", "API key", pattern=r"sk_test_[0-9a-f]{24}", help="It is in your dashboard."),
    Ask("account_number", "Account number", secret=False, pattern=r"A-[0-9A-F]{8}"),
)


def keyshop(
    quota: Quota | None = None, revoke_hint: str = "Regenerate the key in your Key Shop dashboard."
) -> Provider:
    return Provider(
        name="keyshop",
        display_name="Key Shop",
        sector=Sector.utility,
        api_base="https://api.keyshop.example/v1",
        asks=ASKS,
        credential=KeyCredential(
            kind="api_key",
            auth=basic("api_key"),
            check="/accounts/{account_number}/",
            revoke_hint=revoke_hint,
        ),
        quota=quota,
        sandbox=KeyShopSandbox,
    )


class KeyShopPlugin:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @hookimpl
    def register_providers(self, register: Callable[[Provider], None]) -> None:
        register(self.provider)

    @hookimpl
    def fetch(self, client: Any) -> Iterator[Page]:
        assert "api_key" not in client.answers  # secrets stay in the authorisation
        body = client.get_json(f"/accounts/{client.answers['account_number']}/")
        yield Page("accounts", body["accounts"])

    @hookimpl
    def normalise(self, item: dict[str, Any]) -> list[Account]:
        return [
            Account(
                provider_id=item["id"],
                name=item["name"],
                account_type="supply",
                account_type_label="Supply",
            )
        ]


def open_portal(home: Path, provider: Provider) -> Portal:
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    return Portal.open(home=home, extra_plugins=[KeyShopPlugin(provider)], vault=vault)


@pytest.fixture
def sandbox() -> Iterator[KeyShopSandbox]:
    with KeyShopSandbox() as running:
        yield running


def test_a_key_given_once_is_kept_in_the_vault_and_used_by_every_sync(
    tmp_path: Path, sandbox: KeyShopSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with open_portal(tmp_path, keyshop()) as portal:
        connection = portal.connect(
            "keyshop", endpoints=sandbox_endpoints(sandbox), answers=sandbox.connect_answers()
        )
        [result] = portal.sync(["keyshop"])
        assert result.ok, result.error
        assert len(list(portal.store.rows(Account))) == 3
        kept = portal.vault.get(connection.id)
        assert kept is not None and kept.values["api_key"] == sandbox.key
        assert sandbox.key not in repr(kept) and sandbox.key not in str(connection)
    # Every API request carried the key; the key is nowhere but the encrypted vault.
    assert [r.authorised for r in sandbox.requests] == [True, True]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert sandbox.key.encode() not in path.read_bytes(), path
    assert sandbox.key not in caplog.text


def test_the_key_is_checked_at_connect_and_a_refusal_says_what_was_refused(
    tmp_path: Path, sandbox: KeyShopSandbox
) -> None:
    wrong = "sk_test_" + "0" * 24
    with open_portal(tmp_path, keyshop()) as portal:
        endpoints = sandbox_endpoints(sandbox)
        with pytest.raises(AuthError, match=r"Key Shop refused the API key \(it answered 401\)"):
            portal.connect(
                "keyshop",
                endpoints=endpoints,
                answers={"api_key": wrong, "account_number": ACCOUNT},
            )
        with pytest.raises(AuthError, match="nothing at Account number A-00000000"):
            portal.connect(
                "keyshop",
                endpoints=endpoints,
                answers={"api_key": sandbox.key, "account_number": "A-00000000"},
            )
        assert portal.store.connections() == []


def test_a_mistyped_key_is_refused_by_its_label_without_quoting_it(tmp_path: Path) -> None:
    with open_portal(tmp_path, keyshop()) as portal, pytest.raises(UserError) as refused:
        portal.connect(
            "keyshop",
            endpoints={"api_base": "http://127.0.0.1:9/v1"},
            answers={"api_key": "sk_live_oops-secret", "account_number": ACCOUNT},
        )
    said = str(refused.value)
    assert "That does not look like Key Shop's API key" in said and "oops-secret" not in said
    assert "It is in your dashboard." in said


def test_answers_come_from_the_environment_and_a_missing_one_names_its_variable(
    tmp_path: Path, sandbox: KeyShopSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_KEYSHOP_API_KEY", sandbox.key)
    with open_portal(tmp_path, keyshop()) as portal:
        with pytest.raises(UserError, match=r"Account number \(PORTAL_KEYSHOP_ACCOUNT_NUMBER\)"):
            portal.connect("keyshop", endpoints=sandbox_endpoints(sandbox))
        monkeypatch.setenv("PORTAL_KEYSHOP_ACCOUNT_NUMBER", ACCOUNT)
        portal.connect("keyshop", endpoints=sandbox_endpoints(sandbox))
        assert portal.sync(["keyshop"])[0].ok


def test_a_key_the_service_stops_accepting_asks_for_a_new_connect_and_keeps_the_data(
    tmp_path: Path, sandbox: KeyShopSandbox
) -> None:
    with open_portal(tmp_path, keyshop()) as portal:
        portal.connect(
            "keyshop", endpoints=sandbox_endpoints(sandbox), answers=sandbox.connect_answers()
        )
        assert portal.sync(["keyshop"])[0].ok
        sandbox.key = "sk_test_" + secrets.token_hex(12)  # the person regenerated it
        [result] = portal.sync(["keyshop"])
        assert isinstance(result.error, AuthError)
        assert "Key Shop no longer accepts the API key portal holds (401)" in str(result.error)
        assert "portal connect keyshop again" in str(result.error)
        [connection] = portal.store.connections()
        assert connection.status == "needs_reconnect"
        assert len(list(portal.store.rows(Account))) == 3


def test_disconnect_forgets_the_key_and_says_how_to_revoke_it(
    tmp_path: Path, sandbox: KeyShopSandbox
) -> None:
    with open_portal(tmp_path, keyshop()) as portal:
        connection = portal.connect(
            "keyshop", endpoints=sandbox_endpoints(sandbox), answers=sandbox.connect_answers()
        )
        done = portal.disconnect("keyshop")
        assert done.failures == [] and not done.revoked
        assert done.revoke_hint == "Regenerate the key in your Key Shop dashboard."
        assert portal.vault.get(connection.id) is None


def test_a_declared_quota_refuses_one_sync_more_before_any_request(
    tmp_path: Path, sandbox: KeyShopSandbox
) -> None:
    quota = Quota(syncs=2, hours=24, why="its terms allow two a day")
    with open_portal(tmp_path, keyshop(quota)) as portal:
        portal.connect(
            "keyshop", endpoints=sandbox_endpoints(sandbox), answers=sandbox.connect_answers()
        )
        first = datetime.now(UTC)
        assert [r.ok for r in portal.sync(["keyshop"]) + portal.sync(["keyshop"])] == [True, True]
        before = len(sandbox.requests)
        [refused] = portal.sync(["keyshop"])
        assert len(sandbox.requests) == before
        assert isinstance(refused.error, QuotaReached)
        said = str(refused.error)
        assert said.startswith(
            "Key Shop allows 2 syncs a day for this account; the next is possible at "
        )
        assert "(its terms allow two a day)" in said
        at = re.search(r"possible at ((\d{4}-\d\d-\d\d )?\d\d:\d\d)", said)
        assert at is not None
        from portal.localtime import local

        # Tomorrow, at the minute the first sync started: when the first leaves the window.
        expected = local(first + timedelta(hours=24))
        later = expected + timedelta(minutes=1)
        assert at.group(1) in {f"{expected:%Y-%m-%d %H:%M}", f"{later:%Y-%m-%d %H:%M}"}
        # A disconnect and a new connect do not reset what the service counts.
        portal.disconnect("keyshop")
        portal.connect(
            "keyshop", endpoints=sandbox_endpoints(sandbox), answers=sandbox.connect_answers()
        )
        assert isinstance(portal.sync(["keyshop"])[0].error, QuotaReached)


def test_an_access_url_on_a_host_the_plugin_does_not_declare_is_refused(tmp_path: Path) -> None:
    provider = Provider(
        name="keyshop",
        display_name="Key Shop",
        sector=Sector.bank,
        api_base="https://bridge.keyshop.example/simplefin",
        asks=(Ask("setup_token", "Setup token"),),
        credential=KeyCredential(
            kind="access_url", auth=basic_in_url("access_url"), base_from="access_url"
        ),
    )
    from portal.auth.credentials import api_base

    assert (
        api_base(provider, {"access_url": "https://u:p@bridge.keyshop.example/simplefin/"})
        == "https://bridge.keyshop.example/simplefin"
    )
    with pytest.raises(AuthError, match=r"'evil\.example', which is not one of the hosts"):
        api_base(provider, {"access_url": "https://u:p@evil.example/simplefin"})


# -- the command line ------------------------------------------------------------------


def cli_env(home: Path) -> dict[str, str]:
    return {"PORTAL_HOME": str(home), "PORTAL_VAULT": "file", "COLUMNS": "200"}


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    """This module as a plugin in a plugins folder, as a person's own plugin would be."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "keyshop_plugin.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_credentials import KeyShopPlugin, keyshop\n"
        "_plugin = KeyShopPlugin(keyshop())\n"
        "register_providers = _plugin.register_providers\n"
        "fetch = _plugin.fetch\n"
        "normalise = _plugin.normalise\n"
    )
    return folder


def test_portal_connect_reads_the_answers_from_stdin_and_never_prints_the_key(
    tmp_path: Path, sandbox: KeyShopSandbox, plugins_dir: Path
) -> None:
    env = {**cli_env(tmp_path / "home"), "PORTAL_PLUGINS_DIR": str(plugins_dir)}
    lines = f"api_key={sandbox.key}\naccount_number={ACCOUNT}\n"
    runner = CliRunner()
    done = runner.invoke(
        cli, ["connect", "keyshop", "--sandbox", sandbox.base_url, "--stdin"], input=lines, env=env
    )
    assert done.exit_code == 0, done.output
    assert "Connected keyshop (API key kept in portal's vault). Now run: portal sync" in done.output
    assert sandbox.key not in done.output
    synced = runner.invoke(cli, ["sync", "keyshop"], env=env)
    assert synced.exit_code == 0, synced.output
    status = runner.invoke(cli, ["status"], env=env)
    [row] = [line for line in status.output.splitlines() if line.startswith("│ keyshop")]
    assert "API key (all the key reads)" in row  # what was granted: a key, not scopes
    gone = runner.invoke(cli, ["disconnect", "keyshop"], env=env)
    assert gone.exit_code == 0, gone.output
    assert "key deleted from portal's vault" in gone.output
    assert "Regenerate the key in your Key Shop dashboard." in gone.output


def test_portal_connect_prompts_without_echo_in_a_terminal_and_refuses_without_one(
    tmp_path: Path, sandbox: KeyShopSandbox, plugins_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {**cli_env(tmp_path / "home"), "PORTAL_PLUGINS_DIR": str(plugins_dir)}
    runner = CliRunner()
    refused = runner.invoke(cli, ["connect", "keyshop", "--sandbox", sandbox.base_url], env=env)
    assert refused.exit_code != 0
    assert "PORTAL_KEYSHOP_API_KEY" in refused.output and "no terminal" in refused.output

    runner = CliRunner()
    with runner.isolation(input=f"{sandbox.key}\n{ACCOUNT}\n", env=env) as streams:
        monkeypatch.setattr(sys.stdin, "isatty", lambda: True)  # a terminal, as a person's
        cli.main(["connect", "keyshop", "--sandbox", sandbox.base_url], standalone_mode=False)
        shown = "".join(s.getvalue().decode() for s in streams if s is not None)
    assert "Connected keyshop" in shown
    assert "API key: " in shown and sandbox.key not in shown  # hidden while typed
    assert f"Account number: {ACCOUNT}" in shown  # not a secret: echoed


def test_portal_providers_says_what_is_real_and_what_each_asks_for(
    tmp_path: Path, plugins_dir: Path
) -> None:
    env = {**cli_env(tmp_path / "home"), "PORTAL_PLUGINS_DIR": str(plugins_dir)}
    done = CliRunner().invoke(cli, ["providers"], env=env)
    assert done.exit_code == 0, done.output
    rows = {line.split("│")[1].strip(): line for line in done.output.splitlines() if "│" in line}
    assert "real utility service" in rows["keyshop"] and "API key" in rows["keyshop"]
    assert "bank sandbox only" in rows["bank"] and "OAuth login" in rows["bank"]
    assert "bank files" in rows["ofx"] and "portal import" in rows["ofx"]
    assert (
        "keyshop asks for: API key (PORTAL_KEYSHOP_API_KEY), Account number"
        " (PORTAL_KEYSHOP_ACCOUNT_NUMBER)" in done.output
    )


def test_a_quota_reason_and_a_revoke_hint_in_hostile_words_reach_the_terminal_inert(
    tmp_path: Path, sandbox: KeyShopSandbox
) -> None:
    from test_output_sweep import HOSTILE, SHOWN, assert_inert

    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "keyshop_plugin.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from portal.provider import Quota\n"
        "from test_credentials import KeyShopPlugin, keyshop\n"
        f"_plugin = KeyShopPlugin(keyshop(Quota(syncs=1, why={HOSTILE!r}), {HOSTILE!r}))\n"
        "register_providers = _plugin.register_providers\n"
        "fetch = _plugin.fetch\n"
        "normalise = _plugin.normalise\n"
    )
    env = {**cli_env(tmp_path / "home"), "PORTAL_PLUGINS_DIR": str(folder), "FORCE_COLOR": "1"}
    lines = f"api_key={sandbox.key}\naccount_number={ACCOUNT}\n"
    runner = CliRunner()
    connect = ["connect", "keyshop", "--sandbox", sandbox.base_url, "--stdin"]
    assert runner.invoke(cli, connect, input=lines, env=env).exit_code == 0
    assert runner.invoke(cli, ["sync", "keyshop"], env=env).exit_code == 0
    refused = runner.invoke(cli, ["sync", "keyshop"], env=env)
    gone = runner.invoke(cli, ["disconnect", "keyshop"], env=env)
    for done, what in ((refused, "a sync over the quota"), (gone, "disconnect")):
        text = done.stdout + done.stderr
        assert SHOWN in text, text  # the hostile words reached the terminal ...
        assert_inert(text, what)  # ... neutralised
    assert "allows 1 sync a day" in refused.stdout + refused.stderr
