"""What Demo Telecom's permissions, notice and inferences must say in the record.

The article 15 part of ``portal_telco.expected``: a TMF644 privacy profile is one Consent per
channel (characteristic), with the profile's status; a refusal was never granted, so its
validity is no grant date. The notice's data categories are Demo Telecom's words, each a
category of the record. The credit profile TMF629 carries on the customer, and the
inferences Demo Telecom publishes, are Inferences.
"""

from __future__ import annotations

from typing import Any

from portal.record.extra import rest
from portal_telco import labels
from portal_telco.tmf_read import extra, instant, number, state

_DATA_CATEGORIES = {
    "identity": ["party"],
    "contactDetails": ["party"],
    "contracts": ["accounts", "products"],
    "communicationsData": ["usage"],
    "locationData": ["usage"],
    "billingData": ["bills"],
    "marketingPreferences": ["consents"],
    "creditProfile": ["inferences"],
}
"""Demo Telecom's data categories (its notice's words), as the record's categories."""


def permissions(profile: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """One expected Consent per channel (characteristic) of a TMF644 privacy profile."""
    out = {}
    valid = profile.get("validFor") or {}
    for trait in profile["partyPrivacyProfileCharacteristic"]:
        status = profile["status"]
        refused = status == "refused"  # never granted: its validity is no grant date
        kind, kind_label = labels.PRIVACY_PURPOSES[trait["privacyUsagePurpose"]]
        used = ["id", "description", "status", "lastUpdate", "validFor"]
        out[f"{profile['id']}:{trait['name']}"] = {
            "kind": kind,
            "kind_label": kind_label,
            "purpose": profile.get("description") or profile.get("name"),
            "channel": trait["name"],
            "channel_label": labels.CHANNELS[trait["name"]],
            "status": status,
            "status_label": labels.PERMISSION_STATUSES[status],
            "state": state("permission", status),
            "permissions": frozenset(),
            "granted_at": None if refused else instant(valid.get("startDateTime")),
            "status_updated_at": instant(profile.get("lastUpdate")),
            "expires_at": instant(valid.get("endDateTime")),
            "grantee": "Demo Telecom"
            if kind in ("marketing", "profiling")
            else "Demo Telecom's partners",
            **extra(
                rest(
                    profile,
                    [f for f in used if not (refused and f == "validFor")]
                    + ["partyPrivacyProfileCharacteristic"],
                )
            ),
            **extra({"characteristic": rest(trait, ["name", "privacyUsagePurpose"])}),
        }
    return out


def credit(profile: dict[str, Any]) -> dict[str, Any]:
    """The expected Inference of a TMF629 credit profile."""
    # TMF629 gives neither scale; Demo Telecom's notice (purpose "credit") gives both.
    score, rating = profile.get("creditScore"), profile.get("creditRiskRating")
    return {
        "name": "Credit score",
        "kind": "score",
        "kind_label": labels.INFERENCE_KINDS["score"],
        "value": f"{score} out of 999 (risk rating {rating}: 1 is the lowest risk, 5 the highest)",
        "score": number(score),
        "derived_at": instant(profile["creditProfileDate"]),
        "explanation": "Worked out from your credit file and how you have paid Demo Telecom,"
        " when you took your contract (see the processing purpose 'credit').",
        **extra(rest(profile, ["creditScore", "creditRiskRating", "creditProfileDate"])),
    }


def inference(item: dict[str, Any]) -> dict[str, Any]:
    """The expected Inference of one inference Demo Telecom publishes."""
    score = item.get("score")
    return {
        "name": item["name"],
        "kind": item["kind"],
        "kind_label": labels.INFERENCE_KINDS[item["kind"]],
        "value": item["value"],
        "score": None if score is None else number(score),
        "derived_at": instant(item.get("derivedAt")),
        "explanation": item.get("explanation"),
        **extra(rest(item, ["id", "name", "kind", "value", "score", "derivedAt", "explanation"])),
    }


def processing(item: dict[str, Any]) -> dict[str, Any]:
    """The expected Processing of one purpose of Demo Telecom's notice."""
    categories: list[str] = []
    for code in item.get("dataCategories") or []:
        categories += [c for c in _DATA_CATEGORIES[code] if c not in categories]
    automated = item.get("automatedDecision") or {}
    used = [
        "id", "purpose", "legalBasis", "recipients", "thirdCountrySafeguards", "retention",
        "source", "automatedDecision",
    ]  # fmt: skip
    return {
        "purpose": item["purpose"],
        "purpose_code": item["id"],
        "legal_basis": item["legalBasis"],
        "legal_basis_label": labels.LEGAL_BASES[item["legalBasis"]],
        "data_categories": categories,
        "recipients": [
            {
                "name": r["name"],
                "kind": r.get("role"),
                "country": r.get("country"),
                "safeguard": r.get("safeguard"),
            }
            for r in item.get("recipients") or []
        ],
        "third_country_safeguards": item.get("thirdCountrySafeguards"),
        "retention": item["retention"],
        "source": item["source"],
        "automated_decision": automated["used"],
        "automated_logic": automated.get("logic"),
        "automated_consequences": automated.get("consequences"),
        **extra(rest(item, used)),
    }
