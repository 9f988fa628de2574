"""Ways of serving Demo Telecom's bills, products, permissions and usage that their TM Forum
documents allow but the usual sandbox does not use.

TMF678 makes almost everything of a bill optional, lets Money be in any currency, and lets
any object be a sub-class (``@type``, ``@baseType``, ``@schemaLocation``, properties of its
own); TMF644 asks of a privacy profile only who agreed to it, and leaves its purposes and
statuses free text; TMF635 requires nothing of a usage and leaves its type free text;
``portal_telco.rules`` writes that down. Each ``Variant`` serves the same
items one such way (``TelcoSandbox(variant=name)``); the ground truth states them as served.
Every variant but ``faulty`` is valid against the documents.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Change = Callable[[dict[str, Any], str], dict[str, Any]]
"""Rewrites one served object (a bill, a rate, a product, a privacy profile or a usage, by its
kind)."""


@dataclass(frozen=True)
class Variant:
    """One way of serving the same bills and applied rates."""

    name: str
    description: str
    change: Change | None = None
    rejected_bills: int = 0
    """How many bills a correct plugin rejects (``faulty`` only)."""
    rejected_profiles: int = 0
    """How many privacy profiles a correct plugin rejects (``faulty`` only)."""
    rejected_usage: int = 0
    """How many usage items a correct plugin rejects (``faulty`` only)."""

    def serve(self, items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
        """``items`` (``customer``, ``bill``, ``rate``, ``product``, ``privacy`` or ``usage``)
        as served."""
        if self.change is None:
            return items
        return [self.change(copy.deepcopy(item), kind) for item in items]


_SPARSE_BILL = (
    "href", "billDate", "billNo", "category", "lastUpdate", "paymentDueDate", "runType",
    "state", "amountDue", "remainingAmount", "taxIncludedAmount", "taxItem", "paymentMethod",
)  # fmt: skip
_SPARSE_RATE = ("href", "name", "description", "date", "isBilled", "taxIncludedAmount")
_SPARSE_PRODUCT = (
    "href", "name", "description", "isBundle", "isCustomerVisible", "productSerialNumber",
    "relatedParty",
)  # fmt: skip
_SPARSE_PRIVACY = (
    "href", "name", "description", "status", "creationDate", "lastUpdate", "validFor", "@type",
)  # fmt: skip
_SPARSE_CUSTOMER = (
    "href", "name", "status", "validFor", "characteristic", "paymentMethod", "@type",
)  # fmt: skip
_SPARSE_USAGE = ("href", "description", "status", "usageSpecification", "@type")
_SPARSE_RATING = (
    "ratingDate", "usageRatingTag", "isBilled", "ratingAmountType", "taxExcludedRatingAmount",
    "taxRate", "isTaxExempt", "offerTariffType",
)  # fmt: skip
_SPARSE = {
    "usage": _SPARSE_USAGE,
    "customer": _SPARSE_CUSTOMER,
    "bill": _SPARSE_BILL,
    "rate": _SPARSE_RATE,
    "product": _SPARSE_PRODUCT,
    "privacy": _SPARSE_PRIVACY,
}


def _sparse(item: dict[str, Any], kind: str) -> dict[str, Any]:
    for name in _SPARSE[kind]:
        item.pop(name, None)
    if kind == "product":  # nor does the offering it refers to need a name
        item.get("productOffering", {}).pop("name", None)
    if kind == "privacy":  # the value alone says what was agreed; no purpose is required
        for trait in item.get("partyPrivacyProfileCharacteristic", []):
            trait.pop("privacyUsagePurpose", None)
        if item.get("id") == _LAST_PROFILE:  # nor any characteristic at all
            item.pop("partyPrivacyProfileCharacteristic")
    if kind == "usage":  # a rating needs no more than its product and amount,
        for rating in item.get("ratedProductUsage", []):  # a product reference its id
            for name in _SPARSE_RATING:
                rating.pop(name, None)
            rating["productRef"].pop("href", None)
        for trait in item.get("usageCharacteristic", []):  # nor a characteristic its type
            trait.pop("valueType", None)
    if kind == "customer":  # no medium need say it is preferred, no credit profile its rating
        for medium in item.get("contactMedium", []):
            medium.pop("preferred", None)
        for profile in item.get("creditProfile", []):
            profile.pop("creditRiskRating", None)
    return item


def _subclassed(item: dict[str, Any], kind: str) -> dict[str, Any]:
    base = item.get("@type", _BASES[kind])
    own = _OWN[kind]
    item.update(
        {
            "@type": own,
            "@baseType": base,
            "@schemaLocation": f"https://api.demo-telecom.example/schemas/{own}.schema.json",
        }
    )
    if kind == "bill":
        item["loyaltyPointsEarned"] = 120  # a property of the sub-class
        item["relatedParty"] = [{"id": "CUS-5519204", "role": "customer"}]
    if kind == "customer":
        item["loyaltyTier"] = "gold"  # a property of the sub-class
        # mediumType is free text in TMF629: a medium of Demo Telecom's own kind.
        messaging = {"contactType": "messaging", "phoneNumber": "+44 7700 900123"}
        item["contactMedium"].append({"mediumType": "whatsapp", "characteristic": messaging})
    if kind == "usage":
        item["networkGeneration"] = "5G"  # a property of the sub-class
        item["relatedParty"] = [
            {"id": "CUS-5519204", "role": "customer", "@referredType": "Individual"}
        ]
        for rating in item.get("ratedProductUsage", []):
            rating["@type"] = "DemoTelecomRating"
        # usageType is free text in TMF635: a picture message is Demo Telecom's own type.
        if item["usageType"] == "sms" and item["id"].endswith(("0", "5")):
            item["usageType"] = "mms"
        if item.get("status") == "rated":  # the document's word for rated again
            item["status"] = "rerated"
    if kind == "privacy":
        item["consentSource"] = "app"  # a property of the sub-class
        # lastUpdate is no TMF644 property, so the sub-class may write it as it likes: a date.
        item["lastUpdate"] = item["lastUpdate"][:10]
        for trait in item.get("partyPrivacyProfileCharacteristic", []):
            # Purposes are free text in TMF644: Demo Telecom's own word for partners' offers.
            if trait.get("privacyUsagePurpose") == "THIRD_PARTY_SHARING":
                trait["privacyUsagePurpose"] = "PARTNER_OFFERS"
            trait["valueType"] = "string"
    return item


_BASES = {
    "customer": "Customer",
    "bill": "CustomerBill",
    "rate": "AppliedCustomerBillingRate",
    "product": "Product",
    "privacy": "PartyPrivacyProfile",
    "usage": "Usage",
}
_OWN = {
    "customer": "DemoTelecomCustomer",
    "bill": "DemoTelecomBill",
    "rate": "DemoTelecomCharge",
    "product": "DemoTelecomPlan",
    "privacy": "DemoTelecomPermission",
    "usage": "DemoTelecomUsage",
}


def _in_euros(item: dict[str, Any], kind: str) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"unit", "value"}:
                return {"unit": "EUR", "value": value["value"]}
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    changed: dict[str, Any] = walk(item)
    return changed


def _unidentified(item: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind in ("bill", "privacy", "customer", "usage"):
        item.pop("id", None)
        item.pop("href", None)
    return item


def _faulty(item: dict[str, Any], kind: str) -> dict[str, Any]:
    # Not valid: the first bill's date is not an RFC 3339 date-time.
    if kind == "bill" and item.get("id") == _FIRST_BILL:
        item["billDate"] = "26/05/2026"
    # Nor is the first privacy profile's start of validity.
    if kind == "privacy" and item.get("id") == _FIRST_PROFILE:
        item["validFor"]["startDateTime"] = "14/08/2019"
    # Nor is the first usage's date.
    if kind == "usage" and item.get("id") == _FIRST_USAGE:
        item["usageDate"] = "25/04/2026 06:29"
    return item


_FIRST_BILL = "CB-31877204-202605"
_FIRST_PROFILE = "PPP-0001"
_LAST_PROFILE = "PPP-0006"
_FIRST_USAGE = "USG-0000001"

VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("standard", "Every property Demo Telecom has."),
        Variant(
            "sparse",
            "Only the bill's id, account, period and tax-excluded amounts; rates without"
            " name, date or tax-included amount (their tax in appliedTax); products without"
            " a name (nor their offering's); privacy profiles with only their id, who agreed"
            " and a characteristic's name and value (no status, purpose, dates or name), the"
            " last with no characteristic at all; the customer without name, status or"
            " characteristics, its contact media without preference, its credit profile"
            " without risk rating; usage without description, status or specification, rated"
            " with only its product's id and tax-included amount, characteristics without"
            " valueType.",
            _sparse,
        ),
        Variant(
            "subclassed",
            "The customer, bills, rates, products and privacy profiles as Demo Telecom's own"
            " sub-classes: @type, @baseType, @schemaLocation and properties of their own, with"
            " relatedParty; a privacy purpose (PARTNER_OFFERS) and a contact medium type"
            " (whatsapp) of Demo Telecom's own; privacy profiles' lastUpdate (not a TMF644"
            " property) as a date; usage as DemoTelecomUsage with a usage type of its own"
            " (mms) and unbilled usage rerated.",
            _subclassed,
        ),
        Variant("euros", "Every amount of every bill and usage in euros.", _in_euros),
        Variant(
            "unidentified",
            "The customer, bills, privacy profiles and usage without an id (TMF629, TMF678,"
            " TMF644 and TMF635 allow it), so bills' charges cannot be asked for by bill;"
            " portal derives each bill's id from its contract and period, each permission's"
            " from who agreed, purpose and channel, the customer's from its engaged party, and"
            " each usage's from its product, date and type.",
            _unidentified,
        ),
        Variant(
            "faulty",
            "Not valid TMF678, TMF644 nor TMF635: one bill's billDate, one privacy profile's"
            " validFor.startDateTime and one usage's usageDate are not date-times; portal must"
            " reject that bill, that profile and that usage, saying why, and keep the rest.",
            _faulty,
            rejected_bills=1,
            rejected_profiles=1,
            rejected_usage=1,
        ),
    )
}
"""Every variant the sandbox can serve, by name."""


def variant(name: str) -> Variant:
    """The variant called ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}: {', '.join(VARIANTS)}.")
    return VARIANTS[name]
