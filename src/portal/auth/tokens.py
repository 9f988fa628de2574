"""A customer's tokens for one provider, never shown in a repr, log or error."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
        """When the grant itself lapses (the refresh token's expiry), if the provider said."""
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
