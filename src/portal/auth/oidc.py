"""OpenID Connect: validating the ID token a provider returns with its tokens.

portal does not need to know who the customer is, but a provider that speaks OpenID
Connect binds its tokens to one login with the ID token and the ``nonce`` portal sent;
checking them (signature against the provider's keys, issuer, audience, expiry, nonce)
refuses tokens injected from another login (RFC 9700 §4.5.3, OIDC Core §3.1.3.7).
"""

from __future__ import annotations

from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.errors import AuthError
from portal.provider import Provider

ALGORITHMS = ["RS256", "PS256", "ES256"]


def fetch_jwks(client: httpx.Client, provider: Provider) -> dict[str, Any]:
    """The provider's public keys, from its declared JWKS URL."""
    assert provider.oauth.jwks_url is not None
    response = client.get(provider.oauth.jwks_url)
    if response.status_code != 200:
        raise AuthError(
            f"{provider.display_name}'s signing keys could not be fetched"
            f" ({response.status_code}).",
            hint=f"Try portal connect {provider.name} again later.",
        )
    keys: dict[str, Any] = response.json()
    return keys


def validate_id_token(
    id_token: str | None, jwks: dict[str, Any], provider: Provider, nonce: str | None
) -> dict[str, Any]:
    """The ID token's claims, or an AuthError naming what failed."""
    name = provider.display_name
    if not id_token:
        raise AuthError(
            f"{name} is an OpenID provider but sent no ID token.",
            hint="Report it to the provider; portal refused the tokens.",
        )
    claims: dict[str, Any] = {
        "iss": {"essential": True, "value": provider.oauth.issuer},
        "aud": {"essential": True, "value": provider.oauth.client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if nonce is not None:
        claims["nonce"] = {"essential": True, "value": nonce}
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]  # joserfc checks the shape
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(leeway=60, **claims).validate(token.claims)
    except (JoseError, ValueError) as error:
        raise AuthError(
            f"{name}'s ID token failed validation ({_describe(error)}); portal refused the tokens.",
            hint=f"Run portal connect {provider.name} again; if it persists, tell the provider.",
        ) from None
    return dict(token.claims)


def _describe(error: Exception) -> str:
    # joserfc's messages name the claim ("invalid_claim: Invalid claim: 'nonce'") without values.
    return str(error) or type(error).__name__
