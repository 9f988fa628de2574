"""A Demo Bank with as many transactions as asked for, each made when a page asks for it.

For benchmarks and load tests: ``BulkBank(transactions=1_000_000)`` serves that many booked
transactions, a fifth of them on the credit card and the rest on the current account,
evenly spaced over the demo's two years. Transaction ``i`` of an account is a pure function
of the seed, the account and ``i`` (a splitmix64 hash picks its kind, shop and amount), so
the bank holds no transaction objects at all: per account it keeps only the running
balance before every 1024th transaction, which makes a page's running balances, the
``fromBookingDateTime`` filter and the balances endpoint cost one page's work, not the
whole history's. A million transactions take about a second to set up and a few megabytes.

Everything else (accounts, party, consents, marketing preferences) is the ordinary demo
customer's, so the plugin cannot tell a bulk bank from the demo one.
"""

from __future__ import annotations

import bisect
import math
import uuid
from array import array
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_bank.customer import (
    BILLS,
    CARD_LIMIT,
    CODES,
    COFFEE,
    EATING_OUT,
    EMPLOYER,
    END,
    GROCERIES,
    ISSUER,
    SHOPPING,
    START,
    TFL,
    TRAVEL,
    at,
    money,
    seeded,
    stamp,
)
from portal_bank.dataset import DemoBank

BLOCK = 1024
"""Every how many transactions the running balance is kept."""
_MASK = (1 << 64) - 1

# What a transaction can be: (code, description, amounts in pence from, to, extra fields).
# Each account draws from a list of 100 entries, so a kind's share is its count in the list.
Kind = tuple[str, str, int, int, dict[str, Any]]


