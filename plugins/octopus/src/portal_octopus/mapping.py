"""Octopus items mapped to the customer record, one function per stream.

The account answer is taken apart into items: the account, its homes and their meter
points (Accounts), and each agreement (a Product: the tariff a point was on, and when);
each consumption result becomes a Usage; each unit rate or standing charge a Product of
its own, priced per kWh or per day with and without VAT, valid for its period. Nothing
released is dropped: what has no field of its own is kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from portal.errors import SkippableError
from portal.record import Account, AccountIdentifier, Entity, Origin, Price, Product, Unit, Usage
from portal.record.extra import rest
from portal.record.vocab import State
from portal_octopus import labels, rules

Ref = Callable[[type[Entity], str], str]
LONDON = ZoneInfo("Europe/London")


def moment(text: str) -> datetime:
    """An Octopus datetime: ISO 8601, London time when it carries no offset (the reference)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=LONDON)


def day(text: str | None, *, last: bool = False) -> date | None:
    """The London day of a moment; ``last``: the last day a validity ending then covers."""
    if not text:
        return None
    at = moment(text)
    if last:
        at -= timedelta(microseconds=1)
    return at.astimezone(LONDON).date()


def number(value: Any, what: str) -> Decimal:
    """A JSON number as an exact decimal (its shortest text, never the binary float)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise SkippableError(f"{what} is not a number: {value!r}")
    try:
        found = Decimal(str(value))
    except ArithmeticError:
        raise SkippableError(f"{what} is not a number: {value!r}") from None
    if not found.is_finite():
        raise SkippableError(f"{what} is not a finite number: {value!r}")
    return found


def point_id(fuel: str, point: dict[str, Any]) -> str:
    """The provider id of a meter point's Account: ``electricity:MPAN`` or ``gas:MPRN``."""
    return f"{fuel}:{point.get('mpan') if fuel == 'electricity' else point.get('mprn')}"


def meter_points(account: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, dict[str, Any]]]:
    """(property, fuel, meter point) for every meter point of every property."""
    for prop in account.get("properties") or []:
        for point in prop.get("electricity_meter_points") or []:
            yield prop, "electricity", point
        for point in prop.get("gas_meter_points") or []:
            yield prop, "gas", point


