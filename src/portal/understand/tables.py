"""The understanding layer's own tables: what it derived, and how far it has read.

Derived facts live in tables of their own, never in the rows a provider released: a
provider's record stays exactly what it sent (and what its raw payload re-normalises to),
and what portal concluded about it can be worked out again, by a better rule, at any time.

Each step of ``portal.understand`` adds its tables here (so they join SQLModel's metadata
through ``portal.store_schema``, which imports this module) and a revision in
``portal.migrations`` that makes them.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date, datetime
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


# -- recurring payments (portal.understand.recurring) ------------------------------------


class RecurringSeries(SQLModel, table=True):
    """A recurring payment portal found in an account's history: the same payee paid at a
    regular cadence, or the payments a mandate the bank declares (a direct debit, a
    standing order) has collected."""

    __tablename__ = "recurring_series"

    id: str = Field(
        primary_key=True,
        description="Stable id of the series: the same account, currency and payee give the"
        " same id on every run.",
    )
    account_id: str = Field(index=True, description="Portal id of the account it is paid from.")
    payee_key: str = Field(
        description="The payee as portal groups payments by it: lower case, references'"
        " digits and punctuation left out."
    )
    payee: str = Field(description="The payee as the latest payment names it.")
    kind: str = Field(
        description="direct_debit or standing_order (the bank declares it), card_subscription"
        " (found among card payments) or detected (found among other payments)."
    )
    declared_id: str | None = Field(
        default=None,
        index=True,
        description="Portal id of the recurring_payments row the bank declares for it, if any.",
    )
    cadence: str | None = Field(
        default=None,
        description="weekly, monthly, quarterly or yearly; empty when the payments of a"
        " declared mandate keep no regular cadence.",
    )
    amount: Decimal = Field(
        sa_type=DecimalText, description="The latest payment's amount, positive (money out)."
    )
    currency: str = Field(description="ISO 4217 currency of the amounts.")
    cost_per_year: Decimal | None = Field(
        default=None,
        sa_type=DecimalText,
        description="The amount times the payments a year its cadence makes (12 for monthly).",
    )
    payments: int = Field(description="How many payments the series holds.")
    first_seen: date = Field(description="The day of the first payment (the person's zone).")
    last_seen: date = Field(description="The day of the latest payment.")
    next_expected: date | None = Field(
        default=None, description="When the next payment is due, one cadence after the latest."
    )
    lapses_after: date | None = Field(
        default=None,
        description="After this day, with the account's history running past it and no"
        " payment, the series has lapsed (the next expected day plus the cadence's tolerance).",
    )
    status: str = Field(
        description="active, or lapsed: the account's history runs past lapses_after with no"
        " payment (judged against what the bank released, not the clock, so an account"
        " synced long ago does not make everything look lapsed)."
    )


class RecurringMember(SQLModel, table=True):
    """A transaction that is one payment of a recurring series."""

    __tablename__ = "recurring_members"

    series_id: str = Field(primary_key=True, description="The series (recurring_series.id).")
    transaction_id: str = Field(
        primary_key=True, index=True, description="The payment (transactions.id)."
    )


class RecurringChange(SQLModel, table=True):
    """A change of amount in a recurring series: a price rise, a new tariff."""

    __tablename__ = "recurring_changes"

    series_id: str = Field(primary_key=True, description="The series (recurring_series.id).")
    changed_on: date = Field(
        primary_key=True, description="The day of the first payment at the new amount."
    )
    from_amount: Decimal = Field(sa_type=DecimalText, description="The amount before, positive.")
    to_amount: Decimal = Field(sa_type=DecimalText, description="The amount from then on.")


class RecurringPayeeName(SQLModel, table=True):
    """Each payee text met in an account's payments and the key portal groups it under, so
    that a new payment finds the other payments of its payee without reading the account."""

    __tablename__ = "recurring_payees"

    account_id: str = Field(primary_key=True, description="Portal id of the account.")
    currency: str = Field(primary_key=True, description="ISO 4217 currency of the payments.")
    text: str = Field(
        primary_key=True,
        description="The payee as transactions name it: counterparty, else merchant, else"
        " description.",
    )
    from_description: bool = Field(
        description="The text is a description (the payments name no counterparty or merchant)."
    )
    payee_key: str = Field(index=True, description="The key it is grouped under.")
