"""The device authorization grant (RFC 8628), on authlib's endpoint and grant.

The client asks ``/oauth/device`` for a device code and a user code, shows the user code,
and polls the token endpoint while the person approves on ``/device``. The sandbox is
strict about polling, by real elapsed time between polls of the same device code: a poll
sooner than the current interval answers ``slow_down``, and every ``slow_down`` raises that
code's interval by 5 seconds for all later polls (RFC 8628 §3.5). Every poll is logged with
its answer, so tests can check a client's spacing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from authlib.oauth2.rfc6749 import AccessDeniedError, InvalidGrantError
from authlib.oauth2.rfc8628 import (
    AuthorizationPendingError,
    DeviceAuthorizationEndpoint,
    DeviceCodeGrant,
    DeviceCredentialMixin,
    ExpiredTokenError,
    SlowDownError,
)

from portal.sandbox.oauth import CLIENT_AUTH_METHODS, Authorization, OAuthStore

SLOW_DOWN_STEP = 5
"""RFC 8628 §3.5: each slow_down adds 5 seconds to the interval, for this and later polls."""
POLL_LEEWAY = 0.05
"""Seconds of scheduling jitter forgiven, for a client that spaces polls from when it sent."""

Decision = Literal["approved", "denied"]


@dataclass
class DeviceCredential(DeviceCredentialMixin):  # type: ignore[misc]
    """One device authorization: its codes, the person's decision and every poll so far."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    """``time.monotonic()`` after which the codes are expired."""
    interval: float
    decision: Decision | None = None
    authorization: Authorization | None = None
    redeemed: bool = False
    polls: list[tuple[float, str]] = field(default_factory=list)
    """(``time.monotonic()``, the answer: an OAuth error or ``ok``) for every poll."""

    def get_client_id(self) -> str:
        return self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_user_code(self) -> str:
        return self.user_code

    def is_expired(self) -> bool:
        return time.monotonic() >= self.expires_at


def normalise_user_code(user_code: str) -> str:
    """RFC 8628 §6.1: a user code is read case-insensitively, without its dashes or spaces."""
    return re.sub(r"[^0-9A-Z]", "", user_code.upper())


@dataclass(frozen=True)
class DeviceTiming:
    """What the device authorization endpoint states for a new code (RFC 8628 §3.2)."""

    interval: float
    """Seconds the client must wait between polls (``interval``)."""
    lifetime: float
    """Seconds the codes live (``expires_in``)."""

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.lifetime <= 0:
            raise ValueError(
                f"A device code's interval ({self.interval} s) and lifetime ({self.lifetime} s)"
                " must be positive."
            )


