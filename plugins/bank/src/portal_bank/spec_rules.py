"""The vocabulary the project writes Open Banking's rules in (``portal_bank.spec``).

A ``Rule`` says what one value may be; the small functions build them the way the
specification's OpenAPI document states them (a required field, a MinNMaxNText, a closed
or a namespaced code list, an object, an array). The patterns are the document's own.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The specification's patterns are JSON Schema's, where \d is 0-9 only: hence re.ASCII.
AMOUNT_PATTERN = re.compile(r"^\d{1,13}$|^\d{1,13}\.\d{1,5}$", re.ASCII)
"""OBActiveCurrencyAndAmount_SimpleType: unsigned, up to 13 digits and 5 decimals."""
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3,3}$")
"""ActiveOrHistoricCurrencyCode: three capital letters (an ISO 4217 code)."""
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2,2}$")
PHONE_PATTERN = re.compile(r"^\+[0-9]{1,3}-[0-9()+\-]{1,30}$")
"""PhoneNumber: ``+44-7700900123``, a country code, a hyphen, then the number."""
RATE_PATTERN = re.compile(r"^(-?\d{1,3}){1}(\.\d{1,4}){0,1}$", re.ASCII)
FREQUENCY_PATTERN = re.compile(
    r"^(NotKnown)$|^(EvryDay)$|^(EvryWorkgDay)$|^(IntrvlDay:((0[2-9])|([1-2][0-9])|3[0-1]))$"
    r"|^(IntrvlWkDay:0[1-9]:0[1-7])$|^(WkInMnthDay:0[1-5]:0[1-7])$"
    r"|^(IntrvlMnthDay:(0[1-6]|12|24):(-0[1-5]|0[1-9]|[12][0-9]|3[01]))$"
    r"|^(QtrDay:(ENGLISH|SCOTTISH|RECEIVED))$"
)
"""A standing order's ``Frequency``: one of eight schedule patterns."""


@dataclass(frozen=True)
class Rule:
    """What one value may be.

    ``kind`` is one of: ``text`` (a string, optionally with a length and a pattern),
    ``currency`` (text that is an ISO 4217 code), ``datetime`` (ISODateTime, with its
    zone), ``code`` (a closed list, ``codes``), ``namespaced`` (an open list: any text up
    to ``max_length``; ``codes`` are Open Banking's own, none for an external list),
    ``boolean``, ``integer``, ``object`` (``fields``; ``closed`` if no other field is
    allowed) and ``array`` (of ``items``, ``min_items`` at least).
    """

    kind: str
    required: bool = False
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    codes: frozenset[str] = frozenset()
    fields: Mapping[str, Rule] = field(default_factory=dict)
    closed: bool = False
    items: Rule | None = None
    min_items: int = 0


def required(rule: Rule) -> Rule:
    """The same rule, for a field the specification requires."""
    return dataclasses.replace(rule, required=True)


def text(max_length: int | None = None, pattern: re.Pattern[str] | None = None) -> Rule:
    """A string of 1 to ``max_length`` characters (the specification's MinNMaxNText)."""
    return Rule("text", max_length=max_length, pattern=pattern)


def code(names: str) -> Rule:
    """A closed code list (names apart by spaces): any other value is invalid."""
    return Rule("code", codes=frozenset(names.split()))


def namespaced(names: str = "", *, max_length: int = 40) -> Rule:
    """An open code list: ``names`` are Open Banking's, a bank may use codes of its own."""
    return Rule("namespaced", max_length=max_length, codes=frozenset(names.split()))


def external(max_length: int | None = None) -> Rule:
    """A code from a list kept outside the specification (ISO 20022, ISO 18245): open too.

    Any text is valid; the list is not Open Banking's, and it grows without a new version.
    """
    return Rule("namespaced", max_length=max_length)


def obj(fields: Mapping[str, Rule], *, closed: bool = False) -> Rule:
    """An object with these fields (``closed``: and no other)."""
    return Rule("object", fields=fields, closed=closed)


def array(items: Rule, *, min_items: int = 0) -> Rule:
    """An array whose every element follows ``items``."""
    return Rule("array", items=items, min_items=min_items)


DATETIME = Rule("datetime")
ANY_OBJECT = Rule("object")
