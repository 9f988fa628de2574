"""TM Forum items mapped to the customer record, one function per stream.

Every field of an item is mapped to a column or kept in ``extra`` (``portal.record.extra.rest``), so
nothing the telco released is dropped. Here: the customer, and products and contracts;
bills and usage are in ``portal_telco.metering``; permissions, the processing notice and
inferences in ``portal_telco.privacy``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal import SkippableError
from portal.record import (
    Account,
    AccountIdentifier,
    Address,
    Entity,
    Origin,
    Party,
    Price,
    Product,
)
from portal.record.extra import rest
from portal.record.vocab import state_of
from portal_telco import labels, metering, privacy, usage
from portal_telco.values import amount, characteristics, day, short, unit

Ref = Callable[[type[Entity], str], str]


def customer(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF629 Customer to a Party, and the credit scores it carries to Inferences.

    TMF629 requires of a customer only its engaged party: a customer without an id is known
    by its engaged party's (``id_derived`` in ``extra``), one without a name by its engaged
    party's name.
    """
    where = f"customer {item.get('id') or '(no id)'}"
    media = _objects(item.get("contactMedium"), f"{where} contactMedium")
    credit = _objects(item.get("creditProfile"), f"{where} creditProfile")
    engaged = item.get("engagedParty") or {}
    if not isinstance(engaged, dict):
        raise SkippableError(
            f"{where} engagedParty is {short(engaged)}, not an object as TMF629 requires"
        )
    picked = {kind: _preferred(media, kind) for kind in ("email", "telephone", "mobile")}
    kind = engaged.get("@referredType")
    provider_id = item.get("id") or stable_customer_id(item)
    notes = {} if item.get("id") else {"id_derived": "From its engaged party: it has no id."}
    party = Party(
        provider_id=provider_id,
        origin=Origin.provided,
        full_name=item.get("name") or engaged.get("name") or f"Customer {provider_id}",
        legal_name=engaged.get("name"),
        party_type=kind,
        party_type_label=labels.label(labels.PARTY_TYPES, kind, "party type") if kind else None,
        customer_number=item.get("id"),
        email=_value(picked["email"], "emailAddress"),
        phone=_value(picked["telephone"], "phoneNumber"),
        mobile=_value(picked["mobile"], "phoneNumber"),
        addresses=[
            _address(m.get("characteristic") or {})
            for m in media
            if m.get("mediumType") == "postalAddress"
        ],
        extra=rest(item, ["id", "name", "contactMedium", "creditProfile"])
        | notes
        | _nonempty(contactMedium=[_medium_rest(m, picked) for m in media]),
    )
    scores = [privacy.credit(provider_id, profile, where) for profile in credit]
    return [party, *scores]


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    # TMF629 types these as arrays of objects; anything else is refused saying where.
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SkippableError(
            f"{where} is {short(value)}, not an array of objects as TMF629 requires"
        )
    return value


def stable_customer_id(item: dict[str, Any]) -> str:
    """An id for a customer the telco gave none: its engaged party, which TMF629 requires."""
    engaged = item.get("engagedParty") or {}
    if not engaged.get("id"):
        raise SkippableError(
            "a customer has neither an id nor an engagedParty id (TMF629 requires it)"
        )
    return f"engagedParty:{engaged['id']}"


_MAPPED_MEDIA = {
    "email": ("characteristic.emailAddress",),
    "telephone": ("characteristic.phoneNumber",),
    "mobile": ("characteristic.phoneNumber",),
    "postalAddress": tuple(
        f"characteristic.{f}"
        for f in ("contactType", "street1", "street2", "city", "postCode", "country")
    ),
}
"""What the Party maps of each kind of contact medium (the one picked, or every address)."""


