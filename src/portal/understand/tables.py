"""The understanding layer's own tables: what it derived, and how far it has read.

Derived facts live in tables of their own, never in the rows a provider released: a
provider's record stays exactly what it sent (and what its raw payload re-normalises to),
and what portal concluded about it can be worked out again, by a better rule, at any time.

Each step of ``portal.understand`` adds its tables here (so they join SQLModel's metadata
through ``portal.store_schema``, which imports this module) and a revision in
``portal.migrations`` that makes them.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.record.types import UTCDateTime


class Understood(SQLModel, table=True):
    """How far one step of the understanding layer has read the store."""

    __tablename__ = "understood"

    step: str = Field(primary_key=True, description="The step's name (portal.understand).")
    through: datetime = Field(
        sa_type=UTCDateTime,
        description="Every record fetched up to this moment has been through the step.",
    )
