"""Priya's Monzo moving on, one step at a time (``portal.sandbox.moves``).

- ``full_page``: card payments are added until each account's transactions fill their last
  page exactly (played before the first sync);
- ``amend``: an authorised payment's amount changes before it settles (a tip added, a
  hotel's hold adjusted): Monzo keeps its id and moves its ``updated``;
- ``book``: the authorised payments settle (``settled`` is set; the id stays the same);
- ``arrive``: three new card payments, authorised now.

Monzo's reference says nothing of a transaction that stops being listed, and accounts and
their transactions never empty, so no ``withdraw`` or ``empty`` is played.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.sandbox.moves import unknown_move
from portal_monzo.dataset import CURRENT, JOINT, MonzoCustomer, stamp

MONZO_MOVES = ("full_page", "amend", "book", "arrive")
"""The steps the Monzo sandbox plays, in ``portal.sandbox.moves.MOVES`` order."""


def play(customer: MonzoCustomer, step: str, page_size: int, now: datetime) -> None:
    """Play ``step`` on ``customer``, whose transactions are served ``page_size`` to a page."""
    with customer.lock:
        pending = [
            t
            for txs in customer.transactions.values()
            for t in txs
            if t["settled"] == "" and "decline_reason" not in t
        ]
        if step == "full_page":
            for account_id in (CURRENT, JOINT):
                short = -len(customer.transactions[account_id]) % page_size
                yesterday = now - timedelta(days=1, hours=6)
                for n in range(short):
                    customer.card(
                        account_id, yesterday + timedelta(seconds=n), "tfl", 150, settled=yesterday
                    )
                customer.transactions[account_id].sort(key=lambda t: t["created"])
        elif step == "amend":
            for t in pending[:2]:
                t["amount"] -= 150
                t["local_amount"] = t["amount"]
                t["updated"] = stamp(now)
        elif step == "book":
            for t in pending:
                t["settled"] = stamp(now)
                t["amount_is_pending"] = False
                t["updated"] = stamp(now)
        elif step == "arrive":
            for n, key in enumerate(("pret", "tfl", "boots")):
                customer.card(CURRENT, now - timedelta(seconds=30 - n), key, 500 + 100 * n,
                              settled=None)  # fmt: skip
        else:
            raise unknown_move(customer, step, MONZO_MOVES)
