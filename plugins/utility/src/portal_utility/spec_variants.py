"""ESPI feeds in the other shapes the schema allows, generated from its rules.

The utility's ``portal.specvariants.Specification``: for an Atom feed or entry the API
serves and one of the generated variants, it walks each ESPI resource in it against the
resource's elements (``portal_utility.rules.TYPES``) and changes it in every place the
schema allows, never a sample:

- ``optional_absent``: every element with ``minOccurs="0"`` is left out, at every depth,
  except a block's ``IntervalReading`` elements, which are the items themselves (a block
  without readings is a shorter feed, not another shape of the same one), and each
  reading's ``value`` (a reading with nothing in it is no reading);
- ``unknown_codes``: every open code list (a union of named values with any ``UInt16``)
  holds a number the list does not name; but not the unit, its multiplier or the
  currency, without which a value cannot be read at all (a reading in an unknown unit is
  not a reading a person can use, and ``other_currency`` varies the currency);
- ``unknown_fields``: every resource begins with an ``extension`` element (the schema's
  ``Object``: any content), the one place the closed sequences allow more;
- ``other_currency``: every ``currency`` is another ISO 4217 numeric code.

Optional arrays cannot be present and empty in XML, so ``empty_arrays`` is not declared.
``problems`` checks every resource with ``portal_utility.rules.problems``.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from defusedxml.ElementTree import fromstring

from portal.specvariants import (
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_CODES,
    UNKNOWN_FIELDS,
    Varied,
)
from portal_utility import espi, rules

RESOURCES = frozenset(
    {
        "UsagePoint",
        "ReadingType",
        "MeterReading",
        "IntervalBlock",
        "UsageSummary",
        "ElectricPowerUsageSummary",
        "LocalTimeParameters",
    }
)
"""The resources an entry's content holds (the rest of ``rules.TYPES`` are their parts)."""
ITEMS = frozenset({"IntervalReading"})
"""Elements that are the items a plugin makes records of: never left out."""
KEPT = {"IntervalReading": frozenset({"value"})}
"""Optional elements kept all the same: an item with nothing in it is not an item."""
OPEN_LISTS = frozenset(
    {
        "AccumulationKind",
        "CommodityKind",
        "DataQualifierKind",
        "FlowDirectionKind",
        "MeasurementKind",
        "PhaseCodeKind",
        "QualityOfReading",
        "ServiceKind",
        "TimeAttributeKind",
        "TimePeriodOfInterest",
        "ItemKind",
    }
)
"""Open code lists ``unknown_codes`` varies (``UnitSymbolKind``, ``UnitMultiplierKind`` and
``Currency`` are open too, but a value is unreadable without them)."""
UNNAMED_CODE = "65000"
"""A ``UInt16`` that no ESPI code list names."""
OTHER_CURRENCIES = {"826": "978"}
"""ISO 4217 numeric codes: pounds become euros, anything else pounds."""
EXTENSION = "PortalConformanceAddition"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _vary(variant: str, kind: str, element: Element) -> int:
    """Vary ``element`` (of ESPI type ``kind``) in place; return how many changes it took."""
    declared = {e.name: e for e in rules.TYPES[kind]}
    renamed = rules.LEGACY_NAMES.get(kind, {})
    changes = 0
    for child in list(element):
        name = _local(child.tag)
        rule = declared.get(renamed.get(name, name))
        if rule is None:  # an extension: any content, left as it is
            continue
        kept = name in ITEMS or name in KEPT.get(kind, ())
        if variant == OPTIONAL_ABSENT and not rule.required and not kept:
            element.remove(child)
            changes += 1
        elif rule.type in rules.TYPES:
            changes += _vary(variant, rule.type, child)
        elif variant == UNKNOWN_CODES and rule.type in OPEN_LISTS:
            child.text = UNNAMED_CODE
            changes += 1
        elif variant == OTHER_CURRENCY and rule.type == "Currency":
            child.text = OTHER_CURRENCIES.get((child.text or "").strip(), "826")
            changes += 1
    if variant == UNKNOWN_FIELDS and kind in RESOURCES:
        namespace = element.tag[1:].split("}", 1)[0] if element.tag.startswith("{") else ""
        extension = Element(f"{{{namespace}}}extension")
        SubElement(extension, f"{{{namespace}}}{EXTENSION}").text = "added by a later version"
        element.insert(0, extension)
        changes += 1
    return changes


def _resources(root: Element) -> list[tuple[str, Element]]:
    """Every ESPI resource in an Atom feed or entry: (its name, its element)."""
    found = []
    for content in root.iter(f"{{{espi.ATOM}}}content"):
        for resource in content:
            name = _local(resource.tag)
            if name in RESOURCES and resource.tag.startswith(f"{{{espi.ESPI}}}"):
                found.append((name, resource))
    return found


class EspiSpecification:
    """NAESB ESPI 4.0 (``espi.xsd``), generating the feeds it allows."""

    source = rules.SOURCE
    variants = (OPTIONAL_ABSENT, UNKNOWN_CODES, UNKNOWN_FIELDS, OTHER_CURRENCY)

    def vary(self, variant: str, path: str, content_type: str, body: bytes) -> Varied | None:
        """The feed (or entry) with every ESPI resource in it varied as ``variant`` allows."""
        if "xml" not in content_type:
            return None  # the products and the processing notice: the utility's own JSON
        root = fromstring(body)
        found = _resources(root)
        if not found:
            return None  # an Authorization or a customer's resources: not usage
        changes = sum(_vary(variant, name, element) for name, element in found)
        items: list[Any] = [espi.value(element) for _, element in found]
        return Varied(tostring(root, encoding="utf-8", xml_declaration=True), items, changes)

    def problems(self, path: str, content_type: str, body: bytes) -> list[str]:
        """Every way the ESPI resources of a feed break the schema."""
        if "xml" not in content_type:
            return []
        found: list[str] = []
        for name, element in _resources(fromstring(body)):
            content = espi.value(element)
            found += rules.problems(name, content if isinstance(content, dict) else {})
        return found

    def __repr__(self) -> str:
        return f"EspiSpecification({self.source!r})"


SPECIFICATION = EspiSpecification()
"""The specification the utility plugin declares (``Provider.specification``)."""
