"""The Atom query parameters Demo Energy's feeds take, read as Connect My Data reads them.

``published-min/max`` and ``updated-min/max`` are RFC 3339 date-times with a time zone;
``max-results`` and ``start-index`` whole numbers. A bad one is refused with 400 and a reason.
"""

from __future__ import annotations

from datetime import datetime


class Refused(Exception):
    """A request the sandbox answers with an error status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def when(value: str) -> datetime:
    """An RFC 3339 date-time with its time zone."""
    try:
        moment = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Refused(400, f"{value!r} is not an RFC 3339 date-time.") from None
    if moment.tzinfo is None:
        raise Refused(400, f"{value!r} has no time zone; ESPI query times carry one.")
    return moment


def whole(value: str, name: str) -> int:
    """A whole-number parameter ``name``."""
    try:
        return int(value)
    except ValueError:
        raise Refused(400, f"{name} must be a whole number, not {value!r}.") from None


def within(dates: dict[str, str], bounds: dict[str, datetime]) -> bool:
    """Whether an entry's ``published``/``updated`` dates are inside the query's bounds."""
    # Atom query semantics: the -min bound is inclusive, the -max bound exclusive.
    for name, bound in bounds.items():
        moment = datetime.fromisoformat(dates[name.split("-")[0]])
        if name.endswith("-min") and moment < bound:
            return False
        if name.endswith("-max") and moment >= bound:
            return False
    return True
