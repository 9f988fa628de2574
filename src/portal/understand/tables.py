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


# -- Spending categories (portal.understand.categories, revision 0005) -----------------


class TransactionCategory(SQLModel, table=True):
    """The spending category of one transaction, and the rule that decided it."""

    __tablename__ = "transaction_categories"

    transaction_id: str = Field(
        primary_key=True, description="Portal id of the transaction (transactions.id)."
    )
    category: str = Field(
        index=True,
        description="What the money was for (portal.understand.spending.Spending), e.g."
        " groceries; uncategorised when nothing decided.",
    )
    rule: str = Field(
        description="What decided it: person:PATTERN (your rule), own-transfer, mcc:CODE"
        " (ISO 18245 merchant category code), provider:CODE (the provider's code for the kind"
        " of transaction), portal:PATTERN (portal's payee words), or none."
    )
    paired_with: str | None = Field(
        default=None,
        description="For a transfer between your own accounts, the portal id of the"
        " transaction on the other account.",
    )
    decided_at: datetime = Field(sa_type=UTCDateTime, description="When it was decided.")


class CategoryRule(SQLModel, table=True):
    """A person's rule: transactions whose payee, merchant or description match a pattern
    take a category, whatever else would decide it."""

    __tablename__ = "category_rules"

    pattern: str = Field(
        primary_key=True,
        description="A glob (* any text, ? one character), matched without regard to case"
        " against the counterparty, the merchant and the description.",
    )
    category: str = Field(description="The category it gives (portal.understand.spending).")
    created_at: datetime = Field(sa_type=UTCDateTime, description="When the rule was made.")
