"""What the provider does with the data (GDPR article 15(1)(a)-(h)) and what it derived from it.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String

from portal.record.base import Entity, exact, field, mapping, moment
from portal.record.types import Country, Quantity, Text, Timestamp
from portal.record.vocab import Category, Origin


class Recipient(BaseModel):
    """Someone the provider shares the data with."""

    model_config = ConfigDict(frozen=True)

    name: Text = field("Name", "The recipient, or the category of recipients.")
    kind: str | None = field("Kind", "processor, controller or public authority.", default=None)
    country: Country | None = field(
        "Country", "ISO 3166 alpha-2 country the data goes to.", default=None
    )
    safeguard: Text | None = field(
        "Safeguard",
        "What protects the data there (e.g. standard contractual clauses).",
        default=None,
    )


class Processing(Entity):
    """One purpose the provider processes the customer's data for, as article 15 requires."""

    category = Category.processing

    purpose: Text = field("Purpose", "What the data is used for, in words.")
    purpose_code: str = field("Purpose code", "Provider's code for the purpose.")
    legal_basis: str = field(
        "Legal basis",
        "GDPR article 6 basis: consent, contract, legal_obligation, "
        "vital_interests, public_task or legitimate_interests.",
    )
    legal_basis_label: Text = field("Legal basis (label)", "The legal basis in words.")
    data_categories: list[str] = mapping(
        "Data categories",
        "The categories of data used (portal categories).",
        default_factory=list,
    )
    recipients: list[Recipient] = mapping(
        "Recipients", "Who the data is disclosed to.", default_factory=list
    )
    third_country_safeguards: Text | None = field(
        "Third-country safeguards",
        "Safeguards for transfers outside the UK/EEA, if any.",
        default=None,
    )
    retention: Text = field("Retention", "How long the data is kept, or the criteria.")
    source: Text = field("Source", "Where the data came from, if not from the customer.")
    automated_decision: bool = field(
        "Automated decision", "Whether it feeds a decision made without a person."
    )
    automated_logic: Text | None = field(
        "Logic involved", "How the automated decision is made, in words.", default=None
    )
    automated_consequences: Text | None = field(
        "Consequences", "What the automated decision means for the customer.", default=None
    )


class Inference(Entity):
    """Something the provider derived about the customer: a segment, a score, a trait."""

    category = Category.inferences

    origin: Origin = field(
        "Origin",
        "Whether the customer provided it, the provider observed it, or the provider inferred it.",
        default=Origin.inferred,
        sa_type=String,
    )
    name: Text = field("Name", "What was inferred (e.g. Price sensitivity).")
    kind: str = field("Kind", "segment, score or trait.")
    kind_label: Text = field("Kind (label)", "The kind of inference in words.")
    value: Text = field("Value", "What the provider concluded, in words.")
    score: Quantity | None = exact("Score", "The numeric score, if it is one.", default=None)
    derived_at: Timestamp | None = moment("Derived at", "When it was derived.", default=None)
    explanation: Text | None = field(
        "Explanation", "How it was derived, as the provider explains it.", default=None
    )
