"""Who the Demo Bank's customer is and where she spends: the fixed part of the demo data.

Also the small helpers both this and ``portal_bank.dataset`` use to write Open Banking
values: London local times with their offset, amounts as strings, one seeded generator per
kind of data.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
START = date(2024, 11, 1)
END = date(2026, 10, 31)
ISSUER = "DemoBank"
CARD_LIMIT = Decimal("6000.00")
PERMISSIONS = [
    "ReadAccountsDetail",
    "ReadBalances",
    "ReadTransactionsCredits",
    "ReadTransactionsDebits",
    "ReadTransactionsDetail",
    "ReadParty",
    "ReadDirectDebits",
    "ReadStandingOrdersDetail",
    "ReadScheduledPaymentsDetail",
    "ReadBeneficiariesDetail",
    "ReadStatementsDetail",
    "ReadProducts",
    "ReadOffers",
]

# (proprietary code, ISO 20022 family, sub-family)
CODES = {
    "POS": ("CustomerCardTransactions", "POSTransaction"),
    "ATM": ("CustomerCardTransactions", "CashWithdrawal"),
    "REF": ("CustomerCardTransactions", "Refund"),
    "DD": ("IssuedDirectDebits", "DirectDebitPayment"),
    "SO": ("IssuedCreditTransfers", "StandingOrder"),
    "FPO": ("IssuedCreditTransfers", "DomesticCreditTransfer"),
    "FPI": ("ReceivedCreditTransfers", "DomesticCreditTransfer"),
    "BGC": ("ReceivedCreditTransfers", "SalaryPayment"),
}

# Card spending: (merchant, MCC, lowest and highest amount in pence, refundable).
GROCERIES = [
    ("Tesco", "5411", 450, 9800, False),
    ("Sainsbury's", "5411", 600, 8500, False),
    ("Waitrose", "5411", 900, 7200, False),
    ("Lidl", "5411", 700, 5400, False),
    ("Co-op", "5411", 250, 2400, False),
]
COFFEE = [
    ("Café Nero", "5814", 280, 690, False),
    ("Pret A Manger", "5814", 250, 880, False),
    ("Costa Coffee", "5814", 290, 640, False),
    ("GAIL's Bakery", "5462", 350, 1250, False),
]
EATING_OUT = [
    ("Dishoom", "5812", 2400, 7800, False),
    ("Pâtisserie Valerie", "5462", 650, 2200, False),
    ("Wagamama", "5812", 1400, 4600, False),
    ("Côte Brasserie", "5812", 2800, 8900, False),
    ("The Prince of Wales", "5813", 550, 3400, False),
]
SHOPPING = [
    ("Amazon.co.uk", "5999", 599, 8999, True),
    ("ASOS", "5651", 1800, 12000, True),
    ("John Lewis", "5311", 1500, 18000, True),
    ("Uniqlo", "5651", 1500, 7900, True),
    ("Boots", "5912", 299, 3400, False),
    ("Waterstones", "5942", 899, 3200, False),
]
TRAVEL = [
    ("Trainline", "4111", 1250, 15800, True),
    ("easyJet", "4511", 4800, 26000, False),
    ("Premier Inn", "7011", 6500, 19000, False),
    ("Uber", "4121", 850, 3900, False),
    ("Deliveroo", "5812", 1600, 4200, False),
    ("Odeon", "7832", 1100, 3200, False),
]
TFL = ("TfL Travel Charge", "4111", 280, 890, False)
SUBSCRIPTIONS = [("Netflix", "4899", 1099, 1099, False), ("Spotify", "4899", 1199, 1199, False)]
UBER = ("Uber", "4121", 1450, 2900, False)

# Everyday card use on the current account: (chance on a weekday, on a weekend day, hours, shops).
DAILY = [
    (0.62, 0.0, (18, 18), [TFL]),
    (0.36, 0.36, (9, 19), GROCERIES),
    (0.27, 0.27, (7, 10), COFFEE),
    (0.07, 0.22, (12, 21), EATING_OUT),
    (0.05, 0.05, (8, 22), SHOPPING[:2]),
]
# Net monthly pay, by the date each pay rise took effect.
SALARY = [(date(2024, 1, 1), 318450), (date(2025, 4, 1), 331870), (date(2026, 4, 1), 342210)]
EMPLOYER = {
    "SchemeName": "UK.OBIE.SortCodeAccountNumber",
    "Identification": "20325864410922",
    "Name": "NORTHWIND ANALYTICS LTD",
}
CARD = {"SchemeName": "UK.OBIE.PAN", "Identification": "5399XXXXXXXX4821"}

# Regular payments out of the current account: (day, code, payee, reference, pence, months or None).
# Her energy and phone bills are the other demo providers' (portal_bank.one_person).
BILLS = [
    (1, "SO", "Harbour Lettings Ltd", "RENT FLAT 3 27 ELMWOOD RD", 145000, None),
    (1, "DD", "Lambeth Council", "COUNCIL TAX 40112876", 15600, (4, 5, 6, 7, 8, 9, 10, 11, 12, 1)),
    (3, "DD", "Thames Water", "TW 884120377", 3850, None),
    (7, "DD", "Hyperoptic Ltd", "HYP-2213907", 2500, None),
    (18, "DD", "PureGym Ltd", "PUREGYM 5521987", 2499, None),
]


def seeded(seed: int, purpose: str) -> random.Random:
    """A generator for one kind of data, so that adding a kind never reshuffles the others."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311 - demo data, not secrets


