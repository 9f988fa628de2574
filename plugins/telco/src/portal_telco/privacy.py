"""Permissions (TMF644), the processing notice and inferences mapped to the customer record.

What the customer agreed to, what the telco does with the data (GDPR article 15(1)(a)-(h))
and what it derived about her: the article 15 part of the record.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from portal import SkippableError
from portal.record import Category, Consent, Entity, Inference, Origin, Processing, Recipient
from portal.record.extra import rest
from portal.record.vocab import state_of
from portal_telco import labels
from portal_telco.values import moment, quantity, short

Ref = Callable[[type[Entity], str], str]
GRANTEE = "Demo Telecom"

# The notice's data categories, in the record's vocabulary.
DATA_CATEGORIES = {
    "identity": (Category.party,),
    "contactDetails": (Category.party,),
    "contracts": (Category.accounts, Category.products),
    "communicationsData": (Category.usage,),
    "locationData": (Category.usage,),
    "billingData": (Category.bills,),
    "marketingPreferences": (Category.consents,),
    "creditProfile": (Category.inferences,),
}


_USED_PROFILE = (
    "id", "description", "status", "lastUpdate", "validFor", "partyPrivacyProfileCharacteristic",
)  # fmt: skip
_USED_TRAIT = ("name", "privacyUsagePurpose")
OTHER_KIND = "other"
"""The record's kind for a TMF644 purpose portal has no kind for (the document's list is open)."""


def permission(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF644 PartyPrivacyProfile to one Consent per characteristic (channel).

    TMF644 requires of a profile only who agreed to it, and of a characteristic its name and
    value: a profile without status says what was agreed in its characteristic's value; a
    purpose portal has no kind for is kept in its own words; a profile without an id gets one
    from who agreed, the purpose and the channel (``id_derived`` in ``extra``); a profile
    without characteristics is one permission. Dates that are not RFC 3339 date-times, and
    characteristics without a name, are what the document forbids: the profile is rejected.
    """
    where = f"privacy profile {item.get('id') or '(no id)'}"
    valid = _shaped(item.get("validFor"), dict, f"{where} validFor", "an object") or {}
    start = moment(valid.get("startDateTime"), f"{where} validFor.startDateTime")
    end = moment(valid.get("endDateTime"), f"{where} validFor.endDateTime")
    updated = _lenient_moment(item.get("lastUpdate"))
    listed = item.get("partyPrivacyProfileCharacteristic")
    traits = _shaped(listed, list, f"{where} partyPrivacyProfileCharacteristic", "an array")
    out: list[Entity] = []
    for n, trait in enumerate(traits or [{}]):
        _shaped(trait, dict, f"{where} characteristic {n + 1}", "an object")
        if trait and not isinstance(trait.get("name"), str):
            raise SkippableError(
                f"{where} characteristic {n + 1} has no name, which TMF644 requires"
            )
        channel: str | None = trait.get("name")
        value = trait.get("value")
        status = str(item.get("status") or (value if isinstance(value, str) else "") or "")
        status = status or "not_stated"
        refused = status == "refused"
        purpose_code = trait.get("privacyUsagePurpose") or ""
        kind, kind_label = _kind(purpose_code)
        # A refusal was never granted: its validity is not a grant date, so it stays in extra;
        # so does a lastUpdate that is no date-time.
        unused = {"validFor" if refused else "", "" if updated else "lastUpdate"}
        used = [f for f in _USED_PROFILE if f not in unused]
        notes = {} if item.get("id") else {"id_derived": _DERIVED}
        out.append(
            Consent(
                provider_id=_consent_id(item, purpose_code or "-", channel or "-"),
                origin=Origin.provided,
                kind=kind,
                kind_label=kind_label,
                purpose=item.get("description") or item.get("name") or kind_label,
                channel=channel,
                channel_label=labels.label(labels.CHANNELS, channel, "channel")
                if channel
                else None,
                status=status,
                status_label=_status_label(status),
                state=state_of(labels.PERMISSION_STATES, status),
                granted_at=None if refused else start,
                status_updated_at=updated,
                expires_at=end,
                grantee=GRANTEE if kind in ("marketing", "profiling") else f"{GRANTEE}'s partners",
                extra=rest(item, used)
                | notes
                | ({"characteristic": rest(trait, _USED_TRAIT)} if trait else {}),
            )
        )
    return out


_DERIVED = "From who agreed, its purpose and its channel: the privacy profile has no id."


def _consent_id(item: dict[str, Any], purpose: str, channel: str) -> str:
    # One permission per profile and channel; a profile without an id is known by who agreed
    # to it, what for and on which channel, which stays the same when its status changes.
    if item.get("id"):
        return f"{item['id']}:{channel}" if channel != "-" else str(item["id"])
    party, spec = item.get("agreedByParty"), item.get("partyPrivacyProfileSpecification")
    party_id = str(party.get("id") or "") if isinstance(party, dict) else ""
    spec_id = str(spec.get("id") or "") if isinstance(spec, dict) else ""
    return ":".join(p for p in (party_id or "unknown party", spec_id, purpose, channel) if p)


