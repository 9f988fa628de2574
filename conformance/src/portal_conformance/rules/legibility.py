"""Legibility, value by value: a person can read every value without a manual (DESIGN §3).

One test per entity field. Each stored value is validated again with the field's own type
(exact money, ISO 4217 currency, aware timestamp, clean text), and rejections whose reason
names the field count against it too: a float amount that the record refused is still a
plugin that sends floats. Codes need a label in words (not the code again in another
spelling), provider codes kept in ``extra`` too (``rules.codes`` says which values are
codes); quantities a unit; and every record with a provider status says what it means in
portal's common vocabulary (``state``, one of ``portal.record.vocab.State``). ``unknown`` is
allowed, as a plugin's deliberate choice, and counted in the report.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pydantic import TypeAdapter, ValidationError

from portal.record.model import Entity
from portal.record.vocab import State
from portal_conformance.failures import CheckFailed, NotApplicable, examples
from portal_conformance.harness import Harness
from portal_conformance.rules.codes import code_problem, extra_problems
from portal_conformance.rules.stored import main_rejections

MAX_DECIMALS = 6
"""More decimal places than this in an amount means a binary float leaked into it."""


def fields_of(entity: type[Entity]) -> list[str]:
    """The fields of ``entity`` checked one by one (``extra`` too: the codes kept in it)."""
    return list(entity.model_fields)


def _adapter(entity: type[Entity], name: str) -> TypeAdapter[Any]:
    cache: dict[tuple[type[Entity], str], TypeAdapter[Any]] = _ADAPTERS
    key = (entity, name)
    if key not in cache:
        info = entity.model_fields[name]
        cache[key] = TypeAdapter(info.rebuild_annotation())  # type: ignore[attr-defined]
    return cache[key]


_ADAPTERS: dict[tuple[type[Entity], str], TypeAdapter[Any]] = {}


def label_of(entity: type[Entity], name: str) -> str | None:
    """The field holding the words for code field ``name`` (``status`` -> ``status_label``,
    ``merchant_category_code`` -> ``merchant_category_label``), if it has one."""
    for candidate in (f"{name}_label", f"{name.removesuffix('_code')}_label"):
        if candidate != name and candidate in entity.model_fields:
            return candidate
    return None


def _money_problem(value: Any) -> str | None:
    if isinstance(value, float):
        return f"{value!r} is a float"
    if isinstance(value, Decimal):
        if not value.is_finite():
            return f"{value} is not a finite amount"
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > MAX_DECIMALS:
            return f"{value} has {-exponent} decimal places (a float converted to Decimal?)"
    return None


def _nested_codes(value: Any, path: str) -> list[str]:
    # Code/label pairs inside nested values (identifiers, bill lines, ...).
    found: list[str] = []
    if isinstance(value, list):
        for i, element in enumerate(value):
            found += _nested_codes(element, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, inner in value.items():
            for label_key in (f"{key}_label", f"{key.removesuffix('_code')}_label"):
                if label_key != key and label_key in value:
                    if problem := code_problem(inner, value[label_key]):
                        found.append(f"{path}.{key}: {problem}")
                    break
    return found


def _is_money(entity: type[Entity], name: str) -> bool:
    # Money and quantity fields are DecimalText columns (``portal.record.base.money``).
    annotation = entity.model_fields[name].rebuild_annotation()  # type: ignore[attr-defined]
    return "DecimalText" in repr(annotation)


def legible(h: Harness, param: str) -> dict[str, int]:
    """Check one field of one entity, value by value; return how many values were checked."""
    category, _, name = param.partition(".")
    h.require_main_ok()
    entity = h.entity(category)
    if name not in entity.model_fields:
        raise NotApplicable(f"{entity.__name__} has no field {name!r}")
    info = entity.model_fields[name]
    where = f"{category}.{name}"
    if not (info.title and info.description):
        raise CheckFailed(
            f"{entity.__name__}.{name} has no title or description, so exports cannot label it.",
            where=where,
            fix="Declare the field with portal.record.model.field(title, description).",
        )
    rows = h.rows(entity)
    adapter = _adapter(entity, name)
    label_field = label_of(entity, name)
    labels = label_field is not None
    money = _is_money(entity, name)
    bad: list[str] = []
    unknown = 0
    for row in rows:
        value = row.get(name)
        who = row.get("provider_id", "?")
        if name == "state":
            if problem := _state_problem(row):
                bad.append(f"{who}: {problem}")
            unknown += value == State.unknown
            continue
        if value is not None:
            try:
                adapter.validate_python(value)
            except ValidationError as error:
                bad.append(f"{who}: {error.errors()[0]['msg']}")
                continue
        problem = (
            (_money_problem(value) if money else None)
            or (code_problem(value, row.get(label_field)) if label_field else None)
            or (_unit_problem(row, name))
        )
        if problem:
            bad.append(f"{who}: {problem}")
        if name == "extra":
            kept = json.loads(value) if isinstance(value, str) else value
            bad += [f"{who}: {p}" for p in extra_problems(kept or {})]
        else:
            bad += [f"{who}: {p}" for p in _nested_codes(value, name)]
    refused = [
        r
        for r in main_rejections(h)
        if f"{entity.__name__}.{name}:" in str(r["reason"])
        or f"{entity.__name__}.{name}." in str(r["reason"])
    ]
    if refused:
        bad += [f"rejected item {r['raw_id'][:12]}: {r['reason']}" for r in refused]
    if bad:
        raise CheckFailed(
            f"{len(bad)} of {len(rows) + len(refused)} values of {where} are not legible:"
            f" {examples(bad)}.",
            where=where,
            fix=_fix(name, money, labels or name == "extra"),
            stats={"checked": len(rows) + len(refused), "illegible": len(bad), "unknown": unknown},
        )
    return {"checked": len(rows), "illegible": 0} | (
        {"unknown": unknown} if name == "state" else {}
    )


def _state_problem(row: dict[str, Any]) -> str | None:
    # The provider's code is what a person would have to look up: name it beside the state.
    value, status = row.get("state"), row.get("status")
    if value is None:
        return None if status is None else f"status {status!r} has no state (state is empty)"
    if value not in {s.value for s in State}:
        return (
            f"status {status!r} has state {value!r}, which is not in portal's vocabulary"
            f" ({', '.join(s.value for s in State)})"
        )
    return None


def _unit_problem(row: dict[str, Any], name: str) -> str | None:
    if name == "quantity" and row.get("quantity") is not None and not row.get("unit", "-"):
        return "a quantity without a unit"
    if name == "unit" and row.get("unit"):
        try:
            from portal.record.vocab import Unit  # type: ignore[attr-defined]
        except ImportError:
            return None
        if row["unit"] not in {u.value for u in Unit}:
            return f"unit {row['unit']!r} is not in the unit vocabulary"
    return None


def _fix(name: str, money: bool, labels: bool) -> str:
    if money:
        return (
            "Build amounts with Decimal(the provider's string), never float(); keep the"
            " provider's exact digits."
        )
    if name == "state":
        return (
            "Map every status code the provider has to a portal.record.vocab.State in"
            " state (a table of the provider's codes, read with state_of); State.unknown"
            " only for a code with no meaning in that vocabulary, as a deliberate choice."
        )
    if name == "extra":
        return (
            "Give every provider code kept in extra its words under <key>_label beside it,"
            " or map it to a field with a label; words, not the code respelled."
        )
    if labels:
        return (
            f"Give every {name} its words in {name}_label (a lookup table of the provider's codes)."
        )
    if name.endswith("_at") or name in {"as_of"}:
        return (
            "Parse timestamps with their offset (datetime.fromisoformat) or attach the"
            " provider's zone; never a naive datetime."
        )
    return "Normalise the value to the field's type: clean UTF-8 text, ISO codes, aware times."
