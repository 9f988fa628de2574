"""Documents the provider holds: statements, contracts, letters, notices.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date

from portal.record.base import Entity, field
from portal.record.types import Digest, Text
from portal.record.vocab import Category


class Document(Entity):
    """A document, identified by the digest of its content.

    The content itself (a statement's PDF, a bill) is kept once in the portal home under
    its digest (``portal.files``), by the plugin's ``client.keep_file``; ``portal documents
    save`` hands it back, checked against the digest.
    """

    category = Category.documents

    kind: str = field("Kind", "statement, contract, letter or notice.")
    kind_label: Text = field("Kind (label)", "The kind of document in words.")
    title: Text = field("Title", "The document's title.")
    issued_on: date = field("Issued on", "Date of the document.")
    content_type: str = field("Content type", "Media type of the content (application/pdf).")
    digest: Digest = field(
        "SHA-256",
        "SHA-256 of the content, as 64 hex digits: the name of its file in the portal home.",
    )
    size_bytes: int | None = field("Size (bytes)", "Size of the content.", default=None)
    account_id: str | None = field(
        "Account", "Portal id of the account it concerns, if any.", default=None
    )
