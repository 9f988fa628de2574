"""What the understanding layer concluded, as export files beside the record's.

``portal export`` writes one file per entity of the record; these are the files it writes
beside them for the facts portal derived (spending categories, recurring payments found,
links across providers, bills checked), the person's own category rules, and every earlier
version of a record (the history a provider no longer releases). Each column is described
in words in the manifest, from the table's own field descriptions, as the record's are.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import SQLModel

from portal.understand.tables import (
    BillCheck,
    CategoryRule,
    Link,
    RecordVersion,
    RecurringChange,
    RecurringSeries,
    TransactionCategory,
)

if TYPE_CHECKING:
    from portal.store import Store

EXPORTED: tuple[type[SQLModel], ...] = (
    TransactionCategory,
    CategoryRule,
    RecurringSeries,
    RecurringChange,
    Link,
    BillCheck,
    RecordVersion,
)
"""The tables exported, in the order their files are written."""


def name_of(model: type[SQLModel]) -> str:
    """The table's name: its export file's name, without the extension."""
    return str(model.__tablename__)


def columns(model: type[SQLModel]) -> dict[str, dict[str, Any]]:
    """Each column's title and description, for the manifest (the column's name in words
    as its title: these tables are portal's own, their descriptions say the rest)."""
    return {
        name: {"title": name.replace("_", " ").capitalize(), "description": field.description}
        for name, field in model.model_fields.items()
    }


def rows(store: Store, model: type[SQLModel]) -> Iterator[dict[str, Any]]:
    """The table's rows as plain values (exact decimals, aware timestamps), in key order."""
    table = model.__table__  # type: ignore[attr-defined]
    query = select(table).order_by(*table.primary_key.columns)
    with store.engine.connect() as db:
        for row in db.execution_options(yield_per=1000).execute(query):
            yield row._asdict()
