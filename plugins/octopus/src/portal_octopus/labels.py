"""Octopus's codes in words: products, regions, registers, charges, payment methods.

A code not in a table is shown as itself with what kind of code it is (``label``): a new
product or a new payment method never stops a sync, and never passes for a known one.
"""

from __future__ import annotations

PRODUCT_FAMILIES = (
    ("AGILE-OUTGOING", "Agile Outgoing Octopus"),
    ("OUTGOING-FIX", "Outgoing Octopus Fixed"),
    ("OUTGOING", "Outgoing Octopus"),
    ("AGILE", "Agile Octopus"),
    ("INTELLI", "Intelligent Octopus"),
    ("GO", "Octopus Go"),
    ("COSY", "Cosy Octopus"),
    ("FLUX", "Octopus Flux"),
    ("SILVER", "Octopus Tracker"),
    ("VAR", "Flexible Octopus"),
    ("OE-FIX", "Octopus Fixed"),
    ("FIX", "Octopus Fixed"),
)
"""The leading part of a product code (``AGILE-24-10-01``) to the product's public name,
longest first; the rest of the code is the version's date."""

REGIONS = {
    "A": "Eastern England",
    "B": "East Midlands",
    "C": "London",
    "D": "Merseyside and North Wales",
    "E": "West Midlands",
    "F": "North Eastern England",
    "G": "North Western England",
    "H": "Southern England",
    "J": "South Eastern England",
    "K": "Southern Wales",
    "L": "South Western England",
    "M": "Yorkshire",
    "N": "Southern Scotland",
    "P": "Northern Scotland",
}
"""The last letter of a tariff code: the grid supply point group (the region) it is priced for."""

REGISTERS = {"1R": "single-rate meter", "2R": "day and night (Economy 7) meter"}

CHARGES = {
    "standard-unit-rates": ("unit_rate", "Unit rate"),
    "day-unit-rates": ("day_unit_rate", "Day unit rate"),
    "night-unit-rates": ("night_unit_rate", "Night unit rate"),
    "standing-charges": ("standing_charge", "Standing charge"),
}
"""A charge list to the record's product type and its words."""

PAYMENT_METHODS = {
    "DIRECT_DEBIT": "Paid by direct debit",
    "NON_DIRECT_DEBIT": "Paid other than by direct debit",
}

POINT_KINDS = {
    ("electricity", False): ("electricity_import", "Electricity supply (import)"),
    ("electricity", True): ("electricity_export", "Electricity export"),
    ("gas", False): ("gas_supply", "Gas supply"),
}

USAGE_KINDS = {
    ("electricity", False): ("energy", "Electricity used"),
    ("electricity", True): ("energy_export", "Electricity exported"),
    ("gas", False): ("gas", "Gas used"),
}

TARIFF_KINDS = {
    "electricity_tariff": "Electricity tariff",
    "export_tariff": "Export tariff",
    "gas_tariff": "Gas tariff",
}


def label(table: dict[str, str], code: str, what: str) -> str:
    """``code`` in words, or the code itself named as an unknown one."""
    return table.get(code) or f"{what} {code} (not known to portal)"


def product_name(product: str) -> str:
    """A product code's public name: ``AGILE-24-10-01`` is Agile Octopus."""
    for prefix, name in PRODUCT_FAMILIES:
        if product == prefix or product.startswith(prefix + "-"):
            return name
    return f"Octopus product {product}"
