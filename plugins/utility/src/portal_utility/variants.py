"""Ways of serving Demo Energy's data that ESPI allows but the usual sandbox does not use.

A provider is free to leave out what the schema makes optional, to use other units and
multipliers, codes the schema's lists do not name, the ESPI 1.x names, and any order of
entries in a feed (``portal_utility.rules`` writes those rules down). Each ``Variant`` is one
such provider; ``UtilitySandbox(variant=name)`` serves it, and its ground truth states what
it served. Every variant but ``faulty`` is valid against the schema (the tests check that with
``rules``); ``faulty`` serves what the schema forbids, to be rejected with reasons.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from portal_utility.feeds import Entry

STANDARD_UNITS: Mapping[str, tuple[str, str, int]] = {
    "electricity": ("72", "0", 0),
    "gas": ("42", "-3", 0),
}
"""Fuel to (uom, powerOfTenMultiplier, scale): a reading's integer is served times 10^scale."""

_LEGACY_POINT = ("roleFlags", "ServiceCategory", "status", "ServiceDeliveryPoint")
"""What an ESPI 1.x UsagePoint holds; the rest came with ESPI 3.x."""


@dataclass(frozen=True)
class Variant:
    """One way of serving the same data, every element of it allowed by the ESPI schema."""

    name: str
    description: str
    units: Mapping[str, tuple[str, str, int]] = field(default_factory=lambda: STANDARD_UNITS)
    leave_out: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Resource to the optional elements left out (``a.b`` inside ``a``, ``a[].b`` in each)."""
    local_time: bool = True
    """Whether UsagePoints link a LocalTimeParameters (the schema makes it optional)."""
    legacy: bool = False
    """ESPI 1.x names: ServiceDeliveryPoint, ElectricPowerUsageSummary."""
    implicit_times: bool = False
    """Readings of the ReadingType's intervalLength served without their timePeriod."""
    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Element name to {usual code: code served instead}: codes the schema's lists do not name."""
    extensions: bool = False
    """Resources carry the schema's ``extension`` element (any content) first."""
    reverse: bool = False
    """Feeds list their entries, blocks their readings and MeterReadings their links backwards."""
    costs: bool = False
    """Readings carry their ``cost`` (10^-5 of the currency, about 26p a kWh)."""
    default_quality: str | None = None
    """The ReadingType's ``defaultQuality``: the quality of readings with no ReadingQuality."""
    note_line: bool = False
    """Summaries end with an information line that has no amount (LineItem allows that)."""
    unrecorded: tuple[str, ...] = ()
    """Fuels served in a unit portal does not record: their readings are rejected, saying so."""
    faulty: bool = False
    """Not valid: what the schema forbids, for the rejections (each block's first reading a
    decimal, each summary's currency a letter code), and ReadingTypes' elements in reverse
    order, which portal reads all the same."""

    def value(self, fuel: str, value: int) -> int:
        """A reading's integer as served in this variant's unit."""
        return int(value * 10 ** self.units[fuel][2])

    def cost(self, fuel: str, value: int) -> str | None:
        """The cost served with a reading of ``value`` (the usual unit), if this variant
        serves costs."""
        return str(value * 2637 // 100) if self.costs and fuel == "electricity" else None

    def code(self, element: str, code: str) -> str:
        """The code served for ``element`` where the usual sandbox serves ``code``."""
        return self.codes.get(element, {}).get(code, code)

    def order(self, entries: list[Entry]) -> list[Entry]:
        """The entries of a feed in the order served."""
        return entries[::-1] if self.reverse else entries

    def serve(self, entry: Entry) -> Entry | None:
        """``entry`` as this variant serves it, or None if this variant does not serve it."""
        if entry.resource == "LocalTimeParameters" and not self.local_time:
            return None
        content = self.content(entry.resource, entry.content)
        related = [r for r in entry.related if self.local_time or "/LocalTimeParameters/" not in r]
        if self.reverse and entry.resource == "MeterReading":
            related = related[::-1]
        served = dataclasses.replace(entry, content=content, related=related)
        if self.legacy and entry.resource == "UsageSummary":
            served = _renamed(served, "UsageSummary", "ElectricPowerUsageSummary")
        if self.legacy and entry.resource == "UsagePoint":
            served.related = [
                r.replace("/UsageSummary", "/ElectricPowerUsageSummary") for r in served.related
            ]
        return served

    def content(self, resource: str, content: Mapping[str, Any]) -> dict[str, Any]:
        """A resource's elements as this variant serves them."""
        out: dict[str, Any] = copy.deepcopy(dict(content))
        for path in self.leave_out.get(resource, ()):
            _drop(out, path.split("."))
        out = _recode(out, self.codes)
        if self.reverse and resource == "IntervalBlock":
            out["IntervalReading"] = out.get("IntervalReading", [])[::-1]
        if self.faulty and resource == "IntervalBlock" and out.get("IntervalReading"):
            out["IntervalReading"][0]["value"] += ".5"  # Int48 forbids a fraction
        if self.note_line and resource == "UsageSummary":
            note = {"note": "Your next reading is due in May.", "itemKind": "10"}
            out.setdefault("costAdditionalDetailLastPeriod", []).append(note)
        if self.faulty and resource == "UsageSummary":
            out["currency"] = "GBP"  # ISO 4217's numeric code is the schema's, not the letters
        if self.faulty and resource == "ReadingType":  # out of xs:sequence order, yet readable
            out = dict(reversed(out.items()))
        if self.legacy and resource == "UsagePoint":
            if "serviceDeliveryPoint" in out:
                out["ServiceDeliveryPoint"] = out.pop("serviceDeliveryPoint")
            out = {k: v for k, v in out.items() if k in _LEGACY_POINT}
        if self.legacy and resource == "UsageSummary":  # ESPI 1.x ends at commodity
            out = {k: v for k, v in out.items() if k not in ("tariffProfile", "readCycle")}
        if self.extensions and resource in ("ReadingType", "UsageSummary", "UsagePoint"):
            out = {"extension": {"demoEnergyNote": f"{resource} from Demo Energy"}, **out}
        return out


def _drop(content: dict[str, Any], path: list[str]) -> None:
    head, rest = path[0], path[1:]
    if not rest:
        content.pop(head, None)
        return
    if head.endswith("[]"):
        for each in content.get(head[:-2], []):
            _drop(each, rest)
    elif isinstance(content.get(head), dict):
        _drop(content[head], rest)


def _recode(value: Any, codes: Mapping[str, Mapping[str, str]]) -> Any:
    if isinstance(value, list):
        return [_recode(v, codes) for v in value]
    if not isinstance(value, dict):
        return value
    return {
        k: codes[k].get(v, v) if k in codes and isinstance(v, str) else _recode(v, codes)
        for k, v in value.items()
    }


def _renamed(entry: Entry, old: str, new: str) -> Entry:
    return dataclasses.replace(
        entry,
        resource=new,
        self_url=entry.self_url.replace(f"/{old}", f"/{new}"),
        up=entry.up.replace(f"/{old}", f"/{new}") if entry.up else None,
    )


_SPARSE_LINE = ("rounding", "dateTime", "unitCost", "itemPeriod")
_SPARSE: dict[str, tuple[str, ...]] = {
    "UsagePoint": (
        "roleFlags", "status", "amiBillingReady", "connectionState", "isVirtual",
        "serviceDeliveryPoint.tariffProfile",
    ),
    "ReadingType": (
        "accumulationBehaviour", "commodity", "currency", "dataQualifier",
        "flowDirection", "intervalLength", "kind", "phase", "timeAttribute",
    ),
    "UsageSummary": (
        "billLastPeriod", "qualityOfReading", "tariffProfile", "readCycle",
        "commodity", *(f"costAdditionalDetailLastPeriod[].{f}" for f in _SPARSE_LINE),
    ),
}  # fmt: skip
VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("standard", "ESPI 4.0, every element Demo Energy has."),
        Variant(
            "sparse",
            "Only what the schema requires or portal needs: no LocalTimeParameters, a"
            " ReadingType of unit and multiplier alone, summaries without billLastPeriod,"
            " quality or tariff, lines without rounding, dates, unit costs or periods.",
            leave_out=_SPARSE,
            local_time=False,
            costs=True,
            note_line=True,
        ),
        Variant(
            "legacy",
            "ESPI 1.x names: ServiceDeliveryPoint, and summaries as ElectricPowerUsageSummary"
            " under /ElectricPowerUsageSummary; gas in tenths of a cubic foot.",
            legacy=True,
            units={"electricity": ("72", "0", 0), "gas": ("119", "-1", 0)},
        ),
        Variant(
            "units",
            "Electricity in tenths of a watt-hour (multiplier -1), gas in thousandths of a"
            " therm (UnitSymbolKind 169), half-hourly readings without their timePeriod, with"
            " their cost, a default quality, summaries in the ReadingType's currency.",
            units={"electricity": ("72", "-1", 1), "gas": ("169", "-3", 0)},
            implicit_times=True,
            costs=True,
            default_quality="17",
            leave_out={"UsageSummary": ("currency",)},
        ),
        Variant(
            "codes",
            "Codes the schema's open lists do not name (a reading quality, a flow direction,"
            " a commodity, a line kind) and extension elements.",
            codes={
                "quality": {"9": "1009"},
                "flowDirection": {"1": "1001"},
                "commodity": {"1": "1001", "7": "1007"},
                "itemKind": {"5": "1005"},
            },
            extensions=True,
        ),
        Variant(
            "unusable",
            "Valid ESPI portal cannot record: gas in watts, a unit of power, not of use. Its"
            " readings are rejected naming the unit; its bills are kept, their measurements as"
            " served.",
            units={"electricity": ("72", "0", 0), "gas": ("38", "0", 0)},
            unrecorded=("gas",),
        ),
        Variant(
            "faulty",
            "Not valid ESPI: each block's first reading has a fraction, each summary names"
            " its currency by letters; portal must reject those, saying why, and keep the rest.",
            faulty=True,
        ),
        Variant(
            "reordered",
            "Feeds list their entries backwards, blocks their readings backwards, and"
            " MeterReadings link their ReadingType before their readings.",
            reverse=True,
        ),
    )
}
"""Every variant the sandbox can serve, by name; all but ``faulty`` valid ESPI."""


def variant(name: str) -> Variant:
    """The variant called ``name``."""
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}: {', '.join(VARIANTS)}.")
    return VARIANTS[name]