def _nonempty(**fields: list[Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value}


def _preferred(media: list[dict[str, Any]], medium_type: str) -> dict[str, Any] | None:
    # The preferred one first, as the customer asked to be reached that way.
    found = sorted(
        (m for m in media if m.get("mediumType") == medium_type),
        key=lambda m: not m.get("preferred"),
    )
    return found[0] if found else None


def _value(medium: dict[str, Any] | None, key: str) -> str | None:
    return (medium.get("characteristic") or {}).get(key) if medium else None


def _medium_rest(
    medium: dict[str, Any], picked: dict[str, dict[str, Any] | None]
) -> dict[str, Any]:
    # A medium the Party shows keeps the rest (its type, whether it is preferred); another
    # medium (a second email, a fax) is kept whole.
    kind = medium.get("mediumType") or ""
    mapped = kind == "postalAddress" or any(medium is m for m in picked.values())
    return rest(medium, _MAPPED_MEDIA[kind]) if mapped else medium


def _address(place: dict[str, Any]) -> Address:
    return Address(
        kind=place.get("contactType"),
        lines=[line for line in (place.get("street1"), place.get("street2")) if line],
        town=place.get("city"),
        postcode=place.get("postCode"),
        country=place.get("country"),
    )


_CONTRACT_IDENTIFIERS = ("msisdn", "landlineNumber", "serviceId")


def product(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF637 Product to a Product; a top-level one (a contract) also to an Account."""
    spec = (item.get("productSpecification") or {}).get("id") or ""
    parent = next(
        (r["product"]["id"] for r in item.get("productRelationship") or [] if r.get("product")),
        None,
    )
    contract = parent or item["id"]
    out: list[Entity] = []
    if parent is None:
        out.append(_account(item, spec))
    offering = item.get("productOffering") or {}
    out.append(
        Product(
            provider_id=item["id"],
            origin=Origin.observed,
            account_id=ref(Account, contract),
            name=offering.get("name") or product_name(item),
            product_type=spec,
            product_type_label=labels.label(labels.PRODUCT_TYPES, spec, "product type"),
            description=item.get("description"),
            prices=[
                p for price in item.get("productPrice") or [] for p in _prices(price, item["id"])
            ],
            terms=" ".join(
                f"{t['name']}: {t['description']}" for t in item.get("productTerm") or []
            )
            or None,
            valid_from=day(item.get("startDate")),
            valid_to=day(item.get("terminationDate")),
            extra=rest(
                item,
                [
                    "id",
                    "description",
                    *(f"productPrice[].{f}" for f in _PRICE_FIELDS),
                    "productTerm[].name",
                    "productTerm[].description",
                    "startDate",
                    "terminationDate",
                ],
            ),
        )
    )
    return out


def product_name(item: dict[str, Any]) -> str:
    """A product's name; TMF637 makes it optional, so then its specification's, or its id."""
    spec = item.get("productSpecification") or {}
    return str(item.get("name") or spec.get("name") or f"Product {item['id']}")


def _account(item: dict[str, Any], spec: str) -> Account:
    traits = characteristics(item.get("productCharacteristic"))
    schemes = {"msisdn": "msisdn", "landlineNumber": "landline", "serviceId": "serviceId"}
    identifiers = [
        AccountIdentifier(
            scheme=schemes[name],
            scheme_label=labels.label(labels.IDENTIFIER_SCHEMES, schemes[name], "identifier"),
            identification=str(traits[name]),
        )
        for name in _CONTRACT_IDENTIFIERS
        if name in traits
    ]
    billing = item.get("billingAccount") or {}
    if billing.get("id"):
        identifiers.insert(
            0,
            AccountIdentifier(
                scheme="billingAccount",
                scheme_label=labels.IDENTIFIER_SCHEMES["billingAccount"],
                identification=billing["id"],
                name=billing.get("name"),
            ),
        )
    status = item.get("status")
    prices = item.get("productPrice") or []
    return Account(
        provider_id=item["id"],
        origin=Origin.observed,
        name=product_name(item),
        account_type=spec,
        account_type_label=labels.label(labels.PRODUCT_TYPES, spec, "product type"),
        status=status,
        status_label=labels.label(labels.PRODUCT_STATUSES, status, "product status")
        if status
        else None,
        state=state_of(labels.PRODUCT_STATES, status) if status else None,
        currency=_currency(prices),
        opened_on=day(item.get("startDate")),
        identifiers=identifiers,
        # Everything else about the contract is kept once, on its Product.
    )


def _currency(prices: list[dict[str, Any]]) -> str | None:
    for price in prices:
        money = (price.get("price") or {}).get("taxIncludedAmount")
        if money and money.get("unit"):
            return str(money["unit"])
    return None


_PRICE_FIELDS = (
    "name",
    "recurringChargePeriod",
    "unitOfMeasure",
    "price.taxIncludedAmount",
    "priceAlteration[].name",
    "priceAlteration[].applicationDuration",
    "priceAlteration[].recurringChargePeriod",
    "priceAlteration[].price.taxIncludedAmount",
)
"""What a Price maps of a ProductPrice; the rest (duty-free amount, tax rate...) stays in extra."""


def _prices(price: dict[str, Any], product_id: str) -> list[Price]:
    where = f"product {product_id} price {price.get('name')!r}"
    value, currency = amount((price.get("price") or {}).get("taxIncludedAmount"), where)
    kind = price.get("priceType") or ""
    measure = price.get("unitOfMeasure")
    main = Price(
        label=price.get("name") or labels.label(labels.PRICE_TYPES, kind, "price type"),
        amount=value,
        currency=currency,
        unit=unit(measure, f"{where} unitOfMeasure") if measure else None,
        period=price.get("recurringChargePeriod"),
    )
    alterations = [_alteration(a, where) for a in price.get("priceAlteration") or []]
    return [main, *alterations]


def _alteration(alteration: dict[str, Any], where: str) -> Price:
    value, currency = amount((alteration.get("price") or {}).get("taxIncludedAmount"), where)
    months = alteration.get("applicationDuration")
    label = alteration.get("name") or "Price change"
    return Price(
        label=f"{label} (for {months} months)" if months else label,
        amount=value,
        currency=currency,
        period=alteration.get("recurringChargePeriod"),
    )


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref, str], list[Entity]]] = {
    "customer": customer,
    "products": product,
    "bills": metering.bill,
    "usage": usage.usage,
    "privacy": privacy.permission,
    "processing": privacy.processing,
    "inferences": privacy.inference,
}
