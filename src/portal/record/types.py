"""The value types that make a record legible: money, currencies, timestamps, clean text.

Each is an ``Annotated`` pydantic type, so a plugin that builds an entity with a float amount,
a naive timestamp or an unknown currency gets a validation error naming the field, and the
engine turns it into a Rejection instead of storing something a person cannot trust.

The SQLAlchemy column types beside them keep those values exact in SQLite, which has no
decimal type and no timezone-aware datetime of its own: money and quantities as numbers
that sort and sum in SQL (``DecimalText``), timestamps as UTC text. On PostgreSQL they are
the server's own exact types (``NUMERIC``, ``TIMESTAMP WITH TIME ZONE``), given Decimals and
aware datetimes, so amounts sort and sum and moments compare in SQL there too.
"""

import functools
import json
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, get_args

import pycountry
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator
from sqlalchemy import JSON, DateTime, Numeric, String, TypeDecorator
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine, UserDefinedType

# C0 and C1 control characters other than tab and newline, and the replacement character
# that marks text already damaged by a wrong decoding.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The commonest mojibake: UTF-8 read as Latin-1 ("CafÃ©").
_MOJIBAKE = re.compile(
    r"[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u2018-\u203a]"
)


def _exact(kind: str, noun: str) -> Callable[[Any], Any]:
    # Floats are refused outright: 0.1 + 0.2 is not 0.3, and a person's money must add up.
    def check(value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError(f"{kind} must be a Decimal or a decimal string, never a float")
        if isinstance(value, str):
            try:
                return Decimal(value)
            except InvalidOperation:
                raise ValueError(f"{value!r} is not a decimal {noun}") from None
        return value

    return check


def _finite(kind: str, noun: str) -> Callable[[Decimal], Decimal]:
    def check(value: Decimal) -> Decimal:
        if not value.is_finite():
            raise ValueError(f"{kind} must be a finite {noun}")
        return value

    return check


_WHOLE = 2**63
"""Where SQLite's 64-bit INTEGER ends."""


def keeps_exactly(value: Decimal) -> bool:
    """Whether the store keeps ``value`` exactly, as a SQLite INTEGER or REAL: a whole number
    within 64 bits, or one of at most 15 significant digits (DBL_DIG: a double gives every
    such decimal back to the digit) in a double's ordinary range."""
    if not value.is_finite():
        return False
    _, digits, exponent = value.as_tuple()
    exponent = int(exponent)
    if len(digits) <= 15 and -290 < exponent < 290:  # the usual case, at once
        return True
    if value == value.to_integral_value() and -_WHOLE <= value < _WHOLE:
        return True
    significant = len(digits)
    while significant > 1 and digits[significant - 1] == 0:  # 59.9000... is 59.9
        significant -= 1
    exponent += len(digits) - significant
    return significant <= 15 and -290 < exponent < 290


def not_kept(name: str, value: Decimal) -> str:
    """Why the store refuses ``value`` for its number column ``name``."""
    return (
        f"{name} {value} has more significant digits than the store keeps exactly"
        " (15, or any whole number within 64 bits)"
    )


# ISO 4217's minor units where they are not 2 (its list of currencies and funds, A.1).
_MINOR_UNITS = {
    **{code: 0 for code in ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG")},
    **{code: 0 for code in ("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF")},
    **{code: 3 for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")},
    **{code: 4 for code in ("CLF", "UYW")},
}


def minor_unit_digits(currency: str) -> int:
    """How many digits ISO 4217 gives ``currency``'s minor unit: 2 for GBP, 0 for JPY."""
    return _MINOR_UNITS.get(currency.strip().upper(), 2)


def from_minor_units(amount: int, currency: str) -> Decimal:
    """An amount an API gives as a whole number of minor units (pence, cents, yen) as a
    Decimal of the currency itself: ``-510`` GBP is ``-5.10``, ``-510`` JPY is ``-510``."""
    if type(amount) is not int:
        raise ValueError(f"{amount!r} is not a whole number of minor units")
    return Decimal(amount).scaleb(-minor_unit_digits(currency))


def in_minor_units(amount: Decimal, currency: str | None) -> Decimal:
    """``amount`` written out to its currency's minor unit (84.3 GBP is 84.30, 1500 JPY
    stays 1500); never rounded: digits beyond the minor unit are kept (1.005 GBP)."""
    if currency is None or not amount.is_finite():
        return amount
    minor = Decimal(1).scaleb(-_MINOR_UNITS.get(currency, 2))
    try:
        written = amount.quantize(minor)
    except InvalidOperation:  # more digits than a Decimal context holds: as it is
        return amount
    return written if written == amount else amount


def _currency(value: str) -> str:
    code = value.strip().upper()
    if not _is_currency(code):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return code


def _is_currency(code: str) -> bool:
    return code in _iso_codes("currencies", "alpha_3")


def _country(value: str) -> str:
    code = value.strip().upper()
    if len(code) != 2 or code not in _iso_codes("countries", "alpha_2"):
        raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code")
    return code


@functools.cache
def _iso_codes(database: str, key: str) -> frozenset[str]:
    """Every ``key`` code of one of pycountry's ISO databases (upper case, as published).

    Read from pycountry's own data file: its first lookup in a process builds an object and
    a case-folded index entry for every field of every entry, 4 ms for the currencies and
    the countries, a twentieth of a re-sync with nothing new; the codes alone take a
    tenth of that. Should the file ever not be where pycountry says, its objects serve.
    """
    db = getattr(pycountry, database)
    try:
        with open(db.filename, encoding="utf-8") as file:
            return frozenset(entry[key] for entry in json.load(file)[db.root_key])
    except (AttributeError, OSError, ValueError, KeyError, TypeError):
        return frozenset(getattr(entry, key) for entry in db)


def _sha256_hex(value: str) -> str:
    if not _SHA256.fullmatch(value):
        raise ValueError(f"{value!r} is not a SHA-256 digest (64 lower-case hex digits)")
    return value


def _clean_text(value: str) -> str:
    if value.isascii() and value.isprintable():
        # Most text is printable ASCII: already NFC, no control character, no mojibake
        # (which needs a non-ASCII character); every record has several such fields.
        return value
    value = unicodedata.normalize("NFC", value)
    if _CONTROL.search(value):
        raise ValueError("text contains control characters or U+FFFD")
    if _MOJIBAKE.search(value):
        raise ValueError("text looks like UTF-8 decoded as Latin-1 (mojibake)")
    return value


Money = Annotated[
    Decimal, BeforeValidator(_exact("money", "amount")), AfterValidator(_finite("money", "amount"))
]
"""An exact amount of money; floats are refused (and, in a column of the store, an amount
it could not keep exactly: ``keeps_exactly``)."""

Quantity = Annotated[
    Decimal,
    BeforeValidator(_exact("a quantity", "quantity")),
    AfterValidator(_finite("a quantity", "quantity")),
]
"""An exact quantity (kWh, minutes, points, a score); floats are refused (and, in a column
of the store, a quantity it could not keep exactly: ``keeps_exactly``)."""


@functools.cache
def money_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` that are ``Money`` (amounts in its currency), not quantities."""
    marks = {id(mark) for mark in get_args(Money)[1:]}
    return tuple(
        name
        for name, info in model.model_fields.items()
        if any(id(mark) in marks for mark in info.metadata) or Money in get_args(info.annotation)
    )


def money_in_minor_units(model: type[BaseModel], row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (of ``model``) with its money written to its currency's minor unit, as a
    person reads it: the store keeps each amount's value, not its scale (59.90 reads back
    59.9). Changed in place, and returned."""
    currency = row.get("currency")
    if isinstance(currency, str):
        for name in money_fields(model):
            if isinstance(row.get(name), Decimal):
                row[name] = in_minor_units(row[name], currency)
    return row


Country = Annotated[str, AfterValidator(_country)]
"""An ISO 3166 alpha-2 country code, upper case."""

Digest = Annotated[str, AfterValidator(_sha256_hex)]
"""A SHA-256 digest as 64 lower-case hex digits."""

Currency = Annotated[str, AfterValidator(_currency)]
"""An ISO 4217 alphabetic code, upper case."""

Timestamp = AwareDatetime
"""A timezone-aware datetime; naive datetimes are refused."""

Text = Annotated[str, AfterValidator(_clean_text)]
"""Clean UTF-8 text (NFC) with no control characters or mojibake."""


class _SQLiteNumber(UserDefinedType[Any]):
    """A column of NUMERIC affinity on SQLite, given and giving plain ints and floats."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "NUMERIC"


class DecimalText(TypeDecorator[Decimal]):
    """Stores a Decimal exactly as a number that sorts, compares and sums in SQL.

    On SQLite a NUMERIC column holding an INTEGER when the value is whole, else a REAL:
    a record only carries values a double gives back to the digit in these columns
    (``keeps_exactly``, checked by ``portal.record.base.Entity``), and reading turns the
    double back into the shortest decimal that is it (``Decimal(repr(v))``). The scale is
    not kept ("59.90" reads "59.9"): exports write money to its currency's minor unit
    (``money_in_minor_units``). Elsewhere (PostgreSQL) a ``NUMERIC``.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteNumber())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    @staticmethod
    def bind(value: Decimal) -> int | float:
        """What SQLite stores for a (non-null) amount; the store's batch writer calls it
        directly. A whole number within 64 bits becomes an int (exact however long), the
        rest a float, exact for every value ``keeps_exactly`` allows."""
        number = float(value)
        if number.is_integer():
            whole = int(value)
            if -_WHOLE <= whole < _WHOLE:
                return whole
        return number

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return self.bind(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            return Decimal(repr(value))  # the shortest decimal that is this double
        return Decimal(value)  # an int, or text SQLite kept as it was given


class UTCDateTime(TypeDecorator[datetime]):
    """Stores an aware datetime as fixed-width UTC ISO 8601 text, so it sorts and round-trips;
    on PostgreSQL as ``TIMESTAMP WITH TIME ZONE``. Read back in UTC either way."""

    impl = String
    cache_ok = True

    @staticmethod
    def bind(value: datetime) -> str:
        """The stored text of a (non-null) timestamp; the store's batch writer calls it directly."""
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))  # TIMESTAMPTZ
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | str | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            if value.tzinfo is None:
                raise ValueError("refusing to store a naive datetime")
            return value.astimezone(UTC)  # an instant: the server keeps it in UTC
        return self.bind(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):  # PostgreSQL's, in the session's time zone
            return value.astimezone(UTC)
        return datetime.fromisoformat(value)


RECORD_JSON = JSON().with_variant(JSONB(), "postgresql")
"""The column type of a record's nested values (``extra``, bill lines, addresses): JSON, and
on PostgreSQL ``JSONB``, which its operators and indexes query (``extra @> '{...}'``). Its
key order and spacing need not be kept: the raw payload is, as text."""