def _mix(x: int) -> int:
    """splitmix64's finaliser: a bijection on 64-bit integers that scatters every bit."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _shop(shop: tuple[str, str, int, int, bool], code: str = "POS") -> Kind:
    name, mcc, low, high, refundable = shop
    info = f"REFUND {name.upper()} ONLINE" if code == "REF" else f"{name.upper()} LONDON"
    fields: dict[str, Any] = {
        "MerchantDetails": {"MerchantName": name, "MerchantCategoryCode": mcc}
    }
    if refundable:
        fields["TransactionReference"] = f"{name[:3].upper()}-ORDER"
    return code, info, low, high, fields


def _payee(name: str, identification: str) -> dict[str, str]:
    return {
        "SchemeName": "UK.OBIE.SortCodeAccountNumber",
        "Identification": identification,
        "Name": name,
    }


def _current_kinds() -> list[Kind]:
    """Card spending, refunds, bills, cash, money from friends and the odd salary."""
    shops = [*GROCERIES, *COFFEE, *EATING_OUT, *SHOPPING, TFL]
    kinds = [_shop(shops[n % len(shops)]) for n in range(55)]
    kinds += [_shop(SHOPPING[n % 4], "REF") for n in range(10)]
    for n in range(10):
        _, code, payee, reference, pence, _ = BILLS[n % len(BILLS)]
        fields = {
            "TransactionReference": reference,
            "CreditorAccount": _payee(payee, "2032" + "0" * 9 + str(n)),
        }
        kinds.append((code, f"{payee.upper()} {reference}", pence // 4, pence, fields))
    kinds += [("ATM", "CASH NOTEMACHINE BRIXTON RD", 2000, 10000, {})] * 5
    friends = ["T OYELARAN", "R KOWALSKI", "J NGUYEN"]
    kinds += [
        ("FPI", f"{friends[n % 3]} DINNER SPLIT", 1250, 6050,
         {"DebtorAccount": _payee(friends[n % 3], f"4017{n:010d}")})
        for n in range(19)
    ]  # fmt: skip
    salary = {"TransactionReference": "NWA PAYROLL", "DebtorAccount": EMPLOYER}
    kinds.append(("BGC", "NORTHWIND ANALYTICS SALARY", 318450, 342210, salary))
    return kinds


def _card_kinds() -> list[Kind]:
    """Shopping and travel on the card, refunds, and payments of the statement."""
    shops = [*SHOPPING, *TRAVEL]
    kinds = [_shop(shops[n % len(shops)]) for n in range(85)]
    kinds += [_shop(SHOPPING[n % 4], "REF") for n in range(10)]
    payment = {"TransactionReference": "CARD 4821"}
    kinds += [("FPI", "PAYMENT RECEIVED - THANK YOU", 30000, 90000, payment)] * 5
    return kinds


class LazyLedger:
    """One account's ``count`` transactions, made from their index on demand."""

    def __init__(
        self,
        account_id: str,
        salt: int,
        kinds: list[Kind],
        *,
        count: int,
        first: datetime,
        step: int,
        opening_pence: int,
    ) -> None:
        self.account_id = account_id
        self.count = 0
        self._salt = salt
        self._kinds = kinds
        self._first = int(first.timestamp())
        self._step = step
        self._opening = opening_pence
        self._blocks = array("q", [0])  # the sum of the amounts before each BLOCK-th item
        self.extend(count)

    def extend(self, n: int) -> None:
        """Add ``n`` transactions after the last one, at the same spacing."""
        self.count += n
        blocks = self._blocks
        while len(blocks) * BLOCK <= self.count:
            start = (len(blocks) - 1) * BLOCK
            blocks.append(blocks[-1] + sum(self._pence(i)[2] for i in range(start, start + BLOCK)))

    def _pence(self, i: int) -> tuple[int, Kind, int]:
        """The hash of item ``i``, its kind, and its signed amount in pence."""
        h = _mix(self._salt ^ i)
        kind = self._kinds[h % 100]
        code, _, low, high, _ = kind
        pence = low + (h >> 8) % (high - low + 1)
        return h, kind, pence if code in ("FPI", "BGC", "REF") else -pence

    def instant(self, i: int) -> int:
        """When item ``i`` was booked, in seconds since the epoch."""
        return self._first + i * self._step

    def index_at(self, since: datetime) -> int:
        """The first item booked at or after ``since``."""
        offset = math.ceil((since.timestamp() - self._first) / self._step)
        return min(max(offset, 0), self.count)

    def balance_before(self, i: int) -> int:
        """The running balance in pence before item ``i``."""
        block = i // BLOCK
        start = block * BLOCK
        return self._opening + self._blocks[block] + sum(self._pence(j)[2] for j in range(start, i))

    def last_before(self, moment: datetime) -> int:
        """How many items were booked at or before ``moment``."""
        return bisect.bisect_right(range(self.count), moment.timestamp(), key=self.instant)

    def items(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Items ``start`` to ``stop`` (excluded), each with its running balance."""
        if start >= self.count:
            return []
        running = self.balance_before(start)
        result = []
        for i in range(start, min(stop, self.count)):
            h, kind, pence = self._pence(i)
            running += pence
            result.append(self._item(i, h, kind, pence, running))
        return result

    def _item(self, i: int, h: int, kind: Kind, pence: int, running: int) -> dict[str, Any]:
        code, info, _, _, fields = kind
        family, sub = CODES[code]
        when = stamp(datetime.fromtimestamp(self.instant(i), UTC))
        transaction_id = str(uuid.UUID(int=(h << 64) | _mix(h), version=4))
        item: dict[str, Any] = {"AccountId": self.account_id, "TransactionId": transaction_id}
        if "TransactionReference" in fields:
            item["TransactionReference"] = fields["TransactionReference"]
        item |= {
            "Amount": money(Decimal(pence) / 100),
            "CreditDebitIndicator": "Credit" if pence > 0 else "Debit",
            "Status": "Booked",
            "BookingDateTime": when,
            "ValueDateTime": when,
            "TransactionInformation": info,
            "BankTransactionCode": {"Code": family, "SubCode": sub},
            "ProprietaryBankTransactionCode": {"Code": code, "Issuer": ISSUER},
        }
        for name in ("MerchantDetails", "CreditorAccount", "DebtorAccount"):
            if name in fields:
                item[name] = dict(fields[name])
        balance = Decimal(running) / 100
        item["Balance"] = {
            "Amount": money(balance),
            "CreditDebitIndicator": "Credit" if running >= 0 else "Debit",
            "Type": "InterimBooked",
        }
        return item


class BulkBank(DemoBank):
    """The demo customer with ``transactions`` booked transactions, made on demand."""

    def __init__(self, seed: int = 2026, *, transactions: int) -> None:
        if transactions < 0:
            raise ValueError("transactions must be zero or more.")
        self.size = transactions
        super().__init__(seed)

    def _generate(self) -> None:
        # Replaces the demo's day-by-day history; the ordinary ledger lists stay empty.
        salt = seeded(self.seed, "bulk").getrandbits(64) & ~((1 << 48) - 1)
        first = at(START, 0)
        window = int((at(END, 20) - first).total_seconds()) - 3600
        card = self.size // 5
        self.lazy: dict[str, LazyLedger] = {}
        for number, (account_id, count, kinds) in enumerate(
            [
                (self.current_id, self.size - card, _current_kinds()),
                (self.card_id, card, _card_kinds()),
            ]
        ):
            opening = int(self.opening[account_id] * 100)
            self.lazy[account_id] = LazyLedger(
                account_id,
                salt | (number << 40),
                kinds,
                count=count,
                first=first + timedelta(seconds=17 * number),
                step=max(1, window // max(count, 1)),
                opening_pence=opening,
            )

    def transactions(self, account_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """Every transaction of the account booked at or after ``since`` (made now: keep small)."""
        with self.lock:
            ledger = self.lazy[account_id]
            return ledger.items(ledger.index_at(since) if since else 0, ledger.count)

    def page(
        self, account_id: str, since: datetime | None, number: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Page ``number`` (from 1) of the account's transactions, and how many pages there are."""
        with self.lock:
            ledger = self.lazy[account_id]
            first = ledger.index_at(since) if since else 0
            pages = max(1, -(-(ledger.count - first) // size))
            start = first + (number - 1) * size
            return ledger.items(start, start + size), pages

    def balances(self, account_id: str) -> list[dict[str, Any]]:
        """Opening, last month's close, and booked and available now (no pending items)."""
        with self.lock:
            ledger = self.lazy[account_id]
            first_of_month = self.now.replace(day=1, hour=0, minute=0, second=0).date()
            close = at(first_of_month - timedelta(days=1), 23, 59)
            at_close = ledger.balance_before(ledger.last_before(close))
            now = ledger.balance_before(ledger.count)
            values: list[tuple[str, datetime, int]] = [
                ("OpeningBooked", at(START, 0), ledger.balance_before(0)),
                ("ClosingBooked", close, at_close),
                ("InterimBooked", self.now, now),
                ("InterimAvailable", self.now, now),
            ]
            return [self._balance(account_id, *value) for value in values]

    def _balance(self, account_id: str, kind: str, when: datetime, pence: int) -> dict[str, Any]:
        balance: dict[str, Any] = {
            "AccountId": account_id,
            "Amount": money(Decimal(pence) / 100),
            "CreditDebitIndicator": "Credit" if pence >= 0 else "Debit",
            "Type": kind,
            "DateTime": stamp(when),
        }
        if account_id == self.card_id:
            balance["CreditLine"] = [
                {"Included": False, "Type": "Credit", "Amount": money(CARD_LIMIT)}
            ]
        return balance

    def add_activity(self, n: int = 25) -> list[dict[str, Any]]:
        """Add ``n`` transactions to the current account after its latest one."""
        with self.lock:
            ledger = self.lazy[self.current_id]
            start = ledger.count
            ledger.extend(n)
            added = ledger.items(start, ledger.count)
            last = datetime.fromtimestamp(ledger.instant(ledger.count - 1), UTC) if added else None
            if last is not None:
                self.now = max(self.now, last + timedelta(hours=1))
            self._publish()
            return added
