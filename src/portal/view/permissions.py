"""What the Permissions page says: every consent and marketing permission, across
providers, with where it stands in one vocabulary beside the provider's own words.

Read through ``Store.rows`` (the store's own query helper), so the page lists exactly the
consents the store holds; where each stands comes from the record's ``state`` through
``portal.record.vocab.standing_of``, the same for every provider.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portal.record import Consent, Standing
from portal.record.vocab import standing_of
from portal.store import Store
from portal.view.overview import EXPIRY_WARNING
from portal.view.stored import stored

if TYPE_CHECKING:
    from portal.view.catalogue import Visit


@dataclass(frozen=True)
class Permission:
    """One consent or marketing permission as the Permissions page shows it."""

    provider: str
    kind: str
    purpose: str
    channel: str | None
    standing: Standing | None
    """None when the provider's status says nothing portal can read (its words still show)."""
    status_label: str
    permissions: list[str]
    granted_at: datetime | None
    expires_at: datetime | None
    attention: str | None
    """Why the person should look at it (pending, or ending soon), or None."""


def permissions(store: Store, now: datetime) -> list[Permission]:
    """Every consent in ``store`` at ``now`` (aware), what needs attention first.

    Within each group, by provider and then by expiry (soonest first), so the order is
    the same from one visit to the next.
    """
    found = [_permission(row, now) for row in store.rows(Consent)]
    far = datetime.max.replace(tzinfo=UTC)  # no end date: last
    return sorted(
        found,
        key=lambda p: (p.attention is None, p.provider, p.expires_at or far, p.kind, p.purpose),
    )


def _permission(row: dict[str, Any], now: datetime) -> Permission:
    consent = stored(Consent, row)
    standing = standing_of(consent.state)
    expires = consent.expires_at
    if standing is Standing.on and expires is not None and expires <= now:
        standing = Standing.expired  # the provider has not said so yet; its end date has
    attention = None
    if standing is Standing.pending:
        attention = "Waiting for you to approve or refuse it."
    elif standing is Standing.on and expires is not None and expires <= now + EXPIRY_WARNING:
        days = (expires - now).days
        attention = f"Ends in {days} day{'' if days == 1 else 's'}."
    return Permission(
        provider=consent.provider,
        kind=consent.kind_label,
        purpose=consent.purpose,
        channel=consent.channel_label or consent.channel,
        standing=standing,
        status_label=consent.status_label,
        permissions=list(consent.permissions),
        granted_at=consent.granted_at,
        expires_at=expires,
        attention=attention,
    )


def context(visit: Visit) -> dict[str, Any]:
    """The Permissions page's template context."""
    return {"permissions": permissions(visit.store, visit.now)}
