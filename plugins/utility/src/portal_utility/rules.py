"""What the ESPI schema says of the usage resources, written down as data, and a checker.

Source: the NAESB REQ.21 ESPI schema, ``espi.xsd`` version 4.0 of 13 December 2023 (the
Green Button Alliance publishes it under the Apache licence in OpenESPI-Common-java,
``src/main/resources/schema/ESPI_3_3/espi.xsd``). ESPI 1.x (``usage.xsd``) differs in two
names portal also reads: it calls the summary ``ElectricPowerUsageSummary`` (still in 4.0,
marked deprecated) and spells the delivery point ``ServiceDeliveryPoint``, with none of the
UsagePoint elements after it.

What the schema says, in our words:

- Almost everything is optional. ``ReadingType`` requires none of its elements (a feed may
  leave out the interval length, the currency, the kind...). An ``IntervalReading`` requires
  nothing either: without ``timePeriod`` its readings follow each other at the ReadingType's
  ``intervalLength`` from the block's start; without ``ReadingQuality`` its quality is the
  ReadingType's ``defaultQuality``, else valid. A summary requires only ``statusTimeStamp``;
  ``billLastPeriod``, ``currency`` and the cost lines are optional, and its amounts are in
  the ReadingType's currency when it names none. A LineItem requires ``note`` and
  ``itemKind``; even its ``amount`` is optional. ``LocalTimeParameters`` requires all four of
  its elements, but a UsagePoint need not link one. ``ServiceCategory`` requires ``kind``;
  ``ReadingQuality`` requires ``quality``; ``DateTimeInterval`` requires ``duration`` and
  ``start``.
- Elements come in the order the schema lists them (``xs:sequence``); every resource may
  begin with ``extension`` elements of any content (the schema's ``Object``).
- Numbers: money and readings are ``Int48`` (signed, |n| <= 2^47) in hundred-thousandths
  of the currency or in the ReadingType's unit times ten to its ``powerOfTenMultiplier``;
  times are ``TimeType`` (seconds since 1970, a signed 64-bit integer); durations ``UInt32``.
- Code lists (unit, multiplier, commodity, kind, flow direction, quality, currency, service
  kind, item kind...) are *open*: each is a union of a named list with every ``UInt16``
  (``Int16`` for the multiplier), so a number the list does not name is still valid. The
  named values are the tables of ``portal_utility.labels``; ``currency`` is an ISO 4217
  numeric code. Only ``amiBillingReady`` and ``connectionState`` are closed lists of words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from portal_utility import labels

SOURCE = (
    "NAESB REQ.21 ESPI espi.xsd version 4.0 (2023-12-13), GreenButtonAlliance/"
    "OpenESPI-Common-java src/main/resources/schema/ESPI_3_3/espi.xsd"
)


@dataclass(frozen=True)
class Element:
    """One element of a resource's sequence: its type, whether required, whether repeated."""

    name: str
    type: str
    required: bool = False
    repeats: bool = False


def _e(name: str, kind: str, *, required: bool = False, repeats: bool = False) -> Element:
    return Element(name, kind, required, repeats)


_SUMMARY = (
    _e("billingPeriod", "DateTimeInterval"),
    _e("billLastPeriod", "Int48"),
    _e("billToDate", "Int48"),
    _e("costAdditionalLastPeriod", "Int48"),
    _e("costAdditionalDetailLastPeriod", "LineItem", repeats=True),
    _e("currency", "Currency"),
    _e("overallConsumptionLastPeriod", "SummaryMeasurement"),
    *(
        _e(name, "SummaryMeasurement")
        for name in (
            "currentBillingPeriodOverAllConsumption",
            "currentDayLastYearNetConsumption",
            "currentDayNetConsumption",
            "currentDayOverallConsumption",
            "peakDemand",
            "previousDayLastYearOverallConsumption",
            "previousDayNetConsumption",
            "previousDayOverallConsumption",
        )
    ),
    _e("qualityOfReading", "QualityOfReading"),
    _e("ratchetDemand", "SummaryMeasurement"),
    _e("ratchetDemandPeriod", "DateTimeInterval"),
    _e("statusTimeStamp", "TimeType", required=True),
    _e("commodity", "CommodityKind"),
)

