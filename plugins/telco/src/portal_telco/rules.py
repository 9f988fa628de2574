"""What TMF678, TMF637, TMF644, TMF629 and TMF635 say of what Demo Telecom serves, as data,
and a checker.

Sources: TM Forum TMF678 Customer Bill Management API, swagger 2.0 document version 4.0.0
(release 19.5, December 2019), and TMF637 Product Inventory Management, swagger 2.0 version
4.0.0, as republished by FIWARE in ``FIWARE/tmforum-api``,
``api/tm-forum/customer-bill-management/api.json`` and ``.../product-inventory/api.json``;
TMF644 Privacy Management, swagger 2.0 version 4.0.0 (release 19.0, June 2019), as
republished in ``fschaell/tmf644``, ``api/swagger.yaml`` (commit b827259); TMF629 Customer
Management, swagger 2.0 version 4.0, as republished by FIWARE in ``FIWARE/tmforum-api``,
``api/customer.yaml`` (commit 75976c6); TMF635 Usage Management, swagger 2.0 version 4.0.0,
as published by TM Forum in ``tmforum-apis/TMF635_UsageManagement``,
``TMF635-UsageManagement-v4.0.0.swagger.json`` (commit f1e9031).

What the document says, in our words:

- A ``CustomerBill`` requires nothing: its id, number, dates, amounts, state, period and
  parties are all optional. An ``AppliedCustomerBillingRate`` requires only its ``id``;
  every reference (``BillRef``, ``BillingAccountRef``, ``ProductRef``, ``PaymentMethodRef``,
  ``RelatedPartyRef``) requires only its ``id``; a characteristic requires ``name`` and
  ``value`` (of any type).
- ``Money`` is ``{"unit": ISO 4217 letters, "value": number}``, both optional; ``TimePeriod``
  is ``startDateTime`` and ``endDateTime``, both optional RFC 3339 date-times.
- A bill's ``state`` is one of six words (``stateValue``: new, onHold, validated, sent,
  partiallyPaid, settled); a rate's ``type`` is free text the document describes
  (appliedBillingCharge, appliedBillingCredit, appliedPenaltyCharge...).
- A TMF637 ``Product`` requires nothing either, not even its ``name``; its ``status`` is one
  of eight words (``ProductStatusType``; the document spells the last ``"aborted "``, with a
  space, which is taken as written and also without it); a ``productRelationship`` requires
  its ``relationshipType`` and ``product``; a product's ``relatedParty`` requires ``id`` and
  ``@referredType``.
- A TMF644 ``PartyPrivacyProfile`` requires only ``agreedByParty`` (a ``RelatedParty``:
  ``id`` and ``@referredType``); its ``status`` is free text (the document's examples:
  agreed, created, terminated), and it has no ``lastUpdate`` (a property of the telco's own).
  A ``PartyPrivacyProfileCharacteristic`` requires ``name`` and ``value`` (of any type); its
  ``privacyUsagePurpose`` is optional free text (ADMIN, INFORMATION, MARKETING, RESEARCH...).
  The collection's profiles need no characteristic at all (only a created one does).
- A TMF629 ``Customer`` requires only ``engagedParty`` (a ``RelatedParty``); its id, name
  and status are optional. A ``ContactMedium`` requires ``mediumType`` (free text: "such
  as" email address, telephone number, postal address) and ``characteristic`` (whose
  properties are all optional); a ``CreditProfile`` requires ``creditProfileDate`` and
  ``validFor``, its score and risk rating are optional integers; an ``AccountRef`` requires
  its ``name`` (not its id).
- A TMF635 ``Usage`` requires nothing: its id, ``usageDate`` (a date-time), ``usageType``
  (free text: the document names no types), description, status, specification, parties,
  characteristics and rating are all optional. Its ``status`` is one of seven words
  (``UsageStatusType``: received, rejected, recycled, guided, rated, rerated, billed). A
  ``RatedProductUsage`` requires nothing either: its amounts are Money, ``taxRate`` a number,
  ``isBilled`` and ``isTaxExempt`` booleans, ``ratingDate`` a date-time, its tag, amount type
  and tariff type free text; its ``productRef`` requires the product's ``id``. A
  ``UsageCharacteristic`` requires ``name`` and ``value`` (of any type); a usage's
  ``relatedParty`` requires ``id`` and ``@referredType``; its ``usageSpecification`` its ``id``.
- Every object may say what it is with ``@type`` (the sub-class), ``@baseType`` (its super
  class) and ``@schemaLocation`` (a URI to a JSON schema of the extra properties); objects do
  not forbid other properties, so a sub-class's own properties are allowed anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

SOURCE = (
    "TM Forum TMF678 Customer Bill Management and TMF637 Product Inventory swagger 4.0.0,"
    " FIWARE/tmforum-api api/tm-forum/customer-bill-management/api.json and"
    " api/tm-forum/product-inventory/api.json; TMF644 Privacy Management swagger 4.0.0,"
    " fschaell/tmf644 api/swagger.yaml; TMF629 Customer Management swagger 4.0,"
    " FIWARE/tmforum-api api/customer.yaml; TMF635 Usage Management swagger 4.0.0,"
    " tmforum-apis/TMF635_UsageManagement TMF635-UsageManagement-v4.0.0.swagger.json"
)

_POLYMORPHIC = {"@baseType": "string", "@schemaLocation": "uri", "@type": "string"}
_REF = {
    "id": "string",
    "href": "string",
    "name": "string",
    **_POLYMORPHIC,
    "@referredType": "string",
}

DEFINITIONS: dict[str, tuple[Mapping[str, str], frozenset[str]]] = {
    "CustomerBill": (
        {
            "id": "string", "href": "string", "billDate": "date-time", "billNo": "string",
            "category": "string", "lastUpdate": "date-time", "nextBillDate": "date-time",
            "paymentDueDate": "date-time", "runType": "string", "amountDue": "Money",
            "appliedPayment": "[AppliedPayment]", "billDocument": "[object]",
            "billingAccount": "Ref", "billingPeriod": "TimePeriod", "financialAccount": "Ref",
            "paymentMethod": "Ref", "relatedParty": "[RelatedPartyRef]",
            "remainingAmount": "Money", "state": "stateValue", "taxExcludedAmount": "Money",
            "taxIncludedAmount": "Money", "taxItem": "[TaxItem]", **_POLYMORPHIC,
        },
        frozenset(),
    ),
    "AppliedCustomerBillingRate": (
        {
            "id": "string", "href": "string", "date": "date-time", "description": "string",
            "isBilled": "boolean", "name": "string", "type": "string",
            "appliedTax": "[TaxItem]", "bill": "Ref", "billingAccount": "Ref",
            "characteristic": "[Characteristic]", "periodCoverage": "TimePeriod",
            "product": "Ref", "taxExcludedAmount": "Money", "taxIncludedAmount": "Money",
            **_POLYMORPHIC,
        },
        frozenset({"id"}),
    ),
    "Product": (
        {
            "id": "string", "href": "string", "description": "string", "isBundle": "boolean",
            "isCustomerVisible": "boolean", "name": "string", "orderDate": "date-time",
            "productSerialNumber": "string", "startDate": "date-time",
            "terminationDate": "date-time", "billingAccount": "Ref",
            "productCharacteristic": "[Characteristic]", "productOffering": "Ref",
            "productPrice": "[object]", "productRelationship": "[ProductRelationship]",
            "productSpecification": "Ref", "productTerm": "[object]",
            "relatedParty": "[ProductParty]", "status": "ProductStatusType", **_POLYMORPHIC,
        },
        frozenset(),
    ),
    "ProductRelationship": (
        {"relationshipType": "string", "product": "object", **_POLYMORPHIC},
        frozenset({"relationshipType", "product"}),
    ),
    "ProductParty": ({**_REF, "role": "string"}, frozenset({"id", "@referredType"})),
    "PartyPrivacyProfile": (
        {
            "id": "string", "href": "string", "creationDate": "date-time",
            "description": "string", "name": "string", "status": "string",
            "agreedByParty": "RelatedParty", "agreement": "Ref",
            "applicableForParty": "RelatedParty",
            "partyPrivacyProfileCharacteristic": "[PartyPrivacyProfileCharacteristic]",
            "partyPrivacyProfileSpecification": "Ref", "validFor": "TimePeriod",
            **_POLYMORPHIC,
        },
        frozenset({"agreedByParty"}),
    ),
    "PartyPrivacyProfileCharacteristic": (
        {
            "id": "string", "name": "string", "privacyUsagePurpose": "string",
            "valueType": "string", "relatedParty": "[RelatedParty]", "value": "any",
            **_POLYMORPHIC,
        },
        frozenset({"name", "value"}),
    ),
    "RelatedParty": ({**_REF, "role": "string"}, frozenset({"id", "@referredType"})),
    "Customer": (
        {
            "id": "string", "href": "string", "name": "string", "status": "string",
            "statusReason": "string", "account": "[AccountRef]", "agreement": "[Ref]",
            "characteristic": "[Characteristic]", "contactMedium": "[ContactMedium]",
            "creditProfile": "[CreditProfile]", "engagedParty": "RelatedParty",
            "paymentMethod": "[Ref]", "relatedParty": "[RelatedParty]",
            "validFor": "TimePeriod", **_POLYMORPHIC,
        },
        frozenset({"engagedParty"}),
    ),
    "ContactMedium": (
        {
            "mediumType": "string", "preferred": "boolean",
            "characteristic": "MediumCharacteristic", "validFor": "TimePeriod", **_POLYMORPHIC,
        },
        frozenset({"mediumType", "characteristic"}),
    ),
    "MediumCharacteristic": (
        {
            **{
                name: "string"
                for name in (
                    "city", "contactType", "country", "emailAddress", "faxNumber",
                    "phoneNumber", "postCode", "socialNetworkId", "stateOrProvince",
                    "street1", "street2",
                )
            },
            **_POLYMORPHIC,
        },
        frozenset(),
    ),
    "CreditProfile": (
        {
            "creditProfileDate": "date-time", "creditRiskRating": "integer",
            "creditScore": "integer", "validFor": "TimePeriod", **_POLYMORPHIC,
        },
        frozenset({"creditProfileDate", "validFor"}),
    ),
    "Usage": (
        {
            "id": "string", "href": "string", "description": "string", "usageDate": "date-time",
            "usageType": "string", "ratedProductUsage": "[RatedProductUsage]",
            "relatedParty": "[RelatedParty]", "status": "UsageStatusType",
            "usageCharacteristic": "[UsageCharacteristic]", "usageSpecification": "Ref",
            **_POLYMORPHIC,
        },
        frozenset(),
    ),
    "RatedProductUsage": (
        {
            "isBilled": "boolean", "isTaxExempt": "boolean", "offerTariffType": "string",
            "ratingAmountType": "string", "ratingDate": "date-time", "taxRate": "number",
            "usageRatingTag": "string", "bucketValueConvertedInAmount": "Money",
            "productRef": "Ref", "taxExcludedRatingAmount": "Money",
            "taxIncludedRatingAmount": "Money", **_POLYMORPHIC,
        },
        frozenset(),
    ),
    "UsageCharacteristic": (
        {
            "id": "string", "name": "string", "valueType": "string", "value": "any",
            "characteristicRelationship": "[object]", **_POLYMORPHIC,
        },
        frozenset({"name", "value"}),
    ),
    "AccountRef": ({**_REF, "description": "string"}, frozenset({"name"})),
    "Money": ({"unit": "string", "value": "number"}, frozenset()),
    "TimePeriod": ({"startDateTime": "date-time", "endDateTime": "date-time"}, frozenset()),
    "Ref": (_REF, frozenset({"id"})),
    "RelatedPartyRef": ({**_REF, "role": "string"}, frozenset({"id"})),
    "TaxItem": (
        {"taxCategory": "string", "taxRate": "number", "taxAmount": "Money", **_POLYMORPHIC},
        frozenset(),
    ),
    "AppliedPayment": ({"appliedAmount": "Money", "payment": "Ref", **_POLYMORPHIC}, frozenset()),
    "Characteristic": (
        {"name": "string", "valueType": "string", "value": "any", **_POLYMORPHIC},
        frozenset({"name", "value"}),
    ),
}  # fmt: skip
"""Each definition's properties (name to type) and the properties it requires."""