class DeviceBook:
    """Every device authorization of one sandbox; safe to use from the request threads.

    ``timing`` is what new codes get; it can be changed while the sandbox runs (a test
    shortens the interval), and codes already issued keep theirs.
    """

    def __init__(self, timing: DeviceTiming) -> None:
        self._by_device: dict[str, DeviceCredential] = {}
        self._by_user: dict[str, DeviceCredential] = {}
        self._forced_slow_downs = 0
        self._timing = timing
        self._lock = threading.Lock()

    @property
    def timing(self) -> DeviceTiming:
        with self._lock:
            return self._timing

    @timing.setter
    def timing(self, timing: DeviceTiming) -> None:
        with self._lock:
            self._timing = timing

    def add(self, credential: DeviceCredential) -> None:
        with self._lock:
            self._by_device[credential.device_code] = credential
            self._by_user[normalise_user_code(credential.user_code)] = credential

    def by_device_code(self, device_code: str) -> DeviceCredential | None:
        with self._lock:
            return self._by_device.get(device_code)

    def pending(self, user_code: str) -> DeviceCredential | None:
        """The authorization waiting for a decision under ``user_code``, if any (not expired)."""
        with self._lock:
            credential = self._by_user.get(normalise_user_code(user_code))
        if credential is None or credential.decision is not None or credential.is_expired():
            return None
        return credential

    def decide(
        self, credential: DeviceCredential, decision: Decision, authorization: Authorization | None
    ) -> None:
        with self._lock:
            credential.decision, credential.authorization = decision, authorization

    def force_slow_downs(self, n: int) -> None:
        with self._lock:
            self._forced_slow_downs += n

    def expire_all(self) -> None:
        """Every code issued so far expires now, before its stated lifetime is over."""
        now = time.monotonic()
        with self._lock:
            for credential in self._by_device.values():
                credential.expires_at = min(credential.expires_at, now)

    def withdraw(self) -> None:
        """Consent withdrawn: an approval not yet exchanged for tokens counts as denied."""
        with self._lock:
            for credential in self._by_device.values():
                if credential.decision == "approved" and not credential.redeemed:
                    credential.decision, credential.authorization = "denied", None

    def polls(self) -> dict[str, list[tuple[float, str]]]:
        """Every device code's polls, oldest device authorization first."""
        with self._lock:
            return {code: list(c.polls) for code, c in self._by_device.items()}

    def poll(self, credential: DeviceCredential) -> Authorization:
        """Answer one poll: the approved grant, or raise the OAuth error the client gets."""
        now = time.monotonic()
        with self._lock:
            answer, error = self._answer(credential, now)
            credential.polls.append((now, answer))
        if error is not None:
            raise error
        assert credential.authorization is not None  # an "ok" answer is always approved
        return credential.authorization

    def _answer(self, credential: DeviceCredential, now: float) -> tuple[str, Exception | None]:
        if credential.redeemed:
            return "invalid_grant", InvalidGrantError("This device code was already used.")
        if now >= credential.expires_at:
            return "expired_token", ExpiredTokenError()
        # Spacing is checked before the decision: a client polling too fast is told so even
        # once the person has decided, which is what a test of its back-off needs.
        previous = credential.polls[-1][0] if credential.polls else None
        too_soon = previous is not None and now - previous < credential.interval - POLL_LEEWAY
        forced = self._forced_slow_downs > 0
        if too_soon or forced:
            if forced:
                self._forced_slow_downs -= 1
            credential.interval += SLOW_DOWN_STEP
            return "slow_down", SlowDownError()
        if credential.decision is None:
            return "authorization_pending", AuthorizationPendingError()
        if credential.decision == "denied":
            return "access_denied", AccessDeniedError()
        credential.redeemed = True
        return "ok", None


def device_endpoint(
    store: OAuthStore, book: DeviceBook, verification_uri: Callable[[], str]
) -> type[DeviceAuthorizationEndpoint]:
    """The device authorization endpoint class (``/oauth/device``) for one sandbox.

    ``verification_uri`` is asked for on each request: a sandbox may restart on a new port.
    The ``interval`` and ``expires_in`` it states are the book's timing at that moment.
    """

    class Endpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
        CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

        # authlib reads these two names when it answers; properties keep them live.
        @property
        def EXPIRES_IN(self) -> float:
            return book.timing.lifetime

        @property
        def INTERVAL(self) -> float:
            return book.timing.interval

        def get_verification_uri(self) -> str:
            return verification_uri()

        def save_device_credential(self, client_id: str, scope: str, data: dict[str, Any]) -> None:
            client = store.client(client_id)
            # As on the authorization endpoint: the client's own scopes, all of them if none asked.
            granted = client.get_allowed_scope(scope) if client else None
            # What the answer states (authlib put it in ``data``), so the two cannot differ.
            book.add(
                DeviceCredential(
                    device_code=data["device_code"],
                    user_code=data["user_code"],
                    client_id=client_id,
                    scope=granted or "",
                    expires_at=time.monotonic() + float(data["expires_in"]),
                    interval=float(data["interval"]),
                )
            )

    return Endpoint


def device_grant(book: DeviceBook) -> type[DeviceCodeGrant]:
    """The ``urn:ietf:params:oauth:grant-type:device_code`` grant, answering from ``book``."""

    class Grant(DeviceCodeGrant):  # type: ignore[misc]
        TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

        def query_device_credential(self, device_code: str) -> DeviceCredential:
            credential = book.by_device_code(device_code)
            if credential is None:
                # authlib would answer invalid_request; an unknown grant is invalid_grant.
                raise InvalidGrantError("Unknown device code.")
            return credential

        def validate_device_credential(self, credential: DeviceCredential) -> Authorization:
            # Replaces authlib's order of checks with the book's (spacing before decision).
            return book.poll(credential)

    return Grant
