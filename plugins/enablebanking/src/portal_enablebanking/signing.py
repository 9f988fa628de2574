"""The application's credential: a JWT signed with its private key, fresh for every request.

Enable Banking's API reference ("Authorization", the ``bearerAuth`` security scheme): the
header is ``{"typ": "JWT", "alg": "RS256", "kid": <application id>}`` (only RS256 is
accepted), the body ``{"iss": "enablebanking.com", "aud": "api.enablebanking.com", "iat":
<now>, "exp": <expiry>}``, at most 86,400 seconds between the two, and the token is sent
as ``Authorization: Bearer <jwt>``. portal signs a new one for each request, valid for
``TTL`` seconds, so no token outlives the request that carried it by much.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from portal.errors import AuthError

ISSUER = "enablebanking.com"
AUDIENCE = "api.enablebanking.com"
TTL = 3600
"""Seconds each token is valid for (the API accepts up to 86,400)."""
MAX_TTL = 86400


def b64url(data: bytes) -> str:
    """Base64url without padding, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """The bytes of a base64url segment (padding restored)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """The RSA private key in ``pem``; an AuthError (never quoting it) when it is not one."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise AuthError(
            "The Enable Banking private key is not an unencrypted PEM private key.",
            hint="Give the path of the private key file you registered the application with"
            " (its first line reads -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE"
            " KEY-----).",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise AuthError(
            "The Enable Banking private key is not an RSA key; the API accepts RS256 only.",
            hint="Generate one with: openssl genrsa -out private.key 4096",
        )
    return key


def make_jwt(
    application_id: str, key: rsa.RSAPrivateKey, *, now: float | None = None, ttl: int = TTL
) -> str:
    """A token for one request of ``application_id``, signed with ``key`` (RS256)."""
    issued = int(time.time() if now is None else now)
    header = {"typ": "JWT", "alg": "RS256", "kid": application_id}
    body = {"iss": ISSUER, "aud": AUDIENCE, "iat": issued, "exp": issued + ttl}
    signing_input = ".".join(
        b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, body)
    )
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64url(signature)}"


class SignedJWT(httpx.Auth):
    """Signs every request with a fresh JWT of the application (``kid`` = its id).

    It also knows the session the connection opened (``session_id``), so that a sync asks
    for that session's accounts: the id never leaves the vault entry and this object.
    """

    def __init__(
        self,
        application_id: str,
        private_key_pem: str,
        *,
        session_id: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._application_id = application_id
        self._key = load_private_key(private_key_pem)
        self._clock = clock
        self.session_id = session_id

    def __repr__(self) -> str:
        # The key and the session id stay out of every repr; the application id is public.
        return f"SignedJWT(application_id={self._application_id!r})"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = make_jwt(self._application_id, self._key, now=self._clock())
        request.headers["Authorization"] = f"Bearer {token}"
        yield request


def signed_jwt(values: Mapping[str, Any]) -> httpx.Auth:
    """The ``KeyCredential.auth`` of Enable Banking, from the values the vault keeps."""
    for name in ("application_id", "private_key"):
        if not values.get(name):
            raise AuthError(
                f"portal holds no Enable Banking {name.replace('_', ' ')} for this connection.",
                hint="Run portal connect enablebanking again.",
            )
    return SignedJWT(
        values["application_id"], values["private_key"], session_id=values.get("session_id")
    )


class Refused(ValueError):
    """A token the API refuses: the reason, in the words of the API's error detail."""


def verify_jwt(
    token: str, keys: dict[str, rsa.RSAPublicKey], *, now: float | None = None
) -> dict[str, Any]:
    """The body of ``token`` if the API accepts it: RS256, a registered ``kid``, its
    signature, ``iss``, ``aud``, not expired, and at most ``MAX_TTL`` seconds long."""
    moment = time.time() if now is None else now
    try:
        head, body, signature = token.split(".")
        header = json.loads(unb64url(head))
        claims = json.loads(unb64url(body))
        raw_signature = unb64url(signature)
    except ValueError:
        raise Refused("The token is not a JWT.") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Refused("The token is not a JWT.")
    if header.get("alg") != "RS256":
        raise Refused("Only RS256 is supported.")
    key = keys.get(str(header.get("kid")))
    if key is None:
        raise Refused("No application is registered with the token's kid.")
    try:
        key.verify(raw_signature, f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        raise Refused("The token's signature does not match the application's key.") from None
    if claims.get("iss") != ISSUER or claims.get("aud") != AUDIENCE:
        raise Refused(f"The token's iss must be {ISSUER} and its aud {AUDIENCE}.")
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise Refused("The token's iat and exp must be timestamps.")
    if expires <= moment:
        raise Refused("The token has expired.")
    if expires - issued > MAX_TTL or issued > moment + 60:
        raise Refused(f"The token's lifetime is longer than {MAX_TTL} seconds.")
    return claims
