"""What the query string asks a page for: dates, a range of days, a page number.

A value that cannot be read is refused with a 400 that names the parameter, what it held and
how to write it, rather than silently shown as something else.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from werkzeug.exceptions import BadRequest

LONGEST_RANGE = timedelta(days=366)
"""The most days a chart shows at once: a year of half-hours is 17,568 readings a meter."""


def date_parameter(query: Mapping[str, str], name: str, what: str) -> date | None:
    """The date the query string gives as ``name`` (YYYY-MM-DD), None when it gives none."""
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"{what} ({name}={text!r}) is not a date: write it as YYYY-MM-DD, e.g. 2026-04-17."
        ) from None


def page_number(query: Mapping[str, str], name: str = "page") -> int:
    """The page number the query string asks for (1 when it names none)."""
    text = query.get(name, "").strip() or "1"
    if not text.isdigit() or int(text) < 1:
        raise BadRequest(f"the page number ({name}={text!r}) must be a whole number from 1.")
    return int(text)


def date_range(query: Mapping[str, str], latest: date, default_days: int) -> tuple[date, date]:
    """The range of local days the query string asks for (``from``, ``to``), else the
    ``default_days`` ending on ``latest``; refused when it is back to front or too long."""
    last = date_parameter(query, "to", "The last day") or latest
    first = date_parameter(query, "from", "The first day") or last - timedelta(
        days=default_days - 1
    )
    if first > last:
        raise BadRequest(f"the first day ({first}) comes after the last ({last}): swap them.")
    if last - first >= LONGEST_RANGE:
        raise BadRequest(
            f"from {first} to {last} is more than {LONGEST_RANGE.days} days:"
            " choose a shorter range."
        )
    return first, last
