"""The OAuth flows under attack and misbehaviour, each through the real flow on a real socket."""

import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import connect
from portal import hookimpl
from portal.app import Portal
from portal.auth.device import DeviceCode
from portal.auth.flows import LoopbackListener, auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.cli import ExitCode
from portal.errors import AuthError, ConfigError
from portal.provider import Provider, sandbox_endpoints
from portal_bank import plugin as bank_plugin
from portal_bank.sandbox import BankSandbox
from test_canary import Life


def recording(urls: list[str]) -> Callable[[str], None]:
    def browser(url: str) -> None:
        urls.append(url)
        answer = httpx.get(url, follow_redirects=False, timeout=10)
        urls.append(answer.headers["Location"])
        httpx.get(answer.headers["Location"], timeout=10)

    return browser


def test_every_login_sends_pkce_s256_a_fresh_state_and_a_nonce(
    portal: Portal, bank: BankSandbox
) -> None:
    urls: list[str] = []
    for _ in range(2):
        portal.connect(
            "bank", browser=recording(urls), endpoints=sandbox_endpoints(bank), timeout=10
        )
    first, second = (parse_qs(urlsplit(urls[i]).query) for i in (0, 2))
    for query in (first, second):
        assert query["code_challenge_method"] == ["S256"]
        assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256 digest
        assert len(query["state"][0]) >= 43  # 256 bits
        assert len(query["nonce"][0]) >= 43
        assert "code_verifier" not in query
    assert first["state"] != second["state"] and first["nonce"] != second["nonce"]


def test_a_forged_or_replayed_redirect_is_refused_and_the_real_login_still_completes(
    portal: Portal, bank: BankSandbox
) -> None:
    urls: list[str] = []
    portal.connect("bank", browser=recording(urls), endpoints=sandbox_endpoints(bank), timeout=10)
    old_redirect = urlsplit(urls[1])
    forged: list[int] = []

    def attacked_browser(url: str) -> None:
        listener = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0])
        for query in (old_redirect.query, "code=forged", "error=access_denied&state=guess"):
            forged.append(
                httpx.get(listener._replace(query=query).geturl(), timeout=10).status_code
            )
        auto_approve_browser(url)  # the person's real approval arrives after the forgeries

    connection = portal.connect(
        "bank", browser=attacked_browser, endpoints=sandbox_endpoints(bank), timeout=10
    )
    assert forged == [400, 400, 400]
    assert connection.status == "connected"
    assert bank.token_requests.get("authorization_code") == 2  # the forged codes never sent


def test_a_redirect_uri_the_provider_does_not_know_gets_no_code(
    portal: Portal, bank: BankSandbox
) -> None:
    bank.register_client("portal-demo", redirect_uris=["http://127.0.0.1/elsewhere"])
    with pytest.raises(AuthError, match="No answer from the browser"):
        portal.connect(
            "bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank), timeout=2
        )
    assert bank.token_requests == {}


def _other_addresses() -> set[str]:
    """Addresses of this machine other than 127.0.0.1: its named and outbound addresses.

    127.0.0.2 is always among them: it reaches this machine too, yet a socket bound to
    127.0.0.1 alone must not answer there (on macOS it is not even configured).
    """
    found = {"127.0.0.2"}
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        found |= {str(info[4][0]) for info in infos}
    except socket.gaierror:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:  # a UDP "connect" sends nothing; it only picks the outbound address
            probe.connect(("192.0.2.1", 9))
            found.add(str(probe.getsockname()[0]))
        except OSError:
            pass
    return found - {"127.0.0.1", "0.0.0.0"}  # noqa: S104 - excluded, not bound


def test_the_redirect_listener_is_reachable_on_loopback_only() -> None:
    with LoopbackListener() as listener:
        host, port = listener._server.server_address[:2]
        assert host == "127.0.0.1"
        for address in _other_addresses():
            with pytest.raises(OSError):
                socket.create_connection((address, port), timeout=1).close()


