"""Octopus Energy's REST API (v1) as its published reference describes it, written down.

These are the rules the sandbox's answers are held to (``tests/test_octopus_rules.py``)
and the shapes the plugin must cope with: which fields each answer has, which are
optional or may be null, their types, formats and the codes they take. Sources (cited in
``plugins/octopus/README.md``): the API reference at https://developer.octopus.energy/docs/api/
(authentication, datetimes, consumption parameters and units, product and tariff
charges), the account endpoint's example at
https://developer.octopus.energy/rest/guides/endpoints, and the example payloads of the
consumption and unit-rate lists.

Where the reference is silent the rule is the loosest the examples allow: a field the
examples show as ``null`` may be null, an address line may be empty, a list may be empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ACCOUNT_NUMBER = re.compile(r"A-[0-9A-Z]{8}")
"""An account number as the dashboard and bills show it: ``A-`` and eight letters or digits
(hexadecimal in every one seen, but nothing published promises it)."""
API_KEY = re.compile(r"sk_live_[A-Za-z0-9]{16,64}")
"""A personal API key as the dashboard shows it (``sk_live_`` then letters and digits)."""
MPAN = re.compile(r"\d{13}")
"""An electricity meter point's MPAN core: thirteen digits."""
MPRN = re.compile(r"\d{6,10}")
"""A gas meter point's MPRN: six to ten digits."""
TARIFF_CODE = re.compile(
    r"(?P<fuel>[EG])-(?P<registers>[12]R)-(?P<product>[A-Z0-9-]+)-(?P<region>[A-Z])"
)
"""``E-1R-AGILE-24-10-01-C``: fuel (E electricity, G gas), registers (1R single, 2R day and
night: Economy 7), the product code, and the region (the grid supply point group's letter)."""

PAYMENT_METHODS = {
    "DIRECT_DEBIT": "Paid by direct debit",
    "NON_DIRECT_DEBIT": "Paid other than by direct debit",
}
"""The payment methods a tariff charge may be limited to (null: any). Others may appear."""
GROUP_BY = ("hour", "day", "week", "month", "quarter")
"""The consumption list's ``group_by`` values (none: half-hourly)."""
ORDER_BY = ("period", "-period")
"""The consumption list's ``order_by`` values; ``-period`` (newest first) is the default."""
MAX_CONSUMPTION_PAGE = 25000
"""The largest ``page_size`` the consumption list takes."""
MAX_CHARGES_PAGE = 1500
"""The largest ``page_size`` the unit-rate and standing-charge lists take."""
DEFAULT_PAGE = 100
"""How many results a list page holds when ``page_size`` is not given."""

CHARGES = {
    "electricity": (
        "standard-unit-rates",
        "day-unit-rates",
        "night-unit-rates",
        "standing-charges",
    ),
    "gas": ("standard-unit-rates", "standing-charges"),
}
"""The charge lists of a tariff: ``/v1/products/{product}/{fuel}-tariffs/{tariff}/{charge}/``.
A single-register tariff has standard unit rates, a dual-register one day and night rates;
every tariff has standing charges."""

CONSUMPTION_UNITS = {"electricity": "kWh", "gas_smets1": "kWh", "gas_smets2": "m3"}
"""The consumption list's unit: kWh for electricity and SMETS1 gas meters, m³ for SMETS2."""


@dataclass(frozen=True)
class Rule:
    """One field of an object: its type, whether it must be there, may be null, its format."""

    name: str
    kind: str  # "str", "int", "number", "bool", "datetime", "url", "list", "object"
    required: bool = True
    nullable: bool = False
    pattern: re.Pattern[str] | None = None
    of: tuple[Rule, ...] = field(default=())
    """For a list, the rules of each object in it; for an object, its fields'."""


def _datetime(value: str) -> bool:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


