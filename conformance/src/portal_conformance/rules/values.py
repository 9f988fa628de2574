"""Value by value: every stored record says what the provider served, field by field.

The sandbox states, per the provider's published specification, what the record of each
item it serves must say (``Sandbox.expected_records``: ``{category: {provider_id: {field:
value}}}``). Every stored record of a category is compared with that statement: every
field the record fills must be stated (the check never silently compares less), and every
stated field must hold. Text is compared exactly, numbers as exact decimals, moments as the
same instant (stored in UTC), references through the referenced record's provider id.
A stored ``provider_id`` answers the statement of the same id, or of the one id it ends with
after a ``:`` (a plugin's namespace: ``statement:`` before a StatementId). Codes' labels a
plugin adds beside codes kept in ``extra`` are legibility's to judge, not compared here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Set
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from portal.record.model import ENTITIES, Entity
from portal_conformance.failures import CheckFailed, examples, require
from portal_conformance.harness import Harness
from portal_conformance.rules.completeness import describe_item
from portal_conformance.rules.stored import cached, main_raw_items

BOOKKEEPING = frozenset(
    [
        "id",
        "provider",
        "provider_id",
        "origin",
        "connection_id",
        "consent_id",
        "fetched_at",
        "raw_id",
    ]
)
"""Portal's own fields: not the provider's to state (``provider_id`` is the match key)."""

_REFERENCES = {f"{e.__name__.lower()}_id": e for e in ENTITIES}
_SHOWN = 60
"""Characters of a long text a failure message shows (with its length)."""


def read_expected(sandbox: Any) -> dict[str, dict[str, dict[str, Any]]]:
    """The sandbox's ``expected_records()``, checked for shape."""
    stated = getattr(sandbox, "expected_records", None)
    raw = stated() if callable(stated) else {}
    require(
        isinstance(raw, Mapping)
        and all(
            isinstance(by_id, Mapping) and all(isinstance(v, Mapping) for v in by_id.values())
            for by_id in raw.values()
        ),
        "The sandbox's expected records are not {category: {provider_id: {field: value}}}.",
        where=f"{type(sandbox).__name__}.expected_records()",
        fix="Return {category: {provider_id: {field: expected value}}} for what is served now.",
    )
    return {c: {str(k): dict(v) for k, v in by_id.items()} for c, by_id in raw.items()}


def filled(value: Any) -> bool:
    """Whether a stored value says something (not None, not an empty list or mapping)."""
    if value is None:
        return False
    return bool(value) or not isinstance(value, list | dict | tuple | Set)


def shown(value: Any) -> str:
    """A value for a failure message: its repr, a long text cut with its length."""
    if isinstance(value, str) and len(value) > _SHOWN:
        return f"{value[:_SHOWN]!r}... ({len(value)} characters)"
    if isinstance(value, Set):
        return "{" + ", ".join(sorted(repr(v) for v in value)) + "}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | Enum):
        return str(value.value if isinstance(value, Enum) else value)
    return repr(value)


_PLAIN = frozenset([str, Decimal, date, bool, int])
"""Types whose equal values need no further look (a datetime's zone does)."""


def differs(expected: Any, delivered: Any) -> str | None:
    """Why ``delivered`` is not ``expected`` (None if it is), per the contract's types."""
    if type(expected) is type(delivered) and type(expected) in _PLAIN and expected == delivered:
        return None  # most values of most records: the same text, number or day
    if isinstance(delivered, Enum):
        delivered = delivered.value
    if expected is None or not filled(expected):
        return None if not filled(delivered) else "stated empty"
    if not filled(delivered):
        return "missing"
    if isinstance(expected, datetime):
        return _moment(expected, delivered)
    if isinstance(expected, date):
        if isinstance(delivered, str):
            delivered = _parse(date.fromisoformat, delivered)
        same = type(delivered) is date and delivered == expected
        return None if same else "another day"
    if isinstance(expected, Decimal):
        if isinstance(delivered, str):
            delivered = _parse(Decimal, delivered)
        same = isinstance(delivered, Decimal) and delivered == expected
        return None if same else "another number"
    if isinstance(expected, Set):
        return _set(expected, delivered)
    if isinstance(expected, list | tuple):
        if not isinstance(delivered, list | tuple) or len(delivered) != len(expected):
            return "another list"
        for i, (e, d) in enumerate(zip(expected, delivered, strict=True)):
            why = differs(e, d)
            if why:
                return f"[{i}]: {why}"
        return None
    if isinstance(expected, Mapping):
        if isinstance(delivered, BaseModel):
            delivered = delivered.model_dump()
        if not isinstance(delivered, Mapping):
            return "not a mapping"
        for key in sorted(set(expected) | {k for k, v in delivered.items() if filled(v)}):
            if key not in expected:
                return f".{key}: not stated"
            why = differs(expected[key], delivered.get(key))
            if why:
                return f".{key}: {why}"
        return None
    if isinstance(expected, Enum):
        expected = expected.value
    if type(delivered) is type(expected) and delivered == expected:
        return None
    return _text(expected, delivered) if isinstance(expected, str) else "differs"