def test_a_plain_http_endpoint_is_refused(portal: Portal, bank: BankSandbox) -> None:
    endpoints = {**sandbox_endpoints(bank), "token_url": "http://bank.example/oauth/token"}
    with pytest.raises(ConfigError, match="not HTTPS"):
        portal.connect("bank", browser=auto_approve_browser, endpoints=endpoints, timeout=5)


def test_widened_scopes_are_refused_and_the_tokens_revoked(
    portal: Portal, bank: BankSandbox
) -> None:
    bank.widen_scopes("payments")
    with pytest.raises(AuthError, match="granted more than portal asked for"):
        connect(portal, bank)
    assert portal.store.connections() == []
    assert {kind for _, kind in bank.revocations} == {"access_token", "refresh_token"}


@pytest.mark.parametrize("kind", ["nonce", "audience", "signature", "issuer", "expired"])
def test_a_bad_id_token_is_refused(portal: Portal, bank: BankSandbox, kind: str) -> None:
    bank.tamper_id_token(kind)
    with pytest.raises(AuthError, match="ID token failed validation"):
        connect(portal, bank)
    assert portal.store.connections() == []


# -- the device authorization grant (RFC 8628) ---------------------------------------------


def approving(bank: BankSandbox, codes: list[DeviceCode]) -> Callable[[DeviceCode], None]:
    def show(code: DeviceCode) -> None:
        codes.append(code)
        bank.approve_device(code.user_code)

    return show


def test_connect_with_a_device_code(portal: Portal) -> None:
    codes: list[DeviceCode] = []
    with BankSandbox(device_interval=1) as bank:
        connection = portal.connect(
            "bank", device=True, show_code=approving(bank, codes), endpoints=sandbox_endpoints(bank)
        )
        assert connection.scopes == "openid accounts"
        assert codes[0].user_code and codes[0].verification_uri.startswith(bank.base_url)
        [result] = portal.sync()
        assert result.ok, result.error


def test_slow_down_adds_five_seconds_to_every_later_poll(portal: Portal) -> None:
    codes: list[DeviceCode] = []
    with BankSandbox(device_interval=1) as bank:
        bank.slow_down_next(1)
        portal.connect(
            "bank", device=True, show_code=approving(bank, codes), endpoints=sandbox_endpoints(bank)
        )
        [polls] = bank.device_polls_by_code().values()
    assert [answer for _, answer in polls] == ["slow_down", "ok"]
    assert polls[1][0] - polls[0][0] >= 6.0


def test_an_expired_device_code_is_a_clear_error(portal: Portal) -> None:
    with (
        BankSandbox(device_interval=1, device_code_ttl=2) as bank,
        pytest.raises(AuthError, match="expired before it was approved"),
    ):
        portal.connect(
            "bank", device=True, show_code=lambda code: None, endpoints=sandbox_endpoints(bank)
        )
    assert portal.store.connections() == []


DEVICE_FOR_TWO_SECONDS = ("--device", "--timeout", "2")


def test_connect_device_gives_up_after_its_timeout(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home"), "PORTAL_VAULT": "file"}
    portal_cmd = str(Path(sys.executable).with_name("portal"))
    with BankSandbox(device_interval=1) as bank:  # the code itself lasts ten minutes
        started = time.monotonic()
        done = subprocess.run(
            [portal_cmd, "connect", "bank", "--sandbox", bank.base_url, *DEVICE_FOR_TWO_SECONDS],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    assert time.monotonic() - started < 10
    assert done.returncode == ExitCode.AUTH
    assert "No approval for Demo Bank came within 2 seconds." in done.stderr
    assert "--timeout" in done.stderr.splitlines()[-1]


def test_a_device_login_refused_on_the_other_device(portal: Portal) -> None:
    with (
        BankSandbox(device_interval=1) as bank,
        pytest.raises(AuthError, match="refused on the other device"),
    ):
        portal.connect(
            "bank",
            device=True,
            show_code=lambda code: bank.deny_device(code.user_code),
            endpoints=sandbox_endpoints(bank),
        )


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        ({"interval": float("nan")}, "interval is NaN"),
        ({"interval": -1}, "interval is -1 seconds"),
        ({"expires_in": "soon"}, "expires_in is text"),
        ({"expires_in": 10**30}, "expires_in is 1e[+]30 seconds"),
    ],
)
def test_a_device_authorization_answer_with_nonsense_timing_is_refused_clearly(
    portal: Portal, patch: dict[str, Any], named: str
) -> None:
    with BankSandbox(device_interval=1) as bank:
        bank.patch_device_responses(patch)
        with pytest.raises(AuthError, match=f"with nonsense: its {named}"):
            portal.connect(
                "bank",
                device=True,
                show_code=approving(bank, []),
                endpoints=sandbox_endpoints(bank),
            )
        assert bank.token_requests == {}
    assert portal.store.connections() == []


