"""OpenID Connect: validating the ID token a provider returns with its tokens.

portal does not need to know who the customer is, but a provider that speaks OpenID
Connect binds its tokens to one login with the ID token and the ``nonce`` portal sent;
checking them (signature against the provider's keys, issuer, audience, expiry, nonce)
refuses tokens injected from another login (RFC 9700 §4.5.3, OIDC Core §3.1.3.7).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from portal.auth.metadata import fetch_public_json
from portal.auth.oauth_client import OAuth2Client
from portal.errors import AuthError
from portal.provider import Provider

ALGORITHMS = ["RS256", "PS256", "ES256"]


def fetch_jwks(client: OAuth2Client, provider: Provider) -> dict[str, Any]:
    """The provider's public keys, from its declared JWKS URL (never with a token)."""
    assert provider.oauth.jwks_url is not None
    keys = fetch_public_json(client, provider.oauth.jwks_url, "signing keys", provider)
    if not isinstance(keys, dict):
        raise AuthError(
            f"{provider.display_name}'s signing keys are not a key set.",
            hint="Report it to the provider; portal refused the tokens.",
        )
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


def validate_refreshed_id_token(
    id_token: str | None, original: str | None, jwks: dict[str, Any], provider: Provider
) -> dict[str, Any]:
    """The claims of an ID token answered on refresh, held to OIDC Core §12.2.

    Signature, issuer, audience and expiry as for any ID token; ``sub`` must be the
    original login's, and a ``nonce``, if there is one, the original's too. ``original`` is
    the ID token portal validated at connect time, kept in the vault.
    """
    claims = validate_id_token(id_token, jwks, provider, None)
    before = _payload(original) if original else {}
    for name, what in (("sub", "subject (sub)"), ("nonce", "nonce")):
        # No original to compare ``sub`` with (an older connect): the other checks stand.
        if (
            name in claims
            and claims[name] != before.get(name)
            and (name in before or name == "nonce")
        ):
            raise AuthError(
                f"{provider.display_name}'s ID token from the refresh names another {what}"
                " than the login did; portal refused the tokens.",
                hint=f"Run portal connect {provider.name} again; if it persists, tell the"
                " provider.",
            )
    return claims


def _payload(token: str) -> dict[str, Any]:
    """The claims of a token portal already validated (from its own vault), unverified."""
    try:
        part = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _describe(error: Exception) -> str:
    # joserfc's messages name the claim ("invalid_claim: Invalid claim: 'nonce'") without values.
    return str(error) or type(error).__name__
