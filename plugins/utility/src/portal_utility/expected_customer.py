"""What Demo Energy's retail customer resources must say in the record, field by field.

The customer, her account and supply agreements (ESPI's customer namespace), the tariffs
behind the agreements, the Authorization portal holds and the processing notice: the part
of ``portal_utility.expected`` that is not usage. Each function takes the entry as read
(``portal_utility.served.as_read``) or the JSON as served, and gives the expected fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.record.extra import rest
from portal_utility import labels
from portal_utility.customer import TARIFFS, processing_json, product_json
from portal_utility.resources import Resources
from portal_utility.served import (
    as_read,
    envelope,
    extra,
    instant,
    london_day,
    resource_id,
    state,
)

Expected = dict[str, dict[str, dict[str, Any]]]

_ADDRESS = (
    "streetDetail.number", "streetDetail.name", "streetDetail.suiteNumber",
    "streetDetail.addressGeneral", "townDetail.name", "townDetail.code", "townDetail.country",
    "postalCode",
)  # fmt: skip
_PHONE = ("countryCode", "areaCode", "localNumber")


def records(resources: Resources) -> Expected:
    """The expected Party, customer Accounts, Products, Consents and Processing records."""
    customer, account_entry, *agreements, location = map(as_read, resources.customer_entries())
    notice = processing_json()
    out: Expected = {
        "party": {f"customer:{resource_id(customer)}": _party(customer, [location])},
        "accounts": {
            f"customer-account:{account_entry['content']['accountId']}": _account(account_entry),
        },
        "products": {},
        "consents": {
            f"authorization:{a['id']}": _authorization(as_read(resources.authorization(a)))
            for a in resources.utility.authorizations
        },
        "processing": {
            f"processing:{p['purpose_id']}": _processing(p, notice["controller"])
            for p in notice["purposes"]
        },
    }
    for entry in agreements:
        number = entry["content"]["agreementId"]
        out["accounts"][f"agreement:{number}"] = _agreement(entry)
        priced = entry["content"]["PricingStructures"]
        for offer in TARIFFS:  # the tariffs the agreement links, from the product API
            if any(href.endswith(f"/{offer.code}") for href in priced):
                out["products"][f"{number}:{offer.code}"] = _tariff(number, product_json(offer))
    return out


def _address(street: Mapping[str, Any], kind: str) -> dict[str, Any]:
    detail, town = street.get("streetDetail") or {}, street.get("townDetail") or {}
    first = " ".join(p for p in (detail.get("number"), detail.get("name")) if p)
    return {
        "kind": kind,
        "lines": [p for p in (detail.get("suiteNumber"), detail.get("addressGeneral"), first) if p],
        "town": town.get("name") or None,
        "postcode": street.get("postalCode") or town.get("code") or None,
        "country": town.get("country") or None,
    }


def _phone(number: Mapping[str, Any] | None) -> str | None:
    if not number or not number.get("localNumber"):
        return None
    country = f"+{number['countryCode']}" if number.get("countryCode") else None
    return " ".join(p for p in (country, number.get("areaCode"), number["localNumber"]) if p)


def _party(entry: dict[str, Any], locations: list[dict[str, Any]]) -> dict[str, Any]:
    content = entry["content"]
    organisation = content.get("organisation") or {}
    # CIM's Organisation.streetAddress: where she is (postalAddress is for correspondence).
    addresses = [_address(organisation["streetAddress"], "Street address")]
    addresses += [
        _address(loc["content"]["location"]["mainAddress"], "Supply address") for loc in locations
    ]
    kind = content.get("kind")
    phones = [f"{p}.{f}" for p in ("phone1", "phone2") for f in _PHONE]
    return {
        "full_name": content["customerName"],
        "legal_name": None,
        "party_type": kind,
        "party_type_label": labels.CUSTOMER_KINDS[kind] if kind else None,
        "customer_number": None,
        "birth_date": None,
        "email": (organisation.get("electronicAddress") or {}).get("email1"),
        "phone": _phone(organisation.get("phone1")),
        # phone2, the additional number, is her mobile (a UK 07 number).
        "mobile": _phone(organisation.get("phone2")),
        "addresses": addresses,
        "extra.entry": envelope(entry),
        **extra(rest(content, ["organisation", "kind", "customerName"])),
        "extra.organisation": rest(
            organisation,
            ["electronicAddress.email1", *phones, *(f"streetAddress.{f}" for f in _ADDRESS)],
        ),
        "extra.service_locations": [
            {
                "entry": envelope(loc),
                **rest(loc["content"], [f"location.mainAddress.{f}" for f in _ADDRESS]),
            }
            for loc in locations
        ],
    }


def _status(status: Mapping[str, Any] | None) -> dict[str, Any]:
    value = (status or {}).get("value")
    return {
        "status": value,
        "status_label": labels.AGREEMENT_STATUSES[value] if value else None,
        "state": state("agreement", value),
    }


def _account(entry: dict[str, Any]) -> dict[str, Any]:
    content = entry["content"]
    document = content.get("document") or {}
    number = content["accountId"]
    created = document.get("createdDateTime")
    return {
        "name": entry["title"],
        "account_type": "customer_account",
        "account_type_label": labels.ACCOUNT_TYPES["customer_account"],
        **_status(document.get("status")),
        "currency": None,
        "opened_on": london_day(created) if created else None,
        "identifiers": [
            {
                "scheme": "account_number",
                "scheme_label": "Account number",
                "identification": number,
                "name": None,
            }
        ],
        "extra.entry": envelope(entry),
        **extra(rest(content, ["accountId"])),
    }


def _agreement(entry: dict[str, Any]) -> dict[str, Any]:
    content = entry["content"]
    terms = content.get("agreement") or {}
    start = (terms.get("validityInterval") or {}).get("start")
    return {
        "name": entry["title"],
        "account_type": "supply_agreement",
        "account_type_label": labels.ACCOUNT_TYPES["supply_agreement"],
        **_status(terms.get("status")),
        "currency": content.get("currency"),
        # The supply starts at a London midnight: that London day, not the UTC one before.
        "opened_on": london_day(start) if start else None,
        "identifiers": [
            {
                "scheme": "agreement",
                "scheme_label": "Supply agreement number",
                "identification": content["agreementId"],
                "name": None,
            }
        ],
        "extra.entry": envelope(entry),
        **extra(rest(content, ["agreementId", "currency"])),
    }


_STANDING_EXC, _STANDING_INC = "standing_charge_exc_vat", "standing_charge_inc_vat"


def _tariff(agreement: str, product: dict[str, Any]) -> dict[str, Any]:
    currency = product["currency"]

    def price(label: str, pence: str, unit: str, period: str | None = None) -> dict[str, Any]:
        return {
            "label": label,
            "amount": Decimal(pence).scaleb(-2),  # the product API's rates are in pence
            "currency": currency,
            "unit": unit,
            "period": period,
        }

    fuel = product["fuel"]
    used = [
        "code", "full_name", "fuel", "available_from", "available_to", "currency", "terms",
        "standard_unit_rate_exc_vat", "standard_unit_rate_inc_vat", "standing_charge_exc_vat",
        "standing_charge_inc_vat",
    ]  # fmt: skip
    until = product.get("available_to")
    return {
        "account_id": f"agreement:{agreement}",
        "name": product["full_name"],
        "product_type": f"{fuel}_tariff",
        "product_type_label": f"{fuel.capitalize()} tariff",
        "description": ("Variable tariff" if product["is_variable"] else "Fixed tariff")
        + f" {product['code']}",
        "prices": [
            price("Unit rate (excluding VAT)", product["standard_unit_rate_exc_vat"], "kWh"),
            price("Unit rate (including VAT)", product["standard_unit_rate_inc_vat"], "kWh"),
            price("Standing charge (excluding VAT)", product[_STANDING_EXC], "day", "daily"),
            price("Standing charge (including VAT)", product[_STANDING_INC], "day", "daily"),
        ],
        "terms": product.get("terms"),
        "valid_from": date.fromisoformat(product["available_from"]),
        "valid_to": date.fromisoformat(until) if until else None,
        **extra(rest(product, used)),
    }


def _authorization(entry: dict[str, Any]) -> dict[str, Any]:
    content = entry["content"]
    status = content["status"]
    period = content.get("authorizedPeriod") or {}
    return {
        "kind": "data_access",
        "kind_label": "Green Button Connect My Data access",
        "purpose": "Let portal read your energy usage, bills, tariffs and account details.",
        "channel": None,
        "channel_label": None,
        "status": status,
        "status_label": labels.AUTHORIZATION_STATUSES[status],
        "state": state("authorization", status),
        # Exactly what was granted: the scope's terms, as the Authorization states them.
        "permissions": frozenset(p for p in content["scope"].split(";") if p),
        "granted_at": instant(period["start"]) if period.get("start") else None,
        "status_updated_at": datetime.fromisoformat(entry["updated"]),
        "expires_at": instant(content["expires_at"]) if content.get("expires_at") else None,
        "grantee": "portal",
        "extra.entry": envelope(entry),
        **extra(rest(content, ["status", "scope", "expires_at"])),
    }


def _processing(item: dict[str, Any], controller: str) -> dict[str, Any]:
    decision = item.get("automated_decision") or {}
    used = [
        "purpose_id", "purpose", "legal_basis", "categories", "recipients", "transfers",
        "retention", "source", "automated_decision",
    ]  # fmt: skip
    return {
        "purpose": item["purpose"],
        "purpose_code": item["purpose_id"],
        "legal_basis": item["legal_basis"],
        "legal_basis_label": labels.LEGAL_BASES[item["legal_basis"]],
        "data_categories": item["categories"],
        "recipients": [
            {
                "name": r["name"],
                "kind": r.get("type"),
                "country": r.get("country"),
                "safeguard": r.get("safeguard"),
            }
            for r in item["recipients"]
        ],
        "third_country_safeguards": item.get("transfers"),
        "retention": item["retention"],
        "source": item["source"],
        "automated_decision": bool(decision),
        "automated_logic": decision.get("logic"),
        "automated_consequences": decision.get("consequences"),
        **extra(rest({"controller": controller, **item}, used)),
    }
