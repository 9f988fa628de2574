"""TM Forum items mapped to the customer record, one function per stream.

Every field of an item is mapped to a column or kept in ``extra`` (``values.rest``), so
nothing the telco released is dropped. Bills and usage live in ``portal_telco.metering``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from portal import SkippableError
from portal.record import (
    Account,
    AccountIdentifier,
    Address,
    Category,
    Consent,
    Entity,
    Inference,
    Origin,
    Party,
    Price,
    Processing,
    Product,
    Recipient,
)
from portal_telco import labels, metering
from portal_telco.values import amount, characteristics, day, leftover_characteristics, rest, unit

Ref = Callable[[type[Entity], str], str]
GRANTEE = "Demo Telecom"

# What the telco's customer characteristics are: inferences it drew, with how it explains them.
INFERRED = {
    "marketingSegment": (
        "Marketing segment",
        "segment",
        "How Demo Telecom groups customers by how they use their services, to choose which"
        " offers to show them.",
    ),
}
# The notice's data categories, in the record's vocabulary.
DATA_CATEGORIES = {
    "identity": (Category.party,),
    "contactDetails": (Category.party,),
    "contracts": (Category.accounts, Category.products),
    "communicationsData": (Category.usage,),
    "locationData": (Category.usage,),
    "billingData": (Category.bills,),
    "marketingPreferences": (Category.consents,),
    "creditProfile": (Category.inferences,),
}


def customer(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF629 Customer to a Party, and the credit score and segment it carries to Inferences."""
    media = item.get("contactMedium") or []
    engaged = item.get("engagedParty") or {}
    kind = engaged.get("@referredType")
    traits = characteristics(item.get("characteristic"))
    party = Party(
        provider_id=item["id"],
        origin=Origin.provided,
        full_name=item["name"],
        legal_name=engaged.get("name"),
        party_type=kind,
        party_type_label=labels.label(labels.PARTY_TYPES, kind, "party type") if kind else None,
        customer_number=item["id"],
        email=_medium(media, "email", "emailAddress"),
        phone=_medium(media, "telephone", "phoneNumber"),
        mobile=_medium(media, "mobile", "phoneNumber"),
        addresses=[
            _address(m["characteristic"]) for m in media if m.get("mediumType") == "postalAddress"
        ],
        extra=rest(item, ["id", "name", "contactMedium", "creditProfile", "characteristic"])
        | _nonempty(
            characteristic=leftover_characteristics(item.get("characteristic"), INFERRED),
            contactMedium=[m for m in media if m.get("mediumType") not in _MAPPED_MEDIA],
        ),
    )
    inferences: list[Entity] = [
        _credit(item["id"], profile) for profile in item.get("creditProfile") or []
    ]
    for name, (title, kind_code, why) in INFERRED.items():
        if name in traits:
            inferences.append(
                Inference(
                    provider_id=f"{item['id']}:characteristic:{name}",
                    name=title,
                    kind=kind_code,
                    kind_label=labels.label(labels.INFERENCE_KINDS, kind_code, "inference kind"),
                    value=str(traits[name]),
                    explanation=why,
                )
            )
    return [party, *inferences]


_MAPPED_MEDIA = ("email", "telephone", "mobile", "postalAddress")


def _nonempty(**fields: list[Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value}


def _medium(media: list[dict[str, Any]], medium_type: str, key: str) -> str | None:
    # The preferred one first, as the customer asked to be reached that way.
    found = sorted(
        (m for m in media if m.get("mediumType") == medium_type),
        key=lambda m: not m.get("preferred"),
    )
    return found[0]["characteristic"].get(key) if found else None


def _address(place: dict[str, Any]) -> Address:
    return Address(
        kind=place.get("contactType"),
        lines=[line for line in (place.get("street1"), place.get("street2")) if line],
        town=place.get("city"),
        postcode=place.get("postCode"),
        country=place.get("country"),
    )


def _credit(customer_id: str, profile: dict[str, Any]) -> Inference:
    score, rating = profile.get("creditScore"), profile.get("creditRiskRating")
    return Inference(
        provider_id=f"{customer_id}:creditProfile:{profile.get('creditProfileDate')}",
        name="Credit score",
        kind="score",
        kind_label=labels.label(labels.INFERENCE_KINDS, "score", "inference kind"),
        value=f"{score} out of 999 (risk rating {rating}: 1 is the lowest risk, 5 the highest)",
        score=score,
        derived_at=profile.get("creditProfileDate"),
        explanation="Worked out from your credit file and how you have paid Demo Telecom, when"
        " you took your contract (see the processing purpose 'credit').",
        extra=rest(profile, ["creditScore", "creditRiskRating", "creditProfileDate"]),
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
            name=offering.get("name") or item["name"],
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
                    "productPrice",
                    "productTerm",
                    "startDate",
                    "terminationDate",
                ],
            ),
        )
    )
    return out


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
        name=item["name"],
        account_type=spec,
        account_type_label=labels.label(labels.PRODUCT_TYPES, spec, "product type"),
        status=status,
        status_label=labels.label(labels.PRODUCT_STATUSES, status, "product status")
        if status
        else None,
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


