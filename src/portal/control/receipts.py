"""Consent receipts: a record, in the Kantara Initiative's Consent Receipt Specification v1.1
fields, of every grant portal obtains, every change it makes at a provider, and every
share the person makes.

A receipt names who (``piiPrincipalId``: the person, as ``portal config name`` says; the
``piiControllers``: the provider), what data (``piiCategory``: the categories of the
provider's declared inventory), which purpose (``services[].purposes[]``), when
(``consentTimestamp``, seconds since the epoch, UTC), how it was collected
(``collectionMethod``) and until when (``termination``). portal adds ``origin``
(``provided``: the person gave it through portal) and ``portal`` (what portal did: the
change asked and the provider's answer). Receipts are kept in the store (``receipts``),
listed by ``portal receipts`` and exported whole as JSON with ``portal receipts --json``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from portal.control.tables import ReceiptRow

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.engine import Engine

    from portal.control.changes import Change, ChangeResult
    from portal.provider import Provider

VERSION = "KI-CR-v1.1.0"
PRINCIPAL = "the person who holds this portal home (portal config name sets a name)"
"""``piiPrincipalId`` until the person names themselves (the specification requires one)."""
PURPOSES = {
    "marketing": "6 - Marketing",
    "profiling": "5 - Personalize Experience",
    "access": "2 - Contracted Service",
}
"""Purpose categories, as the specification's list words them."""


def _controller(provider: Provider) -> dict[str, Any]:
    return {
        "piiController": provider.display_name,
        "contact": provider.write_instead or f"{provider.display_name}'s data protection contact",
        "address": {"addressCountry": provider.jurisdiction or "not stated"},
        "email": "not stated",
        "phone": "not stated",
    }


def _pii(provider: Provider) -> list[str]:
    from portal.record.vocab import CATEGORY_LABELS

    return [CATEGORY_LABELS.get(c, str(c)) for c in provider.categories] or ["not stated"]


def document(
    *,
    provider: Provider,
    principal: str | None,
    method: str,
    purpose: Mapping[str, Any],
    service: str,
    when: datetime,
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """One receipt as Kantara's JSON (``purpose``: one entry of ``services[].purposes``)."""
    return {
        "version": VERSION,
        "jurisdiction": provider.jurisdiction or "not stated by the provider",
        "consentTimestamp": int(when.timestamp()),
        "collectionMethod": method,
        "consentReceiptID": str(uuid.uuid4()),
        "language": "en",
        "piiPrincipalId": principal or PRINCIPAL,
        "piiControllers": [_controller(provider)],
        "policyUrl": provider.policy_url or "not stated by the provider",
        "services": [{"service": service, "purposes": [dict(purpose)]}],
        "sensitive": False,
        "spiCat": [],
        "origin": "provided",
        "portal": dict(extra),
    }


def for_grant(
    provider: Provider, principal: str | None, scopes: str, ends: datetime | None
) -> dict[str, Any]:
    """The receipt of a grant portal obtained (``portal connect``)."""
    kind = provider.credential.kind if provider.credential else "oauth"
    method = (
        "portal connect: you approved access at the provider (OAuth 2.0)"
        if kind == "oauth"
        else "portal connect: you gave portal the key the provider issued you"
    )
    return document(
        provider=provider,
        principal=principal,
        method=method,
        service=f"Access for portal to your data at {provider.display_name}",
        purpose={
            "purpose": "Copy your data into your own portal store, for you alone",
            "purposeCategory": [PURPOSES["access"]],
            "consentType": "EXPLICIT",
            "piiCategory": _pii(provider),
            "primaryPurpose": True,
            "termination": f"{ends:%Y-%m-%d} or when you disconnect"
            if ends
            else "when you disconnect (portal disconnect)",
            "thirdPartyDisclosure": False,
        },
        when=datetime.now(UTC),
        extra={"kind": "grant", "provider": provider.name, "scopes": scopes},
    )


def for_change(
    provider: Provider, principal: str | None, change: Change, result: ChangeResult
) -> dict[str, Any]:
    """The receipt of a change portal made at a provider (``portal apply``)."""
    from portal.control.changes import CONSENT, WORDS

    if change.key == CONSENT:
        category, purpose = PURPOSES["access"], f"Data-sharing consent {change.consent}"
    elif change.key == "profiling":
        category, purpose = PURPOSES["profiling"], WORDS[change.key]
    else:
        category, purpose = PURPOSES["marketing"], WORDS[change.key]
    return document(
        provider=provider,
        principal=principal,
        method="portal apply: your stated preference, asked of the provider through its API",
        service=provider.display_name,
        purpose={
            "purpose": purpose[:1].upper() + purpose[1:],
            "purposeCategory": [category],
            "consentType": "EXPLICIT",
            "piiCategory": _pii(provider),
            "primaryPurpose": False,
            "termination": "until you change it" if change.allow else "withdrawn",
            "thirdPartyDisclosure": change.key == "third_party_marketing" and change.allow,
        },
        when=datetime.now(UTC),
        extra={
            "kind": "change",
            "provider": provider.name,
            "change": {"key": change.key, "allow": change.allow, "consent": change.consent},
            "answer": {"outcome": result.outcome.value, "detail": result.detail},
        },
    )


def principal(home: Path) -> str | None:
    """The name the person gave for their receipts (``portal config name``), if any; an
    unreadable settings file leaves the receipt's default words rather than failing."""
    from portal import settings
    from portal.errors import PortalError

    try:
        return settings.read(home).get("name")
    except PortalError:
        return None


def keep(engine: Engine, receipt: Mapping[str, Any]) -> None:
    """Keep a receipt in the store, exactly as issued."""
    table = ReceiptRow.__table__  # type: ignore[attr-defined]
    with engine.begin() as db:
        db.execute(
            table.insert().values(
                id=receipt["consentReceiptID"],
                kind=receipt["portal"]["kind"],
                provider=receipt["portal"]["provider"],
                made_at=datetime.fromtimestamp(receipt["consentTimestamp"], UTC),
                document=json.dumps(receipt, sort_keys=True),
            )
        )


def receipts(engine: Engine, provider: str | None = None) -> list[dict[str, Any]]:
    """Every receipt kept (of ``provider``, if named), oldest first, as issued."""
    table = ReceiptRow.__table__  # type: ignore[attr-defined]
    query = select(table.c.document).order_by(table.c.made_at, table.c.id)
    if provider is not None:
        query = query.where(table.c.provider == provider)
    with engine.connect() as db:
        return [json.loads(text) for (text,) in db.execute(query)]
