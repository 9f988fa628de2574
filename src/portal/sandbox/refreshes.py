"""What a sandbox's authorization server saw of refresh tokens over time.

A client that keeps a customer's tokens across syncs and processes must use each rotated
refresh token once and persist its successor. The authorization server is the one party
that knows which refresh token is current, so it judges every refresh it is asked for
(``RefreshUse``: was the token presented the current one, and did the access token issued
with it need replacing) and says what any refresh token is now (``refresh_state``). The
conformance suite reads both to tell a plugin that loses a rotation from one that keeps it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from portal.sandbox.oauth import OAuthStore, Token

REFRESH_STATES = ("current", "rotated", "revoked", "expired", "unknown")
"""What a refresh token can be: the one to use next; already exchanged for a newer one;
revoked (RFC 7009, or a withdrawn consent); past its lifetime; never issued here."""


@dataclass(frozen=True)
class RefreshUse:
    """One refresh the token endpoint was asked for, as it stood when the request arrived.

    No token is kept: only what the refresh token was (``state``, one of
    ``REFRESH_STATES``) and how the access token issued with it stood (``access_left``
    seconds before it expired, negative once expired, None for an unknown refresh token).
    """

    at: float
    """``time.time()`` when the refresh was asked for."""
    state: str
    access_left: float | None
    access_revoked: bool


def refresh_state(store: OAuthStore, value: str) -> str:
    """What the refresh token ``value`` is now: one of ``REFRESH_STATES``."""
    token = store.by_refresh_token(value) if value else None
    return "unknown" if token is None else _state(token)


def _state(token: Token) -> str:
    if token.rotated:
        return "rotated"
    if token.refresh_revoked:
        return "revoked"
    return "current" if time.time() < token.refresh_expires_at else "expired"


class RefreshLog:
    """Every refresh asked for, oldest first; and a switch to revoke a token mid-sync."""

    def __init__(self, store: OAuthStore) -> None:
        self._store = store
        self._uses: list[RefreshUse] = []
        self._revoke_after: int | None = None
        self._lock = threading.Lock()

    def note(self, value: str) -> None:
        """Judge a refresh asked for with the refresh token ``value``, before it is answered."""
        token = self._store.by_refresh_token(value) if value else None
        if token is None:
            use = RefreshUse(time.time(), "unknown", None, access_revoked=False)
        else:
            left = token.issued_at + token.expires_in - time.time()
            use = RefreshUse(time.time(), _state(token), left, token.access_revoked)
        with self._lock:
            self._uses.append(use)

    @property
    def uses(self) -> list[RefreshUse]:
        """Every refresh asked for so far, oldest first."""
        with self._lock:
            return list(self._uses)

    def revoke_after(self, requests: int) -> None:
        """Revoke the access token of the API request that follows the next ``requests``."""
        if requests < 0:
            raise ValueError("requests must be 0 or more.")
        with self._lock:
            self._revoke_after = requests

    def on_api_request(self, authorization_header: str) -> None:
        """Count one API request; revoke its access token if the countdown ran out on it.

        Called before the request's token is checked, so the request itself is refused
        with 401 as a provider revoking a token early would refuse it.
        """
        with self._lock:
            if self._revoke_after is None:
                return
            if self._revoke_after > 0:
                self._revoke_after -= 1
                return
            self._revoke_after = None
        value = authorization_header.removeprefix("Bearer ").strip()
        token = self._store.by_access_token(value) if value else None
        if token is not None:
            with self._store.lock:
                token.access_revoked = True


__all__ = ["REFRESH_STATES", "RefreshLog", "RefreshUse", "refresh_state"]
