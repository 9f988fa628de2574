"""Green Button items mapped to the customer record, one function per stream.

The retail customer resources (Customer, CustomerAccount, CustomerAgreement), the tariffs
behind the agreements, the Authorization portal holds and the processing notice are here;
usage (supply points, readings, bills) is in ``portal_utility.metering``. Every field is
mapped, or kept in ``extra`` with the entry's Atom envelope: nothing released is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from portal.record import (
    Account,
    AccountIdentifier,
    Address,
    Consent,
    Entity,
    Origin,
    Party,
    Price,
    Processing,
    Product,
    Recipient,
    Unit,
)
from portal.record.extra import rest
from portal.record.vocab import state_of
from portal_utility import labels, metering
from portal_utility.espi import link, resource_id
from portal_utility.metering import Ref, envelope, moment
from portal_utility.plugin import PROVIDER

ADDRESS_FIELDS = (
    "streetDetail.number",
    "streetDetail.name",
    "streetDetail.suiteNumber",
    "streetDetail.addressGeneral",
    "townDetail.name",
    "townDetail.code",
    "townDetail.country",
    "postalCode",
)
"""What an Address maps of a StreetAddress; the rest (the county...) stays in extra."""


def _address(street: dict[str, Any], kind: str) -> Address:
    detail = street.get("streetDetail") or {}
    town = street.get("townDetail") or {}
    first = " ".join(p for p in (detail.get("number"), detail.get("name")) if p)
    lines = [
        line for line in (detail.get("suiteNumber"), detail.get("addressGeneral"), first) if line
    ]
    return Address(
        kind=kind,
        lines=lines,
        town=town.get("name") or None,
        postcode=street.get("postalCode") or town.get("code") or None,
        country=town.get("country") or None,
    )


_PHONE_FIELDS = ("countryCode", "areaCode", "localNumber")


def _phone(number: dict[str, Any] | None) -> str | None:
    if not number or not number.get("localNumber"):
        return None
    parts = [f"+{number['countryCode']}" if number.get("countryCode") else None]
    parts += [number.get("areaCode"), number.get("localNumber")]
    return " ".join(p for p in parts if p)


_LOCAL = ZoneInfo(PROVIDER.timezone)


def _day(seconds: str | None) -> date | None:
    # A date the customer resources give as an ESPI time (an agreement's start, an account's
    # creation) is the day in Demo Energy's time zone: they carry no LocalTimeParameters, and
    # a supply starting at a London midnight in summer time starts that day, not the UTC day
    # before.
    return datetime.fromtimestamp(int(seconds), _LOCAL).date() if seconds else None


def customer(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """The Customer, with the addresses of its ServiceLocations, to a Party."""
    entry = item["Customer"]
    content = entry["content"]
    organisation = content.get("organisation") or {}
    addresses = []
    if organisation.get("streetAddress"):
        # ESPI (CIM Organisation): streetAddress is where the customer is; correspondence
        # goes to postalAddress, "potentially different than streetAddress".
        addresses.append(_address(organisation["streetAddress"], "Street address"))
    locations = item.get("ServiceLocation", [])
    for location in locations:
        main = (location["content"].get("location") or {}).get("mainAddress")
        if main:
            addresses.append(_address(main, "Supply address"))
    kind = content.get("kind")
    return [
        Party(
            provider_id=f"customer:{resource_id(link(entry, 'self') or entry['id'])}",
            origin=Origin.provided,
            full_name=content.get("customerName") or entry.get("title") or "(no name given)",
            party_type=kind,
            party_type_label=labels.label(labels.CUSTOMER_KINDS, kind, "customer kind")
            if kind
            else None,
            email=(organisation.get("electronicAddress") or {}).get("email1"),
            phone=_phone(organisation.get("phone1")),
            mobile=_phone(organisation.get("phone2")),
            addresses=addresses,
            extra={
                "entry": envelope(entry),
                **rest(content, ["organisation", "kind", "customerName"]),
                "organisation": rest(
                    organisation,
                    [
                        "electronicAddress.email1",
                        *(f"{p}.{f}" for p in ("phone1", "phone2") for f in _PHONE_FIELDS),
                        *(f"streetAddress.{f}" for f in ADDRESS_FIELDS),
                    ],
                ),
                "service_locations": [
                    {
                        "entry": envelope(loc),
                        **rest(
                            loc["content"], [f"location.mainAddress.{f}" for f in ADDRESS_FIELDS]
                        ),
                    }
                    for loc in locations
                ],
            },
        )
    ]


def customer_account(entry: dict[str, Any], ref: Ref) -> list[Entity]:
    """A CustomerAccount (the billing account) to an Account."""
    content = entry["content"]
    document = content.get("document") or {}
    number = content.get("accountId") or resource_id(link(entry, "self") or entry["id"])
    status = (document.get("status") or {}).get("value")
    return [
        Account(
            provider_id=f"customer-account:{number}",
            origin=Origin.provided,
            name=entry.get("title") or f"Account {number}",
            account_type="customer_account",
            account_type_label=labels.ACCOUNT_TYPES["customer_account"],
            status=status,
            status_label=labels.label(labels.AGREEMENT_STATUSES, status, "status")
            if status
            else None,
            state=state_of(labels.AGREEMENT_STATES, status) if status else None,
            opened_on=_day(document.get("createdDateTime")),
            identifiers=[
                AccountIdentifier(
                    scheme="account_number", scheme_label="Account number", identification=number
                )
            ],
            extra={"entry": envelope(entry), **rest(content, ["accountId"])},
        )
    ]


def agreement(entry: dict[str, Any], ref: Ref) -> list[Entity]:
    """A CustomerAgreement (one supply contract) to an Account."""
    content = entry["content"]
    terms = content.get("agreement") or {}
    number = content.get("agreementId") or resource_id(link(entry, "self") or entry["id"])
    status = (terms.get("status") or {}).get("value")
    return [
        Account(
            provider_id=f"agreement:{number}",
            origin=Origin.provided,
            name=entry.get("title") or f"Agreement {number}",
            account_type="supply_agreement",
            account_type_label=labels.ACCOUNT_TYPES["supply_agreement"],
            status=status,
            status_label=labels.label(labels.AGREEMENT_STATUSES, status, "status")
            if status
            else None,
            state=state_of(labels.AGREEMENT_STATES, status) if status else None,
            currency=content.get("currency"),
            opened_on=_day((terms.get("validityInterval") or {}).get("start")),
            identifiers=[
                AccountIdentifier(
                    scheme="agreement",
                    scheme_label="Supply agreement number",
                    identification=number,
                )
            ],
            extra={"entry": envelope(entry), **rest(content, ["agreementId", "currency"])},
        )
    ]


def tariff(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A tariff from the product API, for the agreement that references it, to a Product."""
    product = item["product"]
    fuel = product.get("fuel", "energy")
    money = product.get("currency", "GBP")

    def price(label: str, pence: str, unit: Unit, period: str | None = None) -> Price:
        return Price(
            label=label,
            amount=Decimal(pence).scaleb(-2),
            currency=money,
            unit=unit,
            period=period,
        )

    prices = [
        price("Unit rate (excluding VAT)", product["standard_unit_rate_exc_vat"], Unit.kWh),
        price("Unit rate (including VAT)", product["standard_unit_rate_inc_vat"], Unit.kWh),
        price(
            "Standing charge (excluding VAT)",
            product["standing_charge_exc_vat"],
            Unit.day,
            "daily",
        ),
        price(
            "Standing charge (including VAT)",
            product["standing_charge_inc_vat"],
            Unit.day,
            "daily",
        ),
    ]
    used = [
        "code", "full_name", "fuel", "available_from", "available_to", "currency", "terms",
        "standard_unit_rate_exc_vat", "standard_unit_rate_inc_vat", "standing_charge_exc_vat",
        "standing_charge_inc_vat",
    ]  # fmt: skip
    return [
        Product(
            provider_id=f"{item['agreement']}:{product['code']}",
            account_id=ref(Account, f"agreement:{item['agreement']}"),
            origin=Origin.observed,
            name=product["full_name"],
            product_type=f"{fuel}_tariff",
            product_type_label=f"{fuel.capitalize()} tariff",
            description=("Variable tariff" if product.get("is_variable") else "Fixed tariff")
            + f" {product['code']}",
            prices=prices,
            terms=product.get("terms"),
            valid_from=product.get("available_from"),
            valid_to=product.get("available_to"),
            extra=rest(product, used),
        )
    ]


