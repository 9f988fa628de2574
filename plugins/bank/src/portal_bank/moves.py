"""The Demo Bank customer's life moving on, one step at a time (``portal.sandbox.moves``).

The companion of ``portal_bank.dataset``: it changes a ``DemoBank``'s ledger through the
bank's own helpers, as ``DemoBank.add_activity`` does.

Each step changes the bank's state as Open Banking lets a bank's data change, and moves
the bank's clock on, so the balances it states "as at now" are stated at a new moment:

- ``full_page``: card payments are added to each account until its transactions, served
  whole, fill their last page exactly (played before the first sync, so the balances of
  the state before it were never stated to anyone and are forgotten);
- ``amend``: the latest pending card payment on the current account grows (a tip added
  to a restaurant's pre-authorisation);
- ``withdraw``: the earliest pending card payment on the current account is dropped (its
  authorisation lapsed): the bank no longer serves it;
- ``book``: every pending payment is booked, on the day it is posted. Open Banking treats
  only pending transactions as mutable and lets a bank book one under a new
  ``TransactionId``; the card's does, so its pending one is gone and a booked one arrives;
- ``arrive``: new card payments on the current account (``DemoBank.add_activity``);
- ``empty``: the bank's offers lapse, so each account's offers are an empty list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from portal.sandbox.moves import unknown_move
from portal_bank.customer import COFFEE, GROCERIES, TFL, at, money, stamp
from portal_bank.dataset import DemoBank

BANK_MOVES = ("full_page", "amend", "withdraw", "book", "arrive", "empty")
"""The steps the Demo Bank plays, in ``portal.sandbox.moves.MOVES`` order."""


def play(bank: DemoBank, step: str, page_size: int) -> None:
    """Play ``step`` on ``bank``, whose transactions are served ``page_size`` to a page."""
    with bank.lock:
        if step == "full_page":
            _fill_last_pages(bank, page_size)
            bank._published.clear()  # the state before was never stated to anyone
        elif step == "amend":
            item = _pending(bank, bank.current_id)[-1]
            pence = int(Decimal(item["Amount"]["Amount"]) * 100)
            item["Amount"] = money(Decimal(pence * 112 // 100) / 100)
        elif step == "withdraw":
            item = _pending(bank, bank.current_id)[0]
            bank.ledger[bank.current_id].remove(item)
        elif step == "book":
            _book(bank)
        elif step == "arrive":
            bank.add_activity(25)
            return  # add_activity moves the clock and states the balances itself
        elif step == "empty":
            bank.offers_lapsed = True
        else:
            raise unknown_move(bank, step, BANK_MOVES)
        _tick(bank)


def _pending(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    pending = [t for t in bank.ledger[account_id] if t["Status"] == "Pending"]
    if not pending:
        raise ValueError("No pending payment is left to play this step on; play it earlier.")
    return pending


def _latest(bank: DemoBank) -> datetime:
    items = (t for ledger in bank.ledger.values() for t in ledger)
    return max(datetime.fromisoformat(t["BookingDateTime"]) for t in items)


def _fill_last_pages(bank: DemoBank, page_size: int) -> None:
    """Add booked card payments to each account, ten a day after its latest, until its
    transactions are a whole number of pages."""
    shops = [TFL, *GROCERIES, *COFFEE]
    for account_id, items in bank.ledger.items():
        missing = -len(items) % page_size
        day = max(datetime.fromisoformat(t["BookingDateTime"]) for t in items).date()
        for n in range(missing):
            if n % 10 == 0:
                day += timedelta(days=1)
            when = at(day, 8 + n % 10, bank.moves_rng.randint(0, 59))
            shop = bank.moves_rng.choice(shops)
            bank._card(account_id, when, bank.moves_rng, shop, refunds=False)
    for account_id in bank.ledger:
        bank._restate(account_id)


def _book(bank: DemoBank) -> None:
    """Book every pending payment as posted now; the card's under a new TransactionId."""
    posted = bank.now + timedelta(minutes=30)
    for account_id, items in bank.ledger.items():
        for item in items:
            if item["Status"] != "Pending":
                continue
            item["Status"] = "Booked"
            item["BookingDateTime"] = item["ValueDateTime"] = stamp(posted)
            if account_id == bank.card_id:
                item["TransactionId"] = bank._uuid()
        bank._restate(account_id)


def _tick(bank: DemoBank) -> None:
    """Move the bank's clock an hour past now and its latest item; state its balances."""
    bank.now = max(bank.now, _latest(bank)) + timedelta(hours=1)
    bank._publish()
