"""connect: the real authorization-code flow with PKCE, state and a loopback redirect."""

import os
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from conftest import connect
from portal.app import Portal
from portal.auth.flows import LoopbackListener
from portal.auth.tokens import TokenSet
from portal.auth.vault import FileStorage, Vault
from portal.errors import AuthError, ConfigError
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox


def test_connect_runs_pkce_s256_and_stores_tokens_encrypted(
    portal: Portal, bank: BankSandbox
) -> None:
    seen: list[str] = []

    def browser(url: str) -> None:
        seen.append(url)
        httpx.get(url, follow_redirects=True, timeout=10)

    connection = portal.connect(
        "bank", browser=browser, endpoints=sandbox_endpoints(bank), timeout=10
    )
    query = parse_qs(urlsplit(seen[0]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
    assert connection.scopes == "openid accounts" and connection.consent_id
    tokens = portal.vault.get(connection.id)
    assert tokens is not None
    secret = tokens.as_dict()["access_token"]
    assert secret.encode() not in portal.vault.storage.path.read_bytes()
    assert secret not in repr(tokens) and secret not in str(tokens)
    assert os.stat(portal.vault.storage.key_file).st_mode & 0o777 == 0o600


def test_a_redirect_with_the_wrong_state_never_ends_the_login(
    portal: Portal, bank: BankSandbox
) -> None:
    statuses: list[int] = []

    def forging_browser(url: str) -> None:
        answer = httpx.get(url, follow_redirects=False, timeout=10)
        location = urlsplit(answer.headers["Location"])
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        query["state"] = "forged"
        forged = location._replace(query=urlencode(query)).geturl()
        statuses.append(httpx.get(forged, timeout=10).status_code)

    with pytest.raises(AuthError, match="No answer from the browser"):
        portal.connect(
            "bank", browser=forging_browser, endpoints=sandbox_endpoints(bank), timeout=2
        )
    assert statuses == [400]
    assert portal.store.connections() == []
    assert bank.token_requests.get("authorization_code", 0) == 0


def test_no_answer_from_the_browser_times_out_clearly(portal: Portal, bank: BankSandbox) -> None:
    with pytest.raises(AuthError, match=r"No answer from the browser within 1 second\."):
        portal.connect(
            "bank", browser=lambda url: None, endpoints=sandbox_endpoints(bank), timeout=1
        )


def test_the_listener_answers_once_and_only_on_its_path() -> None:
    with LoopbackListener() as listener:
        base = listener.redirect_uri.rsplit("/", 1)[0]
        assert httpx.get(f"{base}/other?code=x&state=y").status_code == 404
        assert httpx.get(f"{listener.redirect_uri}?code=abc&state=s").status_code == 200
        assert listener.wait(1) == {"code": "abc", "state": "s"}
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"{listener.redirect_uri}?code=evil&state=s", timeout=1)
    assert listener.result == {"code": "abc", "state": "s"}


def test_the_listener_keeps_waiting_through_answers_without_its_state() -> None:
    with LoopbackListener(state="expected") as listener:
        for forged in ("code=x", "code=x&state=other", "error=access_denied&state=\u00e9"):
            assert httpx.get(f"{listener.redirect_uri}?{forged}").status_code == 400
        assert httpx.get(f"{listener.redirect_uri}?code=real&state=expected").status_code == 200
        assert listener.wait(1) == {"code": "real", "state": "expected"}


def test_reconnecting_keeps_the_connection_id(portal: Portal, bank: BankSandbox) -> None:
    first = connect(portal, bank)
    second = connect(portal, bank)
    assert first.id == second.id
    assert first.consent_id != second.consent_id


@pytest.mark.parametrize("which", ["path", "key_file"])
def test_a_vault_file_readable_by_others_is_refused(tmp_path: Path, which: str) -> None:
    storage = FileStorage(tmp_path / "vault.bin", key_file=tmp_path / "vault.key")
    vault = Vault(storage, tmp_path / "vault.lock")
    vault.put("c", TokenSet({"access_token": "secret"}))
    os.chmod(getattr(storage, which), 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        vault.get("c")
