"""Spending categories: portal's fixed vocabulary, and what decides a transaction's.

A transaction's spending category says what the money was *for* (groceries, energy), never
how it moved (a card payment, a direct debit): a payment type tells a person nothing about
their spending, so no category here is one.

What decides, first match wins (``portal.understand.categories`` writes it in SQL, and
records the deciding rule with each category):

1. **the person's rules** (``portal categories rule 'NETFLIX*' subscriptions``): a rule is
   how a person corrects everything below, so it wins wherever it matches;
2. **a transfer between the person's own accounts** (a debit on one, the same amount in on
   another within days, at the same provider or not): neither spending nor income;
3. **the ISO 18245 merchant category code** a card payment carries (``MCC_CODES`` and
   ``MCC_RANGES``; an unknown or reserved code decides nothing, and is never guessed);
4. **the provider's own code** where it says what the money was for, not only how it
   moved: salary, interest, fees, a cash withdrawal (``PROVIDER_CODES``);
5. **portal's payee words** (``PAYEE_WORDS``): a direct debit or standing order carries
   neither of the above, only its payee's name and reference, so a sector word in them
   ("ENERGY", "WATER", "COUNCIL TAX") decides; the person's rules overrule any of them;
6. otherwise ``uncategorised`` (recorded as such: the person sees what nothing decided).

The merchant category codes are those of ISO 18245 (the list and its ranges as published
in the ``iso18245`` package, github.com/jleclanche/python-iso18245, files
``iso18245_official_list.csv``, ``iso18245_ranges.csv`` and ``private_ranges.csv``: the
3000-3999 block ISO reserves for private use, where Visa and Mastercard put named airlines,
car rental firms and hotels), with the card schemes' digital goods codes 5815-5818 (Stripe's
"Issuing merchant categories", stripe.com/docs/issuing/categories).
"""

from __future__ import annotations

from enum import StrEnum


class Spending(StrEnum):
    """What a transaction's money was for: portal's own words, the same for every provider."""

    groceries = "groceries"
    eating_out = "eating_out"
    transport = "transport"
    travel = "travel"
    housing = "housing"
    energy = "energy"
    phone_internet = "phone_internet"
    subscriptions = "subscriptions"
    entertainment = "entertainment"
    shopping = "shopping"
    home = "home"
    health = "health"
    personal_care = "personal_care"
    education = "education"
    insurance = "insurance"
    taxes = "taxes"
    charity = "charity"
    services = "services"
    gambling = "gambling"
    fees = "fees"
    cash = "cash"
    income = "income"
    """Money in: pay, pensions, interest, dividends. Not spending."""
    own_transfer = "own_transfer"
    """Between the person's own accounts: neither spending nor income."""
    uncategorised = "uncategorised"
    """Nothing decided: no rule, no merchant code, no telling provider code or payee word."""


SPENDING_LABELS: dict[Spending, str] = {
    Spending.groceries: "Groceries",
    Spending.eating_out: "Eating and drinking out",
    Spending.transport: "Transport",
    Spending.travel: "Travel and holidays",
    Spending.housing: "Rent and housing",
    Spending.energy: "Energy and water",
    Spending.phone_internet: "Phone and internet",
    Spending.subscriptions: "Subscriptions and streaming",
    Spending.entertainment: "Entertainment and leisure",
    Spending.shopping: "Shopping",
    Spending.home: "Home and garden",
    Spending.health: "Health and fitness",
    Spending.personal_care: "Personal care",
    Spending.education: "Education and childcare",
    Spending.insurance: "Insurance",
    Spending.taxes: "Taxes and government",
    Spending.charity: "Charity, donations and memberships",
    Spending.services: "Services and repairs",
    Spending.gambling: "Betting and gambling",
    Spending.fees: "Bank fees, charges and interest",
    Spending.cash: "Cash",
    Spending.income: "Income",
    Spending.own_transfer: "Between your own accounts",
    Spending.uncategorised: "Not categorised",
}

NOT_SPENDING = frozenset({Spending.income, Spending.own_transfer})
"""Categories left out of spending totals."""


def _codes(codes: str) -> tuple[str, ...]:
    return tuple(codes.split())


MCC_CODES: dict[Spending, tuple[str, ...]] = {
    Spending.groceries: _codes("5411 5422 5441 5451 5499 5921"),
    Spending.eating_out: _codes("5462 5811 5812 5813 5814"),
    Spending.transport: _codes(
        "4011 4111 4112 4121 4131 4784 4789 5172 5541 5542 5983 7523 7531 7534 7535 7538"
        " 7542 7549 8675"
    ),
    Spending.travel: _codes(
        "4411 4457 4468 4511 4582 4722 5962 7011 7012 7032 7033 7512 7513 7519"
    ),
    Spending.housing: _codes("5271 6513"),
    Spending.energy: _codes("4900"),  # "Utilities -- electric, gas, water and sanitary"
    Spending.phone_internet: _codes("4812 4814 4815 4816 4821"),
    Spending.subscriptions: _codes("4899 5815 5816 5817 5818 5968"),
    Spending.health: _codes(
        "4119 5047 5122 5912 5975 5976 7997 8011 8021 8031 8041 8042 8043 8049 8050 8062 8071 8099"
    ),
    Spending.personal_care: _codes("5977 7230 7297 7298"),
    Spending.education: _codes("8211 8220 8241 8244 8249 8299 8351"),
    Spending.insurance: _codes("5960 6300"),
    Spending.taxes: _codes("9211 9222 9223 9311 9399 9402"),
    Spending.charity: _codes("8398 8641 8651 8661 8699"),
    Spending.gambling: _codes("7800 7801 7802 7995"),
    Spending.cash: _codes("6010 6011 6051"),
    Spending.home: _codes(
        "0780 5200 5211 5231 5251 5261 5712 5713 5714 5718 5719 5722 7217 7342 7349 7641"
    ),
}
"""ISO 18245 codes with a category of their own, looked up before ``MCC_RANGES``."""

