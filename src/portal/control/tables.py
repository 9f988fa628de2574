"""The store's tables of control: the person's preferences and every change asked of a
provider (revision 0012). Imported by ``portal.store_schema``, so a new store has them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.record.types import UTCDateTime


class PreferenceRow(SQLModel, table=True):
    """One preference the person stated once for every provider (``portal preferences``)."""

    __tablename__ = "preferences"

    key: str = Field(primary_key=True, description="The preference (marketing.email, ...).")
    allow: bool = Field(description="Whether the person allows it.")
    stated_at: datetime = Field(sa_type=UTCDateTime, description="When they said so.")


class AskedChange(SQLModel, table=True):
    """One change portal asked of a provider, what it answered, and whether the next sync
    showed the provider releasing the new state."""

    __tablename__ = "asked_changes"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(index=True, description="The provider asked.")
    key: str = Field(description="The permission (marketing.email, consent, ...).")
    allow: bool = Field(description="The state asked for.")
    consent: str | None = Field(default=None, description="The consent's provider id, if any.")
    outcome: str = Field(description="applied, already, not_supported or refused.")
    detail: str = Field(default="", description="The provider's words, or the error.")
    instead: str = Field(default="", description="What the person can do instead.")
    asked_at: datetime = Field(sa_type=UTCDateTime, description="When portal asked.")
    checked_at: datetime | None = Field(
        default=None, sa_type=UTCDateTime, description="When a sync last checked it."
    )
    held: bool | None = Field(
        default=None,
        description="Whether the provider released the new state at that sync (None: not"
        " checked yet, or nothing to check).",
    )


class ReceiptRow(SQLModel, table=True):
    """One consent receipt (Kantara Consent Receipt v1.1): a grant portal obtained, a change
    it made at a provider, or a share the person made (revision 0013)."""

    __tablename__ = "receipts"

    id: str = Field(primary_key=True, description="The receipt's consentReceiptID (UUID 4).")
    kind: str = Field(index=True, description="grant, change or share.")
    provider: str = Field(index=True, description="The provider (or recipient) it concerns.")
    made_at: datetime = Field(sa_type=UTCDateTime, description="Its consentTimestamp.")
    document: str = Field(description="The receipt as Kantara's JSON, exactly as issued.")
