"""The demo Monzo customer: a current account, a joint account, two pots, their transactions.

Priya Shah banks with Monzo. Her current account takes her salary, pays her card spending
(at merchants the API expands with ``expand[]=merchant``), her energy direct debit and
streaming subscription, and moves money to two pots; a trip to Paris and a parcel from Tokyo
and New York are paid in euros, yen and dollars (``local_amount``, ``local_currency``); two
card payments were declined; the last few are authorised but not settled yet. The joint
account, shared with Sam Okafor, takes both owners' transfers and pays groceries and bills.

Everything is built from a seed and ``today`` (a UTC date): the same two always make the
same customer. Transactions run ``history_days`` back from yesterday; each account's
balance is the sum of its transactions that were not declined, so balances and
transactions add up. Objects are kept exactly as the API serves them (docs.monzo.com).
"""

from __future__ import annotations

import copy
import random
import threading
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

USER = "user_0000A7bDemoPriya01"
PARTNER = "user_0000A7bDemoSamOk02"
CURRENT = "acc_0000A7bDemoCurrent1"
JOINT = "acc_0000A7bDemoJointAc2"
HOLIDAY_POT = "pot_0000A7bDemoHoliday1"
RAINY_POT = "pot_0000A7bDemoRainyDay2"

MERCHANTS: dict[str, dict[str, Any]] = {
    # key: (name, Monzo category, MCC, city, country, postcode, emoji, online)
    "tesco": {"name": "Tesco", "category": "groceries", "mcc": "5411", "city": "London",
              "country": "GB", "postcode": "E8 2LX", "emoji": "🛒", "online": False},
    "pret": {"name": "Pret A Manger", "category": "eating_out", "mcc": "5814",
             "city": "London", "country": "GB", "postcode": "EC2M 7PY", "emoji": "🥪",
             "online": False},
    "tfl": {"name": "Transport for London", "category": "transport", "mcc": "4111",
            "city": "London", "country": "GB", "postcode": "SW1H 0TL", "emoji": "🚇",
            "online": False},
    "boots": {"name": "Boots", "category": "shopping", "mcc": "5912", "city": "London",
              "country": "GB", "postcode": "N1 9AL", "emoji": "💊", "online": False},
    "netflix": {"name": "Netflix", "category": "entertainment", "mcc": "4899",
                "city": "Amsterdam", "country": "NL", "postcode": "1017 CE", "emoji": "📺",
                "online": True},
    "waterstones": {"name": "Waterstones", "category": "shopping", "mcc": "5942",
                    "city": "London", "country": "GB", "postcode": "W1J 9HD", "emoji": "📚",
                    "online": False},
    "vue": {"name": "Vue Cinema", "category": "entertainment", "mcc": "7832",
            "city": "London", "country": "GB", "postcode": "N1 0PS", "emoji": "🎬",
            "online": False},
    "sainsburys": {"name": "Sainsbury's", "category": "groceries", "mcc": "5411",
                   "city": "London", "country": "GB", "postcode": "N7 6AS", "emoji": "🛒",
                   "online": False},
    "flore": {"name": "Café de Flore", "category": "eating_out", "mcc": "5812",
              "city": "Paris", "country": "FR", "postcode": "75006", "emoji": "☕",
              "online": False, "currency": "EUR", "rate": 117},
    "monoprix": {"name": "Monoprix", "category": "holidays", "mcc": "5311", "city": "Paris",
                 "country": "FR", "postcode": "75004", "emoji": "🛍️", "online": False,
                 "currency": "EUR", "rate": 117},
    "tokyu": {"name": "Tokyu Hands", "category": "shopping", "mcc": "5311", "city": "Tokyo",
              "country": "JP", "postcode": "150-0042", "emoji": "🎁", "online": True,
              "currency": "JPY", "rate": 19000},
    "strand": {"name": "Strand Book Store", "category": "shopping", "mcc": "5942",
               "city": "New York", "country": "US", "postcode": "10003", "emoji": "📖",
               "online": True, "currency": "USD", "rate": 127},
}  # fmt: skip
"""Each merchant; ``rate`` is local minor units per 100 pence (EUR 1.17, JPY 190, USD 1.27)."""


def _monzo_id(prefix: str, key: str) -> str:
    # Monzo ids are a prefix and 22 characters; these are made from a readable key.
    body = "".join(c for c in key if c.isalnum())
    return f"{prefix}0000{body[:18]:0<18}"


