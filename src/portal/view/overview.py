"""What the Overview page says: each provider, what it holds, how its last sync went, and
what needs the person's attention.

Built from the same store queries ``portal status`` prints (``Store.connections`` and
``Store.counts``), so the page and the terminal never disagree; counts come from SQL, not
from reading the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from portal import localtime
from portal.record import CATEGORY_LABELS
from portal.record.tables import Connection
from portal.store import Store

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

EXPIRY_WARNING = timedelta(days=14)
"""A grant ending within this long needs the person's attention."""


@dataclass(frozen=True)
class Held:
    """How many records of one category a provider holds."""

    label: str
    count: int


@dataclass(frozen=True)
class Attention:
    """One thing the person should look at, and what to do about it."""

    provider: str
    what: str
    hint: str


@dataclass(frozen=True)
class ProviderSummary:
    """One provider as the Overview shows it."""

    name: str
    connection: Connection | None
    """None for a provider the store holds records of but that is not connected (imports)."""
    held: list[Held]
    rejected: int

    @property
    def sync_failed(self) -> bool:
        """Whether the last sync ended with an error (its message is the reason)."""
        c = self.connection
        return c is not None and c.last_sync_status not in (None, "ok")


@dataclass(frozen=True)
class Overview:
    """Every provider, and what needs attention across them."""

    providers: list[ProviderSummary]
    attention: list[Attention] = field(default_factory=list)


def overview(store: Store, now: datetime, zone: ZoneInfo | None = None) -> Overview:
    """The Overview of ``store`` at ``now`` (an aware datetime); dates in the person's
    ``zone`` (default: ``localtime.zone()``)."""
    counts = store.counts()
    connections = {c.provider: c for c in store.connections()}
    providers = []
    attention: list[Attention] = []
    for name in sorted(set(connections) | set(counts)):
        per = counts.get(name, {})
        held = [
            Held(label, per[category])
            for category, label in CATEGORY_LABELS.items()
            if per.get(category)
        ]
        summary = ProviderSummary(name, connections.get(name), held, per.get("rejections", 0))
        providers.append(summary)
        attention.extend(_needs_attention(summary, now, zone))
    return Overview(providers, attention)


def _needs_attention(
    summary: ProviderSummary, now: datetime, zone: ZoneInfo | None
) -> list[Attention]:
    name, c = summary.name, summary.connection
    found = []
    if c is not None and c.status != "connected":
        found.append(
            Attention(name, "portal can no longer reach it.", f"Run portal connect {name}.")
        )
    if c is not None and summary.sync_failed:
        found.append(
            Attention(
                name,
                f"Its last sync failed: {c.last_sync_status}",
                f"Run portal sync {name} again; what was synced before is kept.",
            )
        )
    if (
        c is not None
        and c.grant_expires_at is not None
        and c.grant_expires_at <= now + EXPIRY_WARNING
    ):
        ends = local_time(c.grant_expires_at, "%Y-%m-%d", zone)
        what = (
            f"Its access ended on {ends}."
            if c.grant_expires_at <= now
            else f"Its access ends on {ends}, in {(c.grant_expires_at - now).days} days."
        )
        found.append(Attention(name, what, f"Run portal connect {name} to renew it."))
    if summary.rejected:
        items = "item was" if summary.rejected == 1 else "items were"
        found.append(
            Attention(
                name,
                f"{summary.rejected} {items} rejected.",
                "Run portal status for the reasons; each raw item is kept in the store.",
            )
        )
    return found


def local_time(
    moment: datetime | None, form: str = localtime.MOMENT, zone: ZoneInfo | None = None
) -> str:
    """``moment`` (kept in UTC) in the person's time zone (``zone``, else
    ``localtime.zone()``), or "never". The view's pages get it with their zone bound."""
    return "never" if moment is None else localtime.local(moment, zone).strftime(form)


def context(visit: Visit) -> dict[str, Any]:
    """The Overview page's template context."""
    return {"overview": overview(visit.store, visit.now, visit.zone)}
