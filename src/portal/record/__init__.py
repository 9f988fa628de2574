"""The customer record: entities, their value types and vocabularies."""

from portal.record.ids import portal_id, raw_digest
from portal.record.model import (
    ENTITIES,
    Account,
    AccountIdentifier,
    Address,
    Balance,
    Consent,
    Entity,
    Party,
    Transaction,
    titles,
)
from portal.record.types import Currency, Money, Text, Timestamp
from portal.record.vocab import CATEGORY_LABELS, Category, Origin, Sector

__all__ = [
    "CATEGORY_LABELS",
    "ENTITIES",
    "Account",
    "AccountIdentifier",
    "Address",
    "Balance",
    "Category",
    "Consent",
    "Currency",
    "Entity",
    "Money",
    "Origin",
    "Party",
    "Sector",
    "Text",
    "Timestamp",
    "Transaction",
    "portal_id",
    "raw_digest",
    "titles",
]
