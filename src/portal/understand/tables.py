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
from decimal import Decimal

from sqlmodel import Field, SQLModel

from portal.record.types import DecimalText, UTCDateTime


class Understood(SQLModel, table=True):
    """How far one step of the understanding layer has read the store."""

    __tablename__ = "understood"

    step: str = Field(primary_key=True, description="The step's name (portal.understand).")
    through: datetime = Field(
        sa_type=UTCDateTime,
        description="Every record fetched up to this moment has been through the step.",
    )


# -- bills checked against usage and tariff (portal.understand.bills) -------------------


class BillCheck(SQLModel, table=True):
    """One bill checked against the usage it charges for and the tariff that applied.

    One row per bill, replaced each time the bill is checked again (when the bill, the
    usage of its period or its tariff changed). The numbers are those of the comparison
    that decided the outcome: the first one that differs, else the main quantity billed.
    """

    __tablename__ = "bill_checks"

    bill_id: str = Field(primary_key=True, description="Portal id of the bill checked.")
    checked_at: datetime = Field(sa_type=UTCDateTime, description="When portal checked it (UTC).")
    outcome: str = Field(
        index=True,
        description="agrees, differs, or cannot_check (no usage released for the period,"
        " no tariff to price it).",
    )
    unit: str | None = Field(
        default=None, description="Unit of the quantities compared (kWh, m3, minute...)."
    )
    usage_quantity: Decimal | None = Field(
        default=None,
        sa_type=DecimalText,
        description="What the usage records of the bill's period add up to, in the unit.",
    )
    billed_quantity: Decimal | None = Field(
        default=None, sa_type=DecimalText, description="What the bill charges for, in the unit."
    )
    expected_amount: Decimal | None = Field(
        default=None,
        sa_type=DecimalText,
        description="What the tariff says the bill (or the line that differs) should come to.",
    )
    billed_amount: Decimal | None = Field(
        default=None,
        sa_type=DecimalText,
        description="What the bill (or the line that differs) charges.",
    )
    difference: Decimal | None = Field(
        default=None,
        sa_type=DecimalText,
        description="Billed minus expected: in the unit for a quantity, in the currency for"
        " an amount; positive when more was billed.",
    )
    currency: str | None = Field(default=None, description="ISO 4217 currency of the amounts.")
    message: str = Field(description="The check in plain words, as portal bills prints it.")
