"""The authorization server's models and their in-memory store, on authlib's mixins.

The server built on them (``authserver``) is strict where portal's own client must be
correct: authorization code with PKCE (S256 only, never plain, never absent), refresh-token
rotation, RFC 7009 revocation, and exact redirect URIs except for the port of a loopback
redirect (RFC 8252 §7.3). The store also keeps what tests need to look back on: every
secret value that crossed the sandbox, and the switches that make the server misbehave.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, TokenMixin
from authlib.oauth2.rfc7636 import CodeChallenge, create_s256_code_challenge
from authlib.oauth2.rfc8628 import DEVICE_CODE_GRANT_TYPE
from authlib.oidc.core import AuthorizationCodeMixin

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1"})
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
GRANT_TYPES = ("authorization_code", "refresh_token", DEVICE_CODE_GRANT_TYPE)
REFRESH_TOKEN_RULES = ("rotating", "first", "none")
"""When refresh tokens are issued: with every token response (rotation), with the first
grant only (a refresh answers none and the old one stays valid), or never."""
OMIT = object()
"""In ``OAuthStore.token_patch``: leave this field out of token responses."""


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
    openid: bool = False
    """Act as an OpenID provider: a request for scope ``openid`` also gets an ID token."""
    id_token_ttl: int = 300
    device_interval: float = 5
    """The polling interval the device authorization endpoint states (RFC 8628 §3.2)."""
    device_code_ttl: float = 600
    refresh_tokens: str = "rotating"
    """One of ``REFRESH_TOKEN_RULES``."""
    authorization_response_iss: bool = False
    """RFC 9207: put ``iss`` in every authorization response and declare
    ``authorization_response_iss_parameter_supported`` in the metadata."""
    id_token_on_refresh: bool = False
    """Answer a refresh of an ``openid`` grant with a new ID token too (OIDC Core §12.2)."""

    def __post_init__(self) -> None:
        if self.refresh_tokens not in REFRESH_TOKEN_RULES:
            raise ValueError(
                f"refresh_tokens={self.refresh_tokens!r}; use one of"
                f" {', '.join(REFRESH_TOKEN_RULES)}."
            )


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
    # Never in its repr: authlib logs the client it validates, secret and all.
    client_secret: str | None = field(repr=False)
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
        return grant_type in GRANT_TYPES


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    """An issued, not yet redeemed, authorization code (with OpenID Connect's nonce)."""

    code: str
    client_id: str
    redirect_uri: str
    scope: str
    authorization: Authorization
    code_challenge: str
    code_challenge_method: str
    expires_at: float
    nonce: str | None = None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


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
    rotated: bool = False
    """Its refresh token was exchanged for a newer one (and so may not be used again)."""

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
    """Clients, codes and tokens in memory, shared by the server's request threads.

    Besides the models it keeps the test switches that make the server misbehave
    (``widen``, ``refresh_failure``) and every secret value that crossed the sandbox.
    """

    def __init__(self, settings: OAuthSettings) -> None:
        self.settings = settings
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.tokens: list[Token] = []
        self.nonces: set[tuple[str, str]] = set()
        """(client id, nonce) of every authorization request, to refuse a replayed nonce."""
        self.widen: str | None = None
        """A scope added to every token response, as a misbehaving provider would."""
        self.refresh_failure: str | None = None
        """The OAuth error the next refresh answers instead of refreshing."""
        self.token_patch: dict[str, Any] = {}
        """Fields put into (or, with ``OMIT``, taken out of) every token response."""
        self.device_patch: dict[str, Any] = {}
        """The same for device authorization responses (RFC 8628 §3.2)."""
        self.forged_iss: tuple[str | None] | None = None
        """``(value,)``: the ``iss`` of authorization responses instead of the issuer's own
        (None: left out), as a mix-up attacker's server would answer."""
        self.lock = threading.RLock()
        self._seen: dict[str, str] = {}

    def remember(self, values: Iterable[str | None], kind: str = "secret") -> None:
        """Note secret values that crossed the sandbox (either way); empty ones are skipped.

        ``kind`` (``access_token``, ``code``, ...) lets a search name what leaked without
        showing it; a value keeps the kind it was first noted with.
        """
        with self.lock:
            for value in values:
                if value:
                    self._seen.setdefault(value, kind)

    def seen(self) -> set[str]:
        """Every secret value noted so far."""
        with self.lock:
            return set(self._seen)

    def kinds(self) -> dict[str, str]:
        """Every secret value noted so far, with its kind."""
        with self.lock:
            return dict(self._seen)

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

    def token_kind(self, value: str) -> str:
        """``access_token``, ``refresh_token`` or ``unknown``: what ``value`` was issued as."""
        if value and self.by_access_token(value):
            return "access_token"
        if value and self.by_refresh_token(value):
            return "refresh_token"
        return "unknown"

    def expire_access_tokens(self, within: float = 0) -> None:
        """Make every access token issued so far expire ``within`` seconds from now (0: now,
        already expired); one that would expire sooner, and every refresh token, are untouched.
        """
        with self.lock:
            for token in self.tokens:
                moved = time.time() + within - token.expires_in - (0 if within else 1)
                token.issued_at = min(token.issued_at, moved)

    def revoke_grant(self, authorization: Authorization) -> None:
        """Revoke every token of one grant (RFC 7009 §2.1, when its refresh token is revoked)."""
        with self.lock:
            for token in self.tokens:
                if token.authorization is authorization:
                    token.access_revoked = token.refresh_revoked = True

    def withdraw(self) -> None:
        """The customer withdrew consent: every token is revoked, every unredeemed code void."""
        with self.lock:
            for token in self.tokens:
                token.access_revoked = token.refresh_revoked = True
            self.codes.clear()

    def take_refresh_failure(self) -> str | None:
        """The error the next refresh must answer, if one was asked for; asks only once."""
        with self.lock:
            error, self.refresh_failure = self.refresh_failure, None
            return error


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
