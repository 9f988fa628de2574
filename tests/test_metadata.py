"""Public metadata (discovery, JWKS) is fetched without the person's token, whoever asks."""

from conftest import connect
from portal.app import Portal
from portal.auth.metadata import metadata_url
from portal_bank.sandbox import BankSandbox


def test_connect_fetches_discovery_and_keys_without_any_token(
    portal: Portal, bank: BankSandbox
) -> None:
    connect(portal, bank)
    fetched = bank.metadata_requests
    assert {path for path, _ in fetched} == {
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
    }
    assert not any(carried for _, carried in fetched), fetched


def test_a_refresh_that_checks_a_new_id_token_fetches_the_keys_without_any_token(
    portal: Portal,
) -> None:
    with BankSandbox(id_token_on_refresh=True) as bank:
        connect(portal, bank)
        bank.expire_tokens()
        [result] = portal.sync()
        assert result.ok, result.error
        assert bank.token_requests.get("refresh_token") == 1
        fetched = bank.metadata_requests
    assert [path for path, _ in fetched].count("/.well-known/jwks.json") == 2  # connect, refresh
    assert not any(carried for _, carried in fetched), fetched


def test_metadata_addresses_follow_rfc_8414_and_openid_discovery() -> None:
    assert (
        metadata_url("https://login.example/tenant", openid=False)
        == "https://login.example/.well-known/oauth-authorization-server/tenant"
    )
    assert (
        metadata_url("https://login.example/tenant/", openid=True)
        == "https://login.example/tenant/.well-known/openid-configuration"
    )
