"""The person's life moves on in the sandbox (``portal.sandbox.moves``), as a bank's would.

``full_page``: card payments are added until each account's transaction list ends on an
exactly full page. ``amend``: the pending card payment's amount changes (a tip added);
with no ``entry_reference`` it has no id of the API's, so it is a new item and the old one
is gone. ``withdraw``: the hotel's account hold lapses and is no longer served. ``book``:
the pending payments book, each with an ``entry_reference`` of its own. ``arrive``: a new
day's payments. Each step moves the bank's day on, and the balances with it.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from portal_enablebanking import dataset as demo

if TYPE_CHECKING:
    from portal_enablebanking.sandbox import EnableBankingSandbox


def play(sandbox: EnableBankingSandbox, step: str) -> None:
    """Play ``step`` on the sandbox's data (the sandbox checked it is one of its moves)."""
    from portal_enablebanking.sandbox import PAGE

    data = sandbox.data
    data["today"] += timedelta(days=1)
    today = data["today"]
    sandbox.today = today
    for key, history in data["histories"].items():
        pending = data["pending"][key]
        if step == "full_page":
            while (len(history.items) + len(pending)) % PAGE:
                history.card(today)
        elif step == "arrive":
            for _ in range(3):
                history.card(today)
        elif step == "amend":
            for item in pending:
                if item["status"] == "PDNG":
                    amount = Decimal(item["transaction_amount"]["amount"]) + Decimal("3.00")
                    item["transaction_amount"] = {
                        **item["transaction_amount"],
                        "amount": f"{amount:.2f}",
                    }
        elif step == "withdraw":
            pending[:] = [p for p in pending if p["status"] != "HOLD"]
        elif step == "book":
            for item in pending:
                booked = {k: v for k, v in item.items() if k not in ("transaction_id", "status")}
                history.add(today, Decimal(booked.pop("transaction_amount")["amount"]),
                            booked.pop("credit_debit_indicator"), **booked)  # fmt: skip
            pending.clear()
    demo.serve(data)
