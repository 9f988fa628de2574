"""Stored records against a sandbox's ``expected_records``, value by value.

The comparison of the conformance suite's ``values`` check (``portal_conformance.rules.
values``), run on a plugin test's own sync, so a sandbox's expectations are proved against
the store of a real sync: every field a stored record fills must be stated for its provider
id, and every stated field must hold. A field naming another record (``account_id``) is
compared as that record's provider id.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from portal.app import Portal
from portal.record import ENTITIES, Entity
from portal_conformance.rules.values import compare, delivered_values, matched

PORTALS = set(Entity.model_fields)
"""Fields every record has (its own ids, its connection's): none names another record."""


def differences(
    portal: Portal, provider: str, expected: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> list[str]:
    """Each way the stored records of ``provider`` differ from ``expected``, in words."""
    rows = {entity: list(portal.store.rows(entity, provider)) for entity in ENTITIES}
    provider_ids = {r["id"]: r["provider_id"] for found in rows.values() for r in found}
    found: list[str] = []
    for entity, stored in rows.items():
        category = entity.category.value
        references = [n for n in entity.model_fields if n.endswith("_id") and n not in PORTALS]
        stated = expected.get(category, {})
        keys = {r["provider_id"]: matched(r["provider_id"], stated) for r in stored}
        found += [f"{category} {pid}: no expectation stated" for pid, k in keys.items() if not k]
        found += [f"{category} {k}: expected, not stored" for k in set(stated) - set(keys.values())]
        for row in stored:
            key = keys[row["provider_id"]]
            if key is None:
                continue
            delivered = delivered_values(entity, row)
            for name in references:
                delivered[name] = provider_ids.get(delivered[name], delivered[name])
            unstated, wrong = compare(stated[key], delivered)
            where = f"{category} {row['provider_id']}"
            found += [f"{where}: {name} is filled but not stated" for name in unstated]
            found += [
                f"{where}: {n} is {got!r}, expected {want!r} ({why})" for n, want, got, why in wrong
            ]
    return found


def spoiling_one_value(plugins: Path, stream: str, provider_id: str, field: str, how: str) -> Path:
    """A plugins folder whose one plugin spoils one delivered value, as a careless plugin would.

    It wraps every provider's ``normalise`` and sets ``field`` of the record ``provider_id``
    (from a stream whose name starts with ``stream``) to ``how``, a Python expression of the
    field's ``value``: the rest of the sync goes through the real path untouched.
    """
    plugins.mkdir(parents=True)
    (plugins / "spoil_one_value.py").write_text(
        textwrap.dedent(
            f"""
            from portal import hookimpl


            @hookimpl(wrapper=True)
            def normalise(stream):
                records = yield
                for record in records:
                    if stream.startswith({stream!r}) and record.provider_id == {provider_id!r}:
                        value = getattr(record, {field!r})
                        setattr(record, {field!r}, {how})
                return records
            """
        ),
        encoding="utf-8",
    )
    return plugins
