"""The sandbox's demo customer: one Octopus account, one home, three meter points.

A London home with a smart electricity meter (import on Agile Octopus since the window
began, on Flexible Octopus before), solar panels exporting on Agile Outgoing through an
export MPAN on the same meter, and a SMETS2 gas meter (m³) on Flexible Octopus. Everything
is deterministic: the same ``seed`` and ``days`` always serve the same half-hours.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
HALF_HOUR = timedelta(minutes=30)
ACCOUNT_NUMBER = "A-1B2C3D4E"
START = datetime(2026, 11, 20, tzinfo=UTC)
"""The first half-hour served (London is on GMT then: offsets read ``Z``)."""
LATER = START + 100 * HALF_HOUR
"""When the solar export MPAN and the smart gas meter began: 100 half-hours (two pages)
after the import meter, so every half-hourly list ends on a full page together."""

IMPORT_MPAN = "2000012345678"
EXPORT_MPAN = "2000098765432"
ELECTRICITY_SERIAL = "21L3456789"
GAS_MPRN = "8765432109"
GAS_SERIAL = "E6S12345678961"

AGILE = "E-1R-AGILE-24-10-01-C"
FLEXIBLE = "E-1R-VAR-22-11-01-C"
OUTGOING = "E-1R-AGILE-OUTGOING-19-05-13-C"
GAS_FLEXIBLE = "G-1R-VAR-22-11-01-C"


def stamp(moment: datetime) -> str:
    """A moment as Octopus writes it: London's offset, ``Z`` when that is UTC."""
    local = moment.astimezone(LONDON)
    text = local.isoformat()
    return text.replace("+00:00", "Z")


def utc_stamp(moment: datetime) -> str:
    """A charge's validity as the charge lists write it: UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Meter:
    """One meter of a meter point, and the half-hours it measured."""

    fuel: str  # electricity or gas
    point: str  # MPAN or MPRN
    serial: str
    export: bool = False
    since: datetime = START
    readings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Tariff:
    """A tariff's charge lists, each newest first as the API serves them."""

    code: str
    fuel: str
    charges: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


VARIANTS = {
    "standard": "Every field the reference's examples show.",
    "sparse": "Every optional field left out where the reference allows it: the empty"
    " address lines and county, profile class, consumption standard, registers, the import"
    " point's is_export, and every charge's payment_method.",
    "faulty": "Three of the gas meter's half-hours break the rules: a null consumption, a"
    " consumption that is not a number, an interval that ends before it starts.",
}
"""The shapes the sandbox serves the same customer in (``portal_octopus.plugin.SANDBOX``)."""
OPTIONAL_ACCOUNT_FIELDS = {
    "property": ("address_line_3", "county"),
    "electricity": ("profile_class", "consumption_standard"),
    "gas": ("consumption_standard",),
}
SPOILED = 3
"""How many half-hours the faulty variant spoils."""


