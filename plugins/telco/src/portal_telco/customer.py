"""Who Demo Telecom's customer is and what she pays: the fixed part of the demo data.

The customer is the same person as the Demo Bank's (same name, address and mobile number),
so a demo syncs one person's life from two providers. Also here: the tariff every call,
text and session is priced with, the trips abroad, and the small helpers
``portal_telco.dataset`` uses to write TM Forum values (Money objects, UTC and London
date-times, one seeded generator per kind of data).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
START = date(2026, 4, 25)
"""The first day of usage the telco still holds (its call records go back six months)."""
END = date(2026, 10, 31)
CURRENCY = "GBP"
VAT = Decimal("0.20")

CUSTOMER_ID = "CUS-5519204"
MOBILE_ID, DATA_ADDON_ID, TV_PASS_ID, BROADBAND_ID = (
    "PRD-7704-1123",
    "PRD-7704-2290",
    "PRD-7704-1987",
    "PRD-7704-1560",
)
MOBILE_ACCOUNT, BROADBAND_ACCOUNT = "BA-31877204", "BA-31877215"
MSISDN = "+447700900123"
LANDLINE = "+442079460123"
HOME_NETWORK = "Demo Telecom"

# Prices include VAT, as UK consumer prices do.
MOBILE_PLAN = Decimal("18.00")
DATA_ADDON = Decimal("5.00")
TV_PASS = Decimal("4.99")
BROADBAND_PLAN = Decimal("32.99")
LOYALTY_DISCOUNT = Decimal("-5.00")
ROUTER_DELIVERY = Decimal("9.99")

# offerTariffType: (price, what it is per, the price's name on the product).
RATES: dict[str, tuple[Decimal, str, str]] = {
    "premiumRate": (Decimal("2.00"), "minute", "Calls to 09 premium-rate numbers"),
    "international": (Decimal("1.50"), "minute", "Calls from the UK to the US and Canada"),
    "internationalSms": (Decimal("0.30"), "message", "Texts from the UK to other countries"),
    "shortCode": (Decimal("0.50"), "message", "Texts to 5-digit short codes"),
    "roamingDailyPass": (Decimal("2.29"), "day", "Europe roaming pass, each day you use it"),
    "roamingWorldCall": (Decimal("2.00"), "minute", "Rest of the world: calls made"),
    "roamingWorldAnswer": (Decimal("1.50"), "minute", "Rest of the world: calls received"),
    "roamingWorldSms": (Decimal("0.50"), "message", "Rest of the world: texts sent"),
    "roamingWorldData": (Decimal("0.50"), "MB", "Rest of the world: data, per MB started"),
    "landlineUk": (Decimal("0.20"), "minute", "Home phone: calls to UK landlines"),
    "landlineMobile": (Decimal("0.25"), "minute", "Home phone: calls to UK mobiles"),
}
MOBILE_RATES = [k for k in RATES if not k.startswith("landline")]
LANDLINE_RATES = ["landlineUk", "landlineMobile"]

# Trips abroad: (first day, last day, country, zone, the network the phone roamed onto).
TRIPS = [
    (date(2026, 7, 11), date(2026, 7, 17), "ES", "europe", "Movistar ES"),
    (date(2026, 9, 8), date(2026, 9, 12), "US", "world", "AT&T Mobility US"),
]

# Who she calls and texts: (number, kind). Ofcom's drama ranges and 555-01xx: all fictional.
FRIENDS = [f"+4477009004{n:02d}" for n in (12, 27, 31, 45, 58, 66, 73, 89)]
LANDLINES = ["+442079460345", "+441134960201", "+441632960777", "+442890180512"]
NON_GEOGRAPHIC = ["+443069990112", "+443069990208"]
PREMIUM = ["+449098790145"]
US_NUMBERS = ["+12025550147", "+12025550183"]
SHORT_CODES = ["60999"]


def seeded(seed: int, purpose: str) -> random.Random:
    """A generator for one kind of data, so that adding a kind never reshuffles the others."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311 - demo data, not secrets


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A London wall-clock time; a time skipped by the spring change moves an hour on."""
    local = datetime.combine(day, time(hour, minute, second), tzinfo=LONDON)
    return local.astimezone(UTC).astimezone(LONDON)


def utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as TM Forum examples write date-times."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(moment: datetime) -> str:
    """ISO 8601 in London local time with its offset (bill dates, as the bill prints them)."""
    return moment.astimezone(LONDON).isoformat(timespec="seconds")


def pounds(amount: Decimal | str) -> Decimal:
    """An amount rounded to the penny, half up, as the telco's billing rounds."""
    return Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(amount: Decimal) -> dict[str, Any]:
    """A TMF Money: the value is a JSON number (the standard's ``number``), not a string."""
    return {"unit": CURRENCY, "value": float(amount)}


