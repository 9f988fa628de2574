"""What an authorization server publishes about itself, fetched without anyone's token.

The metadata document (RFC 8414, or OpenID Connect Discovery for an OpenID provider) and
the signing keys (JWKS) are public. They are fetched with ``withhold_token`` and no client
authentication: through the client that holds a person's tokens, authlib would otherwise
attach the bearer token to every request, and a metadata URL need not even be the API's
host. Of the metadata portal reads one thing: whether the server puts ``iss`` in its
authorization responses (RFC 9207), which turns on the mix-up defence in ``flows``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal.auth.oauth_client import OAuth2Client
from portal.errors import AuthError, ProviderError
from portal.provider import Provider
from portal.shown import shown


@dataclass(frozen=True)
class ServerMetadata:
    """The part of an authorization server's metadata portal acts on."""

    issuer: str | None = None
    iss_parameter_supported: bool = False
    """RFC 9207: every authorization response carries ``iss``; one without it is refused."""


class _NotPublished(AuthError):
    """The server answered 404 or 410: it publishes no such document."""


def fetch_public_json(client: OAuth2Client, url: str, what: str, provider: Provider) -> Any:
    """GET a public document (metadata, keys) with no token and no client credentials."""
    try:
        response = client.request("GET", url, withhold_token=True, auth=None)
    except (httpx.HTTPError, ProviderError) as error:
        raise AuthError(
            f"{provider.display_name}'s {what} could not be fetched ({type(error).__name__}).",
            hint=f"Try portal connect {provider.name} again later.",
        ) from None
    if response.status_code != 200:
        kind = _NotPublished if response.status_code in (404, 410) else AuthError
        raise kind(
            f"{provider.display_name}'s {what} could not be fetched ({response.status_code}).",
            hint=f"Try portal connect {provider.name} again later.",
        )
    try:
        return response.json()
    except ValueError:
        raise AuthError(
            f"{provider.display_name}'s {what} is not valid JSON.",
            hint="Report it to the provider.",
        ) from None


def metadata_url(issuer: str, openid: bool) -> str:
    """Where the metadata of ``issuer`` lives: OpenID Discovery §4, or RFC 8414 §3.1."""
    if openid:
        return issuer.rstrip("/") + "/.well-known/openid-configuration"
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/oauth-authorization-server{path}"


def discover(client: OAuth2Client, provider: Provider) -> ServerMetadata:
    """The declared issuer's metadata; empty for a provider that declares no issuer.

    A server that publishes no metadata (404) declares nothing, so nothing more is
    required of it; one that cannot be reached stops the connect. A document naming
    another issuer is refused (RFC 8414 §3.3).
    """
    issuer = provider.oauth.issuer
    if not issuer:
        return ServerMetadata()
    url = metadata_url(issuer, provider.oauth.openid)
    try:
        document = fetch_public_json(client, url, "metadata", provider)
    except _NotPublished:
        return ServerMetadata(issuer=issuer)
    if not isinstance(document, dict):
        return ServerMetadata(issuer=issuer)
    if document.get("issuer") != issuer:
        raise AuthError(
            f"{provider.display_name}'s metadata names the issuer"
            f" {shown(document.get('issuer'), limit=200)!s}, not {issuer}; portal stopped.",
            hint="Check the provider's declared issuer, or report it to the provider.",
        )
    return ServerMetadata(
        issuer=issuer,
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
    )
