"""Who Demo Energy's customer is, what she is supplied with and at what price: the fixed data.

The customer is the Demo Bank's (Siobhán Ashworth, London SE24), supplied with electricity
through a smart meter read every half hour and with gas through a smart meter read daily.
Her billing periods run from the 15th to the 14th; the price cap changed on 1 January 2026,
in the middle of a billing period. Times are London local time: the data spans the autumn
change on 26 October 2025 (a 25-hour day) and the spring change on 29 March 2026 (23 hours).

Also the small helpers the dataset and the feeds share: epoch seconds, local days, and
ESPI's money (an integer count of 10^-5 of the currency unit).
"""

from __future__ import annotations

import copy
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
FIRST_DAY = date(2025, 10, 15)
"""The first day of readings: the supply started on this date."""
BILLING_DAY = 15
"""Each billing period starts on this day of the month (ESPI ``readCycle``)."""
NOW = datetime(2026, 4, 18, 9, 0, tzinfo=LONDON)
"""Demo Energy's clock when the sandbox starts; ``DemoUtility.advance`` moves it on."""
CURRENCY_NUMERIC = "826"
"""ISO 4217 numeric code of GBP, as ESPI's ``currency`` carries it."""
VAT_RATE = Decimal("0.05")
"""VAT on domestic energy in the UK."""
GAS_VOLUME_CORRECTION = Decimal("1.02264")
GAS_CALORIFIC_VALUE = Decimal("39.5")
"""MJ per m3, as the network publishes it; kWh = m3 x correction x CV / 3.6."""

SUBSCRIPTION_ID = "5"
RETAIL_CUSTOMER_ID = "9B6C7066"
APPLICATION_ID = "2"
CUSTOMER_ACCOUNT = "A-7F21C0B4"
"""Her account number with Demo Energy: the reference of her direct debit at the Demo Bank."""


@dataclass(frozen=True)
class Tariff:
    """One of Demo Energy's tariffs, as its product API describes it (prices exclude VAT)."""

    code: str
    name: str
    fuel: str
    """``electricity`` or ``gas``."""
    valid_from: date
    valid_to: date | None
    unit_rate: Decimal
    """Pence per kWh."""
    standing_charge: Decimal
    """Pence per day."""


TARIFFS = (
    Tariff(
        "E-1R-FLEX-25-10-01",
        "Flexible Demo (October 2025)",
        "electricity",
        date(2025, 10, 1),
        date(2025, 12, 31),
        Decimal("25.10"),
        Decimal("51.12"),
    ),
    Tariff(
        "E-1R-FLEX-26-01-01",
        "Flexible Demo (January 2026)",
        "electricity",
        date(2026, 1, 1),
        None,
        Decimal("26.37"),
        Decimal("52.14"),
    ),
    Tariff(
        "G-1R-FLEX-25-10-01",
        "Flexible Demo gas (October 2025)",
        "gas",
        date(2025, 10, 1),
        date(2025, 12, 31),
        Decimal("5.99"),
        Decimal("28.40"),
    ),
    Tariff(
        "G-1R-FLEX-26-01-01",
        "Flexible Demo gas (January 2026)",
        "gas",
        date(2026, 1, 1),
        None,
        Decimal("5.65"),
        Decimal("33.42"),
    ),
)


@dataclass(frozen=True)
class Meter:
    """One usage point (ESPI) with its meter: what it measures and how it is read."""

    usage_point: str
    """The UsagePoint's id in the API's URLs."""
    meter_reading: str
    reading_type: str
    fuel: str
    service_kind: str
    """ESPI ServiceKind: 0 electricity, 1 gas."""
    supply_number: str
    """MPAN core (electricity) or MPRN (gas): what the customer reads on her bill."""
    serial: str
    agreement: str
    interval: int
    """Seconds per reading: half-hourly electricity, daily gas."""
    uuid: str