def without_vat(amount: Decimal) -> Decimal:
    """The VAT-exclusive part of a VAT-inclusive amount."""
    return pounds(amount / (1 + VAT))


def ref(kind: str, ident: str, path: str, name: str | None = None) -> dict[str, Any]:
    """A TMF entity reference: id, href (relative to the API root), optional name."""
    out: dict[str, Any] = {"id": ident, "href": f"/tmf-api/{path}/{ident}"}
    if name:
        out["name"] = name
    out["@referredType"] = kind
    return out


# fmt: off
def customer() -> dict[str, Any]:
    """The TMF629 Customer, with contact media, a credit profile and the telco's segment."""
    return {
        "id": CUSTOMER_ID,
        "href": f"/tmf-api/customerManagement/v4/customer/{CUSTOMER_ID}",
        "name": "Siobhán Ashworth",
        "status": "Approved",
        "validFor": {"startDateTime": local(at(date(2019, 8, 14), 11, 2))},
        "engagedParty": ref("Individual", "IND-88341", "partyManagement/v4/individual",
                            "Siobhán Máire Ashworth"),
        "contactMedium": [
            {"mediumType": "email", "preferred": True,
             "characteristic": {"contactType": "personal",
                                "emailAddress": "siobhan.ashworth@example.com"}},
            {"mediumType": "mobile", "preferred": False,
             "characteristic": {"contactType": "mobile", "phoneNumber": "+44 7700 900123"}},
            {"mediumType": "telephone", "preferred": False,
             "characteristic": {"contactType": "home", "phoneNumber": "+44 20 7946 0123"}},
            {"mediumType": "postalAddress", "preferred": True,
             "characteristic": {"contactType": "billing", "street1": "Flat 3",
                                "street2": "27 Elmwood Road", "city": "London",
                                "postCode": "SE24 9NX", "country": "GB"}},
        ],
        "account": [
            ref("BillingAccount", MOBILE_ACCOUNT, "accountManagement/v4/billingAccount", "Mobile"),
            ref("BillingAccount", BROADBAND_ACCOUNT, "accountManagement/v4/billingAccount",
                "Broadband and home phone"),
        ],
        "characteristic": [
            {"name": "preferredLanguage", "valueType": "string", "value": "en-GB"},
            {"name": "billFormat", "valueType": "string", "value": "paperless"},
        ],
        "creditProfile": [
            {"creditProfileDate": local(at(date(2025, 3, 8), 10, 14)), "creditRiskRating": 2,
             "creditScore": 812,
             "validFor": {"startDateTime": local(at(date(2025, 3, 8), 10, 14))}},
        ],
        "paymentMethod": [ref("BankAccountDebit", "PM-2209741", "paymentMethods/v4/paymentMethod",
                              "Direct Debit from account ending 7713")],
        "@type": "Customer",
    }
# fmt: on


def _price(
    name: str, kind: str, amount: Decimal, *, unit: str | None = None, period: str | None = None
) -> dict[str, Any]:
    """A TMF637 ProductPrice with its VAT-inclusive and duty-free amounts."""
    price: dict[str, Any] = {"name": name, "priceType": kind}
    if period:
        price["recurringChargePeriod"] = period
    if unit:
        price["unitOfMeasure"] = unit
    price["price"] = {
        "taxRate": float(VAT * 100),
        "dutyFreeAmount": money(without_vat(amount)),
        "taxIncludedAmount": money(amount),
    }
    return price