def take_apart(account: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The account answer as the items of four streams: the account, its properties, their
    meter points (each naming its property) and their agreements (each naming its point)."""
    points = list(meter_points(account))
    return [
        ("account", [account]),
        ("properties", list(account.get("properties") or [])),
        ("meter_points", [{**p, "property": prop.get("id")} for prop, _, p in points]),
        (
            "agreements",
            [
                {
                    **a,
                    "meter_point": {
                        "fuel": fuel,
                        "point": point_id(fuel, p),
                        "is_export": bool(p.get("is_export")),
                    },
                }
                for _, fuel, p in points
                for a in p.get("agreements") or []
            ],
        ),
    ]


# -- the account answer, an item at a time ------------------------------------------------


def account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """``GET /v1/accounts/{number}/``: the account itself (its homes are items of their own)."""
    return [
        Account(
            provider_id=item["number"],
            origin=Origin.provided,
            name=f"Octopus Energy account {item['number']}",
            account_type="energy_account",
            account_type_label="Energy supply account",
            identifiers=[
                AccountIdentifier(
                    scheme="account_number",
                    scheme_label="Octopus Energy account number",
                    identification=item["number"],
                )
            ],
            extra=rest(item, ["number", "properties"]),
        )
    ]


_ADDRESS = ("address_line_1", "address_line_2", "address_line_3", "town", "county", "postcode")


def home(prop: dict[str, Any], ref: Ref) -> list[Entity]:
    """A property of the account: the home supplied, named by its address."""
    lines = [prop.get(k) for k in ("address_line_1", "address_line_2", "address_line_3")]
    county = [prop["county"]] if prop.get("county") else []
    place = " ".join(p for p in (prop.get("town"), prop.get("postcode")) if p)
    name = ", ".join([*(line for line in lines if line), *county, *([place] if place else [])])
    moved_out = prop.get("moved_out_at")
    return [
        Account(
            provider_id=f"property:{prop['id']}",
            origin=Origin.provided,
            name=name or f"Property {prop['id']}",
            account_type="property",
            account_type_label="Home supplied",
            status="moved_out" if moved_out else "current",
            status_label="Moved out" if moved_out else "Lived in now",
            state=State.closed if moved_out else State.active,
            opened_on=day(prop.get("moved_in_at")),
            extra={
                "id": prop["id"],
                **rest(prop, ["id", *_ADDRESS, "electricity_meter_points", "gas_meter_points"]),
            },
        )
    ]


def fuel_of(point: dict[str, Any]) -> str:
    """A meter point's fuel: an MPAN is electricity's, an MPRN gas's."""
    return "gas" if "mprn" in point else "electricity"


def meter_point(point: dict[str, Any], ref: Ref) -> list[Entity]:
    """An electricity (import or export) or gas meter point, with its meters' serials."""
    fuel = fuel_of(point)
    export = bool(point.get("is_export"))
    kind, label = labels.POINT_KINDS[(fuel, export)]
    code = str(point.get("mpan") if fuel == "electricity" else point.get("mprn"))
    identifiers = [
        AccountIdentifier(
            scheme="mpan" if fuel == "electricity" else "mprn",
            scheme_label="Meter point administration number"
            if fuel == "electricity"
            else "Meter point reference number",
            identification=code,
        ),
        *(
            AccountIdentifier(
                scheme="meter_serial",
                scheme_label="Meter serial number",
                identification=meter["serial_number"],
            )
            for meter in point.get("meters") or []
            if meter.get("serial_number")
        ),
    ]
    return [
        Account(
            provider_id=point_id(fuel, point),
            origin=Origin.observed,
            name=f"{label} {code}",
            account_type=kind,
            account_type_label=label,
            identifiers=identifiers,
            extra=rest(point, ["mpan", "mprn", "agreements"]),
        )
    ]


def agreement(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An agreement: the tariff a meter point was (or is) on, from when until when."""
    on = item["meter_point"]
    fuel, point = on["fuel"], on["point"]
    code = item["tariff_code"]
    parts = rules.tariff_parts(code)
    kind = "export_tariff" if on.get("is_export") else f"{fuel}_tariff"
    if parts is None:
        name, description = f"Tariff {code}", f"Tariff {code} (a code portal cannot read)"
    else:
        name = labels.product_name(parts["product"])
        registers = labels.label(labels.REGISTERS, parts["registers"], "register code")
        region = labels.label(labels.REGIONS, parts["region"], "region")
        description = f"Tariff {code}: product {parts['product']}, {registers}, {region} region"
    return [
        Product(
            provider_id=f"agreement:{point}:{code}:{item['valid_from']}",
            account_id=ref(Account, point),
            origin=Origin.observed,
            name=name,
            product_type=kind,
            product_type_label=labels.TARIFF_KINDS[kind],
            description=description,
            valid_from=day(item.get("valid_from")),
            valid_to=day(item.get("valid_to"), last=True),
            extra={
                "tariff_code": code,
                "valid_from": item.get("valid_from"),
                "valid_to": item.get("valid_to"),
                **rest(item, ["tariff_code", "valid_from", "valid_to", "meter_point"]),
            },
        )
    ]


# -- consumption -------------------------------------------------------------------------


def consumption(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One half-hour (or longer interval) of a meter: the energy it measured."""
    meter = item["meter"]
    fuel, export = meter["fuel"], bool(meter.get("is_export"))
    kind, label = labels.USAGE_KINDS[(fuel, export)]
    try:
        start, end = moment(item["interval_start"]), moment(item["interval_end"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise SkippableError("a consumption result has no readable interval") from None
    if end <= start:
        raise SkippableError(
            f"a consumption interval ends before it starts ({item['interval_start']})"
        )
    return [
        Usage(
            provider_id=f"{fuel}:{meter['point']}:{meter['serial_number']}:{item['interval_start']}",
            account_id=ref(Account, f"{fuel}:{meter['point']}"),
            origin=Origin.observed,
            kind=kind,
            kind_label=label,
            started_at=start,
            duration_seconds=int((end - start).total_seconds()),
            quantity=number(item.get("consumption"), "consumption"),
            # kWh for electricity and SMETS1 gas meters, m³ for SMETS2 gas meters (the
            # reference); the account answer does not say which a gas meter is, and the
            # meters Octopus fits now are SMETS2 (docs/providers/octopus.md says so).
            unit=Unit.kWh if fuel == "electricity" else Unit.m3,
            meter_id=meter["serial_number"],
            extra=rest(item, ["consumption", "interval_start", "interval_end", "meter"]),
        )
    ]


# -- charges -----------------------------------------------------------------------------


def charge(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One unit rate or standing charge of a tariff, valid for its period."""
    tariff = item["tariff"]
    code, which = tariff["code"], tariff["charge"]
    kind, label = labels.CHARGES[which]
    parts = rules.tariff_parts(code)
    product = labels.product_name(parts["product"]) if parts else f"Tariff {code}"
    unit, period = (Unit.day, "daily") if kind == "standing_charge" else (Unit.kWh, None)
    method = item.get("payment_method")

    def price(vat: str, value: Any) -> Price:
        # Pence, as every charge of the API is: the record keeps pounds.
        amount = number(value, f"value_{vat[:3]}_vat").scaleb(-2)
        return Price(
            label=f"{label} ({vat} VAT)", amount=amount, currency="GBP", unit=unit, period=period
        )

    extra: dict[str, Any] = {
        "tariff_code": code,
        "valid_from": item.get("valid_from"),
        "valid_to": item.get("valid_to"),
    }
    if method:
        extra["payment_method"] = method
        extra["payment_method_label"] = labels.label(
            labels.PAYMENT_METHODS, method, "payment method"
        )
    extra |= rest(
        item,
        ["value_exc_vat", "value_inc_vat", "valid_from", "valid_to", "payment_method", "tariff"],
    )
    return [
        Product(
            provider_id=f"charge:{tariff['point']}:{code}:{which}:{item.get('valid_from')}"
            f":{method or 'any'}",
            account_id=ref(Account, tariff["point"]),
            origin=Origin.observed,
            name=f"{product} {label.lower()}",
            product_type=kind,
            product_type_label=label,
            description=f"{label} of tariff {code}",
            prices=[
                price("excluding", item.get("value_exc_vat")),
                price("including", item.get("value_inc_vat")),
            ],
            valid_from=day(item.get("valid_from")),
            valid_to=day(item.get("valid_to"), last=True),
            extra=extra,
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "account": account,
    "properties": home,
    "meter_points": meter_point,
    "agreements": agreement,
    "consumption": consumption,
    "charges": charge,
}
