"""What each item Demo Telecom serves must say in the customer's record, field by field.

The sandbox's side of the conformance suite's ``values`` check (``Sandbox.expected_records``):
the telco's double states the meaning of its own data as the TM Forum documents give it
(TMF629 Customer, TMF637 Product, TMF678 CustomerBill and AppliedCustomerBillingRate,
TMF635 Usage, TMF644 PartyPrivacyProfile), from the items exactly as served. Nothing here
comes from the plugin's mapping: the words for a code are the published code lists
(``portal_telco.labels``: TM Forum's enumerations and Demo Telecom's own), every value is
read here from the served item.

How TM Forum values read: a Money's ``value`` is a JSON number in the currency's unit (its
decimal text is the amount); a date-time is RFC 3339 with its offset, an instant stored in
UTC, and a date-time standing for a day (a bill's date, its period) is the day printed on
it, in the offset it was written in. A field naming another record is the provider's id of
that record: a product's contract is the product it is an add-on to, else itself; a bill's
is the contract billed to its billing account. Fields with no column of their own are
stated as ``extra.<key>``, as served.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.record.extra import rest
from portal_telco import expected_privacy as of_privacy
from portal_telco import labels
from portal_telco.tmf_read import day, extra, instant, number, state

Expected = dict[str, dict[str, dict[str, Any]]]

_CONTRACT_IDENTIFIERS = {"msisdn": "msisdn", "landlineNumber": "landline", "serviceId": "serviceId"}
"""A contract's characteristics that identify it, and the record's scheme for each."""

_USAGE_MEASURED = ("direction", "otherParty", "duration", "dataVolume", "roaming", "visitedCountry")
"""The usage characteristics the record has a column for."""


def expected(served: dict[str, Any]) -> Expected:
    """Every served item's expected record, ``{category: {provider id: {field: value}}}``.

    ``served`` is the sandbox's ground truth. Items served without an id (TM Forum allows
    it) are left out: the id the plugin derives for one is the plugin's to say.
    """
    products = served["products"]
    contracts = {
        p["billingAccount"]["id"]: p["id"]
        for p in products
        if p.get("billingAccount") and not p.get("productRelationship")
    }
    [customer] = served["customer"]
    inferences = {
        f"{customer['id']}:creditProfile:{p['creditProfileDate']}": of_privacy.credit(p)
        for p in customer.get("creditProfile", [])
    }
    inferences |= {i["id"]: of_privacy.inference(i) for i in served["inferences"] if "kind" in i}
    consents: dict[str, dict[str, Any]] = {}
    for profile in served["privacy_profiles"]:
        consents |= of_privacy.permissions(profile)
    return {
        "party": {customer["id"]: _party(customer)},
        "accounts": {a["id"]: _account(a) for a in served["accounts"] if a.get("id")},
        "products": {p["id"]: _product(p) for p in products if p.get("id")},
        "bills": {
            b["id"]: _bill(b, contracts[b["billingAccount"]["id"]], served["applied_rates"])
            for b in served["bills"]
            if b.get("id")
        },
        "usage": {u["id"]: _usage(u) for u in served["usage"] if u.get("id")},
        "consents": consents,
        "inferences": inferences,
        "processing": {p["id"]: of_privacy.processing(p) for p in served["processing"]},
    }


def _party(item: dict[str, Any]) -> dict[str, Any]:
    engaged = item.get("engagedParty") or {}
    media = item.get("contactMedium") or []

    def first(kind: str) -> dict[str, Any] | None:
        found = sorted(
            (m for m in media if m.get("mediumType") == kind), key=lambda m: not m.get("preferred")
        )
        return found[0] if found else None

    picked = {k: first(k) for k in ("email", "telephone", "mobile")}
    mapped = {
        "email": ["characteristic.emailAddress"],
        "telephone": ["characteristic.phoneNumber"],
        "mobile": ["characteristic.phoneNumber"],
        "postalAddress": [
            f"characteristic.{f}"
            for f in ("contactType", "street1", "street2", "city", "postCode", "country")
        ],
    }
    kept = [
        rest(m, mapped[m["mediumType"]])
        if m["mediumType"] == "postalAddress" or any(m is p for p in picked.values())
        else m
        for m in media
    ]
    kind = engaged.get("@referredType")

    def number(medium: dict[str, Any] | None, key: str) -> str | None:
        return medium["characteristic"].get(key) if medium else None

    return {
        "full_name": item.get("name") or engaged.get("name"),
        "legal_name": engaged.get("name"),
        "party_type": kind,
        "party_type_label": labels.PARTY_TYPES[kind] if kind else None,
        "customer_number": item["id"],
        "birth_date": None,
        "email": number(picked["email"], "emailAddress"),
        # TMF629's mediumType says which number is which: a landline is never the mobile.
        "phone": number(picked["telephone"], "phoneNumber"),
        "mobile": number(picked["mobile"], "phoneNumber"),
        "addresses": [
            {
                "kind": place.get("contactType"),
                "lines": [line for line in (place.get("street1"), place.get("street2")) if line],
                "town": place.get("city"),
                "postcode": place.get("postCode"),
                "country": place.get("country"),
            }
            for m in media
            if m.get("mediumType") == "postalAddress"
            for place in [m.get("characteristic") or {}]
        ],
        **extra(rest(item, ["id", "name", "contactMedium", "creditProfile"])),
        **({"extra.contactMedium": kept} if kept else {}),
    }


def _prices(product: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    prices, currency = [], None
    for price in product.get("productPrice") or []:
        money = price["price"]["taxIncludedAmount"]
        currency = currency or money["unit"]
        prices.append(
            {
                "label": price["name"],
                "amount": number(money["value"]),
                "currency": money["unit"],
                "unit": price.get("unitOfMeasure"),
                "period": price.get("recurringChargePeriod"),
            }
        )
        for change in price.get("priceAlteration") or []:
            changed = change["price"]["taxIncludedAmount"]
            months = change.get("applicationDuration")
            label = change["name"]
            prices.append(
                {
                    "label": f"{label} (for {months} months)" if months else label,
                    "amount": number(changed["value"]),
                    "currency": changed["unit"],
                    "unit": None,
                    "period": change.get("recurringChargePeriod"),
                }
            )
    return prices, currency


def _account(item: dict[str, Any]) -> dict[str, Any]:
    spec = item["productSpecification"]["id"]
    traits = {c["name"]: c.get("value") for c in item.get("productCharacteristic") or []}
    billing = item.get("billingAccount") or {}
    identifiers = [
        {
            "scheme": "billingAccount",
            "scheme_label": labels.IDENTIFIER_SCHEMES["billingAccount"],
            "identification": billing["id"],
            "name": billing.get("name"),
        }
    ] if billing.get("id") else []  # fmt: skip
    identifiers += [
        {
            "scheme": scheme,
            "scheme_label": labels.IDENTIFIER_SCHEMES[scheme],
            "identification": str(traits[name]),
            "name": None,
        }
        for name, scheme in _CONTRACT_IDENTIFIERS.items()
        if name in traits
    ]
    status = item.get("status")
    return {
        "name": item.get("name") or item["productSpecification"].get("name"),
        "account_type": spec,
        "account_type_label": labels.PRODUCT_TYPES[spec],
        "status": status,
        "status_label": labels.PRODUCT_STATUSES[status] if status else None,
        "state": state("product", status),
        "currency": _prices(item)[1],
        "opened_on": day(item.get("startDate")),
        "identifiers": identifiers,
    }


_PRICE_FIELDS = (
    "name", "recurringChargePeriod", "unitOfMeasure", "price.taxIncludedAmount",
    "priceAlteration[].name", "priceAlteration[].applicationDuration",
    "priceAlteration[].recurringChargePeriod", "priceAlteration[].price.taxIncludedAmount",
)  # fmt: skip


def _product(item: dict[str, Any]) -> dict[str, Any]:
    spec = item["productSpecification"]["id"]
    parent = next(
        (r["product"]["id"] for r in item.get("productRelationship") or [] if r.get("product")),
        None,
    )
    terms = " ".join(f"{t['name']}: {t['description']}" for t in item.get("productTerm") or [])
    used = [
        "id", "description", *(f"productPrice[].{f}" for f in _PRICE_FIELDS),
        "productTerm[].name", "productTerm[].description", "startDate", "terminationDate",
    ]  # fmt: skip
    return {
        "account_id": parent or item["id"],
        "name": (item.get("productOffering") or {}).get("name") or item.get("name"),
        "product_type": spec,
        "product_type_label": labels.PRODUCT_TYPES[spec],
        "description": item.get("description"),
        "prices": _prices(item)[0],
        "terms": terms or None,
        "valid_from": day(item.get("startDate")),
        "valid_to": day(item.get("terminationDate")),
        **extra(rest(item, used)),
    }


def _bill(item: dict[str, Any], contract: str, rates: list[dict[str, Any]]) -> dict[str, Any]:
    mine = [r for r in rates if (r.get("bill") or {}).get("id") == item["id"]]
    total = item["taxIncludedAmount"]
    code = item.get("state")
    used = [
        "id", "billNo", "billDate", "paymentDueDate", "billingPeriod", "state",
        "taxIncludedAmount", "appliedCustomerBillingRate",
    ]  # fmt: skip
    return {
        "account_id": contract,
        "bill_number": item.get("billNo") or item["id"],
        "issued_on": day(item.get("billDate")),
        "due_on": day(item.get("paymentDueDate")),
        "period_start": day(item["billingPeriod"]["startDateTime"]),
        "period_end": day(item["billingPeriod"]["endDateTime"]),
        # The bill's own charges; amountDue may also carry a balance brought forward.
        "total": number(total["value"]),
        "currency": total["unit"],
        "status": code,
        "status_label": labels.BILL_STATES[code] if code else None,
        "state": state("bill", code),
        "lines": [_line(rate) for rate in mine],
        **extra(rest(item, used)),
        "extra.appliedCustomerBillingRate": [_rate_rest(rate) for rate in mine],
    }


def _line(rate: dict[str, Any]) -> dict[str, Any]:
    counted = {c["name"]: c.get("value") for c in rate.get("characteristic") or []}
    coverage = rate.get("periodCoverage") or {}
    kind = rate.get("type")
    return {
        "description": rate.get("name"),
        "amount": number(rate["taxIncludedAmount"]["value"]),
        "category_code": kind,
        "category_label": labels.CHARGE_TYPES[kind] if kind else None,
        "quantity": number(counted["quantity"]) if "quantity" in counted else None,
        "unit": counted.get("unitOfMeasure"),
        "period_start": day(coverage.get("startDateTime")),
        "period_end": day(coverage.get("endDateTime")),
    }


def _rate_rest(rate: dict[str, Any]) -> dict[str, Any]:
    left = rest(rate, ["name", "taxIncludedAmount", "type", "periodCoverage", "characteristic"])
    others = [
        c
        for c in rate.get("characteristic") or []
        if c.get("name") not in ("quantity", "unitOfMeasure")
    ]
    return left | ({"characteristic": others} if others else {})


def _usage(item: dict[str, Any]) -> dict[str, Any]:
    traits = item.get("usageCharacteristic") or []
    values = {t["name"]: t.get("value") for t in traits}
    rated = item.get("ratedProductUsage") or []
    charges = [r["taxIncludedRatingAmount"] for r in rated if r.get("taxIncludedRatingAmount")]
    kind = item["usageType"]
    if kind == "sms":
        measured, unit = Decimal(1), "message"
    elif kind == "data":
        # The record's MB is the SI megabyte: 10^6 bytes.
        measured, unit = number(values["dataVolume"]) / Decimal(1_000_000), "MB"
    else:
        measured, unit = number(values["duration"]), "second"
    label = labels.USAGE_TYPES[kind]
    if values.get("roaming") is True:
        label += f", roaming: {labels.ROAMING_ZONES[values['roamingZone']]}"
    return {
        "account_id": rated[0]["productRef"]["id"],
        "kind": labels.USAGE_KINDS[kind],
        "kind_label": label,
        "started_at": instant(item["usageDate"]),
        "duration_seconds": values.get("duration"),
        "quantity": measured,
        "unit": unit,
        "quality": None,
        "meter_id": None,
        "direction": values.get("direction"),
        "counterparty": values.get("otherParty"),
        "roaming": values.get("roaming"),
        "country": values.get("visitedCountry"),
        "charge": sum((number(c["value"]) for c in charges), Decimal(0)) if charges else None,
        "currency": charges[0]["unit"] if charges else None,
        **extra(rest(item, ["id", "usageDate", "usageType", "usageCharacteristic"])),
        "extra.usageCharacteristic": [t for t in traits if t["name"] not in _USAGE_MEASURED],
        "extra.ratedProductUsage": [
            rest(r, ["taxIncludedRatingAmount"] if charges else []) for r in rated
        ],
    }
