"""Human labels for the codes the telco's TM Forum APIs use, so that no code reaches a person bare.

The TM Forum enumerations (product status, price type, bill state, charge type) are the
standard's own; usage types, roaming zones and the privacy codes are Demo Telecom's.
"""

from __future__ import annotations

from portal.record.vocab import State

# TMF637 ProductStatusType.
PRODUCT_STATUSES = {
    "created": "Ordered, not yet started",
    "pendingActive": "Being set up",
    "active": "Active",
    "pendingTerminate": "Ending soon",
    "suspended": "Suspended",
    "terminated": "Ended",
    "cancelled": "Cancelled before it started",
    "aborted": "Order failed",
    # TMF637's document spells this member "aborted " (with a space); a server generated
    # from it sends it so.
    "aborted ": "Order failed",
}
PRODUCT_STATES = {
    "created": State.pending,
    "pendingActive": State.pending,
    "active": State.active,
    "pendingTerminate": State.active,  # still in force until it ends
    "suspended": State.suspended,
    "terminated": State.closed,
    "cancelled": State.cancelled,
    "aborted": State.cancelled,  # the order failed: it never started
    "aborted ": State.cancelled,  # as the document spells it
}
"""What each TMF637 product status means in portal's common vocabulary."""
# Demo Telecom's product specifications (TMF620 ids): what kind of product each one is.
PRODUCT_TYPES = {
    "mobile-sim-only": "Mobile phone plan (SIM only)",
    "fibre-broadband": "Full-fibre broadband with home phone",
    "data-addon": "Extra mobile data add-on",
    "tv-pass": "Mobile TV pass",
}
# TMF620/637 ProductPrice.priceType.
PRICE_TYPES = {
    "recurring": "Recurring charge",
    "oneTime": "One-off charge",
    "usage": "Usage rate",
}
# TMF678 CustomerBill.state.
BILL_STATES = {
    "new": "Being prepared",
    "onHold": "On hold",
    "validated": "Checked, not yet sent",
    "sent": "Issued, not yet paid",
    "settled": "Paid",
    "partiallyPaid": "Partly paid",
}
BILL_STATE_MEANINGS = {
    "new": State.pending,
    "onHold": State.pending,
    "validated": State.pending,
    "sent": State.due,
    "settled": State.paid,
    "partiallyPaid": State.due,  # money is still owed; the label says part is paid
}
"""What each TMF678 bill state means in portal's common vocabulary."""
# TMF678 AppliedCustomerBillingRate.type.
CHARGE_TYPES = {
    "recurringCharge": "Monthly charge",
    "oneTimeCharge": "One-off charge",
    "usageCharge": "Usage charge",
    "appliedBillingCredit": "Credit or discount",
    "appliedPenaltyCharge": "Penalty charge",
}
# TMF635 Usage.usageType as Demo Telecom fills it in, and the record's kind for each.
USAGE_TYPES = {"voice": "Call", "sms": "Text message", "data": "Mobile data session"}
USAGE_KINDS = {"voice": "call", "sms": "message", "data": "data"}
ROAMING_ZONES = {
    "home": "In the UK",
    "europe": "Europe zone (EU, EEA and Switzerland)",
    "world": "Rest of the world",
}
# The privacy profile specifications (TMF644) behind each permission.
PERMISSION_STATUSES = {
    "granted": "You agreed",
    "refused": "You said no",
    "withdrawn": "You withdrew it",
}
PERMISSION_STATES = {
    "granted": State.active,
    "refused": State.declined,
    "withdrawn": State.withdrawn,
}
PRIVACY_PURPOSES = {
    "MARKETING": ("marketing", "Marketing permission"),
    "THIRD_PARTY_SHARING": ("data_sharing", "Sharing your data with other companies"),
    # TMF644 leaves privacyUsagePurpose free text: Demo Telecom names its profiling so.
    "PROFILING": ("profiling", "Personalised offers from how you use our services"),
}
CHANNELS = {
    "email": "Email",
    "sms": "Text message",
    "phone": "Phone call",
    "post": "Post",
    "push": "App notification",
    "partners": "Partners' own channels",
    "all": "Every channel",
}
IDENTIFIER_SCHEMES = {
    "billingAccount": "Billing account number",
    "msisdn": "Mobile number",
    "landline": "Home phone number",
    "serviceId": "Broadband line id",
}
PARTY_TYPES = {"Individual": "Individual (a person)", "Organization": "Organisation"}
# GDPR article 6(1) legal bases, as the processing notice names them.
LEGAL_BASES = {
    "consent": "Your consent (GDPR art. 6(1)(a))",
    "contract": "Needed for your contract (GDPR art. 6(1)(b))",
    "legal_obligation": "Required by law (GDPR art. 6(1)(c))",
    "vital_interests": "To protect someone's life (GDPR art. 6(1)(d))",
    "public_task": "A task in the public interest (GDPR art. 6(1)(e))",
    "legitimate_interests": "Our legitimate interests (GDPR art. 6(1)(f))",
}
INFERENCE_KINDS = {"score": "Score", "segment": "Segment", "trait": "Trait"}


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code) or f"{what.capitalize()} {code} (no label known)"
