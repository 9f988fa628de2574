"""Refreshing one connection's tokens: once, however many requests need it, and never lost.

When many requests (threads, or other portal processes) meet an expired or rejected
access token at once, exactly one of them calls the token endpoint: the refresh runs
under the vault's exclusive lock, and whoever gets the lock second finds a token newer
than the one that failed and simply uses it. The rotated refresh token is written with a
compare-and-swap on the refresh token the refresh started from.

``invalid_grant`` means the provider no longer honours the grant (revoked, expired,
consent withdrawn): the connection is marked for reconnecting and the sync stops with
"run portal connect <provider> again", never a retry loop. Nothing synced is touched.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from portal.auth.oauth_client import OAUTH_ERRORS
from portal.auth.tokens import TokenSet
from portal.auth.vault import Vault
from portal.errors import AuthError
from portal.provider import Provider

LEEWAY = 30.0
"""Refresh this many seconds before the access token expires (proactive refresh)."""


def is_expired(tokens: TokenSet, leeway: float = LEEWAY) -> bool:
    """Whether the access token is expired or about to be."""
    expires_at = tokens.expires_at
    return expires_at is not None and expires_at - leeway <= time.time()


def reconnect_error(provider: Provider, why: str) -> AuthError:
    """The error for a grant the provider no longer honours."""
    return AuthError(
        f"{provider.display_name} no longer accepts portal's access ({why}).",
        hint=f"Run portal connect {provider.name} again; everything already synced is kept.",
    )


def check_scopes(provider: Provider, requested: tuple[str, ...], granted: TokenSet) -> None:
    """Refuse tokens carrying scopes portal did not ask for (RFC 9700 §2.3: least privilege)."""
    extra = set(granted.scopes) - set(requested)
    if extra:
        raise AuthError(
            f"{provider.display_name} granted more than portal asked for"
            f" ({', '.join(sorted(extra))}), so portal refused the tokens.",
            hint="Report it to the provider; portal only accepts the scopes it requests.",
        )


class TokenKeeper:
    """Keeps one connection's tokens fresh in the vault."""

    def __init__(
        self,
        vault: Vault,
        connection_id: str,
        provider: Provider,
        scopes: tuple[str, ...],
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self._vault = vault
        self._connection_id = connection_id
        self.provider = provider
        self.scopes = scopes
        self._on_lost = on_lost
        self.refreshes = 0

    def __repr__(self) -> str:
        return f"TokenKeeper({self.provider.name!r})"

    def current(self) -> TokenSet:
        """The stored tokens, or an AuthError saying to connect again."""
        tokens = self._vault.get(self._connection_id)
        if tokens is None or tokens.access_token is None:
            raise reconnect_error(self.provider, "portal holds no tokens for it")
        return tokens

    def refresh(self, client: Any, failed_access_token: str | None) -> dict[str, Any]:
        """New token values for ``client``, refreshing only if nobody else already did."""
        with self._vault.locked():
            stored = self.current()
            if stored.access_token != failed_access_token and not is_expired(stored):
                return stored.as_dict()  # another thread or process refreshed first
            if stored.refresh_token is None:
                self._lost()
                raise reconnect_error(
                    self.provider, "the access token expired and there is no refresh token"
                )
            try:
                values = dict(
                    client.refresh_token(
                        self.provider.oauth.token_url, refresh_token=stored.refresh_token
                    )
                )
            except OAUTH_ERRORS as error:
                if error.error in {"invalid_grant", "invalid_client", "unauthorized_client"}:
                    self._lost()
                    raise reconnect_error(self.provider, str(error.error)) from None
                raise AuthError(
                    f"{self.provider.display_name} refused to refresh the tokens ({error.error}).",
                    hint="Try again later; if it persists, run portal connect again.",
                ) from None
            self.refreshes += 1
            values.setdefault("refresh_token", stored.refresh_token)
            for kept in ("consent_id", "refresh_token_expires_at"):
                if kept in stored.values and kept not in values:
                    values[kept] = stored.values[kept]
            fresh = TokenSet(values)
            check_scopes(self.provider, self.scopes, fresh)
            if not self._vault.swap(self._connection_id, stored.refresh_token, fresh):
                # Cannot happen while the lock is held; refuse rather than lose a token.
                raise AuthError(
                    "The stored refresh token changed during a refresh.",
                    hint="Run portal sync again.",
                )
            return fresh.as_dict()

    def _lost(self) -> None:
        if self._on_lost is not None:
            self._on_lost()
