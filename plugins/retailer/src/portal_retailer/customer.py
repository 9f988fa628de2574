"""Who Demo Mart's customer is and what the shop sells: the fixed part of the demo data.

She is the same person the Demo Bank knows (Siobhán Ashworth, of Elmwood Road), so that a
demo store holds one person's record across sectors. Also the small helpers the dataset
uses to write the API's values: London local times with their offset, amounts in pounds
as decimal strings (never JSON numbers, which readers turn into floats), one seeded
generator per kind of data.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
START = date(2025, 1, 4)
"""The first Saturday of the demo's purchases."""
END = date(2026, 10, 30)
"""The last day of purchases; the shop's clock stands at 20:00 that evening."""
JOINED = date(2024, 12, 14)
"""When she joined Demo Mart Rewards (before her first purchase: the points start at 0)."""
MEMBERSHIP = "6338 0042 1776 3301"
CUSTOMER_ID = "DMC-40021776"
POINTS_PER_POUND = 1
"""Points earned per whole pound of each product line (delivery earns none)."""
PENCE_PER_POINT = 1
"""What a point is worth when spent: 100 points take £1 off an order."""

# (store id, name)
STORES = [("0412", "Demo Mart Brixton"), ("0107", "Demo Mart Clapham Junction")]

# The catalogue: sku -> (description, category code, price in pence). Names are not ASCII
# everywhere, as real till rolls are not.
CATALOGUE: dict[str, tuple[str, str, int]] = {
    "100231": ("Semi-skimmed milk 2 pints", "DAIRY", 155),
    "100874": ("Crème fraîche 300ml", "DAIRY", 135),
    "101552": ("Free-range eggs, 6", "DAIRY", 229),
    "104410": ("Sourdough loaf", "BAKERY", 275),
    "104917": ("Pain au chocolat, 4", "BAKERY", 200),
    "107301": ("Bananas, 5", "FRESH", 95),
    "107856": ("Vine tomatoes 500g", "FRESH", 199),
    "108020": ("Jalapeño & lime crisps 150g", "PANTRY", 165),
    "108763": ("Arborio risotto rice 1kg", "PANTRY", 260),
    "109115": ("Coffee beans, Colombia 1kg", "DRINKS", 1450),
    "109442": ("Sparkling water 12 x 500ml", "DRINKS", 525),
    "110230": ("Washing-up liquid 900ml", "HOME", 185),
    "302114": ("Linen duvet cover, double", "HOME", 6500),
    "302560": ("Cast-iron casserole 24cm", "HOME", 8900),
    "402771": ("Merino jumper, navy, size 12", "CLOTHING", 4500),
    "402905": ("Running tights, size 12", "CLOTHING", 2800),
    "503318": ("SPF 50 sun cream 200ml", "BEAUTY", 899),
    "604402": ("Bluetooth speaker", "ELECTRICALS", 3999),
}
GROCERY = [s for s, (_, c, _) in CATALOGUE.items() if c in {"DAIRY", "BAKERY", "FRESH", "PANTRY"}]
BIGGER = ["109115", "109442", "110230", "503318"]
HOMEWARE = ["302114", "302560", "402771", "402905", "604402"]
DELIVERY_SKU, DELIVERY_PENCE = "DEL-STD", 395
POINTS_SKU = "RWD-REDEEM"


