"""TMF635 usage (a call, text or data session, as rated) mapped to the customer record.

TMF635 requires nothing of a Usage (``portal_telco.rules``): what the record needs is found
where the document allows, and said so in ``extra`` when it came from elsewhere. A usage
without an id gets one from its product, date and type; without ``usageDate``, the date it
was rated; a ``usageType`` or characteristic portal has no column for is kept in its own
words. What the document forbids (a date that is not a date-time, a characteristic without
its name, an object or array served as something else) rejects the usage, saying where; so
does a usage no product is named for, since the record keeps usage by account.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from portal import SkippableError
from portal.record import Account, Entity, Origin, Unit, Usage
from portal.record.extra import rest
from portal_telco import labels
from portal_telco.values import amount, leftover_characteristics, moment, quantity, short

Ref = Callable[[type[Entity], str], str]
MEGABYTE = Decimal(1_000_000)
"""The record's MB is the SI megabyte, 10^6 bytes."""

_MAPPED_CHARACTERISTICS = (
    "direction",
    "otherParty",
    "duration",
    "dataVolume",
    "roaming",
    "visitedCountry",
)


def usage(item: dict[str, Any], ref: Ref, context: str = "") -> list[Entity]:
    """A TMF635 Usage to a Usage record, or a SkippableError saying what TMF635 forbids."""
    where = f"usage {item.get('id') or '(no id)'}"
    traits = _objects(item.get("usageCharacteristic"), f"{where} usageCharacteristic")
    for n, trait in enumerate(traits):
        if not isinstance(trait.get("name"), str):
            raise SkippableError(
                f"{where} usageCharacteristic {n + 1} has no name, which TMF635 requires"
            )
    values = {trait["name"]: trait.get("value") for trait in traits}
    rated = _objects(item.get("ratedProductUsage"), f"{where} ratedProductUsage")
    product = next((_product_id(r, where) for r in rated if _product_id(r, where)), None)
    if product is None:
        raise SkippableError(
            f"{where} names no product (ratedProductUsage.productRef.id), so which contract"
            " it was used on is unknown"
        )
    notes: dict[str, str] = {}
    provider_id = item.get("id")
    if not provider_id:
        provider_id = stable_usage_id(product, item)
        notes["id_derived"] = "From its product, date and type: the usage has no id."
    started = moment(item.get("usageDate"), f"{where} usageDate")
    ratings = [moment(r.get("ratingDate"), f"{where} ratingDate") for r in rated]
    if started is None:
        started = next((when for when in ratings if when is not None), None)
        if started is None:
            raise SkippableError(
                f"{where} has no usageDate nor ratingDate: when it happened is unknown"
            )
        notes["started_at_from"] = "The date it was rated: the usage has no usageDate."
    charges = [
        amount(r["taxIncludedRatingAmount"], f"{where} taxIncludedRatingAmount")
        for r in rated
        if r.get("taxIncludedRatingAmount") is not None
    ]
    if len({currency for _, currency in charges}) > 1:
        # The record's charge is one amount in one currency: the ratings keep theirs.
        charges = []
        notes["charge_not_summed"] = "Rated in more than one currency: see ratedProductUsage."
    usage_type = item.get("usageType") or ""
    if not isinstance(usage_type, str):
        raise SkippableError(
            f"{where} usageType is {short(usage_type)}, not text as TMF635 requires"
        )
    measured, measure = _measure(usage_type, values, where)
    roaming = values.get("roaming")
    return [
        Usage(
            provider_id=provider_id,
            origin=Origin.observed,
            account_id=ref(Account, product),
            kind=labels.USAGE_KINDS.get(usage_type, "other"),
            kind_label=_kind_label(usage_type, values),
            started_at=started,
            duration_seconds=_seconds(values.get("duration"), where),
            quantity=measured,
            unit=measure,
            direction=_text(values.get("direction")),
            counterparty=_text(values.get("otherParty")),
            roaming=roaming if isinstance(roaming, bool) else None,
            country=_text(values.get("visitedCountry")),
            charge=sum((c for c, _ in charges), Decimal("0")) if charges else None,
            currency=charges[0][1] if charges else None,
            extra=rest(item, ["id", "usageDate", "usageType", "usageCharacteristic"])
            | ({"usageType": usage_type} if usage_type not in ("", *labels.USAGE_KINDS) else {})
            | {
                "usageCharacteristic": leftover_characteristics(traits, _MAPPED_CHARACTERISTICS),
                "ratedProductUsage": [
                    rest(r, ["taxIncludedRatingAmount"] if charges else []) for r in rated
                ],
            }
            | notes,
        )
    ]


def stable_usage_id(product: str, item: dict[str, Any]) -> str:
    """An id for a usage the telco gave none: one product is used once a moment per type."""
    when = item.get("usageDate") or next(
        (r.get("ratingDate") for r in item.get("ratedProductUsage") or [] if r.get("ratingDate")),
        None,
    )
    return f"{product}:{when}:{item.get('usageType') or '-'}"


def cursor_moment(item: dict[str, Any]) -> datetime | None:
    """The usage's date as the sync cursor reads it; None when it is absent or not a date-time
    (the item is then rejected by ``usage``, and the cursor must not pass it)."""
    try:
        return moment(item.get("usageDate"), "usageDate")
    except SkippableError:
        return None


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    # What TMF635 types as an array of objects and arrives as something else is refused,
    # with where it was, rather than failing inside the mapping.
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SkippableError(
            f"{where} is {short(value)}, not an array of objects as TMF635 requires"
        )
    return value


def _product_id(rating: dict[str, Any], where: str) -> str | None:
    product = rating.get("productRef")
    if product is not None and not isinstance(product, dict):
        raise SkippableError(
            f"{where} productRef is {short(product)}, not an object as TMF635 requires"
        )
    found = (product or {}).get("id")
    return str(found) if found else None


def _measure(usage_type: str, values: dict[str, Any], where: str) -> tuple[Decimal, Unit]:
    # What was used, by the characteristic that measures it: a session's bytes, a call's
    # seconds; a text, or a usage that states no measure, counts once.
    if usage_type == "sms":
        return Decimal(1), Unit.message
    order = ("dataVolume", "duration") if usage_type == "data" else ("duration", "dataVolume")
    for name in order:
        if values.get(name) is not None:
            measured = quantity(values[name], f"{where} {name}")
            if name == "dataVolume":
                return measured / MEGABYTE, Unit.MB
            return measured, Unit.second
    return Decimal(1), Unit.item


def _seconds(value: Any, where: str) -> int | None:
    if value is None:
        return None
    seconds = quantity(value, f"{where} duration")
    if seconds != seconds.to_integral_value():
        return None  # a fraction of a second: the quantity keeps it exactly
    return int(seconds)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _kind_label(usage_type: str, values: dict[str, Any]) -> str:
    # Roaming is worth saying where a person reads the kind: it is what costs money abroad.
    if not usage_type:
        kind = "Usage (TMF635 leaves a usage's type optional)"
    else:
        kind = labels.label(labels.USAGE_TYPES, usage_type, "usage type")
    zone = values.get("roamingZone")
    if values.get("roaming") is True and isinstance(zone, str) and zone:
        return f"{kind}, roaming: {labels.label(labels.ROAMING_ZONES, zone, 'roaming zone')}"
    return kind