ELECTRICITY = Meter(
    "1", "1", "1", "electricity", "0", "1900018742138", "22L4381927", "SA-E-4471902", 1800,
    "6513270e-269e-4d37-b2a7-4de452e6b438",
)  # fmt: skip
GAS = Meter(
    "2", "2", "2", "gas", "1", "7405213906", "G4P05871234A", "SA-G-4471903", 86400,
    "d23f0824-128b-4f33-8c5c-7fd0a6a3a450",
)  # fmt: skip
METERS = (ELECTRICITY, GAS)

ESTIMATED = {
    # (meter, local day): (first half-hour, last half-hour, ESPI quality) estimated that day.
    ("1", date(2025, 11, 19)): (12, 23, "9"),  # a comms outage, 06:00-11:30, interpolated
    ("1", date(2026, 2, 7)): (0, 47, "8"),  # the whole day from a reference day
    ("2", date(2025, 12, 25)): (0, 0, "8"),
    ("2", date(2026, 3, 2)): (0, 0, "8"),
}
"""Readings the meters did not send, which Demo Energy estimated."""


def seeded(seed: int, purpose: str) -> random.Random:
    """A generator for one kind of data, so that adding a kind never reshuffles the others."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311 - demo data, not secrets


def midnight(day: date) -> datetime:
    """The start of a London day, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=LONDON)


def epoch(moment: datetime) -> int:
    """Seconds since 1970-01-01 UTC (ESPI's TimeType)."""
    return int(moment.timestamp())


def day_bounds(day: date) -> tuple[int, int]:
    """A London day as (start, duration) in ESPI seconds: 23 or 25 hours on change days."""
    start, end = epoch(midnight(day)), epoch(midnight(day + timedelta(days=1)))
    return start, end - start


def atom_time(moment: datetime) -> str:
    """An Atom date (RFC 3339) in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def billing_periods(until: date) -> Iterator[tuple[date, date]]:
    """(first, last day) of each billing period that has ended by ``until`` (inclusive)."""
    start = FIRST_DAY
    while True:
        month, year = (start.month % 12) + 1, start.year + (start.month == 12)
        end = date(year, month, BILLING_DAY) - timedelta(days=1)
        if end > until:
            return
        yield start, end
        start = end + timedelta(days=1)


def tariff_on(fuel: str, day: date) -> Tariff:
    """The tariff that priced ``fuel`` on ``day``."""
    for tariff in TARIFFS:
        if (
            tariff.fuel == fuel
            and tariff.valid_from <= day
            and (tariff.valid_to is None or day <= tariff.valid_to)
        ):
            return tariff
    raise LookupError(f"No {fuel} tariff on {day}.")


def pounds(pence: Decimal) -> Decimal:
    """Pence to pounds, rounded to the penny as a bill rounds each line."""
    return (pence / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def espi_money(amount: Decimal) -> str:
    """An amount in ESPI's unit: an integer count of 10^-5 of the currency unit."""
    return str(int(amount.scaleb(5)))


def gas_kwh(cubic_metres: Decimal) -> Decimal:
    """The energy in a volume of gas, to the watt-hour, as UK bills convert it."""
    kwh = cubic_metres * GAS_VOLUME_CORRECTION * GAS_CALORIFIC_VALUE / Decimal("3.6")
    return kwh.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


PARTY_NAME = "Siobhán Ashworth"
ADDRESS = {
    "streetDetail": {"number": "27", "name": "Elmwood Road", "suiteNumber": "Flat 3"},
    "townDetail": {"name": "London", "stateOrProvince": "Greater London", "country": "GB"},
    "postalCode": "SE24 9NX",
}
"""The supply address, as ESPI's StreetAddress."""