def _usage_prices(keys: list[str]) -> list[dict[str, Any]]:
    return [_price(RATES[k][2], "usage", RATES[k][0], unit=RATES[k][1]) for k in keys]


def _term(months: int, start: date, end: date) -> dict[str, Any]:
    return {
        "name": "Minimum term",
        "description": f"{months} months from {start:%-d %B %Y}; after that, one month's notice.",
        "duration": {"amount": months, "units": "month"},
        "validFor": {"startDateTime": local(at(start, 0)), "endDateTime": local(at(end, 0))},
    }


def products() -> list[dict[str, Any]]:
    """The TMF637 product inventory: two contracts, two add-ons (one ended)."""
    party = [ref("Customer", CUSTOMER_ID, "customerManagement/v4/customer") | {"role": "owner"}]
    mobile_ba = ref("BillingAccount", MOBILE_ACCOUNT, "accountManagement/v4/billingAccount")
    home_ba = ref("BillingAccount", BROADBAND_ACCOUNT, "accountManagement/v4/billingAccount")

    def on(product_id: str) -> list[dict[str, Any]]:
        return [
            {
                "relationshipType": "addOnTo",
                "product": {"id": product_id, "href": _href(product_id)},
            }
        ]

    return [
        {
            "id": MOBILE_ID,
            "href": _href(MOBILE_ID),
            "name": "SIM Only 30GB",
            "description": "30GB of data, unlimited UK calls and texts, Europe roaming by the day.",
            "isBundle": False,
            "isCustomerVisible": True,
            "status": "active",
            "startDate": local(at(date(2025, 3, 10), 14, 20)),
            "productSerialNumber": "8944100000007741123",
            "productOffering": {"id": "PO-SIMO-30GB-24", "name": "SIM Only 30GB, 24 months"},
            "productSpecification": {"id": "mobile-sim-only", "name": "Mobile SIM only"},
            "productCharacteristic": [
                {"name": "msisdn", "valueType": "string", "value": MSISDN},
                {"name": "dataAllowance", "valueType": "string", "value": "30GB"},
                {"name": "simType", "valueType": "string", "value": "eSIM"},
            ],
            "productPrice": [
                _price("SIM Only 30GB", "recurring", MOBILE_PLAN, period="month"),
                *_usage_prices(MOBILE_RATES),
            ],
            "productTerm": [_term(24, date(2025, 3, 10), date(2027, 3, 10))],
            "billingAccount": mobile_ba,
            "relatedParty": party,
            "@type": "Product",
        },
        {
            "id": DATA_ADDON_ID,
            "href": _href(DATA_ADDON_ID),
            "name": "Extra 10GB data",
            "description": "10GB more data every month, on top of your plan's allowance.",
            "isBundle": False,
            "isCustomerVisible": True,
            "status": "active",
            "startDate": local(at(date(2026, 6, 25), 9, 41)),
            "productOffering": {"id": "PO-DATA-10GB", "name": "Extra 10GB data, monthly"},
            "productSpecification": {"id": "data-addon", "name": "Data add-on"},
            "productPrice": [_price("Extra 10GB data", "recurring", DATA_ADDON, period="month")],
            "productRelationship": on(MOBILE_ID),
            "billingAccount": mobile_ba,
            "relatedParty": party,
            "@type": "Product",
        },
        {
            "id": TV_PASS_ID,
            "href": _href(TV_PASS_ID),
            "name": "Mobile TV pass",
            "isBundle": False,
            "isCustomerVisible": True,
            "status": "terminated",
            "startDate": local(at(date(2025, 9, 1), 19, 5)),
            "terminationDate": local(at(date(2026, 3, 1), 0)),
            "productOffering": {"id": "PO-TVPASS", "name": "Mobile TV pass, monthly"},
            "productSpecification": {"id": "tv-pass", "name": "TV pass"},
            "productPrice": [_price("Mobile TV pass", "recurring", TV_PASS, period="month")],
            "productRelationship": on(MOBILE_ID),
            "billingAccount": mobile_ba,
            "relatedParty": party,
            "@type": "Product",
        },
        {
            "id": BROADBAND_ID,
            "href": _href(BROADBAND_ID),
            "name": "Full Fibre 500 + Home Phone",
            "description": "500 Mbps full-fibre broadband with a pay-as-you-go home phone line.",
            "isBundle": False,
            "isCustomerVisible": True,
            "status": "active",
            "startDate": local(at(date(2025, 8, 1), 8, 0)),
            "productOffering": {"id": "PO-FF500-18", "name": "Full Fibre 500, 18 months"},
            "productSpecification": {"id": "fibre-broadband", "name": "Full-fibre broadband"},
            "productCharacteristic": [
                {"name": "serviceId", "valueType": "string", "value": "FTTP-LN-0882133"},
                {"name": "landlineNumber", "valueType": "string", "value": LANDLINE},
                {"name": "downloadSpeed", "valueType": "string", "value": "500 Mbps"},
                {"name": "uploadSpeed", "valueType": "string", "value": "70 Mbps"},
            ],
            "productPrice": [
                _price("Full Fibre 500 + Home Phone", "recurring", BROADBAND_PLAN, period="month")
                | {
                    "priceAlteration": [
                        _price("Loyalty discount", "recurring", LOYALTY_DISCOUNT, period="month")
                        | {"applicationDuration": 12, "priority": 1}
                    ]
                },
                _price("Replacement router delivery", "oneTime", ROUTER_DELIVERY),
                *_usage_prices(LANDLINE_RATES),
            ],
            "productTerm": [_term(18, date(2025, 8, 1), date(2027, 2, 1))],
            "place": [
                {
                    "role": "installationAddress",
                    "place": {
                        "street1": "Flat 3",
                        "street2": "27 Elmwood Road",
                        "city": "London",
                        "postCode": "SE24 9NX",
                        "country": "GB",
                    },
                }
            ],
            "billingAccount": home_ba,
            "relatedParty": party,
            "@type": "Product",
        },
    ]


