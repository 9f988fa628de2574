"""Human labels for the codes Demo Mart's API uses, so that no code reaches a person bare."""

from __future__ import annotations

from portal.record.vocab import State

PURCHASE_KINDS = {
    "online": "Online order",
    "in_store": "In-store receipt",
    "return": "Return",
}
KINDS = {"online": "order", "in_store": "receipt", "return": "return"}
"""The record's kind of purchase for each of the API's types."""
CHANNELS = {
    "online": "Online (website or app)",
    "in_store": "In store",
    "post": "By post",
}
FULFILMENT = {
    "home_delivery": "Home delivery",
    "click_and_collect": "Click and collect",
}
STATUSES = {
    "processing": "Being prepared",
    "dispatched": "On its way",
    "completed": "Completed",
    "delivered": "Delivered",
    "partially_returned": "Partly returned",
    "returned": "Returned",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
}
STATES = {
    "processing": State.pending,  # schema.org OrderProcessing: not handed over yet
    "dispatched": State.pending,  # OrderInTransit
    "completed": State.completed,
    "delivered": State.completed,
    "partially_returned": State.returned,  # the label says only part of it went back
    "returned": State.returned,
    "cancelled": State.cancelled,
    "refunded": State.completed,  # a return whose money went back: it is done
}
"""What each order status means in portal's common vocabulary (schema.org OrderStatus)."""
PRODUCT_CATEGORIES = {
    "DAIRY": "Milk, eggs and dairy",
    "BAKERY": "Bakery",
    "FRESH": "Fresh fruit and vegetables",
    "PANTRY": "Food cupboard",
    "DRINKS": "Drinks",
    "HOME": "Home and kitchen",
    "CLOTHING": "Clothing",
    "BEAUTY": "Health and beauty",
    "ELECTRICALS": "Electricals",
    "DELIVERY": "Delivery charge",
    "REWARDS": "Rewards points",
}
RETURN_REASONS = {
    "SIZE": "Wrong size",
    "CHANGED": "Changed my mind",
    "FAULTY": "Faulty or damaged",
}
TIERS = {"bronze": "Bronze", "silver": "Silver", "gold": "Gold"}
MEMBERSHIP_STATUSES = {"active": "Active", "suspended": "Suspended", "closed": "Closed"}
MEMBERSHIP_STATES = {"active": State.active, "suspended": State.suspended, "closed": State.closed}
BALANCE_TYPES = {
    "current": "Points balance now",
    "statement": "Points at the monthly statement",
}
CHANNEL_CONSENTS = {"email": "Email", "sms": "Text message", "post": "Post", "app": "App"}
TOPICS = {
    "offers": "Offers and Rewards news",
    "catalogue": "Seasonal catalogue",
    "personalised_offers": "Personalised offers in the app",
}
CONSENT_KINDS = {"personalised_offers": ("profiling", "Personalised offers and profiling")}
"""Topics that are a permission of another kind than marketing, with its label: personalised
offers are the notice's "profiling" purpose (segments and scores, consent its legal basis)."""
MARKETING = ("marketing", "Marketing")
"""The kind of every other topic, and its label."""
CONSENT_STATUSES = {
    "opted_in": "Opted in",
    "opted_out": "Opted out",
    "withdrawn": "Withdrawn",
}
CONSENT_STATES = {
    "opted_in": State.active,
    "opted_out": State.declined,
    "withdrawn": State.withdrawn,
}
INSIGHT_TYPES = {"segment": "Segment", "score": "Score", "trait": "Predicted trait"}
LEGAL_BASES = {
    "consent": "Your consent",
    "contract": "Needed for our contract with you",
    "legal_obligation": "Required by law",
    "vital_interests": "To protect someone's life",
    "public_task": "A task in the public interest",
    "legitimate_interests": "Our legitimate interests",
}
ADDRESS_TYPES = {"billing": "Billing address", "delivery": "Delivery address"}


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code) or f"{what.capitalize()} {code} (no label known)"