def _set(expected: Set[Any], delivered: Any) -> str | None:
    if not isinstance(delivered, list | tuple | Set):
        return "not a list"
    more = sorted(repr(v) for v in set(delivered) - set(expected))
    less = sorted(repr(v) for v in set(expected) - set(delivered))
    twice = len(set(delivered)) != len(delivered)
    if not (more or less or twice):
        return None
    parts = [f"not served: {', '.join(more)}"] if more else []
    parts += [f"left out: {', '.join(less)}"] if less else []
    return "; ".join(parts + (["listed twice"] if twice else []))


def _text(expected: str, delivered: Any) -> str:
    if not isinstance(delivered, str):
        return f"not text but {type(delivered).__name__}"
    if expected.startswith(delivered):
        return f"cut to {len(delivered)} of {len(expected)} characters"
    folded = unicodedata.normalize("NFKD", expected).encode("ascii", "ignore").decode()
    if delivered == folded or (delivered.isascii() and not expected.isascii()):
        return "folded to ASCII"
    return "other text"


def _parse(read: Any, text: str) -> Any:
    try:
        return read(text)
    except (ValueError, ArithmeticError):
        return text


def _moment(expected: datetime, delivered: Any) -> str | None:
    if isinstance(delivered, str):
        delivered = _parse(datetime.fromisoformat, delivered)
    if not isinstance(delivered, datetime) or delivered.tzinfo is None:
        return "not an aware date-time"
    if delivered != expected:
        return "another instant"
    if delivered.utcoffset() != timedelta(0):
        return "the same instant, but not stored in UTC"
    return None


def delivered_values(entity: type[Entity], row: dict[str, Any]) -> dict[str, Any]:
    """A stored row's values in the record model's types (nested models as dicts)."""
    try:
        record = entity.model_validate(row)
    except ValidationError:
        return dict(row)  # invalid rows are required_fields' to report; compare as stored
    return {
        name: value.model_dump()
        if isinstance(value, BaseModel)
        else [v.model_dump() if isinstance(v, BaseModel) else v for v in value]
        if isinstance(value, list)
        else value
        for name, value in record.__dict__.items()
    }


def compare(
    expected: Mapping[str, Any], delivered: Mapping[str, Any]
) -> tuple[list[str], list[tuple[str, Any, Any, str]]]:
    """Fields filled but not stated, and (field, stated, delivered, why) for those that differ.

    ``delivered`` is a record's values (references already resolved to provider ids);
    ``extra`` may be stated whole or key by key as ``"extra.<key>"``.
    """
    unstated: list[str] = []
    wrong: list[tuple[str, Any, Any, str]] = []
    extra = without_labels(delivered.get("extra") or {})
    names = {n for n, v in delivered.items() if n not in BOOKKEEPING and filled(v)}
    if "extra" not in expected and isinstance(extra, Mapping):
        names.discard("extra")
        names |= {f"extra.{k}" for k, v in extra.items() if filled(v)}
    unstated = sorted(n for n in names if n not in expected)
    for name, value in expected.items():
        if name in BOOKKEEPING:
            continue
        if name.startswith("extra."):
            got = extra.get(name.removeprefix("extra.")) if isinstance(extra, Mapping) else None
        elif name == "extra":
            got = extra
        else:
            got = delivered.get(name)
        why = differs(value, got)
        if why:
            wrong.append((name, value, got, why))
    return unstated, wrong


def matched(provider_id: str, expected: Mapping[str, Any]) -> str | None:
    """The expectation a stored ``provider_id`` answers: the same id, or the one id it ends
    with after a ``:`` (a plugin's namespace, as ``statement:`` before a StatementId)."""
    if provider_id in expected:
        return provider_id
    ends = [k for k in expected if provider_id.endswith(f":{k}")]
    return ends[0] if len(ends) == 1 else None


def without_labels(value: Any) -> Any:
    """``value`` without the ``<key>_label`` a plugin adds beside a code kept in ``extra``.

    Those words are legibility's to judge (``rules.codes``); what the provider served is
    compared here.
    """
    if isinstance(value, list):
        return [without_labels(v) for v in value]
    if not isinstance(value, Mapping):
        return value
    return {
        k: without_labels(v)
        for k, v in value.items()
        if not (k.endswith("_label") and k.removesuffix("_label") in value)
    }


