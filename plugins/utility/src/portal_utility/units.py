"""ESPI quantities in the record's units: which of ESPI's units of measure portal records.

A reading or measurement is an integer in the ReadingType's ``uom`` times ten to its
``powerOfTenMultiplier`` (any Int16: the schema names -12 to 12, but the list is open).
Energy becomes kWh, volume (cubic metres or feet) m3, and gas billed by its heat content
therms, each by an exact factor (Decimal, never a float), so nothing is rounded on the way
in. Other units (power, voltage, a count...) are not consumption: an item in one is rejected
with a reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from portal.errors import SkippableError
from portal.record import Unit
from portal_utility import labels

CONSUMPTION: dict[str, tuple[Decimal, Unit]] = {
    "72": (Decimal("0.001"), Unit.kWh),  # Wh
    "42": (Decimal(1), Unit.m3),
    "119": (Decimal("0.028316846592"), Unit.m3),  # cubic feet, exactly (0.3048 m)^3
    "169": (Decimal(1), Unit.therm),
}
"""ESPI UnitSymbolKind code to (factor, record unit) for the units of consumption."""


def quantity(value: str, uom: str, multiplier: str) -> tuple[Decimal, Unit]:
    """A reading or measurement in a unit from the record's vocabulary, exactly."""
    try:
        amount = Decimal(int(value)).scaleb(int(multiplier or 0))
    except (ValueError, InvalidOperation):
        raise SkippableError(
            f"value {value!r} with powerOfTenMultiplier {multiplier!r} is not an ESPI integer"
            " reading"
        ) from None
    if uom not in CONSUMPTION:
        known = ", ".join(f"{code} ({labels.UNITS[code]})" for code in CONSUMPTION)
        raise SkippableError(
            f"unit of measure {uom or '(none)'} ({labels.label(labels.UNITS, uom, 'unit')}) is"
            f" not a consumption portal records; expected one of {known}"
        )
    factor, unit = CONSUMPTION[uom]
    _sign, digits, exponent = factor.as_tuple()
    if digits == (1,) and isinstance(exponent, int):  # a power of ten: shift, as ever
        return amount.scaleb(exponent), unit
    return amount * factor, unit


def measurement(measured: Any) -> tuple[Decimal, Unit] | None:
    """A SummaryMeasurement's quantity, or None if it has none portal records.

    A summary or a bill line is still a bill when its measurement is in a unit portal does
    not record (ESPI allows any): the caller keeps the measurement as served instead.
    """
    if not isinstance(measured, dict) or not measured.get("value"):
        return None
    try:
        return quantity(
            measured["value"], measured.get("uom", ""), measured.get("powerOfTenMultiplier", "0")
        )
    except SkippableError:
        return None
