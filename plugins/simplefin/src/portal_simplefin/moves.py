"""Jordan's accounts moving on, one step at a time (``portal.sandbox.moves``).

- ``amend``: the coffee shop's pending charge grows by the tip (same id, new amount);
- ``withdraw``: the petrol station's pending hold lapses: the Bridge stops listing it;
- ``book``: every pending transaction posts: the coffee keeps its id, with ``posted`` set
  and ``pending`` gone; the hotel hold posts under a new id (the protocol says nothing of
  ids across posting, and the Bridge often changes them: we-promise/sure#602), so the
  pending one is no longer served;
- ``arrive``: three new posted transactions, after the latest ones.

Every step moves the Bridge's clock on an hour, so the balances are stated at a new
``balance-date``. SimpleFIN answers one document per request (no pages), so there is no
``full_page``; an account's history never empties, so there is no ``empty``.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from portal.sandbox.moves import unknown_move
from portal_simplefin.dataset import CARD, CHECKING, CHEQUING, DemoPerson

SIMPLEFIN_MOVES = ("amend", "withdraw", "book", "arrive")
"""The steps the demo person plays, in ``portal.sandbox.moves.MOVES`` order."""


def play(person: DemoPerson, step: str) -> None:
    """Play ``step`` on ``person``."""
    with person.lock:
        now = person.tick()
        if step == "amend":
            coffee = next(t for t in person.pending(CHECKING) if "COFFEE" in t["description"])
            coffee["amount"] = "-8.10"
        elif step == "withdraw":
            hold = next(t for t in person.pending(CHECKING) if "SHELL" in t["description"])
            person.transactions[CHECKING].remove(hold)
        elif step == "book":
            for txn in person.pending():
                if "HILTON" in txn["description"]:
                    # Posted under a new id: the Bridge often gives a posted transaction an id
                    # of its own, with no link to the pending one (we-promise/sure#602).
                    person.transactions[CARD].remove(txn)
                    person.add(CARD, now, Decimal(txn["amount"]), txn["description"], mcc="3504")
                else:
                    txn["posted"] = int(now.timestamp())
                    del txn["pending"]
        elif step == "arrive":
            person.add(
                CHECKING, now + timedelta(minutes=5), Decimal("-23.40"), "NEW SEASONS MARKET"
            )
            person.add(
                CARD, now + timedelta(minutes=10), Decimal("-15.25"), "LYFT *RIDE", mcc="4121"
            )
            person.add(CHEQUING, now + timedelta(minutes=15), Decimal("-4.35"), "TIM HORTONS #2291")
            person.tick()
        else:
            raise unknown_move(person, step, SIMPLEFIN_MOVES)
