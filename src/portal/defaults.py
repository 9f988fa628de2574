"""portal's own hook implementations, registered like any other plugin."""

from __future__ import annotations

import httpx

from portal.auth.credentials import KIND_WORDS, CredentialHelpers
from portal.auth.flows import OAuthHelpers
from portal.auth.tokens import TokenSet
from portal.errors import AuthError, ConfigError, ProviderError
from portal.hookspecs import hookimpl
from portal.provider import Provider


@hookimpl(trylast=True)
def authenticate(
    provider: Provider, oauth: OAuthHelpers, credentials: CredentialHelpers
) -> TokenSet:
    """OAuth: the authorization-code flow with PKCE S256 (or, if asked, the device flow).

    A key credential: the person's answers, checked against ``credential.check`` if the
    provider declares one.
    """
    if provider.credential is None:
        return oauth.run()
    values = dict(credentials.answers)
    if provider.credential.check:
        check_key(provider, credentials, values)
    return TokenSet(values)


def check_key(provider: Provider, credentials: CredentialHelpers, values: dict[str, str]) -> None:
    """Fetch the declared check path with the key: a refusal is said now, in words."""
    assert provider.credential is not None and provider.credential.check
    shown_values = {a.name: values.get(a.name, "") for a in provider.asks if not a.secret}
    try:
        path = provider.credential.check.format(**shown_values)
    except (KeyError, IndexError):
        raise ConfigError(
            f"{provider.name}'s check path {provider.credential.check!r} names a value it"
            " does not ask for (or a secret one).",
            hint="Use only the names of its non-secret asks in braces.",
        ) from None
    with credentials.client(values) as client:
        try:
            response = client.get(path)
        except httpx.HTTPError as error:
            raise ProviderError(
                f"portal could not reach {provider.display_name} to check the"
                f" {KIND_WORDS[provider.credential.kind]} ({type(error).__name__}).",
                hint="Check the network, then connect again.",
            ) from None
    if response.status_code in (401, 403):
        raise AuthError(
            f"{provider.display_name} refused the {KIND_WORDS[provider.credential.kind]}"
            f" (it answered {response.status_code}).",
            hint=next((a.help for a in provider.asks if a.secret and a.help), "")
            or f"Check it, then run portal connect {provider.name} again.",
        )
    if response.status_code == 404:
        named = ", ".join(
            f"{a.label} {values.get(a.name, '')}" for a in provider.asks if not a.secret
        )
        raise AuthError(
            f"{provider.display_name} accepted the key but has nothing at {named or path}"
            " for it (404).",
            hint="Check what you typed, then connect again.",
        )
    if response.status_code >= 400:
        raise ProviderError(
            f"{provider.display_name} answered {response.status_code} when portal checked the key.",
            hint="Try again later.",
        )
