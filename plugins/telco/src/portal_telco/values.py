"""Reading TM Forum values exactly: Money objects, characteristics, dates, leftovers.

TMF Money is ``{"unit": "GBP", "value": 18.0}`` with ``value`` a JSON *number*, which
Python's JSON decoder hands over as a float. A float is never used for arithmetic here:
its shortest round-trip text (``repr``) is exactly the number as the provider wrote it (for
any value of up to 15 significant digits), and that text becomes the Decimal.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portal import SkippableError
from portal.record import Unit

# ISO 4217 minor units where they are not 2 (the common ones).
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3, "OMR": 3}


def amount(money: Any, where: str) -> tuple[Decimal, str]:
    """A TMF Money as an exact (Decimal, currency) pair; SkippableError naming ``where``.

    A JSON number loses trailing zeros (18.00 arrives as 18.0), so the amount is written
    out to the currency's minor unit again; digits beyond it are kept, never rounded.
    """
    if not isinstance(money, dict) or "value" not in money or "unit" not in money:
        raise SkippableError(f"{where} is not a TMF Money object with a value and a unit")
    value = money["value"]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SkippableError(f"{where}.value {value!r} is not a number")
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise SkippableError(f"{where}.value {value!r} is not a number") from None
    currency = str(money["unit"])
    minor = Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))
    if exact.is_finite() and exact.quantize(minor) == exact:  # only ever adds zeros
        exact = exact.quantize(minor)
    return exact, currency


def quantity(value: Any, where: str) -> Decimal:
    """A count or measure served as a JSON number, exactly."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise SkippableError(f"{where} {value!r} is not a number")
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise SkippableError(f"{where} {value!r} is not a number") from None


def unit(code: str, where: str) -> Unit:
    """A unit of measure from the record's fixed vocabulary."""
    try:
        return Unit(code)
    except ValueError:
        known = ", ".join(u.value for u in Unit)
        raise SkippableError(f"{where} {code!r} is not a known unit ({known})") from None


def day(value: str | None, where: str = "a date") -> date | None:
    """The calendar date of a TMF date-time, in the offset the provider wrote it in.

    A bill dated ``2026-05-26T06:00:00+01:00`` is dated 26 May, the day printed on it;
    converting to UTC first would move midnight dates to the day before. A value that is not
    a date-time is a SkippableError naming ``where``.
    """
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).date()
    except (TypeError, ValueError):
        raise SkippableError(f"{where} {value!r} is not an RFC 3339 date-time") from None


def moment(value: Any, where: str) -> datetime | None:
    """A TMF date-time checked to be one (RFC 3339: a date, a time and an offset).

    Absent is None; anything else is a SkippableError naming ``where``.
    """
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None or "T" not in value.upper():
        raise SkippableError(f"{where} {value!r} is not an RFC 3339 date-time")
    return parsed


def short(value: Any) -> str:
    """A served value in a reason, cut short: a wrong shape may be a whole array."""
    return reprlib.repr(value)


def characteristics(items: Iterable[dict[str, Any]] | None) -> dict[str, Any]:
    """TMF name/value characteristics as a mapping."""
    return {c["name"]: c.get("value") for c in items or ()}


def leftover_characteristics(
    items: Iterable[dict[str, Any]] | None, used: Iterable[str]
) -> list[dict[str, Any]]:
    """The characteristics whose values have no column of their own, as released."""
    used = set(used)
    return [c for c in items or () if c.get("name") not in used]