AGREEMENT = (
    Rule("tariff_code", "str", pattern=TARIFF_CODE),
    Rule("valid_from", "datetime"),
    Rule("valid_to", "datetime", nullable=True),
)
REGISTER = (
    Rule("identifier", "str"),
    Rule("rate", "str"),
    Rule("is_settlement_register", "bool"),
)
ELECTRICITY_METER = (
    Rule("serial_number", "str"),
    Rule("registers", "list", required=False, of=REGISTER),
)
GAS_METER = (Rule("serial_number", "str"),)
ELECTRICITY_POINT = (
    Rule("mpan", "str", pattern=MPAN),
    Rule("profile_class", "int", required=False, nullable=True),
    Rule("consumption_standard", "int", required=False, nullable=True),
    Rule("meters", "list", of=ELECTRICITY_METER),
    Rule("agreements", "list", of=AGREEMENT),
    Rule("is_export", "bool", required=False),
)
GAS_POINT = (
    Rule("mprn", "str", pattern=MPRN),
    Rule("consumption_standard", "int", required=False, nullable=True),
    Rule("meters", "list", of=GAS_METER),
    Rule("agreements", "list", of=AGREEMENT),
)
PROPERTY = (
    Rule("id", "int"),
    Rule("moved_in_at", "datetime", nullable=True),
    Rule("moved_out_at", "datetime", nullable=True),
    Rule("address_line_1", "str"),
    Rule("address_line_2", "str", required=False),
    Rule("address_line_3", "str", required=False),
    Rule("town", "str"),
    Rule("county", "str", required=False),
    Rule("postcode", "str"),
    Rule("electricity_meter_points", "list", of=ELECTRICITY_POINT),
    Rule("gas_meter_points", "list", of=GAS_POINT),
)
ACCOUNT = (
    Rule("number", "str", pattern=ACCOUNT_NUMBER),
    Rule("properties", "list", of=PROPERTY),
)
"""``GET /v1/accounts/{number}/``."""

CONSUMPTION = (
    Rule("consumption", "number"),
    Rule("interval_start", "datetime"),
    Rule("interval_end", "datetime"),
)
"""One result of ``.../consumption/``: kWh (electricity, SMETS1 gas) or m³ (SMETS2 gas)."""
CHARGE = (
    Rule("value_exc_vat", "number"),
    Rule("value_inc_vat", "number"),
    Rule("valid_from", "datetime", nullable=True),
    Rule("valid_to", "datetime", nullable=True),
    Rule("payment_method", "str", required=False, nullable=True),
)
"""One result of a unit-rate or standing-charge list: pence per kWh (or per day), with and
without VAT; ``valid_to`` null while the charge holds."""


def page_of(results: tuple[Rule, ...]) -> tuple[Rule, ...]:
    """A list answer: ``count``, links to the ``next`` and ``previous`` pages, ``results``."""
    return (
        Rule("count", "int"),
        Rule("next", "url", nullable=True),
        Rule("previous", "url", nullable=True),
        Rule("results", "list", of=results),
    )


ERROR = (Rule("detail", "str"),)
"""An error answer (401, 404, 400): ``{"detail": "..."}``."""


def _type_ok(rule: Rule, value: Any) -> bool:
    kind = rule.kind
    if kind == "str":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "datetime":
        return isinstance(value, str) and _datetime(value)
    if kind == "url":
        return isinstance(value, str) and value.startswith(("https://", "http://"))
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, Mapping)


def violations(body: Any, rules: tuple[Rule, ...], where: str = "") -> Iterator[str]:
    """Every way ``body`` breaks ``rules``, each as ``path: what is wrong``."""
    if not isinstance(body, Mapping):
        yield f"{where or '(answer)'}: not an object"
        return
    for rule in rules:
        path = f"{where}.{rule.name}" if where else rule.name
        if rule.name not in body:
            if rule.required:
                yield f"{path}: required, missing"
            continue
        value = body[rule.name]
        if value is None:
            if not rule.nullable:
                yield f"{path}: may not be null"
            continue
        if not _type_ok(rule, value):
            yield f"{path}: not a {rule.kind}"
            continue
        if rule.pattern is not None and not rule.pattern.fullmatch(str(value)):
            yield f"{path}: {value!r} is not of the form {rule.pattern.pattern}"
        if rule.kind == "list":
            for i, element in enumerate(value):
                yield from violations(element, rule.of, f"{path}[{i}]")
        elif rule.kind == "object" and rule.of:
            yield from violations(value, rule.of, path)


def consumption_violations(page: Any) -> Iterator[str]:
    """``violations`` of a consumption page, and every interval that does not end after it
    starts (the reference's half-hours run from ``interval_start`` to ``interval_end``)."""
    yield from violations(page, page_of(CONSUMPTION))
    results = page.get("results") if isinstance(page, Mapping) else None
    for i, result in enumerate(results if isinstance(results, list) else []):
        if not isinstance(result, Mapping):
            continue
        start, end = result.get("interval_start"), result.get("interval_end")
        if not (isinstance(start, str) and isinstance(end, str)):
            continue
        if _datetime(start) and _datetime(end) and _moment(end) <= _moment(start):
            yield f"results[{i}]: interval_end {end} is not after interval_start {start}"


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def tariff_parts(code: str) -> dict[str, str] | None:
    """A tariff code's parts (``fuel``, ``registers``, ``product``, ``region``), or None."""
    found = TARIFF_CODE.fullmatch(code)
    return found.groupdict() if found else None
