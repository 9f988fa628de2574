"""Checks a response or an item against the written-down rules of ``portal_bank.spec``.

Each problem is one sentence naming the field by its path (``Data.Transaction[3].Amount.Amount``)
and what the specification says of it. The tests check every response the sandbox serves;
the plugin asks for the problems of an item it could not map, to say why it rejects it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pycountry

from portal_bank.spec_endpoints import ENDPOINTS, LINKS, META, STREAMS, Endpoint
from portal_bank.spec_rules import CURRENCY_PATTERN, Rule

# ISODateTime as the specification shows it: a full date, a time and the zone (Z or ±hh:mm).
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})", re.ASCII
)
_TEMPLATE_PART = re.compile(r"\{[A-Za-z]+\}")


def check(rule: Rule, value: Any, where: str) -> Iterator[str]:
    """Every way ``value`` breaks ``rule``; ``where`` names it in the messages."""
    kind = rule.kind
    if kind == "object":
        yield from _object(rule, value, where)
    elif kind == "array":
        yield from _array(rule, value, where)
    elif kind == "boolean":
        if not isinstance(value, bool):
            yield f"{where} must be true or false, not {value!r}"
    elif kind == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            yield f"{where} must be a whole number, not {value!r}"
    elif not isinstance(value, str):
        yield f"{where} must be a string, not {type(value).__name__}"
    elif kind == "datetime":
        yield from _datetime(value, where)
    elif kind == "code":
        if value not in rule.codes:
            yield (
                f"{where} {value!r} is not one of the specification's codes"
                f" ({', '.join(sorted(rule.codes))})"
            )
    else:
        yield from _text(rule, value, where)
        if kind == "currency" and CURRENCY_PATTERN.fullmatch(value) and not _iso4217(value):
            yield f"{where} {value!r} is not an ISO 4217 currency code"


def _object(rule: Rule, value: Any, where: str) -> Iterator[str]:
    if not isinstance(value, dict):
        yield f"{where} must be an object, not {type(value).__name__}"
        return
    for name, field_rule in rule.fields.items():
        if name in value:
            yield from check(field_rule, value[name], f"{where}.{name}")
        elif field_rule.required:
            yield f"{where}.{name} is required but missing"
    if rule.closed:
        for name in value.keys() - rule.fields.keys():
            yield f"{where}.{name} is not a field the specification allows here"


def _array(rule: Rule, value: Any, where: str) -> Iterator[str]:
    if not isinstance(value, list):
        yield f"{where} must be an array, not {type(value).__name__}"
        return
    if len(value) < rule.min_items:
        yield f"{where} must hold at least {rule.min_items} item(s)"
    assert rule.items is not None
    for n, element in enumerate(value):
        yield from check(rule.items, element, f"{where}[{n}]")


def _datetime(value: str, where: str) -> Iterator[str]:
    if not _DATETIME.fullmatch(value):
        yield f"{where} {value!r} is not an ISO 8601 date-time with its zone"
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        yield f"{where} {value!r} is not a date-time that exists"


def _text(rule: Rule, value: str, where: str) -> Iterator[str]:
    if not value:
        yield f"{where} must not be empty"
    if rule.max_length is not None and len(value) > rule.max_length:
        yield f"{where} is {len(value)} characters long, more than the {rule.max_length} allowed"
    if rule.pattern is not None and not rule.pattern.fullmatch(value):
        yield f"{where} {value!r} does not match the pattern {rule.pattern.pattern}"


def _iso4217(code: str) -> bool:
    return pycountry.currencies.get(alpha_3=code) is not None


def endpoint(path: str) -> tuple[str, Endpoint] | None:
    """The template and rules of a path under the API base (``/accounts/A1/balances``)."""
    parts = path.rstrip("/").split("/")
    for template, rules in ENDPOINTS.items():
        pattern = template.split("/")
        if len(pattern) == len(parts) and all(
            _TEMPLATE_PART.fullmatch(p) or p == part for p, part in zip(pattern, parts, strict=True)
        ):
            return template, rules
    return None


def response_problems(path: str, body: Any) -> list[str]:
    """Every way a JSON response from ``path`` (under the API base) breaks the rules."""
    found = endpoint(path)
    if found is None:
        return [f"{path} is not a resource the written-down rules know"]
    _, rules = found
    if not isinstance(body, dict):
        return [f"the response to {path} must be an object"]
    problems: list[str] = []
    if "Data" not in body:
        problems.append("Data is required but missing")
    if "Links" in body:
        problems += check(LINKS, body["Links"], "Links")
    if "Meta" in body:
        problems += check(META, body["Meta"], "Meta")
    data = body.get("Data")
    if data is None:
        return problems
    if rules.key is None:
        return problems + list(check(rules.item, data, "Data"))
    if not isinstance(data, dict):
        return [*problems, "Data must be an object"]
    where = f"Data.{rules.key}"
    if rules.key not in data:
        if rules.min_items:
            problems.append(f"{where} is required but missing")
        return problems
    value = data[rules.key]
    if rules.single:
        return problems + list(check(rules.item, value, where))
    problems += check(Rule("array", items=rules.item, min_items=rules.min_items), value, where)
    return problems


def item_problems(stream_kind: str, item: Any) -> list[str]:
    """Every way one item of a stream (``transactions``, ``statements``...) breaks the rules."""
    rule = STREAMS.get(stream_kind)
    return [] if rule is None else list(check(rule, item, stream_kind))