# -- servers portal did not write: RFC 9207, revocation, authorization parameters --------


def test_a_server_declaring_rfc_9207_has_its_iss_checked_and_the_login_completes(
    portal: Portal,
) -> None:
    urls: list[str] = []
    with BankSandbox(authorization_response_iss=True) as bank:
        connection = portal.connect(
            "bank", browser=recording(urls), endpoints=sandbox_endpoints(bank), timeout=10
        )
        assert parse_qs(urlsplit(urls[1]).query)["iss"] == [bank.issuer]
    assert connection.status == "connected"


@pytest.mark.parametrize(
    ("declared", "iss", "refusal"),
    [
        (True, None, "carried no issuer"),
        (True, "http://attacker.example", "came from the issuer"),
        (False, "http://attacker.example", "came from the issuer"),  # present: always checked
    ],
)
def test_an_authorization_response_from_the_wrong_issuer_is_refused(
    portal: Portal, declared: bool, iss: str | None, refusal: str
) -> None:
    with BankSandbox(authorization_response_iss=declared) as bank:
        bank.forge_iss(iss)
        with pytest.raises(AuthError, match=refusal):
            connect(portal, bank)
        assert bank.token_requests.get("authorization_code", 0) == 0  # the code never sent
    assert portal.store.connections() == []


def test_reconnecting_revokes_the_grant_it_replaces_after_storing_the_new_one(
    portal: Portal, bank: BankSandbox
) -> None:
    first = connect(portal, bank)
    old = portal.vault.get(first.id)
    assert old is not None and old.access_token
    connect(portal, bank)
    assert bank.revocations == [
        ("refresh_token", "refresh_token"),
        ("access_token", "access_token"),
    ]
    api = f"{bank.base_url}/open-banking/v3.1/aisp/accounts"
    refused = httpx.get(api, headers={"Authorization": f"Bearer {old.access_token}"}, timeout=10)
    assert refused.status_code == 401  # the old grant is gone at the provider
    [result] = portal.sync()
    assert result.ok, result.error  # the new one works


def test_reconnecting_without_a_new_refresh_token_leaves_the_old_grant_alone(
    portal: Portal,
) -> None:
    with BankSandbox(refresh_tokens="none") as bank:
        connect(portal, bank)
        connect(portal, bank)  # may be the same grant: revoking would revoke the new tokens
        assert bank.revocations == []
        [result] = portal.sync()
        assert result.ok, result.error


class _FullDisk:
    """A vault file that cannot be written, as on a full disk."""

    def __init__(self, storage: FileStorage) -> None:
        self.storage = storage

    def read(self) -> dict[str, dict[str, Any]]:
        return self.storage.read()

    def write(self, entries: dict[str, dict[str, Any]]) -> None:
        raise OSError(28, "No space left on device")


def test_tokens_the_vault_cannot_keep_are_revoked_with_a_clear_error(
    tmp_path: Path, bank: BankSandbox
) -> None:
    home = tmp_path / "home"
    storage = _FullDisk(FileStorage(home / "vault.bin", key_file=home / "vault.key"))
    with Portal.open(home=home, vault=Vault(storage, home / "vault.lock")) as portal:
        with pytest.raises(ConfigError, match=r"could not store the tokens.*revoked"):
            connect(portal, bank)
        assert portal.store.connections() == []
    assert ("refresh_token", "refresh_token") in bank.revocations


