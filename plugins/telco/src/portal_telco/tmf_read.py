"""TM Forum values as they read: the helpers of the telco sandbox's expected records.

A date-time (RFC 3339, with its offset) is an instant, stored in UTC; one standing for a
day (a bill's date, its period) is the day printed on it, in the offset it was written in;
a Money's ``value`` is a JSON number whose decimal text is the amount.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any


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
