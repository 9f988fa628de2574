"""The person's preferences, stated once, and what each provider releases of them.

``stated`` and ``state`` read and write the preferences (table ``preferences``). A
provider's released permissions are its ``Consent`` records: ``released`` reads each as
the preference it is about (marketing on a channel, profiling, sharing with third parties)
and whether it is in force, and ``plan`` compares them with what the person stated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from portal.control.changes import CHANNELS, PREFERENCES, Change
from portal.control.tables import PreferenceRow
from portal.errors import UserError
from portal.record.vocab import State

ALLOWED_STATES = {State.active.value}
"""A permission in one of these states allows what it is about."""
REFUSED_STATES = {State.declined.value, State.withdrawn.value, State.expired.value}
"""A permission in one of these does not (refused, withdrawn, lapsed)."""

PROFILING_KINDS = {"profiling"}
SHARING_KINDS = {"data_sharing", "third_party"}


def stated(engine: Engine) -> dict[str, bool]:
    """The person's preferences: key to whether they allow it (unstated keys absent)."""
    table = PreferenceRow.__table__  # type: ignore[attr-defined]
    with engine.connect() as db:
        return {key: bool(allow) for key, allow in db.execute(select(table.c.key, table.c.allow))}


def state(engine: Engine, preferences: Mapping[str, bool | None], now: datetime) -> None:
    """Record preferences (None forgets one), in one transaction."""
    unknown = sorted(set(preferences) - set(PREFERENCES))
    if unknown:
        raise UserError(
            f"portal has no preference called {', '.join(map(repr, unknown))}.",
            hint=f"The preferences are: {', '.join(PREFERENCES)}.",
        )
    table = PreferenceRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as db:
        for key, allow in preferences.items():
            db.execute(delete(table).where(table.c.key == key))
            if allow is not None:
                db.execute(table.insert().values(key=key, allow=allow, stated_at=now))


def parse(words: Iterable[str]) -> dict[str, bool | None]:
    """``KEY=yes|no|unset`` words (``marketing.email=no``) as preferences; a clear error
    names a word that is not one."""
    values = {"yes": True, "no": False, "unset": None}
    found: dict[str, bool | None] = {}
    for word in words:
        key, equals, value = word.partition("=")
        if not equals or value.strip().lower() not in values:
            raise UserError(
                f"{word!r} is not a preference: write KEY=yes, KEY=no or KEY=unset.",
                hint=f"For example: portal preferences marketing.email=no. Keys: "
                f"{', '.join(PREFERENCES)}.",
            )
        found[key.strip()] = values[value.strip().lower()]
    return found


def preference_of(consent: Mapping[str, Any]) -> str | None:
    """The preference a released Consent is about, or None (portal's own access grant, a
    permission of another kind)."""
    kind = str(consent.get("kind") or "")
    channel = str(consent.get("channel") or "").lower()
    if kind == "marketing" and channel in CHANNELS:
        return f"marketing.{channel}"
    if kind in PROFILING_KINDS:
        return "profiling"
    if kind in SHARING_KINDS:
        return "third_party_marketing"
    return None


@dataclass(frozen=True)
class Released:
    """What a provider releases of one preference: whether it is allowed (None: its states
    say neither), and the consents that say so."""

    allowed: bool | None
    consents: tuple[str, ...]


def released(consents: Iterable[Mapping[str, Any]]) -> dict[str, Released]:
    """A provider's Consent rows read as preferences. Several consents of one preference (a
    marketing permission per brand) allow it if any of them is in force."""
    states: dict[str, list[bool | None]] = {}
    ids: dict[str, list[str]] = {}
    for consent in consents:
        key = preference_of(consent)
        if key is None:
            continue
        value = str(consent.get("state") or "")
        allowed = True if value in ALLOWED_STATES else False if value in REFUSED_STATES else None
        states.setdefault(key, []).append(allowed)
        ids.setdefault(key, []).append(str(consent["provider_id"]))
    found = {}
    for key, values in states.items():
        known = [v for v in values if v is not None]
        allowed = any(known) if known else None
        found[key] = Released(allowed, tuple(ids[key]))
    return found


@dataclass(frozen=True)
class Planned:
    """One preference for one provider: the change to ask for, or None when it is
    already so."""

    key: str
    allow: bool
    change: Change | None


def plan(preferences: Mapping[str, bool], releases: Mapping[str, Released]) -> list[Planned]:
    """What to ask a provider so that it holds the person's preferences: a change for each
    stated preference it releases otherwise, or releases nothing about."""
    planned = []
    for key in PREFERENCES:
        if key not in preferences:
            continue
        allow = preferences[key]
        now = releases.get(key)
        if now is not None and now.allowed is allow:
            planned.append(Planned(key, allow, None))
        else:
            planned.append(Planned(key, allow, Change(key, allow)))
    return planned
