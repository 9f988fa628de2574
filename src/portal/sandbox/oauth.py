"""A real OAuth 2.0 authorization server for sandboxes, on authlib's Flask integration.

The models live in memory. The server is strict where portal's own client must be
correct: authorization code with PKCE (S256 only, never plain, never absent), refresh-token
rotation, RFC 7009 revocation, and exact redirect URIs except for the port of a loopback
redirect (RFC 8252 §7.3).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidRequestError,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


@dataclass(frozen=True)
class OAuthSettings:
    """How a sandbox's authorization server behaves."""

    auto_approve: bool = True
    """Approve every valid authorization request at once, so a scripted user agent completes it."""
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 90 * 24 * 3600
    scopes: tuple[str, ...] = ("read",)
    code_ttl: int = 600
    """RFC 6749 §4.1.2 recommends authorization codes live at most ten minutes."""


@dataclass
class Authorization:
    """One approval by the demo customer: what was granted to whom, and its extra token fields.

    authlib calls this the "user" of codes and tokens. Refreshed tokens keep pointing at it,
    so extra fields (a bank's consent id) stay the same for the life of the grant.
    """

    client_id: str
    scope: str
    extra: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class Client(ClientMixin):  # type: ignore[misc]
    """A registered client: public when it has no secret, confidential otherwise."""

    client_id: str
    client_secret: str | None
    redirect_uris: list[str]
    scope: str

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = self.scope.split()
        if not scope:
            return self.scope
        granted = [s for s in scope.split() if s in allowed]
        return " ".join(granted) if granted else None

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        return self.client_secret is not None and secrets.compare_digest(
            self.client_secret.encode(), client_secret.encode()
        )

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """An issued, not yet redeemed, authorization code."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    authorization: Authorization
    code_challenge: str
    code_challenge_method: str
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token(TokenMixin):  # type: ignore[misc]
    """An access token and the refresh token issued with it."""

    client: Client
    authorization: Authorization
    access_token: str
    refresh_token: str | None
    scope: str
    issued_at: float
    expires_in: int
    refresh_expires_at: float
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return bool(self.client.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> Authorization:
        return self.authorization

    def get_client(self) -> Client:
        return self.client

    def refresh_usable(self) -> bool:
        """Whether the refresh token may still be exchanged (not rotated, revoked or expired)."""
        return not self.refresh_revoked and time.time() < self.refresh_expires_at


def redirect_matches(registered: str, requested: str) -> bool:
    """Exact match, except that a loopback redirect may use any port (RFC 8252 §7.3)."""
    if registered == requested:
        return True
    want, got = urlsplit(registered), urlsplit(requested)
    if want.scheme != "http" or want.hostname not in LOOPBACK_HOSTS:
        return False
    try:
        got.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        return False
    return (
        got.scheme == "http"
        and got.hostname == want.hostname
        and got.path == want.path
        and got.query == want.query
        and not got.fragment
        and got.username is None
        and got.password is None
    )


class OAuthStore:
    """Clients, codes and tokens in memory, shared by the server's request threads."""

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: list[Token] = []
        self.lock = threading.RLock()

    def client(self, client_id: str) -> Client | None:
        with self.lock:
            return self.clients.get(client_id)

    def by_access_token(self, value: str) -> Token | None:
        with self.lock:
            return next(
                (t for t in self.tokens if secrets.compare_digest(t.access_token, value)), None
            )

    def by_refresh_token(self, value: str) -> Token | None:
        with self.lock:
            return next(
                (
                    t
                    for t in self.tokens
                    if t.refresh_token and secrets.compare_digest(t.refresh_token, value)
                ),
                None,
            )

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far expired now; refresh tokens are untouched."""
        with self.lock:
            for token in self.tokens:
                token.issued_at = min(token.issued_at, time.time() - token.expires_in - 1)

    def revoke_grant(self, authorization: Authorization) -> None:
        """Revoke every token of one grant (RFC 7009 §2.1, when its refresh token is revoked)."""
        with self.lock:
            for token in self.tokens:
                if token.authorization is authorization:
                    token.access_revoked = token.refresh_revoked = True


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE that insists: a challenge on every authorization request, and only S256."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]
    CODE_CHALLENGE_METHODS: ClassVar[dict[str, Callable[[str, str], bool]]] = {
        "S256": lambda verifier, challenge: secrets.compare_digest(
            create_s256_code_challenge(verifier), challenge
        )
    }

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge': PKCE is required.")
        if data.get("code_challenge_method") != "S256":
            # An absent method means "plain" (RFC 7636 §4.3), which is refused too.
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256 is accepted.")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing 'code_verifier'.")
        super().validate_code_verifier(grant, result)


def build_authorization_server(
    app: flask.Flask, store: OAuthStore
) -> tuple[AuthorizationServer, ResourceProtector]:
    """The authorization server and the bearer-token guard for ``app``, backed by ``store``."""
    settings = store.settings

    class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            with store.lock:
                store.codes[code] = AuthorizationCode(
                    code=code,
                    client_id=request.client.client_id,
                    redirect_uri=request.payload.redirect_uri or "",
                    scope=request.scope,
                    authorization=request.user,
                    code_challenge=data["code_challenge"],
                    code_challenge_method=data["code_challenge_method"],
                    expires_at=time.time() + settings.code_ttl,
                )

        def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
            with store.lock:
                item = store.codes.get(code)
            if item and item.client_id == client.client_id and time.time() < item.expires_at:
                return item
            return None

        def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
            with store.lock:
                store.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: AuthorizationCode) -> Authorization:
            return authorization_code.authorization

    class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
        INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh answers with a new refresh token

        def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
            token = store.by_refresh_token(refresh_token)
            return token if token and token.refresh_usable() else None

        def authenticate_user(self, refresh_token: Token) -> Authorization:
            return refresh_token.authorization

        def revoke_old_credential(self, refresh_token: Token) -> None:
            with store.lock:
                refresh_token.refresh_revoked = True

    class Revocation(RevocationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

        def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
            lookups = [store.by_access_token, store.by_refresh_token]
            if token_type_hint == "refresh_token":  # noqa: S105 - a token type, not a secret
                lookups.reverse()
            return next((t for find in lookups if (t := find(token_string))), None)

        def revoke_token(self, token: Token, request: Any) -> None:
            if token.refresh_token and secrets.compare_digest(
                token.refresh_token, request.form["token"]
            ):
                store.revoke_grant(token.authorization)
            else:
                with store.lock:
                    token.access_revoked = True

    def save_token(token: dict[str, Any], request: Any) -> None:
        with store.lock:
            store.tokens.append(
                Token(
                    client=request.client,
                    authorization=request.user,
                    access_token=token["access_token"],
                    refresh_token=token.get("refresh_token"),
                    scope=token.get("scope", ""),
                    issued_at=time.time(),
                    expires_in=token["expires_in"],
                    refresh_expires_at=time.time() + settings.refresh_token_ttl,
                )
            )

    server = AuthorizationServer(app, query_client=store.client, save_token=save_token)
    server.scopes_supported = list(settings.scopes)
    server.register_token_generator("default", _token_generator(settings))
    server.register_grant(AuthorizationCodeGrant, [S256Only(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(Revocation)

    class Validator(BearerTokenValidator):  # type: ignore[misc]
        def authenticate_token(self, token_string: str) -> Token | None:
            return store.by_access_token(token_string)

    protector = ResourceProtector()
    protector.register_token_validator(Validator())
    return server, protector


def _token_generator(settings: OAuthSettings) -> Callable[..., dict[str, Any]]:
    def generate(
        grant_type: str,
        client: Client,
        user: Authorization | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        token: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": expires_in or settings.access_token_ttl,
            "scope": scope or "",
        }
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
        if user is not None:
            token.update(user.extra)
        return token

    return generate
