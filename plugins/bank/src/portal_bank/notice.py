"""The Demo Bank's processing notice: what it does with the customer's data, and why.

GDPR article 15(1)(a)-(h) in the bank's own format, one item per purpose: the legal basis,
the data used, who receives it (and what protects it abroad), how long it is kept, where
it came from, and any automated decision with its logic and consequences. No Open Banking
API carries this, so the bank publishes it beside the API, as it does marketing preferences.
"""

from __future__ import annotations

from typing import Any


def _recipient(name: str, kind: str, country: str, safeguard: str | None = None) -> Any:
    item = {"Name": name, "Kind": kind, "Country": country}
    return item | ({"Safeguard": safeguard} if safeguard else {})


def processing_notice() -> list[dict[str, Any]]:
    """What the bank does with the customer's data, purpose by purpose (GDPR 15(1)(a)-(h))."""
    no = {"Used": False}
    return [
        {
            "PurposeId": "RUN-ACCOUNTS",
            "Purpose": "Running your accounts and cards: payments, statements and servicing",
            "LegalBasis": "contract",
            "DataCategories": [
                "party",
                "accounts",
                "balances",
                "transactions",
                "recurring_payments",
                "payees",
                "documents",
            ],
            "Recipients": [
                _recipient("Mastercard", "controller", "BE"),
                _recipient("Pay.UK (Faster Payments and Bacs)", "controller", "GB"),
                _recipient("Hostwell Cloud Ltd", "processor", "IE"),
            ],
            "Retention": "6 years after the account closes.",
            "Source": "You, and your use of the accounts.",
            "AutomatedDecision": no,
        },
        {
            "PurposeId": "FRAUD",
            "Purpose": "Preventing fraud and money laundering",
            "LegalBasis": "legal_obligation",
            "DataCategories": ["party", "transactions"],
            "Recipients": [
                _recipient("Cifas", "controller", "GB"),
                _recipient("National Crime Agency", "public authority", "GB"),
            ],
            "Retention": "6 years after the account closes, longer while a case is open.",
            "Source": "You, your transactions, and fraud prevention agencies.",
            "AutomatedDecision": {
                "Used": True,
                "Logic": "Each card payment is scored against your usual spending (place,"
                " amount, time of day, merchant); a high score holds the payment.",
                "Consequences": "A payment may be declined or held until you confirm it.",
            },
        },
        {
            "PurposeId": "CREDIT",
            "Purpose": "Deciding your credit limit and overdraft",
            "LegalBasis": "legitimate_interests",
            "DataCategories": ["party", "accounts", "balances", "transactions"],
            "Recipients": [
                _recipient("Experian Ltd", "controller", "GB"),
                _recipient(
                    "Experian South Africa",
                    "processor",
                    "ZA",
                    "UK International Data Transfer Agreement",
                ),
            ],
            "ThirdCountrySafeguards": "Transfers to South Africa are covered by the UK"
            " International Data Transfer Agreement.",
            "Retention": "6 years after the account closes.",
            "Source": "You, your accounts, and credit reference agencies.",
            "AutomatedDecision": {
                "Used": True,
                "Logic": "A scorecard weighs the income paid in, your balances, missed"
                " payments and your credit file.",
                "Consequences": "It decides whether you are offered a higher limit, and how much.",
            },
        },
        {
            "PurposeId": "MARKETING",
            "Purpose": "Telling you about products you may like",
            "LegalBasis": "consent",
            "DataCategories": ["party", "transactions", "products"],
            "Recipients": [
                _recipient(
                    "Mailwing Inc",
                    "processor",
                    "US",
                    "UK Addendum to the EU standard contractual clauses",
                )
            ],
            "ThirdCountrySafeguards": "Email is sent by a US processor under the UK Addendum"
            " to the EU standard contractual clauses.",
            "Retention": "Until you withdraw your consent.",
            "Source": "You, and your use of the accounts.",
            "AutomatedDecision": no,
        },
        {
            "PurposeId": "REGULATORY",
            "Purpose": "Reporting to tax authorities and regulators",
            "LegalBasis": "legal_obligation",
            "DataCategories": ["party", "accounts", "balances"],
            "Recipients": [
                _recipient("HM Revenue & Customs", "public authority", "GB"),
                _recipient("Financial Conduct Authority", "public authority", "GB"),
            ],
            "Retention": "As long as the law requires, usually 6 years.",
            "Source": "You, and your accounts.",
            "AutomatedDecision": no,
        },
    ]
