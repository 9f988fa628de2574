"""The values Amazon writes in its "Request your data" CSVs, read exactly.

What the files are known to carry (the sources are cited in the plugin's README):

- no cell is empty: absence is the text ``Not Available`` or ``Not Applicable`` (older
  refund files write ``N/A``);
- amounts as ``12.89``, ``1,234.50`` (thousands grouped with commas), wrapped in literal
  apostrophes that stop spreadsheets reading them as formulas (``'-0.68'``, ``'1,495'``),
  sometimes with a currency sign (``$14.52``); exports read by European tools also carry
  decimal commas (``12,34``, ``1.234,56``);
- timestamps in ISO 8601 UTC, with or without milliseconds (``2023-05-31T13:00:59.799Z``),
  or, in older exports, ``05/31/2023 13:00:59 UTC``;
- two values joined by `` and `` where an item shipped twice (``Ship Date``,
  ``Shipment Status``, ``Payment Instrument Type``): kept as written.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal

from portal.filereaders import bounded_decimal

ABSENT = frozenset({"", "not available", "not applicable", "n/a", "na"})
"""What Amazon writes for "no value" (compared without case or surrounding space)."""


def absent(value: str | None) -> bool:
    """Whether ``value`` is one of Amazon's words for "no value"."""
    return value is None or value.strip().lower() in ABSENT


_SYMBOLS = re.compile(r"^(?:[A-Z]{3}\s*|[$£€¥₹]|R\$|C\$|A\$)|(?:\s*[A-Z]{3}|[$£€¥₹])$")
_GROUPED_COMMAS = re.compile(r"\d{1,3}(?:,\d{3})+")
_GROUPED_DOTS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_SPACED = re.compile(r"\d{1,3}(?:[ \u00a0]\d{3})+(?:[.,]\d+)?")
_PLAIN = re.compile(r"\d+(?:\.\d+)?|\.\d+")


def parse_amount(value: str) -> Decimal:
    """An amount as Amazon writes it, exactly: ``'-0.68'``, ``1,234.50``, ``€12,34``.

    A single comma followed by exactly three digits (``1,495``) groups thousands, as
    Amazon's own exports write them; followed by one or two digits (``12,34``), it is a
    decimal comma. With both marks, the last one is the decimal mark (``1.234,56``).
    Raises ``ValueError`` saying what is wrong.
    """
    text = value.strip().strip("'").strip()
    signed = negative = False
    if text.startswith("(") and text.endswith(")"):  # accountants' brackets
        signed = negative = True
        text = text[1:-1].strip()
    for _ in range(2):  # a sign before or after the currency sign: "-$3.00", "$-3.00"
        if text and text[0] in "+-" and not signed:
            signed, negative, text = True, text[0] == "-", text[1:].strip()
        text = _SYMBOLS.sub("", text).strip()
    if _SPACED.fullmatch(text):  # "1 234,56": thousands grouped with spaces
        text = re.sub(r"[ \u00a0]", "", text)
    digits = _digits(text)
    if digits is None:
        raise ValueError(f"{_short(value)} is not an amount such as 12.89 or '-0.68'")
    amount = bounded_decimal(digits)
    return -amount if negative else amount


def _digits(text: str) -> str | None:
    """``text`` as plain decimal digits with a point, or None if it is no number."""
    if _PLAIN.fullmatch(text):
        return text
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        whole, _, fraction = text.rpartition(decimal_mark)
        if not fraction.isdigit() or not re.fullmatch(rf"\d{{1,3}}(?:\{grouping}\d{{3}})*", whole):
            return None
        return whole.replace(grouping, "") + "." + fraction
    if _GROUPED_COMMAS.fullmatch(text):
        return text.replace(",", "")
    if re.fullmatch(r"\d+,\d{1,2}", text):
        return text.replace(",", ".")
    if _GROUPED_DOTS.fullmatch(text) and text.count(".") > 1:
        return text.replace(".", "")
    return None


def parse_quantity(value: str) -> Decimal:
    """A count of items: a whole number, 0 for a cancelled line."""
    text = value.strip().strip("'").replace(",", "")
    if not text.isdigit():
        raise ValueError(f"{_short(value)} is not a whole number of items")
    return bounded_decimal(text)


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?")
_US_TIME = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})(?: (UTC|GMT|Z))?")


def parse_timestamp(value: str) -> datetime:
    """When, in UTC: ISO 8601 (``2023-05-31T13:00:59.799Z``, or a date alone: midnight UTC)
    or the older ``05/31/2023 13:00:59 UTC``. A time without a zone is read as UTC, which
    is what every Amazon export writes."""
    text = value.strip()
    found = _US_TIME.fullmatch(text)
    try:
        if found is not None:
            month, day, year, hour, minute, second = (int(g) for g in found.groups()[:6])
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        if re.fullmatch(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?", text
        ):
            moment = datetime.fromisoformat(_micro(text))
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        pass
    raise ValueError(f"{_short(value)} is not a date and time such as 2024-08-15T12:00:00Z")


def _micro(text: str) -> str:
    """Fractions of a second cut to microseconds, which is all ``datetime`` holds."""
    return re.sub(r"\.(\d{6})\d+", r".\1", text)


def _short(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")
