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
from typing import Any

from sqlalchemy import JSON, Index
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


# -- history: every earlier version of a record (portal.store_history, portal.understand.history)


class RecordVersion(SQLModel, table=True):
    """An earlier version of a record: kept when a sync replaced it with a changed one, or
    when the provider stopped releasing it. The live tables hold what providers release
    now; this table holds what they released before, for as long as the person keeps it."""

    __tablename__ = "record_versions"
    # Numbers are never reused: they order the versions of one record.
    __table_args__ = (
        Index("ix_record_versions_record", "table_name", "record_id"),
        Index("ix_record_versions_replaced", "replaced_at"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None, primary_key=True, description="Order of keeping: later versions, higher."
    )
    table_name: str = Field(description="The record's table (its category).")
    record_id: str = Field(description="The record's portal id.")
    provider: str = Field(index=True, description="Provider short name.")
    row: dict[str, Any] = Field(
        sa_type=JSON, description="The row as it was, every column, as JSON."
    )
    valid_from: datetime | None = Field(
        default=None,
        sa_type=UTCDateTime,
        description="When this version was fetched (the row's fetched_at).",
    )
    replaced_at: datetime = Field(
        sa_type=UTCDateTime,
        description="When a sync replaced it (the new version's fetched_at) or found it gone.",
    )
    why: str = Field(description="changed, or no longer released.")


class HistoryStart(SQLModel, table=True):
    """Where a provider's history of changes starts: what it released up to its first
    complete sync is the starting point, not something that changed."""

    __tablename__ = "history_starts"

    provider: str = Field(primary_key=True, description="Provider short name.")
    started_at: datetime = Field(
        sa_type=UTCDateTime, description="The end of the provider's first complete sync."
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


DERIVED_TABLES: tuple[str, ...] = (
    Understood.__tablename__,
    BillCheck.__tablename__,
    Link.__tablename__,
    RecurringSeries.__tablename__,
    RecurringMember.__tablename__,
    RecurringChange.__tablename__,
    RecurringPayeeName.__tablename__,
    TransactionCategory.__tablename__,
)
"""The tables of facts the steps derive (and their marks): worked out again from the
records, so never part of what an import's undo puts back byte for byte. The person's own
rules (``category_rules``) and the kept history are not derived: they are the record."""
