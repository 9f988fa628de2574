"""The OAuth flows under attack and misbehaviour, each through the real flow on a real socket."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import connect
from portal.app import Portal
from portal.auth.device import DeviceCode
from portal.auth.flows import LoopbackListener, auto_approve_browser
from portal.cli import ExitCode
from portal.errors import AuthError, ConfigError
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox


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


def test_a_replayed_redirect_from_an_earlier_login_is_refused(
    portal: Portal, bank: BankSandbox
) -> None:
    urls: list[str] = []
    portal.connect("bank", browser=recording(urls), endpoints=sandbox_endpoints(bank), timeout=10)
    old_redirect = urlsplit(urls[1])

    def replaying_browser(url: str) -> None:
        listener = urlsplit(parse_qs(urlsplit(url).query)["redirect_uri"][0])
        httpx.get(listener._replace(query=old_redirect.query).geturl(), timeout=10)

    with pytest.raises(AuthError, match="wrong state"):
        portal.connect(
            "bank", browser=replaying_browser, endpoints=sandbox_endpoints(bank), timeout=10
        )
    assert bank.token_requests.get("authorization_code") == 1


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