PROCESSING_NOTICE = [
    {
        "purpose_id": "supply-billing",
        "purpose": "Supplying your energy, reading your meters and billing you",
        "legal_basis": "contract",
        "categories": ["party", "accounts", "products", "usage", "bills"],
        "recipients": [
            {"name": "Meter operators and data collectors", "type": "processor", "country": "GB"},
            {"name": "Elexon (electricity settlement)", "type": "controller", "country": "GB"},
        ],
        "retention": "For the life of your account and 6 years after it closes.",
        "source": "You, and your smart meters through the Data Communications Company.",
        "automated_decision": None,
    },
    {
        "purpose_id": "half-hourly-settlement",
        "purpose": "Settling the half-hourly cost of your electricity with the industry",
        "legal_basis": "legal_obligation",
        "categories": ["usage"],
        "recipients": [{"name": "Elexon", "type": "controller", "country": "GB"}],
        "retention": "14 months for half-hourly readings, then daily totals only.",
        "source": "Your electricity smart meter.",
        "automated_decision": None,
    },
    {
        "purpose_id": "credit-check",
        "purpose": "Checking your credit when you joined, to set how you pay",
        "legal_basis": "legitimate_interests",
        "categories": ["party", "accounts"],
        "recipients": [
            {"name": "Equifax Ltd (credit reference agency)", "type": "controller", "country": "GB"}
        ],
        "retention": "6 years from the check.",
        "source": "Equifax Ltd, a credit reference agency.",
        "automated_decision": {
            "logic": "A score from your credit file; below a threshold, a deposit or a"
            " prepayment meter is required.",
            "consequences": "You may be asked for a deposit or offered prepayment instead of"
            " monthly direct debit. You can ask for a person to review it.",
        },
    },
    {
        "purpose_id": "usage-insights",
        "purpose": "Energy-use insights in your app, built by our analytics provider",
        "legal_basis": "legitimate_interests",
        "categories": ["usage"],
        "recipients": [
            {
                "name": "Gridwise Analytics Inc. (analytics provider)",
                "type": "processor",
                "country": "US",
                "safeguard": "Standard contractual clauses (UK addendum)",
            }
        ],
        "transfers": "Readings are sent to the United States under the UK International Data"
        " Transfer Addendum to the EU standard contractual clauses.",
        "retention": "24 months of readings.",
        "source": "Your smart meters.",
        "automated_decision": None,
    },
    {
        "purpose_id": "marketing",
        "purpose": "Telling you about our tariffs and offers",
        "legal_basis": "consent",
        "categories": ["party"],
        "recipients": [],
        "retention": "Until you withdraw consent.",
        "source": "You.",
        "automated_decision": None,
    },
]
"""Demo Energy's processing notice (GDPR article 15(1)(a)-(h)), as its privacy API serves it."""


def product_json(tariff: Tariff) -> dict[str, Any]:
    """A tariff as Demo Energy's product API serves it (rates in pence, with and without VAT)."""

    def with_vat(pence: Decimal) -> str:
        return str(pence * (1 + VAT_RATE))

    return {
        "code": tariff.code,
        "full_name": tariff.name,
        "fuel": tariff.fuel,
        "is_variable": True,
        "available_from": tariff.valid_from.isoformat(),
        "available_to": tariff.valid_to.isoformat() if tariff.valid_to else None,
        "currency": "GBP",
        "standard_unit_rate_exc_vat": str(tariff.unit_rate),
        "standard_unit_rate_inc_vat": with_vat(tariff.unit_rate),
        "standing_charge_exc_vat": str(tariff.standing_charge),
        "standing_charge_inc_vat": with_vat(tariff.standing_charge),
        "terms": "Variable tariff: prices follow the Ofgem price cap, with 30 days' notice"
        " of any change. No exit fees.",
    }


def processing_json() -> dict[str, Any]:
    """Demo Energy's processing notice, as its privacy API serves it."""
    return {
        "controller": "Demo Energy Ltd",
        "contact": "privacy@demo-energy.example",
        "version": "2025-09",
        "purposes": copy.deepcopy(PROCESSING_NOTICE),
    }
