"""Documents the provider holds: statements, contracts, letters, notices.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date

from portal.record.base import Entity, field
from portal.record.types import Digest, Text
from portal.record.vocab import Category


class Document(Entity):
    """A document, identified by the digest of its content (the content is not stored here)."""

    category = Category.documents

    kind: str = field("Kind", "statement, contract, letter or notice.")
    kind_label: Text = field("Kind (label)", "The kind of document in words.")
    title: Text = field("Title", "The document's title.")
    issued_on: date = field("Issued on", "Date of the document.")
    content_type: str = field("Content type", "Media type of the content (application/pdf).")
    digest: Digest = field("SHA-256", "SHA-256 of the content, as 64 hex digits.")
    size_bytes: int | None = field("Size (bytes)", "Size of the content.", default=None)
    account_id: str | None = field(
        "Account", "Portal id of the account it concerns, if any.", default=None
    )