def _shaped(value: Any, kind: type, where: str, what: str) -> Any:
    # What TMF644 types as an object or an array and arrives as something else is refused,
    # with where it was, rather than failing inside the mapping.
    if value is not None and not isinstance(value, kind):
        raise SkippableError(f"{where} is {short(value)}, not {what} as TMF644 requires")
    return value


def _kind(purpose: str) -> tuple[str, str]:
    if purpose in labels.PRIVACY_PURPOSES:
        return labels.PRIVACY_PURPOSES[purpose]
    if purpose:
        return OTHER_KIND, f"Permission for {purpose} (a purpose of the provider's own)"
    return OTHER_KIND, "Permission (the provider states no purpose)"


def _status_label(status: str) -> str:
    if status == "not_stated":
        return "Not stated (TMF644 leaves a privacy profile's status optional)"
    return labels.label(labels.PERMISSION_STATUSES, status, "permission status")


def _lenient_moment(value: Any) -> datetime | None:
    # lastUpdate is not TMF644's but the telco's own: used when it is a date-time, else only
    # kept in extra, never a reason to refuse the permission.
    try:
        return moment(value, "lastUpdate")
    except SkippableError:
        return None


def processing(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """One purpose of the telco's processing notice to a Processing."""
    basis = item.get("legalBasis") or ""
    if basis not in labels.LEGAL_BASES:
        raise SkippableError(f"processing purpose {item.get('id')} has legal basis {basis!r}")
    categories: list[str] = []
    for code in item.get("dataCategories") or []:
        if code not in DATA_CATEGORIES:
            raise SkippableError(
                f"processing purpose {item.get('id')} names data category {code!r}, unknown"
            )
        categories += [c.value for c in DATA_CATEGORIES[code] if c.value not in categories]
    automated = item.get("automatedDecision") or {}
    if not isinstance(automated.get("used"), bool):
        raise SkippableError(
            f"processing purpose {item.get('id')} does not say whether it decides automatically"
            " (automatedDecision.used)"
        )
    return [
        Processing(
            provider_id=item["id"],
            purpose=item["purpose"],
            purpose_code=item["id"],
            legal_basis=basis,
            legal_basis_label=labels.LEGAL_BASES[basis],
            data_categories=categories,
            recipients=[
                Recipient(
                    name=r["name"],
                    kind=r.get("role"),
                    country=r.get("country"),
                    safeguard=r.get("safeguard"),
                )
                for r in item.get("recipients") or []
            ],
            third_country_safeguards=item.get("thirdCountrySafeguards"),
            retention=item["retention"],
            source=item["source"],
            automated_decision=automated["used"],
            automated_logic=automated.get("logic"),
            automated_consequences=automated.get("consequences"),
            # The telco's own category words say more than the record's categories do.
            extra=rest(
                item,
                [
                    "id",
                    "purpose",
                    "legalBasis",
                    "recipients",
                    "thirdCountrySafeguards",
                    "retention",
                    "source",
                    "automatedDecision",
                ],
            ),
        )
    ]


def credit(customer_id: str, profile: dict[str, Any], where: str = "customer") -> Inference:
    """A TMF629 credit profile (carried on the customer) to an Inference.

    TMF629 requires its date (an RFC 3339 date-time); the score and rating are optional.
    """
    dated = moment(profile.get("creditProfileDate"), f"{where} creditProfileDate")
    if dated is None:
        raise SkippableError(f"{where} has a credit profile without creditProfileDate")
    score, rating = profile.get("creditScore"), profile.get("creditRiskRating")
    # TMF629 makes both the score and the risk rating optional: say what was given.
    said = [] if score is None else [f"{score} out of 999"]
    if rating is not None:
        said.append(f"risk rating {rating}: 1 is the lowest risk, 5 the highest")
    value = said[0] + (f" ({said[1]})" if len(said) > 1 else "") if said else "No score stated"
    return Inference(
        provider_id=f"{customer_id}:creditProfile:{profile.get('creditProfileDate')}",
        name="Credit score",
        kind="score",
        kind_label=labels.label(labels.INFERENCE_KINDS, "score", "inference kind"),
        value=value,
        score=None if score is None else quantity(score, f"{where} creditScore"),
        derived_at=dated,
        explanation="Worked out from your credit file and how you have paid Demo Telecom, when"
        " you took your contract (see the processing purpose 'credit').",
        extra=rest(profile, ["creditScore", "creditRiskRating", "creditProfileDate"]),
    )


def inference(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """One of the telco's published inferences (a segment, a score, a trait) to an Inference."""
    kind = item.get("kind") or ""
    if kind not in labels.INFERENCE_KINDS:
        raise SkippableError(f"inference {item.get('id')} is of kind {kind!r}, which has no label")
    score = item.get("score")
    return [
        Inference(
            provider_id=item["id"],
            name=item["name"],
            kind=kind,
            kind_label=labels.INFERENCE_KINDS[kind],
            value=item["value"],
            score=None if score is None else quantity(score, f"inference {item['id']} score"),
            derived_at=item.get("derivedAt"),
            explanation=item.get("explanation"),
            extra=rest(item, ["id", "name", "kind", "value", "score", "derivedAt", "explanation"]),
        )
    ]
