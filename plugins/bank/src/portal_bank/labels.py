"""Human labels for the codes Open Banking v3.1 uses, so that no code reaches a person bare."""

from __future__ import annotations

from typing import Any

from portal.record.vocab import State

ACCOUNT_TYPES = {
    "CurrentAccount": "Current account",
    "CreditCard": "Credit card",
    "Savings": "Savings account",
    "Loan": "Loan",
    "Mortgage": "Mortgage",
    "ChargeCard": "Charge card",
    "EMoney": "E-money account",
    "PrePaidCard": "Prepaid card",
}
ACCOUNT_STATUSES = {
    "Enabled": "Open",
    "Disabled": "Cannot be used (disabled)",
    "Deleted": "Deleted",
    "ProForma": "Being opened",
    # ISO 20022's AccountStatus: a change to the account (its details, its holders) awaits
    # the bank's approval; the account itself stays as it was until then.
    "Pending": "Change awaiting the bank's approval",
}
SCHEMES = {
    "UK.OBIE.SortCodeAccountNumber": "Sort code and account number",
    "UK.OBIE.IBAN": "IBAN",
    "UK.OBIE.PAN": "Card number",
    "UK.OBIE.Paym": "Paym mobile number",
    "UK.OBIE.BBAN": "BBAN",
}
BALANCE_TYPES = {
    "ClosingAvailable": "Available at close of day",
    "ClosingBooked": "Booked at close of day",
    "ClosingCleared": "Cleared at close of day",
    "Expected": "Expected",
    "ForwardAvailable": "Available in future",
    "Information": "For information",
    "InterimAvailable": "Available now",
    "InterimBooked": "Booked so far today",
    "InterimCleared": "Cleared so far today",
    "OpeningAvailable": "Available at start of period",
    "OpeningBooked": "Booked at start of period",
    "OpeningCleared": "Cleared at start of period",
    "PreviouslyClosedBooked": "Booked at previous close",
}
TRANSACTION_STATUSES = {
    "Booked": "Booked",
    "Pending": "Pending (not yet booked)",
    "Rejected": "Rejected",
}
PARTY_TYPES = {
    "Sole": "Sole account holder",
    "Joint": "Joint account holder",
    "Delegate": "Delegate",
}
CONSENT_STATUSES = {
    "Authorised": "Authorised",
    "AwaitingAuthorisation": "Awaiting your approval",
    "Rejected": "Rejected",
    "Revoked": "Revoked",
    "Expired": "Expired",
}
CHANNELS = {
    "Email": "Email",
    "SMS": "Text message",
    "Post": "Post",
    "Phone": "Phone call",
    "Push": "App notification",
}
PREFERENCE_STATUSES = {"OptedIn": "Opted in", "OptedOut": "Opted out", "Withdrawn": "Withdrawn"}

# ISO 20022 bank transaction codes (PMNT families and sub-families) as Open Banking uses them.
TRANSACTION_CODES = {
    "ReceivedCreditTransfers.DomesticCreditTransfer": "Payment received",
    "ReceivedCreditTransfer.DomesticCreditTransfer": "Payment received",
    "ReceivedCreditTransfers.SalaryPayment": "Salary received",
    "IssuedCreditTransfers.DomesticCreditTransfer": "Payment sent",
    "IssuedCreditTransfer.DomesticCreditTransfer": "Payment sent",
    "IssuedCreditTransfers.StandingOrder": "Standing order",
    "IssuedCreditTransfer.StandingOrder": "Standing order",
    "IssuedDirectDebits.DirectDebitPayment": "Direct debit",
    "IssuedDirectDebit.DirectDebitPayment": "Direct debit",
    "CustomerCardTransactions.POSTransaction": "Card payment",
    "CustomerCardTransactions.CashWithdrawal": "Cash withdrawal",
    "CustomerCardTransactions.Refund": "Card refund",
    "CustomerCardTransactions.SmartCardPayment": "Contactless card payment",
    "CustomerCardTransactions.Payment": "Card payment",
    "CustomerCardTransactions.Reversal": "Card payment reversed",
    "AccountManagement.Interest": "Interest",
    "AccountManagement.Fees": "Fee",
    "AccountManagement.Charges": "Charge",
}

