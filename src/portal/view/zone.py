"""The person's time zone while a page is being built: their days, months and midnights.

``Pages`` builds every page inside ``in_zone(visit.zone)``, so a page module's helpers ask
``here(moment)`` or ``local_midnight(day)`` instead of passing the zone down every call.
A context variable, so each request's thread has its own (the server is threaded).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from portal import localtime

_ZONE: ContextVar[ZoneInfo | None] = ContextVar("portal_view_zone", default=None)


@contextmanager
def in_zone(zone: ZoneInfo | None) -> Iterator[None]:
    """Within it (in this thread), ``here`` and ``local_midnight`` use ``zone``."""
    token = _ZONE.set(zone)
    try:
        yield
    finally:
        _ZONE.reset(token)


def current() -> ZoneInfo:
    """The zone of the page being built (``localtime.zone()`` outside one)."""
    return _ZONE.get() or localtime.zone()


def here(moment: datetime) -> datetime:
    """``moment`` (aware; naive is read as UTC, as the store keeps it) in the person's zone."""
    return localtime.local(moment, current())


def local_day(moment: datetime) -> date:
    """The person's own date of ``moment``."""
    return here(moment).date()


def local_midnight(day: date) -> datetime:
    """When ``day`` begins where the person is, as an aware moment in UTC."""
    return datetime.combine(day, time(), tzinfo=current()).astimezone(UTC)
