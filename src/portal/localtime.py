"""The person's time zone: every moment a person reads is shown in it; the store keeps UTC.

The zone is, first found: ``--tz``, ``$PORTAL_TZ``, the home's ``timezone`` setting
(``portal config timezone Europe/London``), else this computer's own zone by its IANA name
(``tzlocal`` reads it on Linux, macOS and Windows). A name, not an offset: each moment gets
the offset of its own date, so a July 10:20 in London reads 10:20 in December too, where
the offset of ``datetime.now().astimezone()`` would make it 09:20.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from portal.errors import ConfigError

ZONE_VARIABLE = "PORTAL_TZ"
"""The environment variable naming the zone (after ``--tz``, before the home's setting)."""

MOMENT = "%Y-%m-%d %H:%M %Z"
"""How a moment is written for a person: date, time and the zone's abbreviation (BST)."""


def zone_named(name: str, where: str) -> ZoneInfo:
    """The IANA zone ``name`` (``where``: where the name came from, for the error)."""
    try:
        return ZoneInfo(name)
    except (LookupError, ValueError, OSError):  # unknown, malformed, or a folder of zones
        raise ConfigError(
            f"{name!r} ({where}) is not a time zone portal knows.",
            hint="Give an IANA zone name such as Europe/London, America/New_York or UTC.",
        ) from None


def zone(home: Path | None = None, name: str | None = None) -> ZoneInfo:
    """The person's zone: ``name`` (``--tz``), else ``$PORTAL_TZ``, else the ``timezone``
    setting kept in ``home``, else this computer's zone (UTC if it has none)."""
    return zone_and_source(home, name)[0]


def zone_and_source(home: Path | None = None, name: str | None = None) -> tuple[ZoneInfo, str]:
    """``zone(home, name)``, and where it came from, in words (for ``portal config``)."""
    if name:
        return zone_named(name, "--tz"), "from --tz"
    if os.environ.get(ZONE_VARIABLE):
        given = os.environ[ZONE_VARIABLE]
        return zone_named(given, ZONE_VARIABLE), f"from {ZONE_VARIABLE}"
    if home is not None:
        from portal import settings

        kept = settings.read(home).get("timezone")
        if kept:
            where = settings.settings_file(home)
            return zone_named(kept, f"the timezone setting in {where}"), f"kept in {where}"
    return machine_zone(), "not set: this computer's zone"


def machine_zone() -> ZoneInfo:
    """This computer's zone, by its IANA name; UTC where it has none portal can name."""
    # TZ is read afresh each time (tzlocal keeps its first answer for the process); a TZ
    # that is a POSIX rule or a file's path is left to tzlocal to make sense of.
    given = os.environ.get("TZ", "").removeprefix(":")
    if given:
        try:
            return ZoneInfo(given)
        except (LookupError, ValueError, OSError):
            pass
    import tzlocal

    try:
        name = tzlocal.get_localzone_name()
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (LookupError, ValueError, OSError):  # a TZ or /etc/localtime that names no zone
        return ZoneInfo("UTC")


def local(moment: datetime, tz: ZoneInfo | None = None) -> datetime:
    """``moment`` in the zone ``tz`` (default: ``zone()``, without a home's setting)."""
    if moment.tzinfo is None:  # the store keeps UTC; a naive moment read from it is UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz or zone())
