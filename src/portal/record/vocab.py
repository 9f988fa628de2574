"""The fixed vocabularies of the customer record: origins, sectors, data categories, units,
states."""

from collections.abc import Mapping
from enum import StrEnum


class Origin(StrEnum):
    """Where a value came from, in the terms of GDPR articles 15 and 20."""

    provided = "provided"
    """Given to the provider by the customer (name, address, preferences)."""
    observed = "observed"
    """Recorded by the provider from the customer's activity (transactions, readings)."""
    inferred = "inferred"
    """Derived by the provider (segments, scores, predictions)."""


ORIGIN_LABELS: dict[Origin, str] = {
    Origin.provided: "Provided by you",
    Origin.observed: "Observed from what you did",
    Origin.inferred: "Inferred by the provider",
}


class Sector(StrEnum):
    """The kinds of provider portal knows how to present."""

    bank = "bank"
    utility = "utility"
    telco = "telco"
    retailer = "retailer"
    other = "other"


SECTOR_LABELS: dict[Sector, str] = {
    Sector.bank: "Bank or card issuer",
    Sector.utility: "Energy or water supplier",
    Sector.telco: "Phone or internet provider",
    Sector.retailer: "Shop",
    Sector.other: "Other provider",
}


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


class State(StrEnum):
    """Portal's common vocabulary of states: one word for a status, whichever provider said it.

    A record keeps the provider's own code in ``status`` (and its words in ``status_label``)
    and says in ``state`` what that code means in these terms, so a person can ask "what is
    still pending" or "which consents are in force" across every provider. Each state is
    drawn from the sector specifications the first-party plugins implement: Open Banking
    AIS v3.1 (account, transaction, consent, direct debit and standing order statuses), ESPI
    (UsagePoint and Authorization status), TM Forum TMF637 product and TMF678 bill states,
    and schema.org ``OrderStatus``.
    """

    active = "active"
    """In force: OB account Enabled, consent Authorised, direct debit Active; TMF637 active;
    ESPI UsagePoint on and Authorization 1; a marketing permission given."""
    pending = "pending"
    """Not final or not started yet: OB transaction Pending, account ProForma, consent
    AwaitingAuthorisation; TMF637 created and pendingActive; TMF678 new, onHold, validated."""
    booked = "booked"
    """Money that has moved and will not change: OB transaction Booked; OFX posted."""
    suspended = "suspended"
    """Paused, may resume: OB account Disabled; TMF637 suspended; a loyalty membership on hold;
    ESPI UsagePoint off."""
    closed = "closed"
    """Ended after being in force: OB account Deleted; TMF637 terminated; an agreement that
    ended."""
    cancelled = "cancelled"
    """Called off: schema.org OrderCancelled; TMF637 cancelled and aborted; an OB direct debit
    or standing order made Inactive."""
    completed = "completed"
    """Done as agreed: schema.org OrderDelivered; a purchase paid and handed over, or a refund
    paid back."""
    returned = "returned"
    """Goods sent back, in whole or in part (schema.org OrderReturned); the label says which."""
    expired = "expired"
    """Lapsed at the end of its term: OB consent Expired."""
    withdrawn = "withdrawn"
    """Taken back by the person or the provider: OB consent Revoked, ESPI Authorization 0
    (revoked), a marketing permission withdrawn (GDPR article 7(3))."""
    declined = "declined"
    """Asked and not given: a marketing permission refused or opted out of; ESPI
    Authorization 2 (denied)."""
    rejected = "rejected"
    """Refused by the provider: OB transaction and consent Rejected."""
    issued = "issued"
    """A bill sent whose payment the provider does not state: Green Button's summaries, an OB
    card statement."""
    due = "due"
    """A bill sent and not yet paid, in whole or in part: TMF678 sent and partiallyPaid."""
    overdue = "overdue"
    """A bill past its due date and not paid (a biller's arrears status)."""
    paid = "paid"
    """A bill settled: TMF678 settled."""
    unknown = "unknown"
    """The provider states no status, or one with no meaning here: a deliberate choice the
    conformance report counts, never a default."""


STATE_LABELS: dict[State, str] = {
    State.active: "In force",
    State.pending: "Pending",
    State.booked: "Booked",
    State.suspended: "Suspended",
    State.closed: "Closed",
    State.cancelled: "Cancelled",
    State.completed: "Completed",
    State.returned: "Returned",
    State.expired: "Expired",
    State.withdrawn: "Withdrawn",
    State.declined: "Declined",
    State.rejected: "Rejected",
    State.issued: "Issued",
    State.due: "Due",
    State.overdue: "Overdue",
    State.paid: "Paid",
    State.unknown: "Not stated",
}


class Standing(StrEnum):
    """Where a permission or consent stands, in the five words a person reads it in.

    Coarser than ``State``: a person asks of a permission only "is it on?", and if not,
    whether they never gave it (off), took it back (withdrawn), it ran out (expired) or it
    is still waiting for them (pending).
    """

    on = "on"
    """In force."""
    off = "off"
    """Never given, refused, or paused: not in force, and nothing was taken back."""
    withdrawn = "withdrawn"
    """Taken back, called off or ended after it was in force."""
    expired = "expired"
    """Ran out at the end of its term."""
    pending = "pending"
    """Waiting for the person (or the provider) to decide."""


STANDING_LABELS: dict[Standing, str] = {
    Standing.on: "On",
    Standing.off: "Off",
    Standing.withdrawn: "Withdrawn",
    Standing.expired: "Expired",
    Standing.pending: "Waiting for a decision",
}


STANDINGS: dict[State, Standing] = {
    State.active: Standing.on,
    State.pending: Standing.pending,
    State.declined: Standing.off,  # asked and never given
    State.rejected: Standing.off,  # refused by the provider: not in force, nothing taken back
    State.suspended: Standing.off,
    State.withdrawn: Standing.withdrawn,
    State.cancelled: Standing.withdrawn,
    State.closed: Standing.withdrawn,
    State.expired: Standing.expired,
}
"""The standing of a permission in each ``State`` a consent can be in; any other state
(``unknown``, or one no consent takes) has none, and the provider's own words stand alone."""


def standing_of(state: State | None) -> Standing | None:
    """Where a permission in ``state`` stands, or None when its state says nothing of it."""
    return None if state is None else STANDINGS.get(state)


def state_of(table: Mapping[str, State], code: str | None) -> State:
    """What the provider's status ``code`` means, from a plugin's ``table`` of its codes.

    A code missing from the table (one the provider added after the plugin was written, or
    no status at all) is deliberately ``State.unknown``: the record still arrives, its label
    says what the provider sent, and the conformance report counts it.
    """
    return table.get(code or "", State.unknown)
