"""What the sandbox serves, and what each item must say in the customer record.

Written from what Octopus's reference says its fields mean, not from the plugin's mapping:
a consumption result is the energy measured in the half-hour from ``interval_start``
(kWh for electricity, m³ for this SMETS2 gas meter); a charge is pence per kWh (unit rates)
or per day (standing charges), with and without VAT, valid from ``valid_from`` until
``valid_to`` (exclusive; null while it holds); an agreement puts a meter point on a tariff
for the same kind of period. The provider ids below are the ones the plugin must give.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_octopus.dataset import LONDON, OctopusHome, charges_between

_PRODUCTS = {
    "AGILE-24-10-01": "Agile Octopus",
    "VAR-22-11-01": "Flexible Octopus",
    "AGILE-OUTGOING-19-05-13": "Agile Outgoing Octopus",
}
_REGIONS = {"C": "London"}
_CHARGES = {
    "standard-unit-rates": ("unit_rate", "Unit rate", "kWh", None),
    "standing-charges": ("standing_charge", "Standing charge", "day", "daily"),
}


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _day(text: str | None, *, last: bool = False) -> Any:
    moment = _moment(text)
    if moment is None:
        return None
    if last:  # validity ends at an instant (exclusive): its last day is the day before it
        moment -= timedelta(microseconds=1)
    return moment.astimezone(LONDON).date()


def _points(home: OctopusHome) -> list[tuple[str, dict[str, Any]]]:
    prop = home.account()["properties"][0]
    return [("electricity", p) for p in prop["electricity_meter_points"]] + [
        ("gas", p) for p in prop["gas_meter_points"]
    ]


def _point_id(fuel: str, point: dict[str, Any]) -> str:
    return f"{fuel}:{point.get('mpan') or point.get('mprn')}"


def _charges(home: OctopusHome) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(point id, tariff code, charge list, charge) for each charge inside an agreement."""
    found = []
    for fuel, point in _points(home):
        for agreement in point["agreements"]:
            tariff = home.tariff(fuel, agreement["tariff_code"])
            assert tariff is not None
            start, end = _moment(agreement["valid_from"]), _moment(agreement["valid_to"])
            for charge, items in tariff.charges.items():
                for item in charges_between(items, start, end):
                    found.append((_point_id(fuel, point), tariff.code, charge, item))
    return found


def truth(home: OctopusHome) -> dict[str, list[dict[str, Any]]]:
    """Every item served, by the category it becomes: the account, its home and meter
    points (accounts), the agreements and their charges (products), the half-hours (usage)."""
    account = home.account()
    prop = account["properties"][0]
    points = [p for _, p in _points(home)]
    agreements = [a for p in points for a in p["agreements"]]
    return {
        "accounts": [account, prop, *points],
        "products": agreements + [c[3] for c in _charges(home)],
        "usage": [r for m in home.meters for r in m.readings],
    }


