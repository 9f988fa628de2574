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
    def scopes(self) -> tuple[str, ...]:
        """The scopes the provider actually granted."""
        return tuple(str(self.values.get("scope", "")).split())

    @property
    def expires_at(self) -> float | None:
        """When the access token expires (seconds since the epoch), if the provider said."""
        value = self.values.get("expires_at")
        if value is None and "expires_in" in self.values:
            value = time.time() + float(self.values["expires_in"])
        return None if value is None else float(value)

    @property
    def consent_id(self) -> str | None:
        """The provider's consent id, for providers (Open Banking) that return one."""
        value = self.values.get("consent_id")
        return None if value is None else str(value)

    def as_dict(self) -> dict[str, Any]:
        """The token values, for the vault and the OAuth client only."""
        data = dict(self.values)
        if self.expires_at is not None:
            data["expires_at"] = int(self.expires_at)
        return data

    def __str__(self) -> str:
        return f"TokenSet(scopes={' '.join(self.scopes)!r})"

    __repr__ = __str__
