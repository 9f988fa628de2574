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

from sqlalchemy import Index
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


# -- links across providers (portal.understand.links) ----------------------------------


class Link(SQLModel, table=True):
    """Two records that are one event seen from two sides: a bill and the bank payment that
    paid it, an order and its card payment, a refund and its purchase, a direct debit and
    the account it pays at a connected provider. Read both ways: ``portal show`` and the
    view's record pages list a record's links whichever side it is on."""

    __tablename__ = "links"
    __table_args__ = (Index("ix_links_to", "to_table", "to_id"),)

    from_table: str = Field(
        primary_key=True,
        description="The table of the record that was paid, refunded or mandated (bills,"
        " purchases, recurring_payments), or of a refund (transactions).",
    )
    from_id: str = Field(primary_key=True, description="Its portal id.")
    to_table: str = Field(
        primary_key=True,
        description="The table of the record on the other side (transactions, purchases,"
        " accounts).",
    )
    to_id: str = Field(primary_key=True, description="Its portal id.")
    rule: str = Field(
        description="The rule that found the link (portal.understand.links.RULES names each"
        " in words)."
    )
    confidence: str = Field(
        description="high: the other side names the account or the shop as well as agreeing"
        " in amount and date; medium: amount and date alone, with no other candidate."
    )
    found_at: datetime = Field(sa_type=UTCDateTime, description="When the rule found it.")
