"""The sandbox's demo person: three accounts at two banks, seen through the SimpleFIN Bridge.

Jordan Avery banks in Portland, Oregon, and keeps a Canadian chequing account from the
years they lived in Vancouver:

- *Everyday Checking* at Cascade Demo Bank (USD): pay every two weeks, rent, utilities,
  groceries, the card's monthly payment, and two pending card holds;
- *Cashback Visa* at the same bank (USD): purchases with their merchant category codes
  (ISO 18245, ``mcc``), the monthly payment, one pending hotel hold; no
  ``available-balance`` (the protocol lets it be left out);
- *Chequing* at Maple Demo Credit Union (CAD): groceries, coffee, interest; the Bridge says
  this connection needs attention (``con.auth``).

About 300 days of history up to the day the data is anchored to (midnight UTC of the day
the process first builds it, so every sandbox of one run serves the same customer), as
the Bridge serves it: amounts as numeric strings, moments as UNIX epoch seconds, pending
transactions with ``posted: 0`` and the moment they happened in ``transacted_at``. The same
seed always gives the same person.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import random
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

BRIDGE = "https://beta-bridge.simplefin.org/simplefin"
HISTORY_DAYS = 300
CASCADE = {
    "conn_id": "CON-6f1c2a7e-cascade",
    "name": "Cascade Demo Bank - Jordan",
    "org_id": "INST-cascadedemobank",
    "org_name": "Cascade Demo Bank",
    "org_url": "https://cascadedemobank.example",
    "sfin_url": BRIDGE,
}
MAPLE = {
    "conn_id": "CON-0b93d4e1-maple",
    "name": "Maple Demo Credit Union",
    "org_id": "INST-mapledemocu",
    "org_name": "Maple Demo Credit Union",
    "org_url": "https://mapledemocu.example",
    "sfin_url": BRIDGE,
}
NEEDS_ATTENTION = "Connection to Maple Demo Credit Union may need attention"

CHECKING, CARD, CHEQUING = "ACT-2f8e61d0-checking", "ACT-9a4c07b2-visa", "ACT-5d7e3f19-chequing"

_GROCERS = ("TRADER JOE'S #552", "NEW SEASONS MARKET", "FRED-MEYER #0341", "SAFEWAY #1502")
_CARD_SHOPS = (
    ("5411", "WHOLE FOODS MARKET #10215", (18, 140)),
    ("5812", "PINE STATE BISCUITS", (12, 48)),
    ("5814", "STUMPTOWN COFFEE ROASTERS", (4, 14)),
    ("5541", "CHEVRON 0092871", (30, 70)),
    ("5942", "POWELL'S CITY OF BOOKS", (9, 65)),
    ("4121", "LYFT *RIDE", (8, 35)),
    ("5732", "BEST BUY 00012345", (25, 300)),
)
_CAD_SHOPS = (
    ("LOBLAWS #1032", (20, 120)),
    ("TIM HORTONS #2291", (3, 12)),
    ("CAFÉ OLIMPICO", (4, 15)),
    ("SAQ / LCBO 0417", (15, 60)),
)


@functools.cache
def anchor_day() -> datetime:
    """Midnight UTC of the day the process first asked: the end of the demo's history."""
    now = datetime.now(UTC)
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _money(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


class DemoPerson:
    """Jordan's accounts and transactions as the Bridge holds them; ``lock`` guards changes."""

    def __init__(self, seed: int = 2026, anchor: datetime | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.lock = threading.RLock()
        self.anchor = anchor or anchor_day()
        self.now = self.anchor  # the Bridge's clock: the balance-date of every balance
        self.accounts: list[dict[str, Any]] = [
            {
                "conn_id": CASCADE["conn_id"],
                "id": CHECKING,
                "name": "Everyday Checking",
                "currency": "USD",
                "opening": Decimal("3200.00"),
                "extra": {"account-open-date": _epoch(self.anchor - timedelta(days=2900))},
            },
            {
                "conn_id": CASCADE["conn_id"],
                "id": CARD,
                "name": "Cashback Visa",
                "currency": "USD",
                "opening": Decimal("-420.00"),
                "no_available": True,
            },
            {
                "conn_id": MAPLE["conn_id"],
                "id": CHEQUING,
                "name": "Chequing",
                "currency": "CAD",
                "opening": Decimal("5000.00"),
            },
        ]
        self.transactions: dict[str, list[dict[str, Any]]] = {a["id"]: [] for a in self.accounts}
        self.connections = [dict(CASCADE), dict(MAPLE)]
        self.errlist = [
            {"code": "con.auth", "msg": NEEDS_ATTENTION, "conn_id": MAPLE["conn_id"]},
        ]
        self._serial = 0
        self._history()

    # -- building -----------------------------------------------------------------------

    def _id(self, account: str) -> str:
        self._serial += 1
        digest = hashlib.sha256(f"{account}/{self._serial}".encode()).hexdigest()[:12]
        return f"TRN-{digest}"

    def add(
        self,
        account: str,
        when: datetime,
        amount: Decimal,
        description: str,
        *,
        pending: bool = False,
        mcc: str | None = None,
        category: str | None = None,
        happened: datetime | None = None,
    ) -> dict[str, Any]:
        """Add one transaction to ``account`` (posted at ``when``, or pending since then)."""
        txn: dict[str, Any] = {
            "id": self._id(account),
            "posted": 0 if pending else _epoch(when),
            "amount": _money(amount),
            "description": description,
        }
        if pending or happened is not None:
            txn["transacted_at"] = _epoch(happened or when)
        if pending:
            txn["pending"] = True
        if mcc is not None:
            txn["mcc"] = mcc
        if category is not None:
            txn["extra"] = {"category": category}
        self.transactions[account].append(txn)
        return txn

    def _history(self) -> None:
        start = self.anchor - timedelta(days=HISTORY_DAYS)
        rng = self.rng
        for day in range(HISTORY_DAYS):
            at = start + timedelta(days=day, hours=9)
            if day % 14 == 3:
                self.add(CHECKING, at, Decimal("2450.00"), "PAYROLL ACME ROBOTICS INC")
            if at.day == 1:
                self.add(CHECKING, at, Decimal("-1650.00"), "RENT - PARKVIEW APARTMENTS")
            if at.day == 2:
                self.add(CHECKING, at, Decimal("-1200.00"), "ONLINE TRANSFER TO SAVINGS ...4410")
                self.add(CHEQUING, at, Decimal("1.85"), "INTEREST")
            if at.day == 12:
                bill = Decimal(rng.randint(6000, 14000)) / 100
                self.add(CHECKING, at, -bill, "CITY OF PORTLAND UTILITIES", category="Utilities")
            if day % 7 == 5:
                spend = Decimal(rng.randint(2500, 16000)) / 100
                self.add(CHECKING, at, -spend, rng.choice(_GROCERS), category="Groceries")
            if day % 3 == 1:
                mcc, shop, (low, high) = rng.choice(_CARD_SHOPS)
                spend = Decimal(rng.randint(low * 100, high * 100)) / 100
                self.add(CARD, at + timedelta(hours=2), -spend, shop, mcc=mcc, happened=at)
            if day % 9 == 4:
                shop, (low, high) = rng.choice(_CAD_SHOPS)
                spend = Decimal(rng.randint(low * 100, high * 100)) / 100
                self.add(CHEQUING, at, -spend, shop)
            if at.day == 20:
                self._pay_card(at)
        last = self.anchor - timedelta(hours=20)
        self.add(CHECKING, last, Decimal("-6.75"), "SQ *BLUE BOTTLE COFFEE", pending=True)
        self.add(
            CHECKING, last + timedelta(hours=2), Decimal("-48.20"), "SHELL OIL 57442", pending=True
        )
        self.add(
            CARD,
            last + timedelta(hours=3),
            Decimal("-250.00"),
            "HILTON PORTLAND HOLD",
            pending=True,
            mcc="3504",
        )

    def _pay_card(self, at: datetime) -> None:
        owed = -self.balance(CARD, at)
        if owed <= 0:
            return
        self.add(CHECKING, at, -owed, "CASHBACK VISA PAYMENT")
        self.add(CARD, at + timedelta(hours=1), owed, "PAYMENT - THANK YOU")

    # -- reading -------------------------------------------------------------------------

    def _account(self, account: str) -> dict[str, Any]:
        return next(a for a in self.accounts if a["id"] == account)

    def balance(
        self, account: str, at: datetime | None = None, *, pending: bool = False
    ) -> Decimal:
        """The account's balance at ``at`` (now): opening plus the booked transactions."""
        cut = _epoch(at or self.now)
        total: Decimal = self._account(account)["opening"]
        for txn in self.transactions[account]:
            if txn.get("pending"):
                total += Decimal(txn["amount"]) if pending else 0
            elif txn["posted"] <= cut:
                total += Decimal(txn["amount"])
        return total

    def served_account(self, account: dict[str, Any]) -> dict[str, Any]:
        """One account as the Bridge serves it (2.0 shape), without its transactions."""
        out: dict[str, Any] = {
            "id": account["id"],
            "name": account["name"],
            "conn_id": account["conn_id"],
            "currency": account["currency"],
            "balance": _money(self.balance(account["id"])),
        }
        if not account.get("no_available"):
            out["available-balance"] = _money(self.balance(account["id"], pending=True))
        out["balance-date"] = _epoch(self.now)
        if "extra" in account:
            out["extra"] = copy.deepcopy(account["extra"])
        return out

    def snapshot(self) -> dict[str, Any]:
        """Everything the Bridge holds now, as plain JSON values (a deep copy)."""
        with self.lock:
            return {
                "accounts": [self.served_account(a) for a in self.accounts],
                "transactions": copy.deepcopy(self.transactions),
                "connections": copy.deepcopy(self.connections),
                "errlist": copy.deepcopy(self.errlist),
            }

    # -- life moving on ------------------------------------------------------------------

    def pending(self, account: str | None = None) -> list[dict[str, Any]]:
        """The pending transactions (of ``account``), oldest first."""
        return [
            t
            for a, txns in self.transactions.items()
            if account in (None, a)
            for t in txns
            if t.get("pending")
        ]

    def tick(self, hours: int = 1) -> datetime:
        """Move the Bridge's clock on; return the new now."""
        self.now += timedelta(hours=hours)
        return self.now
