"""Broken on purpose: its own login sends no PKCE code challenge.

The conformance suite must fail it with test_oauth[pkce_s256].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("oauth", "pkce_s256")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_no_pkce",
    display_name="Broken bank (broken_no_pkce)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)


@hookimpl
def authenticate(provider: Any, oauth: Any) -> Any:
    import secrets

    from portal.auth.flows import LoopbackListener
    from portal.auth.tokens import TokenSet

    with (
        LoopbackListener() as listener,
        oauth._client(
            " ".join(provider.oauth.scopes), redirect_uri=listener.redirect_uri
        ) as client,
    ):
        url, _state = client.create_authorization_url(
            provider.oauth.authorize_url, state=secrets.token_urlsafe(32)
        )
        oauth.browser(url)
        answer = listener.wait(oauth.timeout)
        if "code" not in answer:
            from portal.errors import AuthError

            raise AuthError(f"login refused: {answer.get('error')}")
        token = client.fetch_token(provider.oauth.token_url, code=answer["code"])
        return TokenSet(dict(token))