def stamp(moment: datetime) -> str:
    """ISO 8601 in London local time with its offset, e.g. ``2025-07-01T09:30:00+01:00``."""
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def at(day: date, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A London wall-clock time; a time skipped by the spring change moves an hour on."""
    local = datetime.combine(day, time(hour, minute), tzinfo=LONDON).replace(fold=fold)
    return local.astimezone(UTC).astimezone(LONDON)


def money(amount: Decimal, currency: str = "GBP") -> dict[str, str]:
    """An OB ActiveOrHistoricCurrencyAndAmount: a positive amount as a string with 2 decimals."""
    return {"Amount": f"{abs(amount):.2f}", "Currency": currency}


def signed(item: dict[str, Any]) -> Decimal:
    """The amount of a transaction or balance, negative for a Debit."""
    amount = Decimal(item["Amount"]["Amount"])
    return amount if item["CreditDebitIndicator"] == "Credit" else -amount


def days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def weekday_on_or_after(day: date) -> date:
    """``day``, or the Monday after it if it falls at a weekend."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def weekday_on_or_before(day: date) -> date:
    """``day``, or the Friday before it if it falls at a weekend."""
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


# fmt: off
def accounts(current_id: str, card_id: str) -> list[dict[str, Any]]:
    """The current account and the credit card (OBAccount6).

    ``OpeningDate`` is an ISODateTime, as the specification types it (``portal_bank.spec``).
    """
    updated = stamp(at(date(2024, 6, 3), 9, 12))
    common = {"Status": "Enabled", "StatusUpdateDateTime": updated, "Currency": "GBP",
              "AccountType": "Personal"}
    return [
        {"AccountId": current_id, **common, "AccountSubType": "CurrentAccount",
         "Nickname": "Everyday", "OpeningDate": stamp(at(date(2016, 9, 12), 0)),
         "Account": [{"SchemeName": "UK.OBIE.SortCodeAccountNumber",
                      "Identification": "60837120457713", "Name": "MS S ASHWORTH",
                      "SecondaryIdentification": "DB-0045771"}]},
        {"AccountId": card_id, **common, "AccountSubType": "CreditCard",
         "Nickname": "Rewards Mastercard", "OpeningDate": stamp(at(date(2021, 2, 3), 0)),
         "Account": [{**CARD, "Name": "MS SIOBHAN ASHWORTH"}]},
    ]

def party() -> dict[str, Any]:
    """The account holder (OBParty2), with a name that is not ASCII.

    Phone numbers are in Open Banking's form: ``+``, the country code, ``-``, the number.
    """
    return {
        "PartyId": "PTY-7Q2K9X", "PartyNumber": "0004217763", "PartyType": "Sole",
        "Name": "Siobhán Ashworth", "FullLegalName": "Siobhán Máire Ashworth",
        "EmailAddress": "siobhan.ashworth@example.com",
        "Phone": "+44-2079460123", "Mobile": "+44-7700900123",
        "Address": [{"AddressType": "Residential", "AddressLine": ["Flat 3", "27 Elmwood Road"],
                     "StreetName": "Elmwood Road", "BuildingNumber": "27",
                     "PostCode": "SE24 9NX", "TownName": "London", "Country": "GB"}],
    }
# fmt: on


def preferences() -> list[dict[str, Any]]:
    """Marketing preferences, two of them withdrawn."""
    rows = [
        ("Email", "Product news and offers", "OptedIn", date(2023, 4, 2)),
        ("SMS", "Product news and offers", "OptedOut", date(2023, 4, 2)),
        ("Post", "Offers from our partners", "Withdrawn", date(2025, 1, 19)),
        ("Phone", "Customer research and surveys", "OptedOut", date(2024, 8, 30)),
        ("Email", "Your money tips newsletter", "Withdrawn", date(2026, 2, 11)),
    ]
    return [
        {
            "PreferenceId": f"MP-{i:03d}",
            "Channel": channel,
            "Purpose": purpose,
            "Status": status,
            "UpdatedDateTime": stamp(at(day, 10, 4 * i)),
        }
        for i, (channel, purpose, status, day) in enumerate(rows, 1)
    ]


SPLIT_MEMOS = {
    "R KOWALSKI": (
        "Zoë's 30th at Café Señor Pérez, split five ways: starters, two bottles of the"
        " Grüner Veltliner, the crème brûlée everyone shared, and the taxi home to Brixton"
        " (Łukasz paid the cab, so this also settles what I owed him from the Kraków weekend"
        " in March - the żurek, the museum tickets and half of the Airbnb). Thanks again for"
        " organising it all, it was so wonderful to see everyone together again! See you at the"
        " next one, and do send me the photos from the evening when you have a moment xx"
    ),
}
"""Free text as friends write it: Open Banking allows 500 characters of
TransactionInformation, accents and all, and one memo uses them all (a plugin that cuts
or folds text cannot hide it)."""
