"""Demo Mart's state: 22 months of one customer's shopping, her Rewards points, the shop's clock.

Nothing depends on the wall clock: purchases run from 2025-01-04 to 2026-10-30 and the
shop's clock (``DemoRetailer.now``) stands at 20:00 on the last day. Weekly baskets come
from a seeded generator; the awkward cases are fixed, so tests can name them:

- ``GUEST_RECEIPT``: an in-store receipt where she forgot her Rewards card (no points);
- ``PART_RETURNED``: an online order of which one of two items on a line went back by post;
- ``RETURNED_IN_STORE``: an in-store receipt whose sun cream was returned at another store;
- ``POINTS_SPENT``: an online order paid partly with points (a negative points line);
- a marketing consent given and later withdrawn (``customer.preferences``).

Every order's total is the sum of its lines, and the Rewards balance at any moment is the
points earned minus the points spent (and taken back by returns) up to then, from 0.
Objects are kept exactly as the API serves them.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from portal_retailer import notice
from portal_retailer.customer import (
    BIGGER,
    CATALOGUE,
    DELIVERY_PENCE,
    DELIVERY_SKU,
    END,
    GROCERY,
    HOMEWARE,
    MEMBERSHIP,
    PENCE_PER_POINT,
    POINTS_PER_POUND,
    POINTS_SKU,
    START,
    STORES,
    at,
    insights,
    loyalty_account,
    pounds,
    preferences,
    profile,
    seeded,
    stamp,
)

GUEST_RECEIPT = "R0412-20250316-0007"
PART_RETURNED = "DM5500311"
RETURNED_IN_STORE = "R0412-20250712-0019"
POINTS_SPENT = "DM5500874"
PAYMENT = {"method": "card", "card_last4": "4821"}

Basket = list[tuple[str, int]]
"""(sku, quantity) pairs."""


def line(sku: str, quantity: int) -> dict[str, Any]:
    """A product line as the API serves it; one point per whole pound of the line."""
    description, category, price = CATALOGUE[sku]
    amount = price * quantity
    return {
        "sku": sku,
        "description": description,
        "category": category,
        "quantity": quantity,
        "unit": "item",
        "unit_price": pounds(price),
        "amount": pounds(amount),
        "points": amount // 100 * POINTS_PER_POUND,
    }


def _pence(amount: str) -> int:
    whole, _, fraction = amount.lstrip("-").partition(".")
    value = int(whole) * 100 + int(fraction or 0)
    return -value if amount.startswith("-") else value


def _with_total(purchase: dict[str, Any]) -> dict[str, Any]:
    purchase["total"] = pounds(sum(_pence(li["amount"]) for li in purchase["lines"]))
    return purchase


class DemoRetailer:
    """The retailer's state for one demo customer: purchases, returns, points, preferences."""

    def __init__(self, seed: int = 2026) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self._ids = seeded(seed, "ids")
        self._baskets = seeded(seed, "baskets")
        self._activity = seeded(seed, "activity")
        self.profile = profile()
        self.account = loyalty_account()
        self.preferences = preferences()
        self.locked: dict[str, str] = {}
        """Preferences the shop will not change online, with its reason (``lock_preference``)."""
        self.insights = insights()
        self.notice = notice.purposes()
        self.orders: list[dict[str, Any]] = []
        self.returns: list[dict[str, Any]] = []
        self._generate()
        self.now = at(END, 20)
        self.statements = self._statements()

    # -- the purchases ------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{self._ids.getrandbits(48):012x}"

    def receipt(
        self, when: datetime, store: tuple[str, str], basket: Basket, *, card: bool = True
    ) -> dict[str, Any]:
        """An in-store receipt; with ``card``, the Rewards card was scanned and earned points."""
        lines = [line(sku, n) for sku, n in basket]
        number = f"R{store[0]}-{when:%Y%m%d}-{self._ids.randrange(1, 40):04d}"
        return _with_total(
            {
                "id": self._id("ord"),
                "number": number,
                "type": "in_store",
                "placed_at": stamp(when),
                "updated_at": stamp(when),
                "status": "completed",
                "store": {"id": store[0], "name": store[1]},
                "fulfilment": None,
                "currency": "GBP",
                "lines": lines,
                "loyalty": self._loyalty(lines) if card else None,
                "payment": dict(PAYMENT),
            }
        )

    def order(
        self, when: datetime, number: str, basket: Basket, *, points: int = 0
    ) -> dict[str, Any]:
        """An online order, delivered two days later; ``points`` were spent on it."""
        lines = [line(sku, n) for sku, n in basket]
        if sum(_pence(li["amount"]) for li in lines) < 5000:
            lines.append(
                {
                    "sku": DELIVERY_SKU,
                    "description": "Standard delivery",
                    "category": "DELIVERY",
                    "quantity": 1,
                    "unit": "item",
                    "unit_price": pounds(DELIVERY_PENCE),
                    "amount": pounds(DELIVERY_PENCE),
                    "points": 0,
                }
            )
        if points:
            lines.append(
                {
                    "sku": POINTS_SKU,
                    "description": "Rewards points redeemed",
                    "category": "REWARDS",
                    "quantity": points,
                    "unit": "point",
                    "unit_price": pounds(-PENCE_PER_POINT),
                    "amount": pounds(-points * PENCE_PER_POINT),
                    "points": 0,
                }
            )
        delivered = at(when.date() + timedelta(days=2), 14, 30)
        return _with_total(
            {
                "id": self._id("ord"),
                "number": number,
                "type": "online",
                "placed_at": stamp(when),
                "updated_at": stamp(delivered),
                "status": "delivered",
                "store": None,
                "fulfilment": "home_delivery",
                "currency": "GBP",
                "lines": lines,
                "loyalty": self._loyalty(lines, points),
                "payment": dict(PAYMENT),
            }
        )

    def _loyalty(self, lines: list[dict[str, Any]], spent: int = 0) -> dict[str, Any]:
        earned = sum(li["points"] for li in lines)
        return {"membership_number": MEMBERSHIP, "points_earned": earned, "points_redeemed": spent}

    def give_back(
        self,
        original: dict[str, Any],
        when: datetime,
        returned: Basket,
        reason: tuple[str, str],
        store: tuple[str, str] | None,
    ) -> dict[str, Any]:
        """A return of some of ``original``'s items: refunded, and their points taken back."""
        lines = []
        for sku, n in returned:
            sold = line(sku, n)
            lines.append(
                {
                    **sold,
                    "amount": pounds(-_pence(sold["amount"])),
                    "points": -sold["points"] if original["loyalty"] else 0,
                }
            )
        taken_back = -sum(li["points"] for li in lines)
        whole = sorted(returned) == sorted((li["sku"], li["quantity"]) for li in original["lines"])
        original["status"] = "returned" if whole else "partially_returned"
        original["updated_at"] = stamp(when)
        return _with_total(
            {
                "id": self._id("ret"),
                "number": f"RT{self._ids.randrange(10**6, 10**7)}",
                "order_number": original["number"],
                "returned_at": stamp(when),
                "updated_at": stamp(when),
                "channel": "in_store" if store else "post",
                "store": {"id": store[0], "name": store[1]} if store else None,
                "status": "refunded",
                "currency": original["currency"],
                "lines": lines,
                "reason": {"code": reason[0], "text": reason[1]},
                "loyalty": {"membership_number": MEMBERSHIP, "points_reversed": taken_back}
                if original["loyalty"]
                else None,
                "refund": dict(PAYMENT),
            }
        )

    def _basket(self, choices: list[str], lo: int, hi: int) -> Basket:
        skus = self._baskets.sample(choices, self._baskets.randint(lo, hi))
        return [(sku, self._baskets.choice((1, 1, 1, 2, 3))) for sku in sorted(skus)]

    def _generate(self) -> None:
        rng = self._baskets
        online = 5500100
        day = START
        while day <= END:
            if rng.random() < 0.5:
                basket = self._basket(GROCERY, 2, 6)
                if rng.random() < 0.3:
                    basket.append((rng.choice(BIGGER), 1))
                when = at(day, rng.randint(9, 17), rng.randint(0, 59))
                self.orders.append(self.receipt(when, rng.choice(STORES), basket))
            if rng.random() < 0.2:
                online += rng.randint(3, 40)
                when = at(day + timedelta(days=3), rng.randint(19, 22), rng.randint(0, 59))
                basket = self._basket(HOMEWARE + BIGGER, 1, 3)
                self.orders.append(self.order(when, f"DM{online}", basket))
            day += timedelta(days=7)
        self._awkward_cases()
        self.orders.sort(key=lambda o: (o["placed_at"], o["number"]))
        numbers = [o["number"] for o in self.orders] + [r["number"] for r in self.returns]
        assert len(set(numbers)) == len(numbers), "the seeded data gave two purchases one number"

    def _awkward_cases(self) -> None:
        guest = self.receipt(
            at(date(2025, 3, 16), 11, 5), STORES[0], [("107301", 1), ("104410", 1)], card=False
        )
        guest["number"] = GUEST_RECEIPT
        tights = self.order(
            at(date(2025, 5, 20), 20, 41), PART_RETURNED, [("402771", 1), ("402905", 2)]
        )
        sun = self.receipt(at(date(2025, 7, 12), 10, 22), STORES[0], [("503318", 1), ("107856", 2)])
        sun["number"] = RETURNED_IN_STORE
        self.orders += [guest, tights, sun]
        self.returns += [
            self.give_back(
                tights, at(date(2025, 5, 29), 9, 12), [("402905", 1)], ("SIZE", "Too small"), None
            ),
            self.give_back(
                sun,
                at(date(2025, 7, 19), 15, 3),
                [("503318", 1)],
                ("CHANGED", "Changed my mind"),
                STORES[1],
            ),
        ]
        when = at(date(2025, 12, 9), 21, 7)
        balance = self.points_at(when)
        spend = min(1000, balance // 100 * 100)
        assert spend >= 300, "the seeded baskets no longer earn enough points for the demo"
        self.orders.append(
            self.order(when, POINTS_SPENT, [("302560", 1), ("302114", 1)], points=spend)
        )

    # -- points -------------------------------------------------------------------------

    def movements(self) -> Iterable[tuple[datetime, int]]:
        """Every change to the points balance: (when, points), earned positive."""
        for o in self.orders:
            if o["loyalty"]:
                earned, spent = o["loyalty"]["points_earned"], o["loyalty"]["points_redeemed"]
                yield datetime.fromisoformat(o["placed_at"]), earned - spent
        for r in self.returns:
            if r["loyalty"]:
                yield datetime.fromisoformat(r["returned_at"]), -r["loyalty"]["points_reversed"]

    def points_at(self, moment: datetime) -> int:
        """The points balance at ``moment``: everything earned minus spent up to then, from 0."""
        return sum(p for when, p in self.movements() if when <= moment)

    def _statements(self) -> list[dict[str, Any]]:
        statements: list[dict[str, Any]] = []
        month = date(START.year, START.month, 1)
        while True:
            following = (month + timedelta(days=32)).replace(day=1)
            close = at(following - timedelta(days=1), 23, 59, 59)
            if close > self.now:
                return statements
            statements.append(self._balance(f"BAL-{month:%Y-%m}", "statement", close))
            month = following

    def _balance(self, ident: str, kind: str, moment: datetime) -> dict[str, Any]:
        return {
            "id": ident,
            "type": kind,
            "membership_number": MEMBERSHIP,
            "points": self.points_at(moment),
            "as_of": stamp(moment),
        }

    def balances(self) -> list[dict[str, Any]]:
        """The monthly statement balances, then the balance now."""
        return [*self.statements, self._balance("BAL-CURRENT", "current", self.now)]

    # -- marketing preferences ----------------------------------------------------------

    def preference(self, ident: str) -> dict[str, Any] | None:
        """The marketing preference ``ident``, as served, or None."""
        return next((p for p in self.preferences if p["id"] == ident), None)

    def set_preference(self, ident: str, wanted: str, *, keep: bool = True) -> dict[str, Any]:
        """The customer asks for preference ``ident`` to be ``opted_in`` or ``opted_out``.

        Opting out of a permission in force withdraws it (``withdrawn``: given, then taken
        back); one never given stays ``opted_out``. Opting in gives it now. Asking for what
        already holds changes nothing, not even ``updated_at``: the same request twice leaves
        the same state. Returns the preference as it is now; with ``keep`` False, as it would
        be, leaving it unchanged (a shop that answers but does not record).
        """
        with self.lock:
            found = self.preference(ident)
            if found is None:
                raise KeyError(ident)
            now = copy.deepcopy(found)
            in_force = now["status"] == "opted_in"
            if wanted == "opted_in" and not in_force:
                now.update(
                    status="opted_in", granted_at=stamp(self.now), updated_at=stamp(self.now)
                )
            elif wanted == "opted_out" and in_force:
                now.update(status="withdrawn", updated_at=stamp(self.now))
            if keep:
                found.clear()
                found.update(now)
            return copy.deepcopy(now)

    def lock_preference(self, ident: str, reason: str) -> None:
        """The shop locks preference ``ident`` (a complaint being handled, a suppression
        ordered by its customer care team): changing it online is refused with ``reason``."""
        with self.lock:
            if self.preference(ident) is None:
                raise KeyError(ident)
            self.locked[ident] = reason

    # -- as served ----------------------------------------------------------------------

    def add_activity(self, n: int = 3) -> None:
        """A few more days of shopping: ``n`` receipts, a day apart, after the last purchase."""
        with self.lock:
            day = self.now.date()
            for _ in range(n):
                day += timedelta(days=1)
                when = at(day, self._activity.randint(9, 17), self._activity.randint(0, 59))
                basket = [(self._activity.choice(GROCERY), 1), (self._activity.choice(GROCERY), 2)]
                self.orders.append(self.receipt(when, STORES[1], basket))
                self.now = when + timedelta(hours=1)

    def collection(self, kind: str) -> list[dict[str, Any]]:
        """The orders (and receipts) or the returns, oldest change first, as served."""
        items = self.orders if kind == "orders" else self.returns
        return sorted(items, key=lambda i: (datetime.fromisoformat(i["updated_at"]), i["id"]))

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything served, for ``ground_truth``."""
        with self.lock:
            return copy.deepcopy(
                {
                    "profile": self.profile,
                    "account": self.account,
                    "balances": self.balances(),
                    "orders": self.orders,
                    "returns": self.returns,
                    "preferences": self.preferences,
                    "insights": self.insights,
                    "notice": self.notice,
                }
            )