# ISO 18245 merchant category codes: the common ones.
MERCHANT_CATEGORIES = {
    "4111": "Commuter transport",
    "4121": "Taxis and ride-hailing",
    "4131": "Bus lines",
    "4511": "Airlines",
    "4814": "Telecommunication services",
    "4899": "Cable and streaming services",
    "4900": "Utilities",
    "5200": "Home supply stores",
    "5311": "Department stores",
    "5399": "General merchandise",
    "5411": "Grocery stores and supermarkets",
    "5441": "Sweet shops",
    "5462": "Bakeries",
    "5499": "Food stores",
    "5541": "Petrol stations",
    "5651": "Clothing stores",
    "5732": "Electronics stores",
    "5812": "Restaurants",
    "5813": "Bars and pubs",
    "5814": "Fast food",
    "5912": "Pharmacies",
    "5942": "Book shops",
    "5945": "Toy and game shops",
    "5964": "Catalogue and mail-order merchants",
    "5965": "Catalogue and retail merchants",
    "5969": "Direct marketing merchants",
    "5977": "Cosmetics stores",
    "5992": "Florists",
    "5999": "Specialty retail",
    "6011": "Cash machines",
    "7011": "Hotels",
    "7832": "Cinemas",
    "7922": "Theatres and tickets",
    "7997": "Gyms and clubs",
    "8011": "Doctors",
    "8021": "Dentists",
    "8062": "Hospitals",
    "8220": "Colleges and universities",
    "8299": "Schools and education",
    "8999": "Professional services",
}


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code) or f"{what.capitalize()} {code} (no label known)"


# What each Open Banking status code means in portal's common vocabulary (``State``); read
# with ``portal.record.vocab.state_of``, which makes a code missing here ``unknown``.
ACCOUNT_STATES = {
    "Enabled": State.active,
    # ISO 20022: cannot be used "temporarily or permanently"; Deleted is the end of it.
    "Disabled": State.suspended,
    "Deleted": State.closed,
    "ProForma": State.pending,
    "Pending": State.pending,
}
TRANSACTION_STATES = {
    "Booked": State.booked,
    "Pending": State.pending,
    "Rejected": State.rejected,
}
CONSENT_STATES = {
    "Authorised": State.active,
    "AwaitingAuthorisation": State.pending,
    "Rejected": State.rejected,
    "Revoked": State.withdrawn,
    "Expired": State.expired,
}
PREFERENCE_STATES = {
    "OptedIn": State.active,
    "OptedOut": State.declined,
    "Withdrawn": State.withdrawn,
}
ARRANGEMENT_STATES = {"Active": State.active, "Inactive": State.cancelled}
"""Direct debits' and standing orders' status codes (the same two in Open Banking)."""


# -- payment arrangements, products, offers, statements and the processing notice ----------

DIRECT_DEBIT_STATUSES = {"Active": "Active", "Inactive": "Cancelled: no longer collected"}
STANDING_ORDER_STATUSES = {"Active": "Active", "Inactive": "Stopped"}
SCHEDULED_TYPES = {"Execution": "Paid on the date shown", "Arrival": "Arrives by the date shown"}
BENEFICIARY_TYPES = {
    "Trusted": "Trusted payee (paid without extra checks)",
    "Ordinary": "Payee",
    "NotTrusted": "Payee (checked each time)",
}
PRODUCT_TYPES = {
    "PersonalCurrentAccount": "Personal current account",
    "BusinessCurrentAccount": "Business current account",
    "CommercialCreditCard": "Business credit card",
    "SMELoan": "Small business loan",
    "Other": "Other product",
}
OFFER_TYPES = {
    "LimitIncrease": "Offer: a higher credit limit",
    "BalanceTransfer": "Offer: a balance transfer",
    "MoneyTransfer": "Offer: a money transfer",
    "PromotionalRate": "Offer: a promotional rate",
    "Other": "Offer",
}
STATEMENT_TYPES = {
    "RegularPeriodic": "Regular statement",
    "AccountClosure": "Closing statement",
    "AccountOpening": "Opening statement",
    "Annual": "Annual statement",
    "Interim": "Interim statement",
}
FEE_FREQUENCIES = {
    "Monthly": "monthly",
    "Yearly": "yearly",
    "Quarterly": "quarterly",
    "Weekly": "weekly",
    "Daily": "daily",
    "PerTransaction": "per transaction",
    "PerOccurrence": "each time it happens",
    "OnClosing": "when the account closes",
    "OnOpening": "when the account opens",
}
LEGAL_BASES = {
    "consent": "Your consent (GDPR article 6(1)(a))",
    "contract": "Needed to run your contract with the bank (article 6(1)(b))",
    "legal_obligation": "Required by law (article 6(1)(c))",
    "vital_interests": "To protect someone's life (article 6(1)(d))",
    "public_task": "A task in the public interest (article 6(1)(e))",
    "legitimate_interests": "The bank's legitimate interests (article 6(1)(f))",
}
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def frequency_label(code: str) -> str:
    """Open Banking's payment frequency codes in words, e.g. IntrvlMnthDay:01:28."""
    kind, _, rest = code.partition(":")
    parts = rest.split(":")
    try:
        if kind == "EvryDay":
            return "Every day"
        if kind == "EvryWorkgDay":
            return "Every working day"
        if kind == "IntrvlDay":
            return f"Every {int(parts[0])} days"
        if kind == "NotKnown":
            return "How often is not known"
        if kind == "IntrvlWkDay":
            every, day = int(parts[0]), WEEKDAYS[int(parts[1]) - 1]
            return f"Every {day}" if every == 1 else f"Every {every} weeks on {day}"
        if kind == "WkInMnthDay":
            week, day = int(parts[0]), WEEKDAYS[int(parts[1]) - 1]
            return f"On the {day} of week {week} of each month"
        if kind == "IntrvlMnthDay":
            every, day_of_month = int(parts[0]), int(parts[1])
            when = "the last day" if day_of_month == -1 else f"day {day_of_month}"
            return f"Every month on {when}" if every == 1 else f"Every {every} months on {when}"
        if kind == "QtrDay":
            return f"Every quarter ({parts[0].lower()} quarter days)"
    except (ValueError, IndexError):
        pass
    return f"Frequency {code} (no label known)"


