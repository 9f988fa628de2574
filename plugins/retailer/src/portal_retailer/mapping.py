"""Demo Mart's API items mapped to the customer record, one function per stream.

Every field of an item is either mapped to a column or kept in ``extra``: ``_rest``
collects what a function did not use, so nothing the retailer released is dropped.
Values are handed to the record as served (decimal strings, ISO 8601 times with their
offset, unit codes), so a bad one fails validation naming its field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from portal.errors import SkippableError
from portal.record import (
    Account,
    AccountIdentifier,
    Address,
    Balance,
    Consent,
    Entity,
    Inference,
    Origin,
    Party,
    Processing,
    Recipient,
    Unit,
)
from portal.record.vocab import state_of
from portal_retailer import labels
from portal_retailer.purchases import give_back, order

Ref = Callable[[type[Entity], str], str]


def _rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    used = set(used)
    return {k: v for k, v in item.items() if k not in used}


def customer(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """The customer resource to a Party: what she told the shop about herself."""
    addresses = [
        Address(
            kind=labels.label(labels.ADDRESS_TYPES, a["type"], "address type"),
            lines=[a[k] for k in ("line1", "line2") if a.get(k)],
            town=a.get("city"),
            postcode=a.get("postcode"),
            country=a.get("country"),
        )
        for a in item.get("addresses", [])
    ]
    name = " ".join(p for p in (item.get("first_name"), item.get("last_name")) if p)
    if not name:
        raise SkippableError("the customer resource has neither a first nor a last name")
    used = ["customer_id", "first_name", "last_name", "email", "mobile", "date_of_birth"]
    return [
        Party(
            provider_id=item["customer_id"],
            origin=Origin.provided,
            full_name=name,
            customer_number=item["customer_id"],
            birth_date=item.get("date_of_birth"),
            email=item.get("email"),
            mobile=item.get("mobile"),
            addresses=addresses,
            extra=_rest(item, [*used, "addresses"]),
        )
    ]


def loyalty_account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """The Rewards membership to an Account that holds points, not money."""
    number = item["membership_number"]
    return [
        Account(
            provider_id=number,
            origin=Origin.provided,
            name=item["programme"],
            account_type="loyalty",
            account_type_label="Loyalty scheme",
            status=item["status"],
            status_label=labels.label(labels.MEMBERSHIP_STATUSES, item["status"], "status"),
            state=state_of(labels.MEMBERSHIP_STATES, item["status"]),
            opened_on=item.get("joined_on"),
            identifiers=[
                AccountIdentifier(
                    scheme="membership_number",
                    scheme_label="Rewards card number",
                    identification=number,
                )
            ],
            extra=_rest(item, ["membership_number", "programme", "status", "joined_on"]),
        )
    ]


def loyalty_balance(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A Rewards balance (now, or at a monthly statement) to a points Balance."""
    return [
        Balance(
            provider_id=item["id"],
            account_id=ref(Account, item["membership_number"]),
            amount=item["points"],
            unit=Unit.point,
            balance_type=item["type"],
            balance_type_label=labels.label(labels.BALANCE_TYPES, item["type"], "balance type"),
            as_of=item["as_of"],
            extra=_rest(item, ["id", "membership_number", "points", "type", "as_of"]),
        )
    ]


def marketing(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A marketing preference to a Consent (withdrawn ones included: they are history).

    Personalised offers are consent to profiling (the notice's ``profiling`` purpose), so
    that preference is a Consent of kind ``profiling``; every other topic is ``marketing``."""
    channel, status = item["channel"], item["status"]
    kind, kind_label = labels.CONSENT_KINDS.get(item.get("topic") or "", labels.MARKETING)
    return [
        Consent(
            provider_id=item["id"],
            origin=Origin.provided,
            kind=kind,
            kind_label=kind_label,
            purpose=item["wording"],
            channel=channel,
            channel_label=labels.label(labels.CHANNEL_CONSENTS, channel, "channel"),
            status=status,
            status_label=labels.label(labels.CONSENT_STATUSES, status, "status"),
            state=state_of(labels.CONSENT_STATES, status),
            granted_at=item.get("granted_at"),
            status_updated_at=item.get("updated_at"),
            grantee="Demo Mart",
            extra=_rest(item, ["id", "channel", "status", "wording", "granted_at", "updated_at"]),
        )
    ]


def insight(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A segment, score or predicted trait to an Inference."""
    kind = item["type"]
    return [
        Inference(
            provider_id=item["id"],
            name=item["name"],
            kind=kind,
            kind_label=labels.label(labels.INSIGHT_TYPES, kind, "kind of insight"),
            value=item["value"],
            score=item.get("score"),
            derived_at=item.get("computed_at"),
            explanation=item.get("explanation"),
            extra=_rest(
                item, ["id", "name", "type", "value", "score", "computed_at", "explanation"]
            ),
        )
    ]


def processing(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One purpose of the processing notice to a Processing record.

    Recipients and the automated-decision block are required even when empty or "not
    used": article 15 asks the controller to say so, and a notice that leaves them out is
    rejected with the missing field named rather than read as "none".
    """
    automated = item["automated_decision"]
    basis = item["legal_basis"]
    used = [
        "id",
        "purpose",
        "legal_basis",
        "data_categories",
        "recipients",
        "third_country_safeguards",
        "retention",
        "source",
        "automated_decision",
    ]
    return [
        Processing(
            provider_id=item["id"],
            purpose=item["purpose"],
            purpose_code=item["id"],
            legal_basis=basis,
            legal_basis_label=labels.label(labels.LEGAL_BASES, basis, "legal basis"),
            data_categories=item["data_categories"],
            recipients=[
                Recipient(
                    name=r["name"],
                    kind=r.get("role"),
                    country=r.get("country"),
                    safeguard=r.get("safeguard"),
                )
                for r in item["recipients"]
            ],
            third_country_safeguards=item.get("third_country_safeguards"),
            retention=item["retention"],
            source=item["source"],
            automated_decision=automated["used"],
            automated_logic=automated.get("logic"),
            automated_consequences=automated.get("consequences"),
            extra=_rest(item, used),
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "customer": customer,
    "loyalty_account": loyalty_account,
    "loyalty_balances": loyalty_balance,
    "orders": order,
    "returns": give_back,
    "marketing": marketing,
    "insights": insight,
    "processing": processing,
}
"""The normalise function of each stream."""