def expected(home: OctopusHome) -> dict[str, dict[str, dict[str, Any]]]:
    """``{category: {provider id: {field: value}}}`` for everything served now."""
    account = home.account()
    prop = account["properties"][0]
    number = account["number"]
    accounts: dict[str, dict[str, Any]] = {
        number: {
            "name": f"Octopus Energy account {number}",
            "account_type": "energy_account",
            "account_type_label": "Energy supply account",
            "identifiers": [
                {
                    "scheme": "account_number",
                    "scheme_label": "Octopus Energy account number",
                    "identification": number,
                    "name": None,
                }
            ],
        },
        f"property:{prop['id']}": {
            # The address as a UK address is written: its lines, the county if given, then
            # the town and postcode ("Flat 2, 7 Tentacle Row, LONDON SE1 7PB").
            "name": ", ".join(
                [
                    *(
                        prop[k]
                        for k in ("address_line_1", "address_line_2", "address_line_3", "county")
                        if prop.get(k)
                    ),
                    f"{prop['town']} {prop['postcode']}",
                ]
            ),
            "account_type": "property",
            "account_type_label": "Home supplied",
            "status": "current",
            "status_label": "Lived in now",
            "state": "active",
            "opened_on": _day(prop["moved_in_at"]),
            "extra.id": prop["id"],
            "extra.moved_in_at": prop["moved_in_at"],
        },
    }
    kinds = {
        ("electricity", False): ("electricity_import", "Electricity supply (import)", "MPAN"),
        ("electricity", True): ("electricity_export", "Electricity export", "MPAN"),
        ("gas", False): ("gas_supply", "Gas supply", "MPRN"),
    }
    for fuel, point in _points(home):
        export = bool(point.get("is_export"))
        kind, label, scheme = kinds[(fuel, export)]
        code = point.get("mpan") or point.get("mprn")
        serials = [m["serial_number"] for m in point["meters"]]
        fields: dict[str, Any] = {
            "name": f"{label} {code}",
            "account_type": kind,
            "account_type_label": label,
            "identifiers": [
                {
                    "scheme": scheme.lower(),
                    "scheme_label": "Meter point administration number"
                    if scheme == "MPAN"
                    else "Meter point reference number",
                    "identification": code,
                    "name": None,
                },
                *(
                    {
                        "scheme": "meter_serial",
                        "scheme_label": "Meter serial number",
                        "identification": s,
                        "name": None,
                    }
                    for s in serials
                ),
            ],
            "extra.property": prop["id"],
            "extra.consumption_standard": point.get("consumption_standard"),
            "extra.meters": point["meters"],
        }
        if fuel == "electricity":
            fields["extra.profile_class"] = point.get("profile_class")
            fields["extra.is_export"] = point.get("is_export")
        accounts[_point_id(fuel, point)] = fields

    products: dict[str, dict[str, Any]] = {}
    for fuel, point in _points(home):
        for agreement in point["agreements"]:
            code = agreement["tariff_code"]
            product = code[5:-2]
            export = bool(point.get("is_export"))
            kind = "export_tariff" if export else f"{fuel}_tariff"
            words = {"export_tariff": "Export tariff", "electricity_tariff": "Electricity tariff"}
            products[f"agreement:{_point_id(fuel, point)}:{code}:{agreement['valid_from']}"] = {
                "account_id": _point_id(fuel, point),
                "name": _PRODUCTS[product],
                "product_type": kind,
                "product_type_label": words.get(kind, "Gas tariff"),
                "description": f"Tariff {code}: product {product}, single-rate meter,"
                f" {_REGIONS[code[-1]]} region",
                "valid_from": _day(agreement["valid_from"]),
                "valid_to": _day(agreement["valid_to"], last=True),
                "extra.tariff_code": code,
                "extra.valid_from": agreement["valid_from"],
                "extra.valid_to": agreement["valid_to"],
            }
    for point_id, code, charge, item in _charges(home):
        kind, label, unit, period = _CHARGES[charge]
        method = item.get("payment_method")
        key = f"charge:{point_id}:{code}:{charge}:{item['valid_from']}:{method or 'any'}"

        def price(
            vat: str, value: float, label: str = label, unit: str = unit, period: Any = period
        ) -> dict[str, Any]:
            return {
                "label": f"{label} ({vat} VAT)",
                "amount": Decimal(str(value)).scaleb(-2),
                "currency": "GBP",
                "unit": unit,
                "period": period,
            }

        fields = {
            "account_id": point_id,
            "name": f"{_PRODUCTS[code[5:-2]]} {label.lower()}",
            "product_type": kind,
            "product_type_label": label,
            "description": f"{label} of tariff {code}",
            "prices": [
                price("excluding", item["value_exc_vat"]),
                price("including", item["value_inc_vat"]),
            ],
            "valid_from": _day(item["valid_from"]),
            "valid_to": _day(item["valid_to"], last=True),
            "extra.tariff_code": code,
            "extra.valid_from": item["valid_from"],
            "extra.valid_to": item["valid_to"],
        }
        if method:
            fields["extra.payment_method"] = method
        products[key] = fields

    usage: dict[str, dict[str, Any]] = {}
    names = {
        ("electricity", False): ("energy", "Electricity used", "kWh"),
        ("electricity", True): ("energy_export", "Electricity exported", "kWh"),
        ("gas", False): ("gas", "Gas used", "m3"),
    }
    spoiled = [id(r) for r in home.spoiled()]
    for meter in home.meters:
        kind, label, unit = names[(meter.fuel, meter.export)]
        for reading in meter.readings:
            if id(reading) in spoiled:
                continue  # breaks the reference's rules: a correct plugin rejects it
            start, end = _moment(reading["interval_start"]), _moment(reading["interval_end"])
            assert start is not None and end is not None
            key = f"{meter.fuel}:{meter.point}:{meter.serial}:{reading['interval_start']}"
            usage[key] = {
                "account_id": f"{meter.fuel}:{meter.point}",
                "kind": kind,
                "kind_label": label,
                "started_at": start,
                "duration_seconds": int((end - start).total_seconds()),
                "quantity": Decimal(str(reading["consumption"])),
                "unit": unit,
                "meter_id": meter.serial,
            }
    return {"accounts": accounts, "products": products, "usage": usage}
