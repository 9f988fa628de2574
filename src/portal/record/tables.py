"""The store's tables: one per record entity, plus the engine's own bookkeeping.

Entity tables subclass the validated entities of ``portal.record.model`` with
``table=True``, so a column's title and description are the entity field's.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Table, Text, text
from sqlmodel import Field, SQLModel

from portal.record.model import (
    ENTITIES,
    Account,
    Balance,
    Bill,
    Consent,
    Document,
    Entity,
    Inference,
    Party,
    Payee,
    Processing,
    Product,
    Purchase,
    RecurringPayment,
    Transaction,
    Usage,
)
from portal.record.types import UTCDateTime

# Each table is named after its entity's category, so counts by table name are counts by
# category (``portal status`` and the sync summary rely on it).


class PartyRow(Party, table=True):
    __tablename__ = Party.category.value


class AccountRow(Account, table=True):
    __tablename__ = Account.category.value


class ProductRow(Product, table=True):
    __tablename__ = Product.category.value


class BalanceRow(Balance, table=True):
    __tablename__ = Balance.category.value


class TransactionRow(Transaction, table=True):
    __tablename__ = Transaction.category.value
    # What the view's Money page reads without reading every transaction: the balance after
    # the last transaction before a moment (a seek per day of the balance chart), money in
    # and out per currency and month (an index range holding the amounts), the list sorted
    # or bounded by amount as a number, and who was paid, as the list names them.
    __table_args__ = (
        Index("ix_transactions_account_booked", "account_id", "booked_at", "balance_after"),
        Index("ix_transactions_currency_booked", "currency", "booked_at", "state", "amount"),
        Index("ix_transactions_amount_number", text("CAST(amount AS REAL)")),
        Index("ix_transactions_paid_to", text("coalesce(counterparty, merchant_name)")),
    )


class PurchaseRow(Purchase, table=True):
    __tablename__ = Purchase.category.value


class BillRow(Bill, table=True):
    __tablename__ = Bill.category.value


class UsageRow(Usage, table=True):
    __tablename__ = Usage.category.value
    # The view's Energy and Phone pages read usage per account, kind and unit over time:
    # each meter's days and each line's months are ranges of this index, which also holds
    # what they sum (quantity, quality, roaming) so a million readings are summed without
    # reading a row; the list of meters is a walk over its first three columns
    # (portal.view.metered).
    __table_args__ = (
        Index(
            "ix_usage_account_kind_unit",
            "account_id",
            "kind",
            "unit",
            "started_at",
            "quantity",
            "quality",
            "roaming",
        ),
    )


class RecurringPaymentRow(RecurringPayment, table=True):
    __tablename__ = RecurringPayment.category.value


class ConsentRow(Consent, table=True):
    __tablename__ = Consent.category.value


class ProcessingRow(Processing, table=True):
    __tablename__ = Processing.category.value


class InferenceRow(Inference, table=True):
    __tablename__ = Inference.category.value


class DocumentRow(Document, table=True):
    __tablename__ = Document.category.value


class PayeeRow(Payee, table=True):
    __tablename__ = Payee.category.value


_ROWS: tuple[type[SQLModel], ...] = (
    PartyRow,
    AccountRow,
    ProductRow,
    BalanceRow,
    TransactionRow,
    PurchaseRow,
    BillRow,
    UsageRow,
    RecurringPaymentRow,
    ConsentRow,
    ProcessingRow,
    InferenceRow,
    DocumentRow,
    PayeeRow,
)

TABLES: dict[type[Entity], type[SQLModel]] = dict(zip(ENTITIES, _ROWS, strict=True))
"""The table behind each entity, in the order of ``ENTITIES`` (parents before children)."""

# Every step of the understanding layer starts from what was fetched since it last ran
# (``WHERE fetched_at > :since``, portal.understand), after every sync: without an index,
# a scan of the whole table each time (370 ms for each query over a million transactions
# on the benchmark's 2-core machine, so a second or more per re-sync for a few steps), with
# one a seek (under 0.1 ms, and ``max(fetched_at)`` too). Made for every record table, as
# a step may read any of them. What it costs a sync: benchmarks/RESULTS.md, "Understanding"
# (a new row's stamp is the largest yet, so its entry goes at the index's end).
for _row in _ROWS:
    _stamped: Table = _row.__table__  # type: ignore[attr-defined]
    Index(f"ix_{_stamped.name}_fetched_at", _stamped.c.fetched_at)


class RawItem(SQLModel, table=True):
    """A raw payload exactly as the provider released it, kept so it can be normalised again."""

    __tablename__ = "raw_items"

    id: str = Field(primary_key=True, description="SHA-256 of provider, stream and payload.")
    provider: str = Field(index=True, description="Provider short name.")
    stream: str = Field(description="The stream the item came from.")
    connection_id: str = Field(description="Connection it was fetched through.")
    fetched_at: datetime = Field(sa_type=UTCDateTime, description="When it was fetched.")
    payload: str = Field(sa_type=Text, description="The item as canonical JSON.")


class Rejection(SQLModel, table=True):
    """A raw item that could not become a record, with the reason: never a silent drop."""

    __tablename__ = "rejections"

    raw_id: str = Field(primary_key=True, description="The raw payload that was rejected.")
    provider: str = Field(index=True, description="Provider short name.")
    stream: str = Field(description="The stream the item came from.")
    reason: str = Field(description="Why it could not be normalised.")
    rejected_at: datetime = Field(sa_type=UTCDateTime, description="When it was rejected.")


class SyncCursor(SQLModel, table=True):
    """How far a stream has been synced; committed in the same transaction as its records."""

    __tablename__ = "cursors"

    connection_id: str = Field(primary_key=True)
    stream: str = Field(primary_key=True)
    provider: str = Field(index=True)
    value: dict[str, Any] = Field(sa_type=JSON, description="The plugin's typed cursor as JSON.")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class Connection(SQLModel, table=True):
    """A provider the user has connected; the tokens themselves live in the vault."""

    __tablename__ = "connections"

    id: str = Field(primary_key=True, description="Portal's id for the connection.")
    provider: str = Field(unique=True, description="Provider short name.")
    status: str = Field(description="connected, or needs_reconnect.")
    scopes: str = Field(default="", description="Scopes the provider granted, space separated.")
    consent_id: str | None = Field(default=None, description="The provider's consent id.")
    endpoints: dict[str, Any] = Field(
        default_factory=dict, sa_type=JSON, description="Endpoint overrides, e.g. a sandbox's."
    )
    connected_at: datetime = Field(sa_type=UTCDateTime)
    grant_expires_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When the provider's grant lapses."
    )
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_sync_status: str | None = Field(default=None, description="ok, or the error's message.")


class SyncStart(SQLModel, table=True):
    """When a sync of a connection started: what a provider's declared quota is counted on
    (``Provider.quota``: "4 syncs a day"), by provider, so a reconnect does not reset the
    count the service keeps. Rows older than a week are dropped as new ones
    come, so the table stays a few rows per connection."""

    __tablename__ = "sync_starts"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(
        index=True,
        description="The provider synced (kept across reconnects: the service counts them).",
    )
    started_at: datetime = Field(sa_type=UTCDateTime, description="When the sync started.")