def _references(h: Harness, entity: type[Entity]) -> dict[str, dict[str, str]]:
    """For each reference field of ``entity``: portal id to the provider id it stands for."""
    return {
        name: {r["id"]: r["provider_id"] for r in h.rows(target)}
        for name, target in _REFERENCES.items()
        if name in entity.model_fields and name not in Entity.model_fields
    }


def values(h: Harness, category: str) -> None:
    """Every stored record of ``category`` says what the sandbox states it served."""
    run = h.require_main_ok()
    entity = h.entity(category)
    sandbox_where = f"{type(run.sandbox).__name__}.expected_records()"
    stated = cached(h, "expected_records", lambda: read_expected(run.sandbox))
    expected: dict[str, dict[str, Any]] = stated.get(category) or {}
    require(
        bool(expected),
        f"{h.double.capitalize()} states no expected values for {category!r}, so no stored"
        " value can be"
        " compared with what was served.",
        where=sandbox_where,
        fix=f"Implement expected_records() on the sandbox: for each {category} item served,"
        " {provider_id: {field: value}} per the provider's published specification.",
    )
    strange = sorted(
        {n for fields in expected.values() for n in fields if not n.startswith("extra.")}
        - set(entity.model_fields)
    )
    require(
        not strange,
        f"{h.double.capitalize()} states fields {entity.__name__} does not have:"
        f" {examples(strange)}.",
        where=sandbox_where,
        fix=f"Name the record's own fields ({', '.join(entity.model_fields)}); state a"
        " provider field kept aside as 'extra.<key>'.",
    )
    raws = main_raw_items(h)
    references = _references(h, entity)
    rows = h.rows(entity)

    def named(row: dict[str, Any]) -> str:
        # The item by its ids; a nested item (an ESPI entry with its context) has none at
        # its top, so its record's provider_id, which holds the item's own id, names it.
        raw = raws.get(row["raw_id"])
        described = describe_item(raw[1]) if raw else ""
        if row["provider_id"] in described:
            return described
        return f"provider_id={row['provider_id']} {described}".rstrip()

    keys = {r["provider_id"]: matched(r["provider_id"], expected) for r in rows}
    unknown = [named(r) for r in rows if keys[r["provider_id"]] is None]
    require(
        not unknown,
        f"{len(unknown)} stored {category} records are of no item {h.double} serves:"
        f" {examples(unknown)}.",
        where=f"table {category!r}, provider {h.name!r}",
        fix="Use the provider's own id of each item as provider_id (stable, never made up),"
        " and make no record of an item that was not served.",
    )
    missing = sorted(set(expected) - set(keys.values()))
    require(
        not missing,
        f"{len(missing)} {category} items {h.double} serves have no record: {examples(missing)}.",
        where=f"table {category!r}, provider {h.name!r}",
        fix="Fetch and store every item, with the provider's own id as provider_id.",
    )
    unstated: dict[str, list[str]] = {}
    wrong: list[str] = []
    fields: set[str] = set()
    for row in rows:
        delivered = delivered_values(entity, row)
        for name, by_portal_id in references.items():
            if delivered.get(name) is not None:
                delivered[name] = by_portal_id.get(delivered[name], delivered[name])
        missing_fields, differing = compare(expected[keys[row["provider_id"]] or ""], delivered)
        for name in missing_fields:
            unstated.setdefault(name, []).append(named(row))
        for name, served, got, why in differing:
            fields.add(name)
            wrong.append(
                f"{named(row)}: {name} served as {shown(served)}, delivered as {shown(got)} ({why})"
            )
    if unstated:
        which = (f"{n} (e.g. {ids[0]})" for n, ids in sorted(unstated.items()))
        raise CheckFailed(
            f"Stored {category} records fill fields {h.double} states nothing about, so"
            f" they cannot be compared: {examples(which)}.",
            where=sandbox_where,
            fix="State every field the record fills in expected_records(), per the"
            " provider's specification (or, if the plugin makes the value up, stop it).",
        )
    if wrong:
        raise CheckFailed(
            f"{len(wrong)} values of {category} differ from what {h.double} served:"
            f" {examples(wrong)}.",
            where=f"{category}.{'/'.join(sorted(fields))} of provider {h.name!r}",
            fix="Map each field exactly as the specification defines it: text whole and"
            " unfolded, numbers and signs exact, dates in the provider's zone and moments in"
            " UTC, each contact detail under its own type, codes through the published list.",
        )
