"""Demo Mart's processing notice: what it does with the customer's data (GDPR art. 15(1)(a)-(h)).

No retail API carries this today; the sandbox serves it at ``/privacy/processing`` in the
shape portal asks every provider to publish: one object per purpose, with its legal basis,
the data categories used, recipients (and safeguards abroad), retention, where the data
came from, and any automated decision with its logic and consequences.
"""

from __future__ import annotations

from typing import Any

UPDATED = "2026-01-15T09:00:00+00:00"


def _recipient(name: str, role: str, country: str, safeguard: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "role": role, "country": country}
    if safeguard:
        out["safeguard"] = safeguard
    return out


def _purpose(
    ident: str,
    purpose: str,
    basis: str,
    categories: list[str],
    recipients: list[dict[str, Any]],
    retention: str,
    source: str,
    automated: dict[str, Any] | None = None,
    transfers: str | None = None,
) -> dict[str, Any]:
    return {
        "id": ident,
        "purpose": purpose,
        "legal_basis": basis,
        "data_categories": categories,
        "recipients": recipients,
        "third_country_safeguards": transfers,
        "retention": retention,
        "source": source,
        "automated_decision": automated or {"used": False},
        "last_updated": UPDATED,
    }


US_TRANSFER = (
    "Transfers to the United States rely on the UK Extension to the EU-US Data Privacy"
    " Framework, or the UK International Data Transfer Addendum where a recipient is not"
    " certified."
)


def purposes() -> list[dict[str, Any]]:
    """Every purpose in the notice, in the order the notice lists them."""
    return [
        _purpose(
            "orders",
            "Taking, delivering and refunding your orders",
            "contract",
            ["party", "purchases"],
            [
                _recipient("Parcelway Ltd (delivery)", "processor", "GB"),
                _recipient("Payway Europe B.V. (card payments)", "processor", "NL"),
            ],
            "6 years after the order, for tax and consumer-law claims.",
            "You, when you order or buy in store.",
        ),
        _purpose(
            "fraud",
            "Screening online orders for payment fraud",
            "legitimate_interests",
            ["party", "purchases"],
            [_recipient("ShieldRisk Inc. (fraud scoring)", "processor", "US", "UK IDTA")],
            "18 months after the order.",
            "You, your device and your card issuer's checks.",
            automated={
                "used": True,
                "logic": "A model scores each online order on the delivery address, the device"
                " and the order's pattern; orders above a threshold are held.",
                "consequences": "A held order is delayed until a person checks it, or"
                " cancelled and refunded if it cannot be verified.",
            },
            transfers=US_TRANSFER,
        ),
        _purpose(
            "rewards",
            "Running your Rewards membership: points earned and spent",
            "contract",
            ["accounts", "balances", "purchases"],
            [],
            "While you are a member, then 2 years.",
            "Our tills and website when you use your Rewards card.",
        ),
        _purpose(
            "marketing",
            "Sending you offers by the channels you chose",
            "consent",
            ["party", "consents"],
            [_recipient("Mailbright LLC (email sending)", "processor", "US", "EU-US DPF (UK)")],
            "Until you withdraw consent, then a suppression record for 6 years.",
            "You, when you set your preferences.",
            transfers=US_TRANSFER,
        ),
        _purpose(
            "profiling",
            "Working out segments and scores to personalise offers and prices in the app",
            "consent",
            ["purchases", "inferences"],
            [_recipient("Insightful Analytics Ltd (modelling)", "processor", "GB")],
            "Recomputed monthly; kept 12 months.",
            "Derived by us from your purchases and app use.",
            automated={
                "used": True,
                "logic": "Models group customers by what and when they buy, and score how"
                " likely each is to respond to an offer.",
                "consequences": "The offers and coupons you see in the app differ from other"
                " customers'; prices at the till do not.",
            },
        ),
        _purpose(
            "legal",
            "Keeping accounting records and answering lawful requests",
            "legal_obligation",
            ["party", "purchases"],
            [_recipient("HM Revenue & Customs", "public authority", "GB")],
            "6 years after the end of the financial year (Companies Act 2006).",
            "Our own records of your purchases.",
        ),
    ]