def authorization(entry: dict[str, Any], ref: Ref) -> list[Entity]:
    """The ESPI Authorization this connection was granted under, as a Consent."""
    content = entry["content"]
    status = content.get("status", "")
    authorized = content.get("authorizedPeriod") or {}
    scope = content.get("scope", "")
    return [
        Consent(
            provider_id=f"authorization:{resource_id(link(entry, 'self') or entry['id'])}",
            origin=Origin.provided,
            kind="data_access",
            kind_label="Green Button Connect My Data access",
            purpose="Let portal read your energy usage, bills, tariffs and account details.",
            status=status,
            status_label=labels.label(labels.AUTHORIZATION_STATUSES, status, "status"),
            state=state_of(labels.AUTHORIZATION_STATES, status),
            permissions=[p for p in scope.replace(" ", ";").split(";") if p],
            granted_at=moment(authorized["start"]) if authorized.get("start") else None,
            status_updated_at=entry.get("updated") or None,
            expires_at=moment(content["expires_at"]) if content.get("expires_at") else None,
            grantee="portal",
            extra={
                "entry": envelope(entry),
                **rest(content, ["status", "scope", "expires_at"]),
            },
        )
    ]


def processing(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One purpose of the processing notice (GDPR article 15(1)(a)-(h)) as a Processing."""
    basis = item["legal_basis"]
    decision = item.get("automated_decision") or {}
    return [
        Processing(
            provider_id=f"processing:{item['purpose_id']}",
            origin=Origin.observed,
            purpose=item["purpose"],
            purpose_code=item["purpose_id"],
            legal_basis=basis,
            legal_basis_label=labels.label(labels.LEGAL_BASES, basis, "legal basis"),
            data_categories=item.get("categories", []),
            recipients=[
                Recipient(
                    name=r["name"],
                    kind=r.get("type"),
                    country=r.get("country"),
                    safeguard=r.get("safeguard"),
                )
                for r in item["recipients"]  # required: a notice lists them, or says none
            ],
            third_country_safeguards=item.get("transfers"),
            retention=item["retention"],
            source=item["source"],
            automated_decision=bool(decision),
            automated_logic=decision.get("logic"),
            automated_consequences=decision.get("consequences"),
            extra=rest(
                item,
                [
                    "purpose_id",
                    "purpose",
                    "legal_basis",
                    "categories",
                    "recipients",
                    "transfers",
                    "retention",
                    "source",
                    "automated_decision",
                ],
            ),
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "customer": customer,
    "customer_accounts": customer_account,
    "agreements": agreement,
    "tariffs": tariff,
    "authorizations": authorization,
    "processing": processing,
    "usage_points": metering.usage_point,
    "readings": metering.reading,
    "usage_summaries": metering.summary,
}
"""The normaliser of each stream (``readings:{usage point}:{meter reading}`` by its prefix)."""