_PRODUCT_STATES = [
    "created",
    "pendingActive",
    "cancelled",
    "active",
    "pendingTerminate",
    "terminated",
    "suspended",
    "aborted",
]
ENUMS = {
    "stateValue": frozenset({"new", "onHold", "validated", "sent", "partiallyPaid", "settled"}),
    "ProductStatusType": frozenset({*_PRODUCT_STATES, "aborted "}),  # as the document spells it
    "UsageStatusType": frozenset(
        {"received", "rejected", "recycled", "guided", "rated", "rerated", "billed"}
    ),
}
"""The closed lists of words: a value outside is forbidden."""


def problems(definition: str, value: Any, where: str = "") -> list[str]:
    """What in ``value`` (a JSON object of ``definition``) its document does not allow, by path.

    Missing required properties, values not of their type, words outside a closed list. A
    property the definition does not name is allowed (sub-classes add their own).
    """
    where = where or definition
    if not isinstance(value, Mapping):
        return [f"{where} is {value!r}, not an object"]
    properties, required = DEFINITIONS[definition]
    found = [f"{where}.{name} is required and missing" for name in sorted(required - set(value))]
    for name, kind in properties.items():
        if name in value:
            found += _typed(kind, value[name], f"{where}.{name}")
    return found


def _typed(kind: str, value: Any, path: str) -> list[str]:
    if kind.startswith("["):
        if not isinstance(value, list):
            return [f"{path} is {value!r}, not an array"]
        inner = kind[1:-1]
        return [p for n, each in enumerate(value) for p in _typed(inner, each, f"{path}[{n}]")]
    if kind in DEFINITIONS:
        return problems(kind, value, path)
    if kind in ENUMS:
        allowed = ", ".join(sorted(ENUMS[kind]))
        return [] if value in ENUMS[kind] else [f"{path} is {value!r}, not one of {allowed}"]
    if _valid(kind, value):
        return []
    return [f"{path} is {value!r}, not a {kind}"]


def _valid(kind: str, value: Any) -> bool:
    if kind in ("any", "object"):
        return kind == "any" or isinstance(value, Mapping)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if kind == "date-time":
        return _date_time(value)
    return True  # string, uri


def _date_time(text: str) -> bool:
    # RFC 3339: a full date, a time, and an offset (Z or +hh:mm).
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text.upper() and moment.tzinfo is not None