def seeded(seed: int, purpose: str) -> random.Random:
    """A generator for one kind of data, so that adding a kind never reshuffles the others."""
    return random.Random(f"retailer:{seed}:{purpose}")  # noqa: S311 - demo data, not secrets


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A London wall-clock time, normalised through UTC (a skipped hour moves on)."""
    local = datetime.combine(day, time(hour, minute, second), tzinfo=LONDON)
    return local.astimezone(UTC).astimezone(LONDON)


def stamp(moment: datetime) -> str:
    """ISO 8601 in London local time with its offset, e.g. ``2025-07-01T09:30:00+01:00``."""
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def pounds(pence: int) -> str:
    """An amount in pounds as the API writes it: a decimal string with two places."""
    return str((Decimal(pence) / 100).quantize(Decimal("0.01")))


# fmt: off
def profile() -> dict[str, Any]:
    """The customer resource: her details as she gave them when she registered."""
    return {
        "customer_id": CUSTOMER_ID,
        "title": "Ms",
        "first_name": "Siobhán",
        "last_name": "Ashworth",
        "email": "siobhan.ashworth@example.com",
        "mobile": "+44 7700 900123",
        "date_of_birth": "1991-06-14",
        "addresses": [
            {"type": "billing", "line1": "Flat 3", "line2": "27 Elmwood Road",
             "city": "London", "postcode": "SE24 9NX", "country": "GB"},
            {"type": "delivery", "line1": "Northwind Analytics Ltd", "line2": "4 Pilgrim Street",
             "city": "London", "postcode": "EC4V 6AB", "country": "GB"},
        ],
        "registered_at": "2023-09-02T14:11:52+01:00",
    }


def loyalty_account() -> dict[str, Any]:
    """The Rewards membership: the loyalty account points are earned on and spent from."""
    return {
        "membership_number": MEMBERSHIP,
        "programme": "Demo Mart Rewards",
        "tier": "silver",
        "status": "active",
        "joined_on": JOINED.isoformat(),
        "points_value_pence": PENCE_PER_POINT,
    }


def preferences() -> list[dict[str, Any]]:
    """Marketing preferences: one consent given and later withdrawn, one never given."""
    rows = [
        ("MP-01", "email", "offers", "withdrawn", "2024-12-14T11:02:10+00:00",
         "2026-03-09T21:40:03+00:00",
         "Email me Demo Mart offers and Rewards news."),
        ("MP-02", "sms", "offers", "opted_out", None, "2024-12-14T11:02:10+00:00",
         "Text me Demo Mart offers."),
        ("MP-03", "post", "catalogue", "opted_in", "2024-12-14T11:02:10+00:00",
         "2024-12-14T11:02:10+00:00",
         "Send me the seasonal homeware catalogue."),
        ("MP-04", "app", "personalised_offers", "opted_in", "2025-02-01T08:15:44+00:00",
         "2025-02-01T08:15:44+00:00",
         "Tailor the offers in the app to what I buy."),
    ]
    return [
        {"id": i, "channel": channel, "topic": topic, "status": status, "granted_at": granted,
         "updated_at": updated, "wording": wording}
        for i, channel, topic, status, granted, updated, wording in rows
    ]


def insights() -> list[dict[str, Any]]:
    """What Demo Mart's models derived about her (GDPR art. 15: inferred data)."""
    computed = "2026-10-01T03:00:00+01:00"
    return [
        {"id": "INS-SEG-LIFESTAGE", "type": "segment", "name": "Life stage",
         "value": "Young professional, no children", "score": None, "computed_at": computed,
         "explanation": "From the products you buy and when you shop.", "model": "lifestage-v4"},
        {"id": "INS-SEG-MISSION", "type": "segment", "name": "Shopping mission",
         "value": "Weekend top-up shopper", "score": None, "computed_at": computed,
         "explanation": "Most of your baskets are small and bought on Saturdays.",
         "model": "missions-v2"},
        {"id": "INS-SCORE-CHURN", "type": "score", "name": "Likelihood to stop shopping with us",
         "value": "Low", "score": "0.12", "computed_at": computed,
         "explanation": "Your visits have been regular for the last 12 months.",
         "model": "churn-v7"},
        {"id": "INS-SCORE-PRICE", "type": "score", "name": "Price sensitivity",
         "value": "Medium", "score": "0.55", "computed_at": computed,
         "explanation": "How often you buy promoted items instead of their usual version.",
         "model": "elasticity-v3"},
        {"id": "INS-TRAIT-DIET", "type": "trait", "name": "Dietary preference",
         "value": "Vegetarian (likely)", "score": "0.81", "computed_at": computed,
         "explanation": "You have not bought meat or fish in the last 12 months.",
         "model": "diet-v1"},
    ]
# fmt: on
