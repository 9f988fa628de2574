"""A customer's tokens for one provider, never shown in a repr, log or error.

``check_token_response`` holds a token endpoint's answer to RFC 6749 §5.1 before anything
is stored: a server portal did not write may answer ``expires_in`` as NaN, a negative
number, a word or 10**30, leave out ``token_type``, or send an access token that is not a
string; each is refused with an error naming the field, never stored with a nonsense expiry.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.errors import ProviderError

MAX_LIFETIME = 10 * 366 * 24 * 3600
"""Longest lifetime (seconds) believed for a token: beyond ten years it is nonsense."""
_LIFETIMES = ("expires_in", "refresh_token_expires_in")
_STRINGS = ("access_token", "refresh_token", "scope", "id_token", "token_type")


@dataclass(frozen=True)
class TokenSet:
    """The tokens a provider issued. ``repr`` and ``str`` never show their values."""

    values: Mapping[str, Any] = field(repr=False)

    @property
    def access_token(self) -> str | None:
        """The access token, for the HTTP client only."""
        value = self.values.get("access_token")
        return None if value is None else str(value)

    @property
    def refresh_token(self) -> str | None:
        """The refresh token, for the refresh flow and revocation only."""
        value = self.values.get("refresh_token")
        return None if value is None else str(value)

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes the provider actually granted."""
        return tuple(str(self.values.get("scope", "")).split())

    @property
    def expires_at(self) -> float | None:
        """When the access token expires (seconds since the epoch), if the provider said."""
        return self._deadline("expires_at", "expires_in")

    @property
    def grant_expires_at(self) -> float | None:
        """When the grant itself lapses, if the provider said: the refresh token's expiry,
        or (for a key credential) ``grant_expires_at``, which ``authenticate`` sets from the
        validity the service stated (an aggregator's consent, a session)."""
        stated = self.values.get("grant_expires_at")
        if isinstance(stated, int | float) and not isinstance(stated, bool):
            return float(stated)
        return self._deadline("refresh_token_expires_at", "refresh_token_expires_in")

    def _deadline(self, at: str, within: str) -> float | None:
        value = self.values.get(at)
        if value is None and within in self.values:
            value = time.time() + float(self.values[within])
        return None if value is None else float(value)

    @property
    def consent_id(self) -> str | None:
        """The provider's consent id, for providers (Open Banking) that return one."""
        value = self.values.get("consent_id")
        return None if value is None else str(value)

    def as_dict(self) -> dict[str, Any]:
        """The token values with absolute expiry times, for the vault and the OAuth client."""
        data = dict(self.values)
        for at, deadline in (
            ("expires_at", self.expires_at),
            ("refresh_token_expires_at", self.grant_expires_at),
        ):
            if deadline is not None:
                data[at] = int(deadline)
        return data

    def __str__(self) -> str:
        return f"TokenSet(scopes={' '.join(self.scopes)!r})"

    __repr__ = __str__


class TokenResponseError(ProviderError):
    """A token response portal cannot use; ``issued`` holds what can still be revoked."""

    def __init__(self, message: str, issued: TokenSet) -> None:
        super().__init__(message)
        self.issued = issued


def check_token_response(values: Mapping[str, Any]) -> dict[str, Any]:
    """The token response, lifetimes as whole seconds, or a TokenResponseError naming the field.

    RFC 6749 §5.1: ``access_token`` and ``token_type`` (Bearer: the only kind portal sends)
    are required strings, ``expires_in`` a positive number of seconds. Digit strings
    (``"3600"``), which some servers send, are read as numbers.
    """
    issued = TokenSet(
        {k: v for k, v in values.items() if k in _STRINGS[:2] and isinstance(v, str) and v}
    )

    def refuse(problem: str) -> TokenResponseError:
        return TokenResponseError(f"the token response's {problem}", issued)

    checked = dict(values)
    for name in ("access_token", "token_type"):
        if name not in values:
            raise refuse(f"{name} is missing")
    for name in _STRINGS:
        if name in values and (not isinstance(values[name], str) or not values[name]):
            raise refuse(f"{name} is {_kind(values[name])}, not a non-empty string")
    if values["token_type"].lower() != "bearer":
        raise refuse(f"token_type is {values['token_type'][:20]!r}, not Bearer")
    for name in _LIFETIMES:
        if name in values and values[name] is not None:
            try:
                checked[name] = int(seconds(name, values[name]))
            except ValueError as problem:
                raise refuse(str(problem)) from None
    return checked


def seconds(name: str, value: Any, *, least: float = 1) -> float:
    """``value`` as seconds from ``least`` to ten years, or a ValueError naming ``name``.

    For any lifetime or interval a server states: a number, or a string of digits.
    """
    number: float | None = None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        number = int(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    if number is None or not math.isfinite(number):
        raise ValueError(f"{name} is {_kind(value)}, not a number of seconds")
    if not least <= number <= MAX_LIFETIME:
        shown = f"{number:.3g}" if abs(number) >= 1e6 else f"{number:g}"
        raise ValueError(f"{name} is {shown} seconds, outside {least:g} to 10 years")
    return float(number)


def _kind(value: Any) -> str:
    # Describes the value without quoting it: it may be a secret sent in the wrong field.
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "infinite"
    if isinstance(value, str):
        return "an empty string" if not value else "text"
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number"}.get(type(value), "a structure")
