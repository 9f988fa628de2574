"""Stored records against a sandbox's ``expected_records``, value by value.

The comparison the conformance suite's ``values`` check makes, written out for the plugin
tests that prove a sandbox's expectations against a real sync: every field a stored record
fills must be stated for its provider id, and every stated field must hold. A field naming
another record (``account_id``) is stated as that record's provider id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from portal.app import Portal
from portal.record import ENTITIES

PROVENANCE = {
    "id", "provider", "provider_id", "origin", "connection_id", "consent_id", "fetched_at",
    "raw_id", "extra",
}  # fmt: skip


def _filled(value: Any) -> bool:
    return value not in (None, [], {}, "")


def _plain(value: Any) -> Any:
    """Nested models and enums as the plain values an expectation states."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str):  # a StrEnum
        return value.value
    return value


def differences(
    portal: Portal, provider: str, expected: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> list[str]:
    """Each way the stored records of ``provider`` differ from ``expected``, in words."""
    records = {
        entity: [entity.model_validate(row) for row in portal.store.rows(entity, provider)]
        for entity in ENTITIES
    }
    provider_ids = {r.id: r.provider_id for found in records.values() for r in found}
    found: list[str] = []
    for entity, stored in records.items():
        category = entity.category.value
        stated = expected.get(category, {})
        if stored and not stated:
            found.append(f"{category}: no expectations stated for {len(stored)} records")
            continue
        for record in stored:
            where = f"{category} {record.provider_id}"
            want = stated.get(record.provider_id)
            if want is None:
                found.append(f"{where}: no expectation stated")
                continue
            have = {
                name: _plain(getattr(record, name))
                for name in type(record).model_fields
                if name not in PROVENANCE
            }
            have |= {f"extra.{k}": v for k, v in record.extra.items()}
            for name, value in have.items():
                if name.endswith("_id") and value:
                    value = provider_ids.get(value, value)
                if name not in want:
                    if _filled(value):
                        found.append(f"{where}: {name} is filled ({value!r}) but not stated")
                elif value != want[name]:
                    found.append(f"{where}: {name} is {value!r}, expected {want[name]!r}")
            found += [
                f"{where}: {n} is stated but the record has none" for n in want if n not in have
            ]
        found += [
            f"{category} {pid}: expected, not stored"
            for pid in set(stated) - {r.provider_id for r in stored}
        ]
    return found
