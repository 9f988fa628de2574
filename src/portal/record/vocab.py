"""The fixed vocabularies of the customer record: origins, sectors and data categories."""

from enum import StrEnum


class Origin(StrEnum):
    """Where a value came from, in the terms of GDPR articles 15 and 20."""

    provided = "provided"
    """Given to the provider by the customer (name, address, preferences)."""
    observed = "observed"
    """Recorded by the provider from the customer's activity (transactions, readings)."""
    inferred = "inferred"
    """Derived by the provider (segments, scores, predictions)."""


class Sector(StrEnum):
    """The kinds of provider portal knows how to present."""

    bank = "bank"
    utility = "utility"
    telco = "telco"
    retailer = "retailer"
    other = "other"


class Category(StrEnum):
    """A data category a provider can declare in its inventory; one per record entity."""

    party = "party"
    accounts = "accounts"
    balances = "balances"
    transactions = "transactions"
    consents = "consents"


CATEGORY_LABELS: dict[Category, str] = {
    Category.party: "Personal details",
    Category.accounts: "Accounts and contracts",
    Category.balances: "Balances",
    Category.transactions: "Transactions",
    Category.consents: "Permissions and consents",
}