def _href(product_id: str) -> str:
    return f"/tmf-api/productInventory/v4/product/{product_id}"


def privacy_profiles() -> list[dict[str, Any]]:
    """Marketing, profiling and sharing permissions, one TMF644 privacy profile per channel
    (profiling: one for every channel); one withdrawn."""
    rows = [
        ("email", "MARKETING", "Offers, upgrades and news from Demo Telecom by email",
         "granted", date(2019, 8, 14), None),
        ("sms", "MARKETING", "Offers and upgrade reminders by text", "granted",
         date(2019, 8, 14), None),
        ("phone", "MARKETING", "Offers by phone call", "refused", date(2019, 8, 14), None),
        ("post", "MARKETING", "Offers and catalogues by post", "withdrawn",
         date(2019, 8, 14), date(2026, 6, 3)),
        ("push", "MARKETING", "Offers in the Demo Telecom app", "granted",
         date(2025, 3, 10), None),
        ("partners", "THIRD_PARTY_SHARING",
         "Share your name and contact details with partners for their own offers", "refused",
         date(2019, 8, 14), None),
        ("all", "PROFILING",
         "Pick the offers we send you from how you use our services (your marketing segment)",
         "granted", date(2025, 3, 10), None),
    ]  # fmt: skip
    out = []
    for i, (channel, purpose, description, status, since, until) in enumerate(rows, 1):
        valid: dict[str, str] = {"startDateTime": local(at(since, 11, 2 + i))}
        if until:
            valid["endDateTime"] = local(at(until, 18, 40))
        out.append(
            {
                "id": f"PPP-{i:04d}",
                "href": f"/tmf-api/privacyManagement/v4/partyPrivacyProfile/PPP-{i:04d}",
                "name": purpose.replace("_", " ").title()
                + ("" if channel == "all" else f" by {channel}"),
                "description": description,
                "status": status,
                "creationDate": local(at(since, 11, 2 + i)),
                "lastUpdate": local(
                    at(until or since, 18 if until else 11, 40 if until else 2 + i)
                ),
                "validFor": valid,
                "agreedByParty": ref("Customer", CUSTOMER_ID, "customerManagement/v4/customer"),
                "partyPrivacyProfileCharacteristic": [
                    {"name": channel, "privacyUsagePurpose": purpose, "value": status}
                ],
                "@type": "PartyPrivacyProfile",
            }
        )
    return out
