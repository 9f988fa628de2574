"""The utility's generated feeds: every variant of the whole feed Demo Energy serves.

The generator (``portal_utility.spec_variants``) is the utility's ``Specification``: it must
keep every ESPI resource valid by the schema's rules (``portal_utility.rules``), change it
in every place the variant allows, not in a sample, and never drop a reading. The feed is
the Batch/Subscription feed the sandbox serves (every usage point, reading and summary);
the real path (each answer rewritten at the sandbox, synced by the plugin) is the utility's
full conformance run in ``test_conformance.py``.
"""

from collections.abc import Callable, Iterator
from datetime import datetime
from xml.etree.ElementTree import Element
from zoneinfo import ZoneInfo

import pytest
from defusedxml.ElementTree import fromstring

from portal.specvariants import (
    GENERATED,
    OPTIONAL_ABSENT,
    OTHER_CURRENCY,
    UNKNOWN_CODES,
    UNKNOWN_FIELDS,
    declared_specification,
)
from portal_utility import rules
from portal_utility.plugin import PROVIDER
from portal_utility.sandbox import UtilitySandbox
from portal_utility.spec_variants import (
    ITEMS,
    KEPT,
    SPECIFICATION,
    UNNAMED_CODE,
    EspiSpecification,
    _resources,
)

ATOM_XML = "application/atom+xml"
EARLY = datetime(2025, 11, 20, 9, tzinfo=ZoneInfo("Europe/London"))
OPEN = {
    "AccumulationKind", "CommodityKind", "DataQualifierKind", "FlowDirectionKind",
    "MeasurementKind", "PhaseCodeKind", "QualityOfReading", "ServiceKind",
    "TimeAttributeKind", "TimePeriodOfInterest", "ItemKind",
}  # fmt: skip
"""ESPI's open code lists (named values or any UInt16), written here from the schema, less
the unit, its multiplier and the currency, without which no value can be read."""


@pytest.fixture(scope="module")
def feed() -> bytes:
    """The whole feed of five weeks of readings, as the sandbox serves it."""
    with UtilitySandbox(now=EARLY) as sandbox:
        return sandbox.download_my_data()


def _varied(variant: str, feed: bytes) -> tuple[bytes, int]:
    varied = SPECIFICATION.vary(variant, "/espi/1_1/resource/Batch/Subscription/5", ATOM_XML, feed)
    assert varied is not None
    return varied.body, varied.changes


def _local(element: Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _walk(body: bytes, visit: Callable[[str, Element], None]) -> None:
    """Call ``visit(type, element)`` for every resource and every part the rules describe."""

    def walk(kind: str, element: Element) -> None:
        visit(kind, element)
        declared = {e.name: e for e in rules.TYPES[kind]}
        for child in element:
            rule = declared.get(rules.LEGACY_NAMES.get(kind, {}).get(_local(child), _local(child)))
            if rule is not None and rule.type in rules.TYPES:
                walk(rule.type, child)

    for name, element in _resources(fromstring(body)):
        walk(name, element)


def _elements(body: bytes, kinds: set[str]) -> Iterator[tuple[str, Element]]:
    found: list[tuple[str, Element]] = []

    def visit(kind: str, element: Element) -> None:
        declared = {e.name: e for e in rules.TYPES[kind]}
        for child in element:
            rule = declared.get(_local(child))
            if rule is not None and rule.type in kinds:
                found.append((rule.type, child))

    _walk(body, visit)
    return iter(found)


def _readings(body: bytes) -> int:
    return sum(1 for e in fromstring(body).iter() if _local(e) in ITEMS)


def test_the_utility_declares_espi_and_every_variant_xml_can_show() -> None:
    assert declared_specification(PROVIDER) is SPECIFICATION
    assert isinstance(SPECIFICATION, EspiSpecification) and "espi.xsd" in SPECIFICATION.source
    # An XML array cannot be present and empty: only that variant is left out.
    assert set(GENERATED) - set(SPECIFICATION.variants) == {"empty_arrays"}


@pytest.mark.parametrize("variant", sorted(SPECIFICATION.variants))
def test_every_generated_feed_follows_the_schema_and_keeps_every_reading(
    feed: bytes, variant: str
) -> None:
    body, changes = _varied(variant, feed)
    assert changes > 0
    assert SPECIFICATION.problems("/", ATOM_XML, feed) == []
    assert SPECIFICATION.problems("/", ATOM_XML, body) == []
    assert _readings(body) == _readings(feed) > 1000


def test_optional_absent_leaves_out_every_optional_element_at_every_depth(feed: bytes) -> None:
    body, _ = _varied(OPTIONAL_ABSENT, feed)
    left: list[str] = []

    def visit(kind: str, element: Element) -> None:
        declared = {e.name: e for e in rules.TYPES[kind]}
        for child in element:
            name = _local(child)
            rule = declared.get(name)
            if rule and not rule.required and name not in ITEMS | KEPT.get(kind, frozenset()):
                left.append(f"{kind}.{name}")

    _walk(body, visit)
    assert left == []


def test_unknown_codes_serves_an_unnamed_code_in_every_open_list_but_the_units(
    feed: bytes,
) -> None:
    body, changes = _varied(UNKNOWN_CODES, feed)
    codes = [(kind, element.text) for kind, element in _elements(body, OPEN)]
    assert len(codes) == changes > 10
    assert {text for _, text in codes} == {UNNAMED_CODE}
    assert not any(rules.named(k, UNNAMED_CODE) for k in rules.CODE_LISTS)
    units = [e.text for _, e in _elements(body, {"UnitSymbolKind"})]
    assert units and units == [e.text for _, e in _elements(feed, {"UnitSymbolKind"})]


def test_unknown_fields_begins_every_resource_with_an_extension(feed: bytes) -> None:
    body, changes = _varied(UNKNOWN_FIELDS, feed)
    resources = _resources(fromstring(body))
    assert len(resources) == changes > 10
    assert all(_local(element[0]) == "extension" for _, element in resources)


def test_other_currency_changes_every_currency(feed: bytes) -> None:
    body, _ = _varied(OTHER_CURRENCY, feed)
    before = [e.text for _, e in _elements(feed, {"Currency"})]
    after = [e.text for _, e in _elements(body, {"Currency"})]
    assert len(before) == len(after) > 0
    assert all(a != b for a, b in zip(before, after, strict=True))


def test_json_answers_and_feeds_without_usage_are_served_as_they_are() -> None:
    assert SPECIFICATION.vary(OPTIONAL_ABSENT, "/products/E7", "application/json", b"{}") is None
    empty = b'<feed xmlns="http://www.w3.org/2005/Atom"><title>none</title></feed>'
    assert SPECIFICATION.vary(OPTIONAL_ABSENT, "/", ATOM_XML, empty) is None
    assert SPECIFICATION.problems("/products/E7", "application/json", b"{}") == []
