"""What the "What they do with my data" page says: per provider, each purpose it uses the
person's data for (GDPR article 15(1)(a)-(h): why, on what grounds, which data, who it is
shared with and in which country, how long it is kept, where it came from, and any
decision made without a person), and every inference it made about them (article 15's
inferred data: segment, score or trait, when, and from what).

Read with SQL through ``store.engine``: a provider's notice is a few purposes and a few
inferences, so every row is shown. Codes become words: data categories through the
record's ``CATEGORY_LABELS``, countries through CLDR (Babel, in the person's locale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import SQLModel

from portal.record import CATEGORY_LABELS, Category, Inference, Processing
from portal.store import Store
from portal.view.formats import locale
from portal.view.stored import stored

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

RECIPIENT_KINDS = {
    "processor": "Works for them (a processor)",
    "controller": "Uses it for its own purposes too (a controller)",
    "public authority": "A public authority",
}
"""What each kind of recipient (``Recipient.kind``) means for the person, in words."""


@dataclass(frozen=True)
class SharedWith:
    """Someone a provider shares the data with, and where the data goes."""

    name: str
    kind: str | None
    country: str | None
    """The country in words with its code ("United States (US)"), or None if not stated."""
    safeguard: str | None


@dataclass(frozen=True)
class Use:
    """One purpose a provider uses the person's data for."""

    id: str
    purpose: str
    basis: str
    data: list[str]
    shared_with: list[SharedWith]
    abroad: str | None
    kept: str
    source: str
    automated: bool
    logic: str | None
    consequences: str | None


@dataclass(frozen=True)
class Inferred:
    """Something a provider worked out about the person."""

    id: str
    name: str
    kind: str
    value: str
    score: Decimal | None
    derived_at: datetime | None
    explanation: str | None


@dataclass
class ProviderUse:
    """What one provider says it does with the data, and what it inferred."""

    provider: str
    uses: list[Use] = field(default_factory=list)
    inferences: list[Inferred] = field(default_factory=list)

    @property
    def recipients(self) -> list[str]:
        """Everyone it shares the data with, once each, by name."""
        return sorted({r.name for use in self.uses for r in use.shared_with})

    @property
    def countries(self) -> list[str]:
        """Every country the data goes to, in words, once each."""
        return sorted({r.country for use in self.uses for r in use.shared_with if r.country})

    @property
    def automated(self) -> int:
        """How many of its uses feed a decision made without a person."""
        return sum(1 for use in self.uses if use.automated)


def data_use(store: Store) -> list[ProviderUse]:
    """Every provider with processing purposes or inferences in ``store``, by name."""
    found: dict[str, ProviderUse] = {}
    processing = SQLModel.metadata.tables[Processing.category]
    inferences = SQLModel.metadata.tables[Inference.category]
    with store.engine.connect() as db:
        for row in db.execute(
            select(processing).order_by(processing.c.provider, processing.c.provider_id)
        ):
            notice = stored(Processing, row._asdict())
            found.setdefault(notice.provider, ProviderUse(notice.provider)).uses.append(
                _use(notice)
            )
        query = select(inferences).order_by(
            inferences.c.provider, inferences.c.derived_at.desc(), inferences.c.name
        )
        for row in db.execute(query):
            made = stored(Inference, row._asdict())
            found.setdefault(made.provider, ProviderUse(made.provider)).inferences.append(
                Inferred(
                    made.id,
                    made.name,
                    made.kind_label,
                    made.value,
                    made.score,
                    made.derived_at,
                    made.explanation,
                )
            )
    return [found[name] for name in sorted(found)]


def _use(notice: Processing) -> Use:
    return Use(
        id=notice.id,
        purpose=notice.purpose,
        basis=notice.legal_basis_label,
        data=[category_label(code) for code in notice.data_categories],
        shared_with=[
            SharedWith(
                r.name,
                RECIPIENT_KINDS.get(r.kind, r.kind) if r.kind else None,
                country_name(r.country) if r.country else None,
                r.safeguard,
            )
            for r in notice.recipients
        ],
        abroad=notice.third_country_safeguards,
        kept=notice.retention,
        source=notice.source,
        automated=notice.automated_decision,
        logic=notice.automated_logic,
        consequences=notice.automated_consequences,
    )


def category_label(code: str) -> str:
    """A data category in words (the record's label), or the provider's code if unknown."""
    try:
        return CATEGORY_LABELS[Category(code)]
    except ValueError:
        return code


def country_name(code: str) -> str:
    """An ISO 3166 country code in words with the code ("United States (US)")."""
    name = locale().territories.get(code.upper())
    return f"{name} ({code})" if name else code


def context(visit: Visit) -> dict[str, Any]:
    """The "What they do with my data" page's template context."""
    return {"providers": data_use(visit.store)}