def stamp(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp with milliseconds, as Monzo writes them."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def merchant(key: str) -> dict[str, Any]:
    """An expanded merchant, as ``expand[]=merchant`` serves it."""
    m = MERCHANTS[key]
    return {
        "id": _monzo_id("merch_", f"M{key}"),
        "group_id": _monzo_id("grp_", f"G{key}"),
        "created": "2016-03-01T09:00:00.000Z",
        "name": m["name"],
        "logo": f"https://mondo-logo-cache.appspot.com/twitter/{key}/?size=large",
        "emoji": m["emoji"],
        "category": m["category"],
        "online": m["online"],
        "atm": False,
        "address": {
            "short_formatted": f"{m['city']}, {m['postcode']}",
            "formatted": f"1 High Street, {m['city']} {m['postcode']}",
            "address": "1 High Street",
            "city": m["city"],
            "region": "",
            "country": m["country"],
            "postcode": m["postcode"],
            "latitude": 51.5,
            "longitude": -0.1,
            "zoom_level": 17,
            "approximate": False,
        },
        "disable_feedback": False,
        "metadata": {},
    }


class MonzoCustomer:
    """Priya's Monzo: accounts, pots and transactions, kept as the API serves them."""

    def __init__(self, today: date, *, seed: int = 2026, history_days: int = 88) -> None:
        self.lock = threading.RLock()
        self.today = today
        self.seed = seed
        self._rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self._serial = 0
        self.accounts = [self._current(), self._joint()]
        self.pots = [self._pot(HOLIDAY_POT, "Holiday", 250000), self._pot(RAINY_POT, "Rainy day")]
        self.transactions: dict[str, list[dict[str, Any]]] = {CURRENT: [], JOINT: []}
        first = today - timedelta(days=history_days)
        day = first
        while day < today:
            self._day(day, first)
            day += timedelta(days=1)
        self._awkward(today)
        for txs in self.transactions.values():
            txs.sort(key=lambda t: t["created"])

    # -- accounts and pots -------------------------------------------------------------

    def _current(self) -> dict[str, Any]:
        return {
            "id": CURRENT,
            "closed": False,
            "created": "2019-05-14T10:02:11.381Z",
            "description": USER,
            "type": "uk_retail",
            "currency": "GBP",
            "country_code": "GB",
            "owners": [
                {"user_id": USER, "preferred_name": "Priya Shah", "preferred_first_name": "Priya"}
            ],
            "account_number": "31827364",
            "sort_code": "040004",
        }

    def _joint(self) -> dict[str, Any]:
        return {
            "id": JOINT,
            "closed": False,
            "created": "2022-09-03T16:45:00.120Z",
            "description": "joint_0000A7bDemoJoint",
            "type": "uk_retail_joint",
            "currency": "GBP",
            "country_code": "GB",
            "owners": [
                {"user_id": USER, "preferred_name": "Priya Shah", "preferred_first_name": "Priya"},
                {"user_id": PARTNER, "preferred_name": "Sam Okafor", "preferred_first_name": "Sam"},
            ],
            "account_number": "50129348",
            "sort_code": "040004",
        }

    def _pot(self, pot_id: str, name: str, goal: int | None = None) -> dict[str, Any]:
        return {
            "id": pot_id,
            "name": name,
            "style": "beach_ball" if goal else "raindrops",
            "balance": 0,
            "currency": "GBP",
            "goal_amount": goal,
            "type": "flexible_savings" if goal else "default",
            "current_account_id": CURRENT,
            "round_up": bool(goal),
            "created": "2023-01-07T08:15:00.000Z",
            "updated": "2023-01-07T08:15:00.000Z",
            "deleted": False,
            "locked": False,
        }

    # -- transactions ------------------------------------------------------------------

    def _next_id(self) -> str:
        self._serial += 1
        return _monzo_id("tx_", f"T{self.seed}x{self._serial:06d}")

    def _at(self, day: date, hour: int, minute: int) -> datetime:
        return datetime.combine(day, time(hour, minute, self._rng.randrange(60)), UTC)

    def add(
        self,
        account_id: str,
        created: datetime,
        amount: int,
        description: str,
        category: str,
        *,
        merchant_key: str | None = None,
        counterparty: dict[str, Any] | None = None,
        scheme: str = "mastercard",
        settled: datetime | str | None = "auto",
        decline_reason: str | None = None,
        metadata: dict[str, str] | None = None,
        local: tuple[int, str] | None = None,
        is_load: bool = False,
    ) -> dict[str, Any]:
        """Add one transaction as the API serves it (with its merchant expanded)."""
        if settled == "auto":
            settled = created + timedelta(days=1)
        declined = decline_reason is not None
        tx: dict[str, Any] = {
            "id": self._next_id(),
            "created": stamp(created),
            "description": description,
            "amount": amount,
            "fees": {},
            "currency": "GBP",
            "merchant": merchant(merchant_key) if merchant_key else None,
            "notes": "",
            "metadata": dict(metadata or {}),
            "labels": None,
            "attachments": None,
            "category": category,
            "is_load": is_load,
            "settled": "" if declined or settled is None else stamp(settled),  # type: ignore[arg-type]
            "local_amount": local[0] if local else amount,
            "local_currency": local[1] if local else "GBP",
            "updated": stamp(created + timedelta(seconds=1)),
            "account_id": account_id,
            "user_id": USER,
            "counterparty": dict(counterparty or {}),
            "scheme": scheme,
            "dedupe_id": f"dedupe_{self._serial:06d}",
            "originator": amount < 0,
            "include_in_spending": amount < 0 and category not in ("savings", "transfers"),
            "amount_is_pending": not declined and settled is None,
        }
        if declined:
            tx["decline_reason"] = decline_reason
        self.transactions[account_id].append(tx)
        return tx

    def card(
        self, account_id: str, created: datetime, key: str, pence: int, **kw: Any
    ) -> dict[str, Any]:
        """A card payment of ``pence`` at merchant ``key`` (in its own currency abroad)."""
        m = MERCHANTS[key]
        local = None
        if "currency" in m:
            local = (-(pence * m["rate"] // 100), m["currency"])
        description = f"{m['name'].upper():<22} {m['city'].upper():<13} {m['country']}"
        metadata = {"mcc": m["mcc"], "mastercard_lifecycle_id": f"mclifecycle_{self._serial:06d}"}
        return self.add(
            account_id,
            created,
            -pence,
            description,
            m["category"],
            merchant_key=key,
            metadata=metadata,
            local=local,
            **kw,
        )

    def _day(self, day: date, first: date) -> None:
        rng = self._rng
        if day.day == 25:
            self.add(
                CURRENT,
                self._at(day, 6, 0),
                285000,
                "ACME ANALYTICS LTD",
                "income",
                counterparty={"name": "ACME ANALYTICS LTD", "sort_code": "200000",
                              "account_number": "41234567"},
                scheme="payport_faster_payments",
                settled=self._at(day, 6, 0),
            )  # fmt: skip
            self.add(
                CURRENT,
                self._at(day, 9, 0),
                -20000,
                HOLIDAY_POT,
                "savings",
                scheme="uk_retail_pot",
                metadata={"pot_id": HOLIDAY_POT},
                settled=self._at(day, 9, 0),
            )
            self.pots[0]["balance"] += 20000
            self.pots[0]["updated"] = self.transactions[CURRENT][-1]["created"]
            for who, amount in ((USER, 90000), (PARTNER, 90000)):
                self.add(
                    JOINT,
                    self._at(day, 10, 0),
                    amount,
                    "Priya Shah" if who == USER else "Sam Okafor",
                    "transfers",
                    counterparty={"name": "Priya Shah" if who == USER else "Sam Okafor",
                                  "user_id": who},
                    scheme="p2p_payment",
                    settled=self._at(day, 10, 0),
                )  # fmt: skip
        if day.day == 1:
            self.add(
                CURRENT,
                self._at(day, 4, 30),
                -6420,
                "OCTOPUS ENERGY",
                "bills",
                counterparty={"name": "OCTOPUS ENERGY", "service_user_number": "275896"},
                scheme="bacs",
                metadata={"bacs_direct_debit_instruction_id": "bacsddi_0000A7bOctopus"},
                settled=self._at(day, 4, 30),
            )
            self.add(
                JOINT,
                self._at(day, 5, 0),
                -16800,
                "LB HACKNEY COUNCIL TAX",
                "bills",
                counterparty={"name": "LB HACKNEY", "service_user_number": "943517"},
                scheme="bacs",
                metadata={"bacs_direct_debit_instruction_id": "bacsddi_0000A7bHackney"},
                settled=self._at(day, 5, 0),
            )
        if day.day == 12:
            self.card(CURRENT, self._at(day, 3, 12), "netflix", 1099)
        if day.weekday() < 5:
            self.card(CURRENT, self._at(day, 8, 10), "tfl", 280 * 2)
            if rng.random() < 0.8:
                self.card(CURRENT, self._at(day, 12, 30), "pret", rng.randrange(450, 1100))
        if day.weekday() in (0, 2, 5):
            self.card(JOINT, self._at(day, 18, 0), rng.choice(("tesco", "sainsburys")),
                      rng.randrange(2500, 9000))  # fmt: skip
        if rng.random() < 0.3:
            self.card(CURRENT, self._at(day, 15, 0), rng.choice(("boots", "waterstones", "vue")),
                      rng.randrange(600, 3500))  # fmt: skip
        if day == first + timedelta(days=30):
            # Four days in Paris, paid in euros.
            for n in range(4):
                trip = day + timedelta(days=n)
                self.card(CURRENT, self._at(trip, 9, 40), "flore", rng.randrange(900, 2400))
                self.card(CURRENT, self._at(trip, 17, 5), "monoprix", rng.randrange(1500, 6000))

    def _awkward(self, today: date) -> None:
        """The cases a plugin must not trip on, at fixed places in the history."""
        d = today - timedelta(days=20)
        self.card(CURRENT, self._at(d, 11, 0), "tokyu", 4210)  # paid in yen
        self.card(CURRENT, self._at(d, 23, 10), "strand", 3150)  # paid in dollars
        self.card(CURRENT, self._at(d + timedelta(days=2), 10, 0), "boots", 2999,
                  decline_reason="INSUFFICIENT_FUNDS")  # fmt: skip
        self.card(CURRENT, self._at(d + timedelta(days=3), 10, 0), "waterstones", 1250,
                  decline_reason="INVALID_CVC")  # fmt: skip
        refund = self.card(CURRENT, self._at(d + timedelta(days=4), 14, 0), "boots", 0)
        refund["amount"] = refund["local_amount"] = 1599  # a refund: money back, not a load
        refund["originator"], refund["include_in_spending"] = False, False
        self.add(CURRENT, self._at(d + timedelta(days=5), 9, 0), 5000, "Top up", "mondo",
                 scheme="topup", is_load=True)  # fmt: skip
        yesterday = today - timedelta(days=1)
        self.card(CURRENT, self._at(yesterday, 19, 45), "pret", 875, settled=None)
        self.card(CURRENT, self._at(yesterday, 20, 30), "vue", 1420, settled=None)
        self.card(JOINT, self._at(yesterday, 21, 0), "tesco", 4312, settled=None)

    # -- what the API serves -----------------------------------------------------------

    def balance(self, account_id: str) -> dict[str, Any]:
        """``GET /balance``: what was not declined adds up; pots are counted in the total."""
        txs = self.transactions.get(account_id, [])
        balance = sum(t["amount"] for t in txs if "decline_reason" not in t)
        pots = sum(p["balance"] for p in self.pots if p["current_account_id"] == account_id)
        # Spent "today": what went out since the start of the sandbox's day, declines aside.
        today = self.today.isoformat()
        spent = sum(
            -t["amount"]
            for t in txs
            if t["created"][:10] >= today and t["amount"] < 0 and "decline_reason" not in t
        )
        return {
            "balance": balance,
            "total_balance": balance + pots,
            "currency": "GBP",
            "spend_today": spent,
        }

    def snapshot(self) -> dict[str, Any]:
        """Everything served, copied (for ground truth and expectations)."""
        with self.lock:
            return copy.deepcopy(
                {
                    "accounts": self.accounts,
                    "pots": self.pots,
                    "transactions": self.transactions,
                    "balances": {a["id"]: self.balance(a["id"]) for a in self.accounts},
                }
            )

    def newest(self, account_id: str) -> str | None:
        """The ``created`` of the account's newest transaction (the balance's moment)."""
        txs = self.transactions.get(account_id, [])
        return max((t["created"] for t in txs), default=None)
