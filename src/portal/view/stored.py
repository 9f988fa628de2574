"""Entities from the store's rows, for the pages.

A row is validated as the entity again (which also turns stored JSON, codes and numbers
back into their types). The sync validated it once, but a row that would not validate now
must still be shown rather than break the page: a plugin that changed a value after
building the entity, a store edited by hand, a rule tightened since. Numbers are taken as
the store holds them (``READ_FROM_STORE``: a REAL with more digits than the sync would
accept is still what the store holds); text fields that fail (control characters,
U+FFFD) are shown neutralised (``portal.shown``), the way the templates would show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from portal.record.base import READ_FROM_STORE
from portal.shown import shown

E = TypeVar("E", bound=BaseModel)


def stored(entity: type[E], row: Mapping[str, Any]) -> E:
    """``entity`` made from ``row`` (a store row: column name to value)."""
    context = {READ_FROM_STORE: True}
    try:
        return entity.model_validate(row, context=context)
    except ValidationError as error:
        failed = {problem["loc"][0] for problem in error.errors() if problem["loc"]}
        cleaned = {
            name: shown(value) if name in failed and isinstance(value, str) else value
            for name, value in row.items()
        }
        return entity.model_validate(cleaned, context=context)  # still failing: no text: raise
