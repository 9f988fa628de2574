"""The Demo Mart customer's shopping moving on, one step at a time (``portal.sandbox.moves``).

- ``full_page``: in-store receipts are added until the orders, served whole, fill their
  last page exactly (played before the first sync);
- ``amend``: the customer takes one item of their latest receipt back to a store: the
  receipt becomes partially returned (its ``updated_at`` moves on) and a return arrives;
- ``arrive``: three more days of shopping (``DemoRetailer.add_activity``).

Demo Mart lists an order once it is paid, and never stops listing one, so it plays no
``book``, ``withdraw`` or ``empty``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.sandbox.moves import unknown_move
from portal_retailer.customer import STORES
from portal_retailer.dataset import DemoRetailer

RETAILER_MOVES = ("full_page", "amend", "arrive")
"""The steps Demo Mart plays, in ``portal.sandbox.moves.MOVES`` order."""


def play(shop: DemoRetailer, step: str, page_size: int) -> None:
    """Play ``step`` on ``shop``, whose lists are served ``page_size`` to a page."""
    with shop.lock:
        if step == "full_page":
            shop.add_activity(-len(shop.orders) % page_size)
        elif step == "amend":
            receipts = [o for o in shop.orders if o["status"] == "completed" and o["lines"]]
            latest = max(receipts, key=lambda o: datetime.fromisoformat(o["updated_at"]))
            when = shop.now + timedelta(hours=1)
            item = latest["lines"][0]
            reason = ("CHANGED", "Changed my mind")
            shop.returns.append(shop.give_back(latest, when, [(item["sku"], 1)], reason, STORES[1]))
            shop.now = when + timedelta(hours=1)
        elif step == "arrive":
            shop.add_activity(3)
        else:
            raise unknown_move(shop, step, RETAILER_MOVES)
