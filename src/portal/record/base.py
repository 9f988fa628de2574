"""What every record entity shares: provenance, and fields that always carry a title.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

import functools
from typing import Any, ClassVar, Self, get_args

from pydantic import BaseModel, ValidationInfo, model_validator
from pydantic.fields import FieldInfo
from sqlalchemy import String
from sqlmodel import Field, SQLModel

from portal.record.types import (
    RECORD_JSON,
    DecimalText,
    Timestamp,
    UTCDateTime,
    keeps_exactly,
    not_kept,
)
from portal.record.vocab import Category, Origin


def field(title: str, description: str, **kwargs: Any) -> Any:
    """A model field that always carries a title and a description for exports and reports."""
    return Field(title=title, description=description, **kwargs)


def money(title: str, description: str, **kwargs: Any) -> Any:
    """An exact Decimal field (money, a quantity), stored as a number that sorts and sums in SQL."""
    return field(title, description, sa_type=DecimalText, **kwargs)


exact = money
"""An exact Decimal field that is not money (a quantity, points, a score)."""


def code(title: str, description: str, **kwargs: Any) -> Any:
    """A vocabulary code (a ``StrEnum`` such as ``Unit``), stored as its text."""
    return field(title, description, sa_type=String, **kwargs)


def moment(title: str, description: str, **kwargs: Any) -> Any:
    """A timezone-aware timestamp field, stored as UTC ISO 8601 text."""
    return field(title, description, sa_type=UTCDateTime, **kwargs)


def mapping(title: str, description: str, **kwargs: Any) -> Any:
    """A JSON field (nested values, lists); JSONB on PostgreSQL."""
    return field(title, description, sa_type=RECORD_JSON, **kwargs)


READ_FROM_STORE = "read_from_store"
"""Validation context key: the values come from the store's own row (``portal.view.stored``)."""


class Entity(SQLModel):
    """Provenance carried by every row of the customer record."""

    category: ClassVar[Category]

    id: str = field(
        "Portal id",
        "Stable id portal gives this row, the same on every sync of the same provider item.",
        default="",
        primary_key=True,
    )
    provider: str = field(
        "Provider", "Short name of the provider this came from.", default="", index=True
    )
    provider_id: str = field("Provider's id", "The provider's own identifier for this item.")
    origin: Origin = field(
        "Origin",
        "Whether the customer provided it, the provider observed it, or the provider inferred it.",
        default=Origin.observed,
        sa_type=String,
    )
    connection_id: str = field(
        "Connection", "The portal connection it was fetched through.", default=""
    )
    consent_id: str | None = field(
        "Consent", "The provider's consent or grant it was fetched under.", default=None
    )
    fetched_at: Timestamp | None = moment(
        "Fetched at", "When portal fetched it from the provider.", default=None
    )
    raw_id: str = field(
        "Raw payload", "Digest of the raw payload this row was normalised from.", default=""
    )
    extra: dict[str, Any] = mapping(
        "Other provider fields",
        "Fields the provider released that have no column of their own, kept as released.",
        default_factory=dict,
    )

    @model_validator(mode="after")
    def _numbers_the_store_keeps(self, info: ValidationInfo) -> Self:
        # The store's money and quantity columns hold SQLite numbers, so that they sort and
        # sum in SQL: a value those would round is refused here (a Rejection naming the
        # field), never rounded there. Values nested in JSON (bill lines) are kept as text.
        # A row read back from the store (context READ_FROM_STORE) holds what the store
        # holds, whatever wrote it: shown as it is, not refused.
        if info.context and info.context.get(READ_FROM_STORE):
            return self
        for name in number_columns(type(self)):
            value = self.__dict__.get(name)
            if value is not None and not keeps_exactly(value):
                raise ValueError(not_kept(name, value))
        return self


@functools.cache
def number_columns(entity: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``entity`` stored as numbers (``DecimalText``): money and quantities."""
    return tuple(
        name
        for name, info in entity.model_fields.items()
        if any(getattr(mark, "sa_type", None) is DecimalText for mark in info.metadata)
    )


def titles(entity: type[Entity]) -> dict[str, tuple[str, str]]:
    """Each field's title and description, for exports and reports."""
    fields: dict[str, FieldInfo] = entity.model_fields
    return {name: (f.title or name, f.description or "") for name, f in fields.items()}


def nested_titles(entity: type[Entity]) -> dict[str, dict[str, tuple[str, str]]]:
    """For each field holding value objects (prices, line items), their fields' titles."""
    result: dict[str, dict[str, tuple[str, str]]] = {}
    for name, info in entity.model_fields.items():
        for kind in (info.annotation, *get_args(info.annotation)):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                parts: dict[str, FieldInfo] = kind.model_fields
                result[name] = {n: (f.title or n, f.description or "") for n, f in parts.items()}
    return result
