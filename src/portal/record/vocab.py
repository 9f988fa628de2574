"""The fixed vocabularies of the customer record: origins, sectors, data categories, units."""

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
    products = "products"
    purchases = "purchases"
    bills = "bills"
    usage = "usage"
    recurring_payments = "recurring_payments"
    processing = "processing"
    inferences = "inferences"
    documents = "documents"
    payees = "payees"


# In the order a person reads their record (and ``ENTITIES`` lists it): who they are, their
# relationships, what they bought and paid, what they agreed to, what was made of it.
CATEGORY_LABELS: dict[Category, str] = {
    Category.party: "Personal details",
    Category.accounts: "Accounts and contracts",
    Category.products: "Products, tariffs and plans",
    Category.balances: "Balances",
    Category.transactions: "Transactions",
    Category.purchases: "Orders, receipts and returns",
    Category.bills: "Bills and statements",
    Category.usage: "Metered usage",
    Category.recurring_payments: "Direct debits, standing orders and subscriptions",
    Category.consents: "Permissions and consents",
    Category.processing: "How the provider uses your data",
    Category.inferences: "What the provider inferred about you",
    Category.documents: "Documents",
    Category.payees: "Saved payees",
}


class Unit(StrEnum):
    """The units a quantity may be measured in; a quantity never travels without one."""

    kWh = "kWh"  # members are spelled as the units are written
    Wh = "Wh"
    kW = "kW"
    m3 = "m3"
    therm = "therm"  # US gas bills; ESPI's UnitSymbolKind 169
    minute = "minute"
    second = "second"
    message = "message"
    MB = "MB"
    GB = "GB"
    item = "item"
    point = "point"
    day = "day"
    month = "month"


UNIT_LABELS: dict[Unit, str] = {
    Unit.kWh: "kilowatt hours",
    Unit.Wh: "watt hours",
    Unit.kW: "kilowatts",
    Unit.m3: "cubic metres",
    Unit.therm: "therms",
    Unit.minute: "minutes",
    Unit.second: "seconds",
    Unit.message: "messages",
    Unit.MB: "megabytes",
    Unit.GB: "gigabytes",
    Unit.item: "items",
    Unit.point: "points",
    Unit.day: "days",
    Unit.month: "months",
}
