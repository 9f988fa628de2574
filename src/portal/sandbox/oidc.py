"""OpenID Connect for sandboxes: RS256 ID tokens, the JWKS and the discovery document.

The ID tokens come from authlib's server-side OIDC extensions (``OpenIDCode`` on the
authorization-code grant, ``OpenIDToken`` on the device grant), signed with an RSA key
(cryptography) made for the sandbox on first use, since most sandboxes never sign
anything. ``IdTokens.tamper`` makes later ID tokens wrong in one way each, so a client's
validation can be tested against every check it must make.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode, OpenIDToken
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

from portal.sandbox.oauth import (
    CLIENT_AUTH_METHODS,
    GRANT_TYPES,
    Authorization,
    AuthorizationCode,
    Client,
    OAuthSettings,
    OAuthStore,
)

ALGORITHM = "RS256"
TAMPER_KINDS = ("nonce", "audience", "signature", "issuer", "expired", "subject")
"""The ways ``IdTokens.tamper`` can spoil an ID token, one check of the client's each
("subject" only on refresh, where ``sub`` must be the original login's)."""


def _new_key() -> RSAKey:
    # cryptography makes the key; joserfc (which authlib signs with) wraps it.
    return RSAKey.import_key(rsa.generate_private_key(public_exponent=65537, key_size=2048))


class IdTokens:
    """The provider's signing key and the claims of its ID tokens: honest, unless tampered."""

    def __init__(
        self, settings: OAuthSettings, issuer: Callable[[], str], subject: Callable[[str], str]
    ) -> None:
        self.settings = settings
        self.issuer = issuer
        """The issuer (the sandbox's base URL), asked for when each token is made."""
        self.subject = subject
        """The ``sub`` for a client id."""
        self._key: RSAKey | None = None
        self._rogue: RSAKey | None = None
        self._tamper: str | None = None
        self._lock = threading.Lock()

    def tamper(self, kind: str | None) -> None:
        """Spoil the ID tokens issued from now on in one way (see ``TAMPER_KINDS``), or stop."""
        if kind is not None and kind not in TAMPER_KINDS:
            raise ValueError(f"Unknown tamper kind {kind!r}; use one of {', '.join(TAMPER_KINDS)}.")
        with self._lock:
            self._tamper = kind
            if kind == "signature" and self._rogue is None:
                self._rogue = _new_key()

    def tampering(self, kind: str) -> bool:
        with self._lock:
            return self._tamper == kind

    @property
    def key(self) -> RSAKey:
        """The provider's own signing key, the one the JWKS publishes."""
        with self._lock:
            if self._key is None:
                self._key = _new_key()
            return self._key

    @property
    def kid(self) -> str:
        """The key id: the key's RFC 7638 thumbprint."""
        return self.key.thumbprint()

    def jwks(self) -> dict[str, Any]:
        """The public key set (RFC 7517) a client verifies ID tokens with."""
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}

    def signing_key(self) -> RSAKey:
        """The key to sign with: the published one, or a stranger's when tampering."""
        key = self.key
        with self._lock:
            if self._tamper == "signature" and self._rogue is not None:
                return self._rogue
            return key

    def claims(self, client_id: str) -> dict[str, Any]:
        """``iss``, ``aud``, ``iat`` and ``exp`` for an ID token issued to ``client_id`` now."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer(),
            "aud": client_id,
            "iat": now,
            "exp": now + self.settings.id_token_ttl,
        }
        if self.tampering("issuer"):
            claims["iss"] = "http://issuer.invalid"
        if self.tampering("audience"):
            claims["aud"] = "someone-else"
        if self.tampering("expired"):
            claims["iat"], claims["exp"] = now - self.settings.id_token_ttl - 60, now - 60
        return claims

    def on_refresh(self, client_id: str) -> str:
        """A signed ID token for a refresh response (OIDC Core §12.2): no nonce, same ``sub``."""
        claims = {**self.claims(client_id), "sub": self.subject(client_id)}
        if self.tampering("subject"):
            claims["sub"] = "someone-else"
        if self.tampering("nonce"):
            claims["nonce"] = "tampered-" + secrets.token_urlsafe(8)
        header = {"alg": ALGORITHM, "kid": self.kid}
        return jwt.encode(header, claims, self.signing_key(), algorithms=[ALGORITHM])


class _Signing:
    """What both OIDC extensions share: the key, the header, the claims and the subject."""

    def __init__(self, id_tokens: IdTokens) -> None:
        self.id_tokens = id_tokens

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.id_tokens.signing_key()

    def get_client_algorithm(self, client: Client) -> str:
        return ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        # The published kid even when signing with another key: the signature must fail.
        return {"alg": ALGORITHM, "kid": self.id_tokens.kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return self.id_tokens.claims(client.client_id)

    def generate_user_info(self, user: Authorization, scope: str) -> UserInfo:
        return UserInfo(sub=self.id_tokens.subject(user.client_id))


def openid_extensions(store: OAuthStore, id_tokens: IdTokens) -> tuple[OpenIDCode, OpenIDToken]:
    """The extensions for the authorization-code grant and for the device grant."""

    class Code(_Signing, OpenIDCode):  # type: ignore[misc]
        def __init__(self) -> None:
            _Signing.__init__(self, id_tokens)
            OpenIDCode.__init__(self, require_nonce=False)

        def exists_nonce(self, nonce: str, request: Any) -> bool:
            # A nonce used before by the same client is a replay (OIDC Core §3.1.2.1).
            with store.lock:
                return (request.payload.client_id, nonce) in store.nonces

        def get_authorization_code_claims(
            self, authorization_code: AuthorizationCode
        ) -> dict[str, Any]:
            claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
            if id_tokens.tampering("nonce"):
                claims["nonce"] = "tampered-" + secrets.token_urlsafe(8)
            return claims

    class Device(_Signing, OpenIDToken):  # type: ignore[misc]
        pass  # a device authorization carries no nonce: nothing to add to the shared part

    return Code(), Device(id_tokens)


def discovery(base_url: str, settings: OAuthSettings) -> dict[str, Any]:
    """The OpenID Provider metadata (OpenID Connect Discovery 1.0 §3) of a sandbox."""
    document: dict[str, Any] = {
        "issuer": base_url,
        "authorization_endpoint": f"{base_url}/oauth/authorize",
        "token_endpoint": f"{base_url}/oauth/token",
        "revocation_endpoint": f"{base_url}/oauth/revoke",
        "device_authorization_endpoint": f"{base_url}/oauth/device",
        "scopes_supported": list(settings.scopes),
        "response_types_supported": ["code"],
        "grant_types_supported": list(GRANT_TYPES),
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
        "revocation_endpoint_auth_methods_supported": CLIENT_AUTH_METHODS,
    }
    if settings.openid:
        document |= {
            "jwks_uri": f"{base_url}/.well-known/jwks.json",
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
        }
    if settings.authorization_response_iss:
        document["authorization_response_iss_parameter_supported"] = True
    return document