class _Variant:
    """The Demo Bank declared with other OAuth settings, as a third party would."""

    def __init__(self, **oauth: Any) -> None:
        self.provider = dataclasses.replace(
            bank_plugin.PROVIDER,
            name="variant",
            display_name="Variant Bank",
            oauth=dataclasses.replace(bank_plugin.PROVIDER.oauth, **oauth),
        )

    @hookimpl
    def register_providers(self, register: Callable[[Provider], None]) -> None:
        register(self.provider)

    @hookimpl
    def fetch(self, client: Any, cursors: Any) -> Any:
        return bank_plugin.fetch(client, cursors)

    @hookimpl
    def normalise(self, stream: str, item: Any, ref: Any) -> Any:
        return bank_plugin.normalise(stream, item, ref)


def test_a_plugin_adds_authorization_parameters_and_no_refresh_token_is_warned_of(
    tmp_path: Path,
) -> None:
    params = {"prompt": "consent", "access_type": "offline"}
    urls: list[str] = []
    warnings: list[str] = []
    plugin = _Variant(authorization_params=params)
    with (
        Portal.open(home=tmp_path / "home", extra_plugins=[plugin]) as portal,
        BankSandbox(refresh_tokens="none", access_token_ttl=600) as bank,
    ):
        portal.connect(
            "variant",
            browser=recording(urls),
            endpoints=sandbox_endpoints(bank),
            timeout=10,
            warn=warnings.append,
        )
    query = parse_qs(urlsplit(urls[0]).query)
    assert query["prompt"] == ["consent"] and query["access_type"] == ["offline"]
    assert warnings == [
        "Variant Bank gave no refresh token: portal will need you to connect again when the"
        " access expires in 10 minutes."
    ]


def test_a_declaration_cannot_replace_portals_own_authorization_parameters() -> None:
    with pytest.raises(ConfigError, match="state are portal's own"):
        _Variant(authorization_params={"state": "fixed"})


OFFLINE_PLUGIN = """
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="offline", display_name="Offline Bank",
    oauth=dataclasses.replace(bank.PROVIDER.oauth, authorization_params={"access_type": "offline"}),
)

@hookimpl
def register_providers(register):
    register(PROVIDER)
"""


@pytest.mark.slow
def test_portal_connect_warns_instead_of_plainly_saying_connected(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "offline.py").write_text(OFFLINE_PLUGIN)
    life = Life(tmp_path / "home", plugins)
    with BankSandbox(refresh_tokens="none", access_token_ttl=1800) as bank:
        life.connect(bank, provider="offline")
    printed = "".join(life.outputs)
    assert (
        "Warning: Offline Bank gave no refresh token: portal will need you to connect again"
        " when the access expires in 30 minutes." in printed
    )
    assert "Connected offline, with the warning above (scopes: openid accounts" in printed


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_service_matching_redirects_exactly_gets_its_registered_port() -> None:
    from portal.provider import OAuthClient

    port = _free_port()
    real = OAuthClient(
        "https://auth.example/", "https://api.example/token", "c", (), redirect_port=port
    )
    assert real.listen_port == port
    # A sandbox on this machine takes any loopback port (RFC 8252 §7.3): runs never collide.
    assert dataclasses.replace(real, authorize_url="http://127.0.0.1:9/auth").listen_port == 0
    assert dataclasses.replace(real, redirect_port=None).listen_port == 0
    with LoopbackListener(port=port) as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{port}/callback"
        with pytest.raises(AuthError, match=f"127.0.0.1:{port}"):
            LoopbackListener(port=port)
    with pytest.raises(ConfigError, match="redirect port 80"):
        OAuthClient("https://auth.example/", "https://api.example/token", "c", (), redirect_port=80)