def privacy(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF644 PartyPrivacyProfile to one Consent per characteristic (channel)."""
    status = item.get("status") or ""
    valid = item.get("validFor") or {}
    out: list[Entity] = []
    for trait in item.get("partyPrivacyProfileCharacteristic") or []:
        purpose_code = trait.get("privacyUsagePurpose") or ""
        if purpose_code not in labels.PRIVACY_PURPOSES:
            raise SkippableError(
                f"privacy profile {item.get('id')} has purpose {purpose_code!r}, which has no label"
            )
        kind, kind_label = labels.PRIVACY_PURPOSES[purpose_code]
        channel = trait["name"]
        out.append(
            Consent(
                provider_id=f"{item['id']}:{channel}",
                origin=Origin.provided,
                kind=kind,
                kind_label=kind_label,
                purpose=item.get("description") or item.get("name") or kind_label,
                channel=channel,
                channel_label=labels.label(labels.CHANNELS, channel, "channel"),
                status=status,
                status_label=labels.label(labels.PERMISSION_STATUSES, status, "permission status"),
                granted_at=valid.get("startDateTime") if status != "refused" else None,
                status_updated_at=item.get("lastUpdate"),
                expires_at=valid.get("endDateTime"),
                grantee=GRANTEE if kind == "marketing" else f"{GRANTEE}'s partners",
                extra=rest(
                    item,
                    [
                        "id",
                        "description",
                        "status",
                        "lastUpdate",
                        "validFor",
                        "partyPrivacyProfileCharacteristic",
                    ],
                )
                | {"characteristic": rest(trait, ["name", "privacyUsagePurpose"])},
            )
        )
    if not out:
        raise SkippableError(f"privacy profile {item.get('id')} holds no characteristic")
    return out


def processing(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """One purpose of the telco's processing notice to a Processing."""
    basis = item.get("legalBasis") or ""
    if basis not in labels.LEGAL_BASES:
        raise SkippableError(f"processing purpose {item.get('id')} has legal basis {basis!r}")
    categories: list[str] = []
    for code in item.get("dataCategories") or []:
        if code not in DATA_CATEGORIES:
            raise SkippableError(
                f"processing purpose {item.get('id')} names data category {code!r}, unknown"
            )
        categories += [c.value for c in DATA_CATEGORIES[code] if c.value not in categories]
    automated = item.get("automatedDecision") or {}
    return [
        Processing(
            provider_id=item["id"],
            purpose=item["purpose"],
            purpose_code=item["id"],
            legal_basis=basis,
            legal_basis_label=labels.LEGAL_BASES[basis],
            data_categories=categories,
            recipients=[
                Recipient(
                    name=r["name"],
                    kind=r.get("role"),
                    country=r.get("country"),
                    safeguard=r.get("safeguard"),
                )
                for r in item.get("recipients") or []
            ],
            third_country_safeguards=item.get("thirdCountrySafeguards"),
            retention=item["retention"],
            source=item["source"],
            automated_decision=bool(automated.get("used")),
            automated_logic=automated.get("logic"),
            automated_consequences=automated.get("consequences"),
            # The telco's own category words say more than the record's categories do.
            extra=rest(
                item,
                [
                    "id",
                    "purpose",
                    "legalBasis",
                    "recipients",
                    "thirdCountrySafeguards",
                    "retention",
                    "source",
                    "automatedDecision",
                ],
            ),
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref, str], list[Entity]]] = {
    "customer": customer,
    "products": product,
    "bills": metering.bill,
    "usage": metering.usage,
    "privacy": privacy,
    "processing": processing,
}