MCC_RANGES: tuple[tuple[str, str, Spending], ...] = (
    ("0742", "0999", Spending.services),  # agricultural services: vets, landscaping
    ("1500", "2999", Spending.home),  # contracted services: builders, plumbers, electricians
    ("3000", "3350", Spending.travel),  # airlines (private use, the card schemes')
    ("3351", "3500", Spending.travel),  # car rental (private use)
    ("3501", "3999", Spending.travel),  # lodging (private use)
    ("4000", "4799", Spending.transport),  # transportation
    ("5000", "5599", Spending.shopping),  # retail outlets
    ("5600", "5699", Spending.shopping),  # clothing outlets
    ("5700", "5999", Spending.shopping),  # miscellaneous outlets
    ("7210", "7299", Spending.services),  # personal services: laundry, dry cleaning
    ("7300", "7529", Spending.services),  # business services
    ("7530", "7799", Spending.services),  # repair services
    ("7800", "7999", Spending.entertainment),  # amusement and entertainment
    ("8000", "8999", Spending.services),  # professional services and organisations
    ("9200", "9402", Spending.taxes),  # government services
)
"""ISO 18245's ranges, for a code no entry of ``MCC_CODES`` names. Left out on purpose:
0000-0699, 1000-1499 and 9000-9199 (reserved), 4800-4999 but the codes above (utilities and
telecoms are named one by one), 6000-7209 but the codes above (financial institutions:
a wire transfer or a securities broker is not spending of one kind), 9403-9999."""


def mcc_category(code: str | None) -> Spending | None:
    """The category an ISO 18245 merchant category code decides, or None when it decides
    nothing (no code, a reserved or unknown one, one that is not four digits)."""
    if code is None or len(code) != 4 or not code.isascii() or not code.isdigit():
        return None
    for category, codes in MCC_CODES.items():
        if code in codes:
            return category
    for first, last, category in MCC_RANGES:
        if first <= code <= last:
            return category
    return None


PROVIDER_CODES: dict[str, tuple[Spending, Spending]] = {
    # Open Banking's ISO 20022 bank transaction codes (family.sub-family; banks write the
    # family singular or plural). Only those that say what the money was for.
    "ReceivedCreditTransfers.SalaryPayment": (Spending.income, Spending.income),
    "ReceivedCreditTransfer.SalaryPayment": (Spending.income, Spending.income),
    "CustomerCardTransactions.CashWithdrawal": (Spending.cash, Spending.cash),
    "CounterTransactions.CashWithdrawal": (Spending.cash, Spending.cash),
    "AccountManagement.Interest": (Spending.income, Spending.fees),
    "AccountManagement.Fees": (Spending.fees, Spending.fees),
    "AccountManagement.Charges": (Spending.fees, Spending.fees),
    # OFX 2.2 transaction types (portal_files).
    "INT": (Spending.income, Spending.fees),
    "DIV": (Spending.income, Spending.income),
    "DIRECTDEP": (Spending.income, Spending.income),
    "FEE": (Spending.fees, Spending.fees),
    "SRVCHG": (Spending.fees, Spending.fees),
    "ATM": (Spending.cash, Spending.cash),
    "CASH": (Spending.cash, Spending.cash),
    # UK midata files' types (portal_files).
    "CPT": (Spending.cash, Spending.cash),
    "CSH": (Spending.cash, Spending.cash),
}
"""A provider's code for the kind of transaction (``category_code``) that says what the
money was for: (category of money in, category of money out). Payment types (card payment,
direct debit, standing order, transfer) are left out: they decide nothing."""

CARD_PAYMENTS = ("POS", "DEB")
"""Provider codes of a card payment (OFX and midata; Open Banking's are the family
``CustomerCardTransactions``): a card pays a merchant, never another of the person's
accounts, so one is never a side of an own-account transfer, merchant code or not."""
CARD_FAMILY = "CustomerCardTransactions."

PAYEE_WORDS: tuple[tuple[str, Spending], ...] = (
    ("*COUNCIL TAX*", Spending.taxes),
    ("*HMRC*", Spending.taxes),
    ("*ENERGY*", Spending.energy),
    ("*ELECTRIC*", Spending.energy),
    ("*WATER*", Spending.energy),
    ("*BROADBAND*", Spending.phone_internet),
    ("*TELECOM*", Spending.phone_internet),
    ("*MOBILE*", Spending.phone_internet),
    ("*INSURANCE*", Spending.insurance),
    ("*MORTGAGE*", Spending.housing),
    ("*LETTINGS*", Spending.housing),
    ("RENT *", Spending.housing),
    ("* RENT *", Spending.housing),  # a word: "CURRENT ACCOUNT" is not rent
    ("*GYM*", Spending.health),
)
"""portal's own rules for payments out that carry no merchant code (direct debits,
standing orders): a sector word in the payee's name or the description, in this order.
Globs as the person's rules are written (case is ignored); a person's rule wins."""


def label(category: str) -> str:
    """A category's words; a code this version does not know reads as itself."""
    try:
        return SPENDING_LABELS[Spending(category)]
    except ValueError:
        return category
