"""The tariff that applied to a bill's line: the product's price for its unit, over its days.

A bill's account may hold its products itself (a phone contract) or through an account of
the same provider that shares an identifier with it (an energy supply point and the supply
agreement its tariffs are attached to share the agreement number). Of those products, the
ones valid over the line's days are the tariff that applied; their price in the line's unit
prices it. When the tariff states a price with and without tax, the one that matches how
the bill charges tax is taken: without, when the bill has a tax line of its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection as DBConnection

from portal.understand.bill_check import (
    GAS_CALORIFIC_RANGE,
    GAS_VOLUME_CORRECTION,
    rounded,
)

if TYPE_CHECKING:
    from portal.understand.bill_check import Bill

_TAX = re.compile(r"\b(VAT|GST|tax)\b", re.IGNORECASE)
_INCLUDING = re.compile(r"\binc(l(uding)?)?\b\.?", re.IGNORECASE)
_EXCLUDING = re.compile(r"\bexc(l(uding)?)?\b\.?", re.IGNORECASE)
_MONTHLY = ("month", "monthly")
_NOTE = re.compile(r"\s*\([^()]*\)\s*$")
MJ_PER_KWH = Decimal("3.6")

Priced = tuple[Decimal, bool, str]
"""(what the tariff says the line comes to, whether no price was found, how, in words)."""


@dataclass
class Product:
    """One product (tariff, plan) with its prices and the days it applies."""

    name: str
    valid_from: date | None
    valid_to: date | None
    prices: list[dict[str, Any]]

    def covers(self, first: date, last: date) -> bool:
        """Whether it applies on every day from ``first`` to ``last``."""
        return (self.valid_from is None or self.valid_from <= first) and (
            self.valid_to is None or last <= self.valid_to
        )


@dataclass
class Tariffs:
    """The products that may price one bill's lines."""

    products: list[Product]
    tax_apart: bool
    """The bill states its tax on a line of its own, so prices are taken before tax."""

    @classmethod
    def of(cls, db: DBConnection, bill: Bill) -> Tariffs:
        """The products of ``bill``'s account and of the accounts sharing an identifier."""
        accounts = db.execute(
            text("SELECT id, identifiers FROM accounts WHERE provider = :provider"),
            {"provider": bill.provider},
        ).all()
        names = {key: _identifiers(found) for key, found in accounts}
        mine = names.get(bill.account_id, set())
        related = sorted({bill.account_id} | {key for key, ids in names.items() if ids & mine})
        query = text(
            "SELECT name, valid_from, valid_to, prices FROM products"
            " WHERE provider = :provider AND account_id IN :accounts"
        ).bindparams(bindparam("accounts", expanding=True))
        rows = db.execute(query, {"provider": bill.provider, "accounts": related}).all()
        products = [
            Product(name, _day(start), _day(end), _json(prices))
            for name, start, end, prices in rows
        ]
        tax_apart = any(
            line.get("quantity") is None
            and _TAX.search(f"{line.get('description')} {line.get('category_label')}")
            for line in bill.lines
        )
        return cls(products, tax_apart)

    def expected(self, line: dict[str, Any], bill: Bill) -> Priced | None:
        """What the tariff says ``line`` comes to; None for a line it does not price (no
        quantity: a tax, a one-off)."""
        unit, quantity = line.get("unit"), line.get("quantity")
        if unit is None or quantity is None:
            return None
        count = Decimal(str(quantity))
        first = _day(line.get("period_start")) or bill.period_start
        last = _day(line.get("period_end")) or bill.period_end
        applied = [p for p in self.products if p.covers(first, last)]
        found = self._price(applied, unit, str(line.get("description") or ""))
        if found is None and unit == "m3":
            found = self._price(applied, "kWh", str(line.get("description") or ""))
            if isinstance(found, dict):
                return self._gas(found, line, count, bill)
        if found is None:
            return (
                Decimal(0),
                True,
                f"no tariff released prices \u201c{line.get('description')}\u201d"
                f" by the {unit} for {first:%-d %b %Y}\u2013{last:%-d %b %Y}.",
            )
        if isinstance(found, str):
            return Decimal(0), True, found
        rate = Decimal(str(found["amount"]))
        per = "" if unit in ("month", "item") else f"/{unit}"
        how = f"{count.normalize():f} {unit} at {_rate(rate, bill.currency)}{per}"
        return rounded(rate * count, bill.currency), False, how

    def _price(
        self, products: list[Product], unit: str, description: str
    ) -> dict[str, Any] | str | None:
        prices = [
            price
            for product in products
            for price in product.prices
            if price.get("unit") == unit
            or (unit == "month" and price.get("unit") is None and price.get("period") in _MONTHLY)
            or (unit == "item" and price.get("unit") is None and price.get("period") is None)
        ]
        named = [p for p in prices if _name(p.get("label")) == _name(description)]
        if named:
            return named[0]
        other = _INCLUDING if self.tax_apart else _EXCLUDING
        prices = [p for p in prices if not other.search(str(p.get("label", "")))]
        amounts = {Decimal(str(p["amount"])) for p in prices}
        if len(amounts) > 1:
            return (
                f"the tariff states {len(amounts)} prices by the {unit} and the bill does"
                f" not say which applied to \u201c{description}\u201d."
            )
        return prices[0] if prices else None

    def _gas(self, found: dict[str, Any], line: dict[str, Any], m3: Decimal, bill: Bill) -> Priced:
        """Gas billed by volume at ``found``, a price per kWh: the conversion the bill made
        must use a calorific value the network can deliver."""
        rate = Decimal(str(found["amount"]))
        amount = Decimal(str(line["amount"]))
        low, high = GAS_CALORIFIC_RANGE
        implied = amount / rate * MJ_PER_KWH / (m3 * GAS_VOLUME_CORRECTION) if m3 else high
        value = min(max(implied, low), high)
        kwh = m3 * GAS_VOLUME_CORRECTION * value / MJ_PER_KWH
        if low <= implied <= high:
            return amount, False, "as billed"
        how = (
            f"{m3.normalize():f} m3 at the {'highest' if implied > high else 'lowest'} calorific"
            f" value the gas network delivers ({value} MJ/m3: {kwh:.1f} kWh) at"
            f" {_rate(rate, bill.currency)}/kWh"
        )
        return rounded(kwh * rate, bill.currency), False, how


def _identifiers(value: Any) -> set[tuple[str, str]]:
    """An account's identifiers as (scheme, identification) pairs."""
    found = json.loads(value) if isinstance(value, str) else value
    return {
        (str(i.get("scheme")), str(i.get("identification")))
        for i in found or []
        if isinstance(i, dict) and i.get("identification")
    }


def _days(first: date, last: date) -> str:
    return f"{first.day} {first:%b %Y}\u2013{last.day} {last:%b %Y}"


def _name(label: Any) -> str:
    """A price's label or a line's description, without a note in brackets at its end
    ("Loyalty discount (for 12 months)" names the line "Loyalty discount")."""
    return _NOTE.sub("", str(label or "")).strip().casefold()


def _rate(rate: Decimal, currency: str) -> str:
    if currency == "GBP" and abs(rate) < 1:
        return f"{(rate * 100).normalize():f}p"
    return f"{rate.normalize():f} {currency}"


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _json(value: Any) -> list[dict[str, Any]]:
    found = json.loads(value) if isinstance(value, str) else value
    return [p for p in found or [] if isinstance(p, dict)]