TYPES: dict[str, tuple[Element, ...]] = {
    "UsagePoint": (
        _e("roleFlags", "HexBinary16"),
        _e("ServiceCategory", "ServiceCategory"),
        _e("status", "UInt8"),
        _e("serviceDeliveryPoint", "ServiceDeliveryPoint"),
        _e("amiBillingReady", "AmiBillingReadyKind"),
        _e("checkBilling", "boolean"),
        _e("connectionState", "UsagePointConnectedKind"),
        _e("estimatedLoad", "SummaryMeasurement"),
        _e("grounded", "boolean"),
        _e("isSdp", "boolean"),
        _e("isVirtual", "boolean"),
        _e("minimalUsageExpected", "boolean"),
        _e("nominalServiceVoltage", "SummaryMeasurement"),
        _e("outageRegion", "String256"),
        _e("phaseCode", "PhaseCodeKind"),
        _e("ratedCurrent", "SummaryMeasurement"),
        _e("ratedPower", "SummaryMeasurement"),
        _e("readCycle", "String256"),
        _e("readRoute", "String256"),
        _e("serviceDeliveryRemark", "String256"),
        _e("servicePriority", "String32"),
        _e("pnodeRefs", "any"),
        _e("aggregateNodeRefs", "any"),
    ),
    "ReadingType": (
        _e("accumulationBehaviour", "AccumulationKind"),
        _e("commodity", "CommodityKind"),
        _e("consumptionTier", "Int16"),
        _e("currency", "Currency"),
        _e("dataQualifier", "DataQualifierKind"),
        _e("defaultQuality", "QualityOfReading"),
        _e("flowDirection", "FlowDirectionKind"),
        _e("intervalLength", "UInt32"),
        _e("kind", "MeasurementKind"),
        _e("phase", "PhaseCodeKind"),
        _e("powerOfTenMultiplier", "UnitMultiplierKind"),
        _e("timeAttribute", "TimePeriodOfInterest"),
        _e("tou", "Int16"),
        _e("uom", "UnitSymbolKind"),
        _e("cpp", "Int16"),
        _e("interharmonic", "any"),
        _e("measuringPeriod", "TimeAttributeKind"),
        _e("argument", "any"),
    ),
    "MeterReading": (),
    "IntervalBlock": (
        _e("interval", "DateTimeInterval"),
        _e("IntervalReading", "IntervalReading", repeats=True),
    ),
    "UsageSummary": (
        *_SUMMARY,
        _e("tariffProfile", "String256"),
        _e("readCycle", "String256"),
        _e("tariffRiderRefs", "any"),
        _e("billingChargeSource", "any"),
    ),
    "ElectricPowerUsageSummary": _SUMMARY,
    "LocalTimeParameters": (
        _e("dstEndRule", "HexBinary32", required=True),
        _e("dstOffset", "TimeType", required=True),
        _e("dstStartRule", "HexBinary32", required=True),
        _e("tzOffset", "TimeType", required=True),
    ),
    # The complex types the resources are made of.
    "IntervalReading": (
        _e("cost", "Int48"),
        _e("ReadingQuality", "ReadingQuality", repeats=True),
        _e("timePeriod", "DateTimeInterval"),
        _e("value", "Int48"),
        _e("consumptionTier", "Int16"),
        _e("tou", "Int16"),
        _e("cpp", "Int16"),
    ),
    "ReadingQuality": (_e("quality", "QualityOfReading", required=True),),
    "ServiceCategory": (_e("kind", "ServiceKind", required=True),),
    "ServiceDeliveryPoint": (
        _e("name", "String256"),
        _e("tariffProfile", "String256"),
        _e("customerAgreement", "String256"),
        _e("tariffRiderRefs", "any"),
    ),
    "DateTimeInterval": (
        _e("duration", "UInt32", required=True),
        _e("start", "TimeType", required=True),
    ),
    "SummaryMeasurement": (
        _e("powerOfTenMultiplier", "UnitMultiplierKind"),
        _e("timeStamp", "TimeType"),
        _e("uom", "UnitSymbolKind"),
        _e("value", "Int48"),
        _e("readingTypeRef", "anyURI"),
    ),
    "LineItem": (
        _e("amount", "Int48"),
        _e("rounding", "Int48"),
        _e("dateTime", "TimeType"),
        _e("note", "String256", required=True),
        _e("measurement", "SummaryMeasurement"),
        _e("itemKind", "ItemKind", required=True),
        _e("unitCost", "Int48"),
        _e("itemPeriod", "DateTimeInterval"),
    ),
}
"""Each resource's elements in schema order (and the complex types they are made of)."""

LEGACY_NAMES = {"UsagePoint": {"ServiceDeliveryPoint": "serviceDeliveryPoint"}}
"""ESPI 1.x spellings portal reads as their 4.0 names."""


