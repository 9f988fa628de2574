"""Demo Telecom's state: six months of one customer's calls, texts and data, and her bills.

Nothing depends on the wall clock: usage runs from 2026-04-25 to 2026-10-31 and the
telco's clock (``DemoTelecom.now``) stands at the evening of the last day. Each kind of
data draws from its own seeded generator. Every call, text and session is rated as it is
made (``portal_telco.rating``); each bill's usage lines are the sums of the rated usage in
its period, and its amount due is the sum of its applied charges, to the penny.
"""

from __future__ import annotations

import copy
import random
import threading
from calendar import monthrange
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_telco import rating
from portal_telco.customer import (
    BROADBAND_ID,
    DATA_ADDON_ID,
    END,
    FRIENDS,
    LANDLINES,
    MOBILE_ID,
    NON_GEOGRAPHIC,
    PREMIUM,
    SHORT_CODES,
    START,
    TRIPS,
    US_NUMBERS,
    at,
    customer,
    privacy_profiles,
    products,
    seeded,
)
from portal_telco.notice import inferences, purposes

MOBILE_CYCLE_DAY = 25
"""Mobile bills run from the 25th to the 24th; broadband bills by calendar month."""


class DemoTelecom:
    """The telco's state for one demo customer: products, usage, bills, permissions, notice."""

    def __init__(self, seed: int = 2026) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.customer = customer()
        self.products = products()
        self.privacy_profiles = privacy_profiles()
        self.processing = purposes()
        self.inferences = inferences()
        self.usage: list[dict[str, Any]] = []
        self.bills: list[dict[str, Any]] = []
        self.applied_rates: list[dict[str, Any]] = []
        self._next_usage = 1
        self._last_day = END
        self._generate(START, END)
        self._issue_bills()
        self.now = at(END, 20)
        self.played: set[date] = set()
        """The days of ``portal_telco.later``'s events already played."""

    # -- usage ------------------------------------------------------------------------

    def _generate(self, first: date, last: date) -> None:
        rng = seeded(self.seed, f"usage:{first}")
        events: list[rating.Event] = []
        day = first
        while day <= last:
            events.extend(_mobile_day(day, rng))
            if day >= date(2026, 5, 1):
                events.extend(_landline_day(day, rng))
            day += timedelta(days=1)
        events.sort(key=lambda e: (e.when, e.order))
        rating.rate_all(events)
        for event in events:
            self.usage.append(rating.usage_item(f"USG-{self._next_usage:07d}", event))
            self._next_usage += 1

    def add_activity(self, days: int = 3) -> None:
        """Time passes: ``days`` more days of calls, texts and data, rated but not yet billed."""
        with self.lock:
            first = self._last_day + timedelta(days=1)
            self._last_day = first + timedelta(days=days - 1)
            self._generate(first, self._last_day)
            self.now = at(self._last_day, 20)

    def usage_page(
        self, since: datetime | None, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Usage from ``since`` (inclusive) in date order: one page, and how many match."""
        with self.lock:
            matching = [
                u
                for u in self.usage
                if since is None or datetime.fromisoformat(u["usageDate"]) >= since
            ]
            return copy.deepcopy(matching[offset : offset + limit]), len(matching)

    # -- bills ------------------------------------------------------------------------

    def _issue_bills(self) -> None:
        for start, end in _mobile_periods():
            self._bill(MOBILE_ID, start, end, issued=end + timedelta(days=2))
        for start, end in _broadband_periods():
            self._bill(BROADBAND_ID, start, end, issued=end + timedelta(days=2))

    def _bill(self, product_id: str, start: date, end: date, issued: date) -> None:
        product = next(p for p in self.products if p["id"] == product_id)
        bill_id = f"CB-{product['billingAccount']['id'][3:]}-{end:%Y%m}"
        charges = list(self._charges(product, start, end))
        in_period = [
            u
            for u in self.usage
            if u["ratedProductUsage"][0]["productRef"]["id"] == product_id
            and start <= rating.local_day(u) <= end
        ]
        for item in in_period:
            rating.mark_billed(item)
        charges.extend(rating.usage_charges(in_period))
        settled = issued + timedelta(days=14) < self.now_date
        bill, rates = rating.customer_bill(
            bill_id,
            product,
            start,
            end,
            issued,
            charges,
            settled,
            first_rate=len(self.applied_rates),
        )
        self.bills.append(bill)
        self.applied_rates.extend(rates)

    @property
    def now_date(self) -> date:
        """The telco's today."""
        return self._last_day

    def _charges(self, product: dict[str, Any], start: date, end: date) -> Iterator[rating.Charge]:
        yield rating.Charge("recurringCharge", product["id"], product["name"], _plan(product), 1)
        if product["id"] == MOBILE_ID and start >= date(2026, 6, 25):
            addon = next(p for p in self.products if p["id"] == DATA_ADDON_ID)
            yield rating.Charge("recurringCharge", addon["id"], addon["name"], _plan(addon), 1)
        if product["id"] == BROADBAND_ID:
            discount = product["productPrice"][0]["priceAlteration"][0]
            amount = Decimal(str(discount["price"]["taxIncludedAmount"]["value"]))
            yield rating.Charge("appliedBillingCredit", product["id"], discount["name"], amount, 1)
            if start == date(2026, 7, 1):
                fee = next(p for p in product["productPrice"] if p["priceType"] == "oneTime")
                amount = Decimal(str(fee["price"]["taxIncludedAmount"]["value"]))
                yield rating.Charge(
                    "oneTimeCharge", product["id"], fee["name"], amount, 1, unit="item"
                )


def _plan(product: dict[str, Any]) -> Decimal:
    price = next(p for p in product["productPrice"] if p["priceType"] == "recurring")
    return Decimal(str(price["price"]["taxIncludedAmount"]["value"]))


def _mobile_periods() -> Iterator[tuple[date, date]]:
    start = START
    while True:
        year, month = (start.year + start.month // 12, start.month % 12 + 1)
        end = date(year, month, MOBILE_CYCLE_DAY - 1)
        if end + timedelta(days=2) > END:
            return
        yield start, end
        start = end + timedelta(days=1)


def _broadband_periods() -> Iterator[tuple[date, date]]:
    start = date(2026, 5, 1)
    while True:
        end = date(start.year, start.month, monthrange(start.year, start.month)[1])
        if end + timedelta(days=2) > END:
            return
        yield start, end
        start = end + timedelta(days=1)


def _trip(day: date) -> tuple[str, str, str] | None:
    for first, last, country, zone, network in TRIPS:
        if first <= day <= last:
            return country, zone, network
    return None


def _mobile_day(day: date, rng: random.Random) -> Iterator[rating.Event]:
    trip = _trip(day)
    country, zone, network = trip or ("GB", "home", "Demo Telecom")
    careful = zone == "world"  # abroad outside Europe she keeps data short

    def when(first: int = 7, last: int = 22) -> datetime:
        return at(day, rng.randint(first, last), rng.randint(0, 59), rng.randint(0, 59))

    def event(kind: str, direction: str, other: str | None, **kw: Any) -> rating.Event:
        return rating.Event(
            when(),
            kind,
            direction,
            other,
            MOBILE_ID,
            country,
            zone,
            network,
            order=rng.random(),
            **kw,
        )

    for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3])):
        pick = rng.random()
        if trip or pick < 0.62:
            other = rng.choice(FRIENDS)
        elif pick < 0.87:
            other = rng.choice(LANDLINES)
        elif pick < 0.95:
            other = rng.choice(NON_GEOGRAPHIC)
        elif pick < 0.975:
            other = rng.choice(US_NUMBERS)
        else:
            other = rng.choice(PREMIUM)
        yield event("voice", "outgoing", other, seconds=_call_length(rng))
    for _ in range(rng.choice([0, 0, 1, 1, 2])):
        yield event("voice", "incoming", rng.choice(FRIENDS + LANDLINES), seconds=_call_length(rng))
    for _ in range(rng.choice([0, 1, 1, 2])):
        pick = rng.random()
        other = (
            rng.choice(SHORT_CODES)
            if pick < 0.03 and not trip
            else rng.choice(US_NUMBERS)
            if pick < 0.05 and not trip
            else rng.choice(FRIENDS)
        )
        yield event("sms", "outgoing", other)
    for _ in range(rng.choice([0, 1, 1, 2])):
        yield event("sms", "incoming", rng.choice(FRIENDS))
    for _ in range(rng.choice([1, 1, 2, 2]) if careful else rng.choice([1, 2, 2, 3])):
        megabytes = rng.uniform(0.2, 12) if careful else rng.lognormvariate(3.2, 1.1)
        yield event(
            "data",
            "outgoing",
            None,
            seconds=rng.randint(40, 5400),
            volume=int(min(megabytes, 2500) * 1_000_000),
        )


def _landline_day(day: date, rng: random.Random) -> Iterator[rating.Event]:
    if rng.random() < 0.22:
        other = rng.choice(LANDLINES + NON_GEOGRAPHIC if rng.random() < 0.6 else FRIENDS)
        yield rating.Event(
            at(day, rng.randint(10, 20), rng.randint(0, 59), rng.randint(0, 59)),
            "voice",
            "outgoing",
            other,
            BROADBAND_ID,
            "GB",
            "home",
            "Demo Telecom",
            order=rng.random(),
            seconds=_call_length(rng),
        )


def _call_length(rng: random.Random) -> int:
    return max(4, min(int(rng.lognormvariate(4.6, 1.0)), 3 * 3600))
