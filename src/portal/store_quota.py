"""The syncs a provider's declared quota counts (``Provider.quota``), kept in ``sync_starts``.

``take_sync_slot`` reads the syncs started in the quota's window and, when one more is
allowed, records this one, in one transaction that holds the store's write lock (``BEGIN
IMMEDIATE`` on SQLite, a table lock on PostgreSQL): two ``portal sync`` runs at once
cannot both take the last slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, func, insert, select

from portal.provider import Quota
from portal.record.tables import SyncStart

KEPT = timedelta(days=7)
"""Starts older than this are dropped as new ones come (no quota counts further back)."""


def take_sync_slot(engine: Engine, provider: str, quota: Quota, now: datetime) -> datetime | None:
    """Record a sync of ``provider`` starting ``now`` and return None, or, when the quota's
    syncs in its window are used up, record nothing and return when the next is possible."""
    table = SyncStart.__table__  # type: ignore[attr-defined]
    since = now - timedelta(hours=quota.hours)
    with engine.begin() as db:
        if db.dialect.name == "sqlite":
            db.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            db.exec_driver_sql("LOCK TABLE sync_starts IN SHARE ROW EXCLUSIVE MODE")
        starts = [
            row[0]
            for row in db.execute(
                select(table.c.started_at)
                .where(table.c.provider == provider, table.c.started_at > since)
                .order_by(table.c.started_at)
            )
        ]
        if len(starts) >= quota.syncs:
            # The start that must leave the window before one more fits.
            oldest: datetime = starts[len(starts) - quota.syncs]
            return oldest + timedelta(hours=quota.hours)
        db.execute(delete(table).where(table.c.started_at < now - KEPT))
        db.execute(insert(table).values(provider=provider, started_at=now))
    return None


def syncs_in_window(engine: Engine, provider: str, quota: Quota, now: datetime) -> int:
    """How many syncs of ``provider`` started within the quota's window before ``now``."""
    table = SyncStart.__table__  # type: ignore[attr-defined]
    since = now - timedelta(hours=quota.hours)
    with engine.connect() as db:
        found = db.execute(
            select(func.count())
            .select_from(table)
            .where(table.c.provider == provider, table.c.started_at > since)
        ).scalar_one()
    return int(found)