def _integer(low: int, high: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return low <= int(text) <= high
        except ValueError:
            return False

    return check


def _hex(octets: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            bytes.fromhex(text)
        except ValueError:
            return False
        return len(text) <= 2 * octets

    return check


AMI_BILLING_READY = frozenset(
    {"amiCapable", "amiDisabled", "billingApproved", "enabled", "nonAmi", "nonMetered", "operable"}
)
CONNECTION_STATES = frozenset({"connected", "logicallyDisconnected", "physicallyDisconnected"})

_UINT16 = _integer(0, 2**16 - 1)
SIMPLE: dict[str, Callable[[str], bool]] = {
    "Int48": _integer(-(2**47), 2**47),
    "Int16": _integer(-(2**15), 2**15 - 1),
    "UInt8": _integer(0, 2**8 - 1),
    "UInt16": _UINT16,
    "UInt32": _integer(0, 2**32 - 1),
    "TimeType": _integer(-(2**63), 2**63 - 1),
    "String256": lambda text: len(text) <= 256,
    "String32": lambda text: len(text) <= 32,
    "HexBinary16": _hex(2),
    "HexBinary32": _hex(4),
    "boolean": lambda text: text in ("true", "false", "1", "0"),
    "anyURI": lambda text: True,
    "any": lambda text: True,
    "AmiBillingReadyKind": lambda text: text in AMI_BILLING_READY,
    "UsagePointConnectedKind": lambda text: text in CONNECTION_STATES,
    # Open code lists: the named values, or any other number of the same type.
    "UnitMultiplierKind": _integer(-(2**15), 2**15 - 1),
    **dict.fromkeys(
        (
            "AccumulationKind", "CommodityKind", "Currency", "DataQualifierKind",
            "FlowDirectionKind", "MeasurementKind", "PhaseCodeKind", "QualityOfReading",
            "ServiceKind", "TimeAttributeKind", "TimePeriodOfInterest", "UnitSymbolKind",
            "ItemKind",
        ),
        _UINT16,
    ),
}  # fmt: skip
"""Each simple type: whether a text is a valid value of it."""

CODE_LISTS: dict[str, Mapping[str, object]] = {
    "QualityOfReading": labels.QUALITY,
    "UnitSymbolKind": labels.UNITS,
    "UnitMultiplierKind": labels.MULTIPLIERS,
    "FlowDirectionKind": labels.FLOW_DIRECTIONS,
    "MeasurementKind": labels.MEASUREMENT_KINDS,
    "AccumulationKind": labels.ACCUMULATION,
    "CommodityKind": labels.COMMODITIES,
    "ServiceKind": labels.SERVICE_KINDS,
    "ItemKind": labels.ITEM_KINDS,
}
"""The values each open code list names (a subset for UnitSymbolKind and MeasurementKind,
whose named lists run to well over a hundred codes): a value outside is valid but unnamed."""


def problems(
    resource: str, content: Mapping[str, Any], where: str = "", *, ordered: bool = True
) -> list[str]:
    """What in ``content`` (a resource as ``espi.value`` reads it) the schema does not allow.

    Missing required elements, elements the resource does not have, elements out of the
    schema's order (unless ``ordered`` is False, for content whose order was not kept),
    values not of their type: each named by its path. An empty list means the resource is
    valid. ``resource`` is a resource name or a complex type of ``TYPES``.
    """
    where = where or resource
    found: list[str] = []
    elements = TYPES[resource]
    names = [element.name for element in elements]
    renamed = LEGACY_NAMES.get(resource, {})
    last = -1
    for key, value in content.items():
        name = renamed.get(key, key)
        if name == "extension":  # the schema's Object: any content, before the rest
            if last >= 0 and ordered:
                found.append(f"{where}.extension comes after other elements")
            continue
        if name not in names:
            found.append(f"{where}.{key} is not an element of {resource}")
            continue
        index = names.index(name)
        if index < last and ordered:
            found.append(f"{where}.{key} is out of the schema's order")
        last = max(last, index)
        element = elements[index]
        values = value if isinstance(value, list) else [value]
        if len(values) > 1 and not element.repeats:
            found.append(f"{where}.{key} appears {len(values)} times; the schema allows one")
        for n, each in enumerate(values):
            path = f"{where}.{key}" + (f"[{n}]" if element.repeats else "")
            found += _value(element.type, each, path, ordered)
    for element in elements:
        if element.required and element.name not in content:
            found.append(f"{where}.{element.name} is required and missing")
    return found


def _value(kind: str, value: Any, path: str, ordered: bool) -> list[str]:
    if kind in TYPES:
        if not isinstance(value, Mapping):
            return [f"{path} should hold elements of {kind}, not the text {value!r}"]
        return problems(kind, value, path, ordered=ordered)
    if kind == "any":
        return []
    if not isinstance(value, str) or not SIMPLE[kind](value):
        return [f"{path} is {value!r}, not a {kind}"]
    return []


def named(code_list: str, value: str) -> bool:
    """Whether ``value`` is one the schema names in ``code_list`` (else valid but unnamed)."""
    return value in CODE_LISTS[code_list]
