"""Refreshing one connection's tokens: once, however many requests need it, and never lost.

When many requests (threads, or other portal processes) meet an expired or rejected
access token at once, exactly one of them calls the token endpoint: the refresh runs
under the vault's exclusive lock, and whoever gets the lock second finds a token newer
than the one that failed and simply uses it. The rotated refresh token is written with a
compare-and-swap on the refresh token the refresh started from.

``invalid_grant`` means the provider no longer honours the grant (revoked, expired,
consent withdrawn): the connection is marked for reconnecting and the sync stops with
"run portal connect <provider> again", never a retry loop. Nothing synced is touched.

A refresh answer is held to the same checks as the first tokens: its values
(``check_token_response``), its scopes, and an ID token if one comes back (OIDC Core §12.2:
the original login's ``sub``, no other nonce). Tokens that fail are revoked.

The refresh margin scales with the token's lifetime (a quarter of it, at most ``LEEWAY``),
so a token that lives 30 or 5 seconds is used, not refreshed before every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from portal.auth import oidc
from portal.auth.oauth_client import OAUTH_ERRORS
from portal.auth.revocation import revoke
from portal.auth.tokens import TokenResponseError, TokenSet
from portal.auth.vault import Vault
from portal.errors import AuthError
from portal.provider import Provider

LEEWAY = 30.0
"""Refresh at most this many seconds before the access token expires (proactive refresh)."""


def refresh_margin(values: Mapping[str, Any]) -> float:
    """How long before expiry to refresh: a quarter of the token's lifetime, at most LEEWAY."""
    lifetime = values.get("expires_in")
    if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) and lifetime > 0:
        return min(LEEWAY, lifetime / 4)
    return LEEWAY


def is_expired(tokens: TokenSet, leeway: float | None = None) -> bool:
    """Whether the access token is expired or about to be (within ``refresh_margin``)."""
    expires_at = tokens.expires_at
    margin = refresh_margin(tokens.values) if leeway is None else leeway
    return expires_at is not None and expires_at - margin <= time.time()


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
            except TokenResponseError as error:
                self._refuse(client, error.issued)
                raise AuthError(
                    f"{self.provider.display_name} answered the refresh with tokens portal"
                    f" cannot use ({error.message}); portal revoked them.",
                    hint=f"Run portal connect {self.provider.name} again; if it persists, tell"
                    " the provider.",
                ) from None
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
            # What the refresh does not restate stays: the grant's own fields, and the
            # person's answers (their own OAuth client's id and secret, used to refresh).
            answers = tuple(a.name for a in self.provider.asks)
            for kept in ("consent_id", "refresh_token_expires_at", "id_token", *answers):
                if kept in stored.values and kept not in values:
                    values[kept] = stored.values[kept]
            fresh = TokenSet(values)
            try:
                self._check(client, stored, fresh)
            except AuthError:
                self._refuse(client, fresh)
                raise
            if not self._vault.swap(self._connection_id, stored.refresh_token, fresh):
                # Cannot happen while the lock is held; refuse rather than lose a token.
                raise AuthError(
                    "The stored refresh token changed during a refresh.",
                    hint="Run portal sync again.",
                )
            return fresh.as_dict()

    def _check(self, client: Any, stored: TokenSet, fresh: TokenSet) -> None:
        check_scopes(self.provider, self.scopes, fresh)
        new_id_token = fresh.values.get("id_token")
        if self.provider.oauth.openid and new_id_token != stored.values.get("id_token"):
            jwks = oidc.fetch_jwks(client, self.provider)
            oidc.validate_refreshed_id_token(
                new_id_token, stored.values.get("id_token"), jwks, self.provider
            )

    def _refuse(self, client: Any, issued: TokenSet) -> None:
        """Revoke tokens a refresh issued that portal will not keep; the grant is lost."""
        revoke(client, self.provider, issued)
        self._lost()

    def _lost(self) -> None:
        if self._on_lost is not None:
            self._on_lost()