# -- codes kept in ``extra``: each gets its words under ``<key>_label`` beside it ----------

FEE_TYPES = {
    "ServiceCAccountFeeMonthly": "Monthly account fee",
    "AnnualFee": "Annual fee",
    "CashAdvance": "Cash advance fee",
    "LatePayment": "Late payment fee",
    "ForeignCashWithdrawal": "Fee for withdrawing cash abroad",
    "Other": "Other fee",
}
STATEMENT_AMOUNT_TYPES = {
    "UK.OBIE.StartingBalance": "Balance at the start",
    "UK.OBIE.ClosingBalance": "Balance at the end",
    "UK.OBIE.TotalCredits": "Money in",
    "UK.OBIE.TotalDebits": "Money out",
    "UK.OBIE.CreditLimit": "Credit limit",
    "UK.OBIE.MinimumPaymentDue": "Minimum payment due",
}
STATEMENT_DATE_TYPES = {"UK.OBIE.PaymentDue": "Payment due by"}
# Demo Bank's own transaction codes (ProprietaryBankTransactionCode, kept in extra).
PROPRIETARY_CODES = {
    "POS": "Card payment",
    "ATM": "Cash withdrawal",
    "REF": "Card refund",
    "DD": "Direct debit",
    "SO": "Standing order",
    "FPO": "Faster payment sent",
    "FPI": "Faster payment received",
    "BGC": "Bank giro credit",
}
# One table per key name of the specification; "Type" names a different code list in each
# object, but the lists do not overlap, so one lookup serves them all.
EXTRA_CODES: dict[str, tuple[dict[str, str], str]] = {
    "SchemeName": (SCHEMES, "account scheme"),
    # Only a ProprietaryBankTransactionCode is kept with a "Code" (BankTransactionCode has
    # columns of its own); a bank's own list grows at will, so an unknown one is labelled too.
    "Code": (PROPRIETARY_CODES, "bank's own transaction code"),
    "FeeType": (FEE_TYPES, "fee type"),
    "ApplicationFrequency": (FEE_FREQUENCIES, "fee frequency"),
    "CalculationFrequency": (FEE_FREQUENCIES, "fee frequency"),
    "Type": ({**STATEMENT_TYPES, **STATEMENT_AMOUNT_TYPES, **STATEMENT_DATE_TYPES}, "type"),
}


def labelled(value: Any) -> Any:
    """A copy of ``value`` (an ``extra`` mapping) with every known code's words beside it.

    A code under one of ``EXTRA_CODES``' keys, at any depth, gets ``<key>_label``; so a
    person reading what the record kept aside reads words, never a bare code.
    """
    if isinstance(value, list):
        return [labelled(element) for element in value]
    if not isinstance(value, dict):
        return value
    out = {key: labelled(inner) for key, inner in value.items()}
    for key, (table, what) in EXTRA_CODES.items():
        code = value.get(key)
        if isinstance(code, str) and f"{key}_label" not in value:
            out[f"{key}_label"] = label(table, code, what)
    return out
