"""Revoking tokens at the provider (RFC 7009): on disconnect, and whenever tokens were
issued but cannot be kept (a check failed after they arrived, the vault refused them, or
a new connect replaced them)."""

from __future__ import annotations

import httpx

from portal.auth.oauth_client import OAUTH_ERRORS, OAuth2Client
from portal.auth.tokens import TokenSet
from portal.errors import ProviderError
from portal.provider import Provider


def revoke(client: OAuth2Client, provider: Provider, tokens: TokenSet) -> list[str]:
    """Revoke the refresh and access tokens (RFC 7009); return what could not be revoked.

    The refresh token goes first: revoking it ends the whole grant at most servers
    (RFC 7009 §2.1), so an access token left over from it is worthless anyway.
    """
    url = provider.oauth.revocation_url
    failures = []
    for hint, value in (
        ("refresh_token", tokens.refresh_token),
        ("access_token", tokens.access_token),
    ):
        if not value:
            continue
        if not url:
            failures.append(f"{hint}: the provider declares no revocation endpoint")
            continue
        try:
            response = client.revoke_token(url, token=value, token_type_hint=hint)
            if response.status_code != 200:
                failures.append(f"{hint}: answered {response.status_code}")
        except (httpx.HTTPError, ProviderError) as error:
            failures.append(f"{hint}: {describe(error)}")
    return failures


def describe(error: Exception) -> str:
    """A short account of a failed OAuth call, with no secret in it."""
    if isinstance(error, OAUTH_ERRORS):
        return str(error.error or "error")
    if isinstance(error, ProviderError):
        return error.message
    return type(error).__name__
