"""Human labels for the codes ESPI (NAESB REQ.21) uses, so that no code reaches a person bare."""

from __future__ import annotations

from portal.record.vocab import State

QUALITY = {
    "0": "Valid (actual reading)",
    "7": "Manually edited",
    "8": "Estimated using a reference day",
    "9": "Estimated by linear interpolation",
    "10": "Questionable",
    "11": "Derived (calculated from other readings)",
    "12": "Projected (a forecast)",
    "13": "Mixed (some readings estimated)",
    "14": "Raw (not yet validated)",
    "15": "Normalised for weather",
    "16": "Other",
    "17": "Validated",
    "18": "Verified (failed a check but represents actual usage)",
    "19": "Revenue quality",
}
"""QualityOfReading. A reading with no ReadingQuality passed every check: it is ``0``."""

UNITS = {
    "0": "Not applicable",
    "5": "Amperes",
    "29": "Volts",
    "31": "Joules",
    "33": "Hertz",
    "38": "Watts (real power)",
    "42": "Cubic metres",
    "61": "Volt-amperes (apparent power)",
    "63": "Volt-amperes reactive",
    "65": "Power factor",
    "67": "Volts squared",
    "69": "Amperes squared",
    "71": "Volt-ampere hours (apparent energy)",
    "72": "Watt-hours (real energy)",
    "73": "Volt-ampere reactive hours",
    "119": "Cubic feet",
    "128": "US gallons",
    "132": "British thermal units",
    "134": "Litres",
    "169": "Therms",
}
"""UnitSymbolKind (``uom``): the energy, power and volume units of the schema's list."""

MULTIPLIERS = {
    "-12": "pico (10^-12)",
    "-9": "nano (10^-9)",
    "-6": "micro (10^-6)",
    "-3": "milli (10^-3)",
    "-2": "centi (10^-2)",
    "-1": "deci (10^-1)",
    "0": "none (x1)",
    "1": "deca (10^1)",
    "2": "hecto (10^2)",
    "3": "kilo (10^3)",
    "6": "mega (10^6)",
    "9": "giga (10^9)",
    "12": "tera (10^12)",
}
"""UnitMultiplierKind (``powerOfTenMultiplier``)."""

FLOW_DIRECTIONS = {
    "0": "Not applicable",
    "1": "Delivered to you (import)",
    "4": "Net (delivered minus exported)",
    "19": "Exported by you (e.g. solar)",
}
"""FlowDirectionKind."""

MEASUREMENT_KINDS = {
    "0": "Not applicable",
    "3": "Currency",
    "4": "Current (amperes)",
    "8": "Demand",
    "12": "Energy",
    "37": "Power",
    "54": "Voltage",
    "58": "Volume",
}
"""MeasurementKind (a ReadingType's ``kind``)."""

ACCUMULATION = {
    "0": "Not applicable",
    "1": "Bulk quantity (a register reading)",
    "3": "Cumulative",
    "4": "Delta (used in the interval)",
    "6": "Indicating",
    "9": "Summation",
    "12": "Instantaneous",
}
"""AccumulationKind (``accumulationBehaviour``)."""

COMMODITIES = {
    "0": "Not applicable",
    "1": "Electricity (secondary metered)",
    "2": "Electricity (primary metered)",
    "7": "Natural gas",
    "8": "Propane",
    "9": "Drinking water",
    "10": "Steam",
    "11": "Waste water",
    "12": "Heating fluid",
    "13": "Cooling fluid",
    "14": "Non-drinking water",
    "25": "Electricity (transmission metered)",
}
"""CommodityKind."""

SERVICE_KINDS = {
    "0": "Electricity",
    "1": "Gas",
    "2": "Water",
    "3": "Time",
    "4": "Heat",
    "5": "Refuse",
    "6": "Sewerage",
    "7": "Rates",
    "8": "TV licence",
    "9": "Internet",
}
"""ServiceKind (a UsagePoint's ``ServiceCategory``)."""

USAGE_KINDS = {
    "0": ("energy", "Electricity used"),
    "1": ("gas", "Gas used"),
    "2": ("water", "Water used"),
}
"""ServiceKind to the record's Usage kind and its label."""

ITEM_KINDS = {
    "1": "Energy generation fee",
    "2": "Standing charge (delivery fee)",
    "3": "Energy used",
    "4": "Administrative fee",
    "5": "Tax",
    "6": "Energy generation credit",
    "7": "Energy delivery credit",
    "8": "Administrative credit",
    "9": "Payment",
    "10": "Information",
}
"""ItemKind of a bill's LineItem."""

AUTHORIZATION_STATUSES = {"0": "Revoked", "1": "Active", "2": "Denied"}
"""AuthorizationStatus."""
AUTHORIZATION_STATES = {"0": State.withdrawn, "1": State.active, "2": State.declined}
"""What each AuthorizationStatus means in portal's common vocabulary."""

USAGE_POINT_STATUSES = {"0": "Off", "1": "On"}
"""A UsagePoint's ``status``."""
USAGE_POINT_STATES = {"0": State.suspended, "1": State.active}
"""A supply point switched off can be switched on again: suspended, not closed."""

CUSTOMER_KINDS = {
    "residential": "Residential customer",
    "residentialAndCommercial": "Residential and commercial customer",
    "residentialAndStreetlight": "Residential and street-light customer",
    "residentialStreetlightOthers": "Residential, street-light and other",
    "residentialFarmService": "Residential farm service",
    "commercialIndustrial": "Commercial or industrial customer",
    "pumpingLoad": "Pumping load",
    "windMachine": "Wind machine",
    "energyServiceSupplier": "Energy service supplier",
    "energyServiceScheduler": "Energy service scheduler",
    "internalUse": "Internal use",
    "other": "Other",
}
"""CustomerKind."""

AGREEMENT_STATUSES = {"active": "Active", "inactive": "Ended", "pending": "Starting soon"}
"""The status of a customer account or agreement."""
AGREEMENT_STATES = {"active": State.active, "inactive": State.closed, "pending": State.pending}

LEGAL_BASES = {
    "consent": "Your consent (GDPR article 6(1)(a))",
    "contract": "Needed for your contract (article 6(1)(b))",
    "legal_obligation": "A legal obligation (article 6(1)(c))",
    "vital_interests": "Vital interests (article 6(1)(d))",
    "public_task": "A public task (article 6(1)(e))",
    "legitimate_interests": "Legitimate interests (article 6(1)(f))",
}
"""GDPR article 6 legal bases, as the privacy API names them."""

ACCOUNT_TYPES = {
    "customer_account": "Customer account (billing)",
    "supply_agreement": "Supply agreement",
    "electricity_supply": "Electricity supply point",
    "gas_supply": "Gas supply point",
    "water_supply": "Water supply point",
}
"""The kinds of Account this plugin creates."""

SUPPLY_TYPES = {"0": "electricity_supply", "1": "gas_supply", "2": "water_supply"}
"""ServiceKind to the Account type of a supply point."""


def label(table: dict[str, str], code: str, what: str) -> str:
    """The label of ``code``; an unknown code still gets words saying what it is."""
    return table.get(code) or f"{what.capitalize()} {code} (no label known)"