class OctopusHome:
    """What Octopus holds for the demo customer, growing a half-hour at a time."""

    def __init__(self, seed: int = 2026, days: int = 5, variant: str = "standard") -> None:
        if variant not in VARIANTS:
            raise ValueError(f"No variant {variant!r}; the variants are {', '.join(VARIANTS)}.")
        self.variant = variant
        self.lock = threading.RLock()
        self.random = random.Random(seed)  # noqa: S311 - demo data, deterministic on purpose
        self.end = START  # the end of the last half-hour measured
        self.meters = [
            Meter("electricity", IMPORT_MPAN, ELECTRICITY_SERIAL),
            Meter("electricity", EXPORT_MPAN, ELECTRICITY_SERIAL, export=True, since=LATER),
            Meter("gas", GAS_MPRN, GAS_SERIAL, since=LATER),
        ]
        self.tariffs = {
            code: Tariff(code, "gas" if code.startswith("G-") else "electricity")
            for code in (AGILE, FLEXIBLE, OUTGOING, GAS_FLEXIBLE)
        }
        self._fixed_charges()
        self.grow(days * 48)
        if variant == "faulty":
            self._spoil()

    # -- the account -----------------------------------------------------------------

    def account(self) -> dict[str, Any]:
        """``GET /v1/accounts/A-1B2C3D4E/``, shaped as the reference's example."""
        account = self._account()
        if self.variant == "sparse":
            prop = account["properties"][0]
            for key in OPTIONAL_ACCOUNT_FIELDS["property"]:
                del prop[key]
            for point in prop["electricity_meter_points"]:
                for key in OPTIONAL_ACCOUNT_FIELDS["electricity"]:
                    del point[key]
                for meter in point["meters"]:
                    del meter["registers"]
                if not point["is_export"]:
                    del point["is_export"]  # absent: not an export point
            for point in prop["gas_meter_points"]:
                for key in OPTIONAL_ACCOUNT_FIELDS["gas"]:
                    del point[key]
        return account

    def _account(self) -> dict[str, Any]:
        return {
            "number": ACCOUNT_NUMBER,
            "properties": [
                {
                    "id": 4_210_987,
                    "moved_in_at": "2025-04-01T00:00:00+01:00",
                    "moved_out_at": None,
                    "address_line_1": "Flat 2",
                    "address_line_2": "7 Tentacle Row",
                    "address_line_3": "",
                    "town": "LONDON",
                    "county": "",
                    "postcode": "SE1 7PB",
                    "electricity_meter_points": [
                        {
                            "mpan": IMPORT_MPAN,
                            "profile_class": 1,
                            "consumption_standard": 2900,
                            "meters": [
                                {
                                    "serial_number": ELECTRICITY_SERIAL,
                                    "registers": [
                                        {
                                            "identifier": "1",
                                            "rate": "STANDARD",
                                            "is_settlement_register": True,
                                        }
                                    ],
                                }
                            ],
                            "agreements": [
                                {
                                    "tariff_code": FLEXIBLE,
                                    "valid_from": "2025-04-01T00:00:00+01:00",
                                    "valid_to": stamp(START),
                                },
                                {
                                    "tariff_code": AGILE,
                                    "valid_from": stamp(START),
                                    "valid_to": None,
                                },
                            ],
                            "is_export": False,
                        },
                        {
                            "mpan": EXPORT_MPAN,
                            "profile_class": 8,
                            "consumption_standard": 0,
                            "meters": [{"serial_number": ELECTRICITY_SERIAL, "registers": []}],
                            "agreements": [
                                {
                                    "tariff_code": OUTGOING,
                                    "valid_from": stamp(LATER),
                                    "valid_to": None,
                                }
                            ],
                            "is_export": True,
                        },
                    ],
                    "gas_meter_points": [
                        {
                            "mprn": GAS_MPRN,
                            "consumption_standard": 11500,
                            "meters": [{"serial_number": GAS_SERIAL}],
                            "agreements": [
                                {
                                    "tariff_code": GAS_FLEXIBLE,
                                    "valid_from": "2025-04-01T00:00:00+01:00",
                                    "valid_to": None,
                                }
                            ],
                        }
                    ],
                }
            ],
        }

    def meter(self, fuel: str, point: str, serial: str) -> Meter | None:
        """The meter at ``point`` with ``serial``, if the account has it."""
        return next(
            (m for m in self.meters if (m.fuel, m.point, m.serial) == (fuel, point, serial)),
            None,
        )

    def tariff(self, fuel: str, code: str) -> Tariff | None:
        """The tariff ``code`` of ``fuel``, if the sandbox publishes it."""
        found = self.tariffs.get(code)
        return found if found is not None and found.fuel == fuel else None

    # -- growing ---------------------------------------------------------------------

    def _fixed_charges(self) -> None:
        # Flexible Octopus changes its prices with the quarterly price cap; the standing
        # charges of the Agile tariffs hold until changed (valid_to null).
        def charge(
            exc: str, inc: str, start: str, end: str | None, method: str | None
        ) -> dict[str, Any]:
            return self._charge(
                {
                    "value_exc_vat": float(exc),
                    "value_inc_vat": float(inc),
                    "valid_from": start,
                    "valid_to": end,
                    "payment_method": method,
                }
            )

        quarters = ["2025-03-31T23:00:00Z", "2025-06-30T23:00:00Z", "2025-09-30T23:00:00Z"]
        flexible = self.tariffs[FLEXIBLE].charges
        flexible["standard-unit-rates"] = [
            charge("24.381", "25.6", quarters[2], utc_stamp(START), "DIRECT_DEBIT"),
            charge("25.848", "27.14", quarters[1], quarters[2], "DIRECT_DEBIT"),
            charge("26.962", "28.31", quarters[0], quarters[1], "DIRECT_DEBIT"),
        ]
        flexible["standing-charges"] = [
            charge("48.2762", "50.69", quarters[0], None, "DIRECT_DEBIT"),
        ]
        gas = self.tariffs[GAS_FLEXIBLE].charges
        gas["standard-unit-rates"] = [
            charge("5.8886", "6.18", quarters[2], None, "DIRECT_DEBIT"),
            charge("6.0733", "6.38", quarters[0], quarters[2], "DIRECT_DEBIT"),
        ]
        gas["standing-charges"] = [charge("30.2381", "31.75", quarters[0], None, "DIRECT_DEBIT")]
        self.tariffs[AGILE].charges["standing-charges"] = [
            charge("45.7524", "48.04", "2024-10-01T00:00:00Z", None, None)
        ]
        self.tariffs[OUTGOING].charges["standing-charges"] = [
            charge("0.0", "0.0", "2019-05-13T00:00:00Z", None, None)
        ]
        self.tariffs[AGILE].charges["standard-unit-rates"] = []
        self.tariffs[OUTGOING].charges["standard-unit-rates"] = []

    def _spoil(self) -> None:
        # The gas meter's three newest half-hours, each breaking a rule of the reference.
        newest = self.meters[2].readings[:SPOILED]
        newest[0]["consumption"] = None
        newest[1]["consumption"] = "n/a"
        newest[2]["interval_end"], newest[2]["interval_start"] = (
            newest[2]["interval_start"],
            newest[2]["interval_end"],
        )

    def spoiled(self) -> list[dict[str, Any]]:
        """The half-hours a correct plugin rejects (the faulty variant's; else none)."""
        return self.meters[2].readings[:SPOILED] if self.variant == "faulty" else []

    def _charge(self, item: dict[str, Any]) -> dict[str, Any]:
        if self.variant == "sparse":
            item.pop("payment_method", None)
        return item

    def grow(self, half_hours: int) -> None:
        """``half_hours`` more half-hours: every meter's reading and Agile's two prices."""
        with self.lock:
            for _ in range(half_hours):
                self._half_hour(self.end)
                self.end += HALF_HOUR

    def _half_hour(self, start: datetime) -> None:
        hour = start.astimezone(LONDON).hour + start.astimezone(LONDON).minute / 60
        end = start + HALF_HOUR
        daylight = max(0.0, math.sin((hour - 8) / 8 * math.pi)) if 8 <= hour <= 16 else 0.0
        evening = 1.6 if 16 <= hour < 20 else (0.5 if hour < 6 else 1.0)
        used = round((0.12 + self.random.random() * 0.25) * evening, 3)
        exported = round(daylight * self.random.random() * 0.9, 3)
        heating = 1.4 if 6 <= hour < 9 or 17 <= hour < 22 else 0.15
        gas = round(heating * (0.05 + self.random.random() * 0.08), 3)
        for meter, value in zip(self.meters, (used, exported, gas), strict=True):
            if start < meter.since:
                continue
            reading = {
                "consumption": value,
                "interval_start": stamp(start),
                "interval_end": stamp(end),
            }
            meter.readings.insert(0, reading)  # newest first, as the API's default order
        peak = 16 <= hour < 19
        base = 12 + 8 * math.sin(hour / 24 * 2 * math.pi) + self.random.random() * 6
        price_inc = round(base * (1.8 if peak else 1.0) - (4.5 if 13 <= hour < 15 else 0), 2)
        outgoing_inc = round(max(0.0, base * 0.55 + (6 if peak else 0)), 2)
        for code, inc, vat in ((AGILE, price_inc, 1.05), (OUTGOING, outgoing_inc, 1.0)):
            if code == OUTGOING and start < LATER:
                continue  # Agile Outgoing prices from the day the export agreement began
            self.tariffs[code].charges["standard-unit-rates"].insert(
                0,
                self._charge(
                    {
                        "value_exc_vat": round(inc / vat, 4),
                        "value_inc_vat": inc,
                        "valid_from": utc_stamp(start),
                        "valid_to": utc_stamp(end),
                        "payment_method": None,
                    }
                ),
            )


def charges_between(
    charges: list[dict[str, Any]], start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """The charges whose validity overlaps [start, end) (either open), newest first."""

    def moment(text: str | None) -> datetime | None:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None

    found = []
    for item in charges:
        since, until = moment(item["valid_from"]), moment(item["valid_to"])
        if end is not None and since is not None and since >= end:
            continue
        if start is not None and until is not None and until <= start:
            continue
        found.append(item)
    return found
