"""TM Forum values as they read: the helpers of the telco sandbox's expected records.

A date-time (RFC 3339, with its offset) is an instant, stored in UTC; one standing for a
day (a bill's date, its period) is the day printed on it, in the offset it was written in;
a Money's ``value`` is a JSON number whose decimal text is the amount; a status code means
one of portal's common states (``STATES``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from portal.record.vocab import State


def instant(stamp: str | None) -> datetime | None:
    """An RFC 3339 date-time as the instant, in UTC."""
    return datetime.fromisoformat(stamp).astimezone(UTC) if stamp else None


def day(stamp: str | None) -> date | None:
    """The day a date-time is printed for, in the offset it was written in."""
    return datetime.fromisoformat(stamp).date() if stamp else None


def number(value: Any) -> Decimal:
    """A JSON number exactly as written: its shortest decimal text."""
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def extra(left: dict[str, Any]) -> dict[str, Any]:
    """Fields with no column of their own, stated as ``extra.<key>``."""
    return {f"extra.{k}": v for k, v in left.items()}


STATES: dict[str, dict[str, State]] = {
    # TMF637 ProductStatusType. pendingTerminate is still in force until it ends; cancelled
    # was called off before it started, aborted is an order that failed: neither began.
    "product": {
        "created": State.pending,
        "pendingActive": State.pending,
        "active": State.active,
        "pendingTerminate": State.active,
        "suspended": State.suspended,
        "terminated": State.closed,
        "cancelled": State.cancelled,
        "aborted": State.cancelled,
        "aborted ": State.cancelled,  # as the document spells it
    },
    # TMF678 CustomerBill state: not yet sent is pending; sent is owed until it is settled;
    # partly paid is still owed.
    "bill": {
        "new": State.pending,
        "onHold": State.pending,
        "validated": State.pending,
        "sent": State.due,
        "partiallyPaid": State.due,
        "settled": State.paid,
    },
    # Demo Telecom's privacy profile statuses: refused was never given, withdrawn taken back.
    "permission": {
        "granted": State.active,
        "refused": State.declined,
        "withdrawn": State.withdrawn,
    },
}
"""What each status Demo Telecom serves means in portal's common states, by code list: the
double's own reading of the TM Forum enumerations, never the plugin's table."""


def state(code_list: str, code: str | None) -> State | None:
    """The state a served status ``code`` means (None if none was served); a code outside
    the list has no meaning, so ``unknown``."""
    if not code:
        return None
    return STATES[code_list].get(code, State.unknown)
