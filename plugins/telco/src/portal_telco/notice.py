"""What Demo Telecom does with the customer's data, and what it inferred from it (GDPR art. 15).

No TM Forum API carries either: TMF644 (Privacy Management) holds the customer's choices,
not the controller's purposes, legal bases, recipients or retention, and no TMF resource
lists what the operator derived about a customer. The sandbox serves both at portal-specific
paths, ``/portal/v1/processing`` (one object per purpose, art. 15(1)(a)-(h)) and
``/portal/v1/inferences`` (one object per inference), in the shapes portal asks every
provider to publish. The credit score is the exception: TMF629 carries it on the customer.
"""

from __future__ import annotations

from typing import Any

UPDATED = "2026-02-01T09:00:00+00:00"


def _recipient(name: str, role: str, country: str, safeguard: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "role": role, "country": country}
    if safeguard:
        out["safeguard"] = safeguard
    return out


def _no_automation() -> dict[str, Any]:
    return {"used": False}


def purposes() -> list[dict[str, Any]]:
    """Every purpose in the notice, in the order the notice lists them."""
    return [
        {
            "id": "service",
            "purpose": "Providing your mobile, broadband and home phone services",
            "legalBasis": "contract",
            "dataCategories": ["identity", "contactDetails", "contracts", "communicationsData"],
            "recipients": [
                _recipient("Openreach Limited (the fibre line to your home)", "processor", "GB"),
                _recipient("Networks you roam onto abroad", "controller", "ES"),
            ],
            "retention": "While you are a customer, then 6 years after your last contract ends.",
            "source": "You, when you signed up; our network, as you use it.",
            "automatedDecision": _no_automation(),
            "lastUpdated": UPDATED,
        },
        {
            "id": "billing",
            "purpose": "Billing you and collecting payment",
            "legalBasis": "contract",
            "dataCategories": ["identity", "contracts", "communicationsData", "billingData"],
            "recipients": [
                _recipient("Northgate Billing Services Ltd (bill printing)", "processor", "GB"),
                _recipient("Your bank, for Direct Debits", "controller", "GB"),
            ],
            "retention": "Bills and the call records on them: 6 years after the bill date"
            " (HMRC rules and the Limitation Act 1980).",
            "source": "Our network's call, text and data records; your bank for payments.",
            "automatedDecision": _no_automation(),
            "lastUpdated": UPDATED,
        },
        {
            "id": "fraud",
            "purpose": "Detecting fraud and protecting the network",
            "legalBasis": "legitimate_interests",
            "dataCategories": ["communicationsData", "locationData", "contracts"],
            "recipients": [
                _recipient(
                    "Other UK networks, through the industry fraud-sharing scheme",
                    "controller",
                    "GB",
                ),
            ],
            "retention": "Call and location records used for fraud checks: 12 months.",
            "source": "Our network, as you use it.",
            "automatedDecision": {
                "used": True,
                "logic": "A rules engine scores every call and text as it happens: sudden calls"
                " to premium-rate or distant international numbers, many calls within minutes,"
                " or a SIM moving between countries faster than a plane raise the score.",
                "consequences": "Above a threshold, outgoing premium-rate and international calls"
                " are barred until you confirm it was you. Nothing else changes.",
            },
            "lastUpdated": UPDATED,
        },
        {
            "id": "credit",
            "purpose": "Checking your credit when you take a contract",
            "legalBasis": "legitimate_interests",
            "dataCategories": ["identity", "contactDetails", "creditProfile"],
            "recipients": [
                _recipient("Clearview Credit Reference Ltd", "controller", "GB"),
            ],
            "retention": "6 years after the contract the check was for ends.",
            "source": "You, and Clearview Credit Reference Ltd.",
            "automatedDecision": {
                "used": True,
                "logic": "Your credit file and how you have paid us are combined into a score"
                " from 0 to 999, and a risk rating from 1 (the lowest risk) to 5 (the highest).",
                "consequences": "Below 560 we ask for a deposit or offer a SIM-only plan instead"
                " of a phone on credit. You can ask for a person to review the decision.",
            },
            "lastUpdated": UPDATED,
        },
        {
            "id": "marketing",
            "purpose": "Telling you about offers you might want",
            "legalBasis": "consent",
            "dataCategories": ["identity", "contactDetails", "contracts", "marketingPreferences"],
            "recipients": [
                _recipient(
                    "Sendwave Inc. (sends our marketing emails)",
                    "processor",
                    "US",
                    "UK International Data Transfer Addendum to the EU standard contractual"
                    " clauses",
                ),
            ],
            "thirdCountrySafeguards": "Marketing emails are sent by Sendwave Inc. in the United"
            " States under the UK International Data Transfer Addendum to the EU standard"
            " contractual clauses; ask us for a copy.",
            "retention": "Until you withdraw your permission, then 2 years as proof of what you"
            " chose.",
            "source": "You, and how you use our services.",
            "automatedDecision": _no_automation(),
            "lastUpdated": UPDATED,
        },
        {
            "id": "lawful",
            "purpose": "Meeting our legal obligations: emergency calls and lawful requests",
            "legalBasis": "legal_obligation",
            "dataCategories": ["identity", "communicationsData", "locationData"],
            "recipients": [
                _recipient("Emergency services, for 999 and 112 calls", "public authority", "GB"),
                _recipient(
                    "UK law enforcement, when the law requires it", "public authority", "GB"
                ),
            ],
            "retention": "Communications data: 12 months, under the Investigatory Powers Act 2016.",
            "source": "Our network.",
            "automatedDecision": _no_automation(),
            "lastUpdated": UPDATED,
        },
    ]


def inferences() -> list[dict[str, Any]]:
    """What the telco derived about the customer: a segment, a score and a trait."""
    return [
        {
            "id": "marketingSegment",
            "name": "Marketing segment",
            "kind": "segment",
            "value": "Data-hungry commuter",
            "derivedAt": "2026-10-01T03:00:00+01:00",
            "explanation": "Customers are grouped each month by how much data they use, when and"
            " where; this group uses a lot of data on weekday mornings and evenings.",
            "usedFor": ["marketing"],
        },
        {
            "id": "churnRisk",
            "name": "Likelihood of leaving within 3 months",
            "kind": "score",
            "value": "Low",
            "score": 0.12,
            "derivedAt": "2026-10-01T03:00:00+01:00",
            "explanation": "A model trained on past customers weighs how long you have been with"
            " us, your contract end date, complaints and how your use has changed; 0 is"
            " certain to stay, 1 certain to leave.",
            "usedFor": ["marketing", "service"],
        },
        {
            "id": "travelProfile",
            "name": "Travel abroad",
            "kind": "trait",
            "value": "Occasional traveller: 2 trips abroad in the last 6 months",
            "derivedAt": "2026-10-01T03:00:00+01:00",
            "explanation": "Counted from the days your phone used networks abroad.",
            "usedFor": ["marketing"],
        },
    ]
