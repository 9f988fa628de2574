"""The Demo Bank's state: two years of the customer's life, and the bank's clock.

Nothing depends on the wall clock: the data runs from 2024-11-01 to 2026-10-31 and the
bank's own clock (``DemoBank.now``) starts just after the last transaction. Each kind of
data draws from its own seeded generator, so adding a kind of transaction never
reshuffles the others. Objects are kept exactly as the Open Banking v3.1 API serves them.
"""

from __future__ import annotations

import copy
import random
import threading
import uuid
from calendar import monthrange
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from portal_bank import one_person
from portal_bank.arrangements import book_arrangements
from portal_bank.customer import (
    BILLS,
    CARD,
    CARD_LIMIT,
    CODES,
    COFFEE,
    DAILY,
    EATING_OUT,
    EMPLOYER,
    END,
    GROCERIES,
    ISSUER,
    PERMISSIONS,
    SALARY,
    SHOPPING,
    SPLIT_MEMOS,
    START,
    SUBSCRIPTIONS,
    TFL,
    TRAVEL,
    UBER,
    accounts,
    at,
    days,
    money,
    party,
    preferences,
    seeded,
    signed,
    stamp,
    weekday_on_or_after,
    weekday_on_or_before,
)


class DemoBank:
    """The bank's state for one demo customer: accounts, ledgers, party, consents, preferences."""

    def __init__(self, seed: int = 2026) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self._ids = seeded(seed, "ids")
        self._activity = seeded(seed, "activity")
        self.current_id, self.card_id = self._uuid(), self._uuid()
        self.accounts = accounts(self.current_id, self.card_id)
        self.party = party()
        self.preferences = preferences()
        self.opening = {self.current_id: Decimal("2954.18"), self.card_id: Decimal("-412.50")}
        self.consents: list[dict[str, Any]] = []
        self.ledger: dict[str, list[dict[str, Any]]] = {self.current_id: [], self.card_id: []}
        self._generate()
        self.now = at(END, 20)
        self._published: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._publish()
        self.offers_lapsed = False
        """Whether the bank's offers have lapsed (``portal_bank.moves``' ``empty``)."""
        self.moves_rng = seeded(seed, "moves")

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # -- consents -------------------------------------------------------------------

    def new_consent(self) -> dict[str, Any]:
        """Record a newly authorised account-access consent, dated by the bank's clock."""
        with self.lock:
            expires = self.now + timedelta(days=90)
            consent = {
                "ConsentId": f"aac-{self._uuid()}",
                "Status": "Authorised",
                "CreationDateTime": stamp(self.now),
                "StatusUpdateDateTime": stamp(self.now),
                "Permissions": list(PERMISSIONS),
                "ExpirationDateTime": stamp(expires),
                "TransactionFromDateTime": stamp(at(START, 0)),
                "TransactionToDateTime": stamp(expires),
            }
            self.consents.append(consent)
            return consent

    # -- transactions -----------------------------------------------------------------

    def _entry(
        self,
        account_id: str,
        when: datetime,
        pence: int,
        code: str,
        info: str,
        *,
        merchant: tuple[str, str] | None = None,
        party: dict[str, str] | None = None,
        reference: str | None = None,
        transaction_id: str | None = None,
    ) -> dict[str, Any]:
        credit = code in ("FPI", "BGC", "REF")
        family, sub = CODES[code]
        item: dict[str, Any] = {
            "AccountId": account_id,
            "TransactionId": transaction_id or self._uuid(),
        }
        if reference:
            item["TransactionReference"] = reference
        item |= {
            "Amount": money(Decimal(pence) / 100),
            "CreditDebitIndicator": "Credit" if credit else "Debit",
            "Status": "Booked",
            "BookingDateTime": stamp(when),
            "ValueDateTime": stamp(when),
            "TransactionInformation": info,
            "BankTransactionCode": {"Code": family, "SubCode": sub},
            "ProprietaryBankTransactionCode": {"Code": code, "Issuer": ISSUER},
        }
        if merchant:
            item["MerchantDetails"] = {
                "MerchantName": merchant[0],
                "MerchantCategoryCode": merchant[1],
            }
        if party:
            item["DebtorAccount" if credit else "CreditorAccount"] = party
        self.ledger[account_id].append(item)
        return item

    def _card(
        self,
        account_id: str,
        when: datetime,
        rng: random.Random,
        shop: tuple[str, str, int, int, bool],
        *,
        refunds: bool = True,
    ) -> None:
        name, mcc, low, high, refundable = shop
        pence = rng.randint(low, high)
        reference = (
            f"{rng.randint(100, 999)}-{rng.randint(10**6, 10**7 - 1)}" if refundable else None
        )
        info = f"{name.upper()} {rng.choice(['LONDON', 'LONDON SE24', 'ONLINE', 'BRIXTON'])}"
        self._entry(account_id, when, pence, "POS", info, merchant=(name, mcc), reference=reference)
        if refunds and refundable and rng.random() < 0.12:
            back = when + timedelta(days=rng.randint(3, 16), hours=rng.randint(1, 5))
            if back.date() < END - timedelta(days=2):
                part = pence if rng.random() < 0.7 else pence * rng.randint(25, 75) // 100
                self._entry(
                    account_id,
                    back,
                    part,
                    "REF",
                    f"REFUND {info} ORIG {when.date():%d%b%y}".upper(),
                    merchant=(name, mcc),
                    reference=reference,
                )

    def _day_spending(self, account_id: str, day: date, rng: random.Random) -> None:
        """The everyday card use on the current account on one day, and the odd cash."""
        for weekday_chance, weekend_chance, (first, last), shops in DAILY:
            if rng.random() < (weekday_chance if day.weekday() < 5 else weekend_chance):
                when = at(day, rng.randint(first, last), rng.randint(0, 59))
                self._card(
                    account_id, when, rng, rng.choice(shops), refunds=shops is not DAILY[0][3]
                )
        if rng.random() < 0.06:
            when = at(day, rng.randint(10, 20), rng.randint(0, 59))
            place = rng.choice(["BRIXTON RD", "HERNE HILL"])
            pence = rng.choice([2000, 4000, 6000, 10000])
            self._entry(account_id, when, pence, "ATM", f"CASH NOTEMACHINE {place}")

    def _regulars(self, day: date) -> None:
        """Pay day, standing orders and direct debits (moved off weekends as banks do)."""
        last = monthrange(day.year, day.month)[1]
        if day == weekday_on_or_before(date(day.year, day.month, min(25, last))):
            pence = [p for since, p in SALARY if since <= day][-1]
            info = "NORTHWIND ANALYTICS SALARY"
            self._entry(self.current_id, at(day, 5, 30), pence, "BGC", info, party=EMPLOYER,
                        reference="NWA PAYROLL")  # fmt: skip
        stand_ins = [(d, "DD", payee, ref, p, None) for d, payee, ref, p in one_person.stand_ins()]
        for due, code, payee, reference, pence, months in [*BILLS, *stand_ins]:
            if months is not None and day.month not in months:
                continue
            if day == weekday_on_or_after(date(day.year, day.month, due)):
                winter = due == 15 and day.month in (11, 12, 1, 2)  # energy costs more in winter
                amount = pence * 13 // 10 if winter else pence
                info = f"{payee.upper()} {reference}"
                self._entry(self.current_id, at(day, 0), amount, code, info,
                            party=self._payee(payee), reference=reference)  # fmt: skip
        if day.day == 9:
            for shop in SUBSCRIPTIONS:
                self._card(self.card_id, at(day, 3, 15), self._subscriptions, shop, refunds=False)

    def _generate(self) -> None:
        life, card = seeded(self.seed, "current"), seeded(self.seed, "card")
        self._subscriptions = seeded(self.seed, "subscriptions")
        for day in days(START, END):
            self._regulars(day)
            self._day_spending(self.current_id, day, life)
            if card.random() < 0.30:
                when = at(day, card.randint(8, 22), card.randint(0, 59))
                self._card(self.card_id, when, card, card.choice(SHOPPING + TRAVEL))
            if life.random() < 0.04:
                friend = life.choice(["T OYELARAN", "R KOWALSKI", "J NGUYEN"])
                when, pence = at(day, 20, life.randint(0, 59)), life.randint(12, 60) * 100 + 50
                memo = SPLIT_MEMOS.get(friend, "DINNER SPLIT")
                self._entry(self.current_id, when, pence, "FPI", f"{friend} {memo}",
                            party=self._payee(friend))  # fmt: skip
        self._clock_change_nights()
        one_person.book(self)
        self._pay_card_statements()
        self._leave_pending(self.current_id, 4)
        self._leave_pending(self.card_id, 1)
        book_arrangements(self)
        for account_id in self.ledger:
            self._restate(account_id)

    def _payee(self, name: str) -> dict[str, str]:
        number = seeded(self.seed, f"payee:{name}").randint(10**13, 10**14 - 1)
        return {
            "SchemeName": "UK.OBIE.SortCodeAccountNumber",
            "Identification": str(number),
            "Name": name,
        }

    def _clock_change_nights(self) -> None:
        """Late journeys on the nights the clocks change: the awkward hours for any parser."""
        rng = seeded(self.seed, "dst")
        for day in (date(2025, 3, 30), date(2026, 3, 29)):  # 01:00-02:00 does not exist
            self._card(self.current_id, at(day, 1, 40), rng, UBER)
        for day in (date(2025, 10, 26), date(2026, 10, 25)):  # 01:00-02:00 happens twice
            self._card(self.current_id, at(day, 1, 40, fold=0), rng, UBER)
            self._card(self.current_id, at(day, 1, 20, fold=1), rng, TFL, refunds=False)

    def _pay_card_statements(self) -> None:
        """Pay each month's card statement in full from the current account on the 20th."""
        month = START
        while True:
            last = monthrange(month.year, month.month)[1]
            statement = at(date(month.year, month.month, last), 23, 59)
            month = (statement + timedelta(days=1)).date()
            due = weekday_on_or_after(date(month.year, month.month, 20))
            if due > END:
                return
            spent = (signed(t) for t in self.ledger[self.card_id] if _instant(t) <= statement)
            owed = -(self.opening[self.card_id] + sum(spent, Decimal(0)))
            if owed > 0:
                when, pence, reference = at(due, 6, 10), int(owed * 100), "CARD 4821"
                payee = {**CARD, "Name": "DEMOBANK MASTERCARD"}
                self._entry(self.current_id, when, pence, "FPO", "DEMOBANK CARD PAYMENT",
                            party=payee, reference=reference)  # fmt: skip
                self._entry(self.card_id, when, pence, "FPI", "PAYMENT RECEIVED - THANK YOU",
                            reference=reference)  # fmt: skip

    def _leave_pending(self, account_id: str, count: int) -> None:
        """The last few card payments are still pending at the bank's cut-off."""
        sorted_items = self._sorted(account_id)
        cards = [t for t in sorted_items if t["ProprietaryBankTransactionCode"]["Code"] == "POS"]
        for item in cards[-count:]:
            item["Status"] = "Pending"
            del item["ValueDateTime"]

    def _sorted(self, account_id: str) -> list[dict[str, Any]]:
        return sorted(self.ledger[account_id], key=lambda t: (_instant(t), t["TransactionId"]))

    def _restate(self, account_id: str) -> None:
        """Sort the ledger and set each booked item's running balance; pending items have none."""
        running = self.opening[account_id]
        self.ledger[account_id] = self._sorted(account_id)
        for item in self.ledger[account_id]:
            item.pop("Balance", None)
            if item["Status"] == "Booked":
                running += signed(item)
                item["Balance"] = {
                    "Amount": money(running),
                    "CreditDebitIndicator": _indicator(running),
                    "Type": "InterimBooked",
                }

    def transactions(self, account_id: str, since: datetime | None = None) -> list[dict[str, Any]]:
        """One account's transactions booked at or after ``since``, oldest first (live objects)."""
        with self.lock:
            return [t for t in self.ledger[account_id] if since is None or _instant(t) >= since]

    def page(
        self, account_id: str, since: datetime | None, number: int, size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Page ``number`` (from 1) of ``transactions``, as copies, and how many pages there are."""
        with self.lock:
            matching = self.transactions(account_id, since)
            pages = max(1, -(-len(matching) // size))
            return copy.deepcopy(matching[(number - 1) * size : number * size]), pages

    # -- balances ---------------------------------------------------------------------

    def balances(self, account_id: str) -> list[dict[str, Any]]:
        """The account's balances now: opening, last month's close, booked and available so far."""
        with self.lock:
            items = self.ledger[account_id]
            opening = self.opening[account_id]
            first = (self.now.replace(day=1, hour=0, minute=0, second=0)).date()
            close = at(first - timedelta(days=1), 23, 59)
            booked = [t for t in items if t["Status"] == "Booked"]

            def total(kept: Iterable[dict[str, Any]]) -> Decimal:
                return opening + sum((signed(t) for t in kept), Decimal(0))

            values = [
                ("OpeningBooked", at(START, 0), opening),
                ("ClosingBooked", close, total(t for t in booked if _instant(t) <= close)),
                ("InterimBooked", self.now, total(booked)),
                ("InterimAvailable", self.now, total(items)),  # pending payments count here
            ]
            result = []
            for kind, when, amount in values:
                balance: dict[str, Any] = {
                    "AccountId": account_id,
                    "Amount": money(amount),
                    "CreditDebitIndicator": _indicator(amount),
                    "Type": kind,
                    "DateTime": stamp(when),
                }
                if account_id == self.card_id:
                    balance["CreditLine"] = [
                        {"Included": False, "Type": "Credit", "Amount": money(CARD_LIMIT)}
                    ]
                result.append(balance)
            return result

    def published_balances(self) -> list[dict[str, Any]]:
        """Every balance the bank has stated, past states included (see ``_publish``)."""
        with self.lock:
            return list(self._published.values())

    def _publish(self) -> None:
        # A balance as at a moment stays true after later activity, so the bank's history of
        # balances keeps the earlier ones: a client that synced before and after holds both.
        for account in self.accounts:
            for balance in self.balances(account["AccountId"]):
                key = (balance["AccountId"], balance["Type"], balance["DateTime"])
                self._published[key] = balance

    # -- a new day --------------------------------------------------------------------

    def add_activity(self, n: int = 25) -> list[dict[str, Any]]:
        """Book the pending items and add ``n`` card payments after the latest transaction."""
        with self.lock:
            for items in self.ledger.values():
                for item in items:
                    if item["Status"] == "Pending":
                        item["Status"] = "Booked"
                        item["ValueDateTime"] = item["BookingDateTime"]
            rng = self._activity
            latest = max(_instant(t) for t in self.ledger[self.current_id])
            day = latest.date() + timedelta(days=1)
            added: list[dict[str, Any]] = []
            while len(added) < n:
                hours = sorted(rng.sample(range(7, 22), min(rng.randint(3, 6), n - len(added))))
                for hour in hours:
                    shop = rng.choice([TFL, *GROCERIES, *COFFEE, *EATING_OUT, SHOPPING[0]])
                    when = at(day, hour, rng.randint(0, 59))
                    self._card(self.current_id, when, rng, shop, refunds=False)
                    added.append(self.ledger[self.current_id][-1])
                day += timedelta(days=1)
            for account_id in self.ledger:
                self._restate(account_id)
            self.now = max([self.now, *(_instant(t) for t in added)]) + timedelta(hours=1)
            self._publish()
            return added


def _instant(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["BookingDateTime"])


def _indicator(amount: Decimal) -> str:
    return "Credit" if amount >= 0 else "Debit"
