"""How the view writes numbers a person reads: money with its currency, quantities with
their unit, in the person's locale (Babel's CLDR data: symbols, minor units, grouping).

Babel rather than hand-written formats: which symbol a currency takes, how many minor
digits it has (JPY none, BHD three) and how a locale groups digits are CLDR data that
no short table gets right. Nothing is rounded away: a value with more decimals than its
currency's minor unit shows them all, since the person must see what the provider said.
"""

from __future__ import annotations

import functools
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.core import default_locale
from babel.numbers import format_currency, format_decimal

FALLBACK_LOCALE = "en_GB"


@functools.cache
def locale() -> Locale:
    """The person's locale for numbers (``LC_ALL``/``LC_NUMERIC``/``LANG``), else en_GB."""
    name = default_locale(("LC_ALL", "LC_NUMERIC", "LANG"))
    if not name or name.startswith(("C", "POSIX")) or name.endswith("_POSIX"):
        name = FALLBACK_LOCALE
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK_LOCALE)


def money(amount: Decimal | None, currency: str | None) -> str:
    """``amount`` of ``currency`` as a person reads it ("-£59.90", "€1,234.50"); "" for none."""
    if amount is None:
        return ""
    if not currency:
        return format_decimal(amount, locale=locale(), decimal_quantization=False)
    return format_currency(amount, currency, locale=locale(), decimal_quantization=False)


def quantity(value: Decimal | None, unit: str | None = None) -> str:
    """``value`` with its unit ("1,234.5 kWh"), every decimal the provider gave kept."""
    if value is None:
        return ""
    number = format_decimal(value, locale=locale(), decimal_quantization=False)
    return f"{number} {unit}" if unit else number
