"""The rule ``refund-of-card-payment``: a card refund and the card payment it gives back.

A bank books a refund as a credit from the same merchant carrying the reference of the
payment it refunds (the acquirer's reference). Its payment is the one debit on the same
account, from the same merchant, with the same reference, booked before it within
``REFUND_DAYS``, of at least its amount (a refund may be partial). Both sides are at one
provider, so no amount or date can mislead: the reference decides, and two payments that
carry it leave the refund unlinked, and reported.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection as DBConnection

from portal.understand.links import (
    HIGH,
    TRANSACTIONS,
    Accounts,
    Found,
    Span,
    fetched,
    unlinked_from,
)

RULE = "refund-of-card-payment"
REFUND_DAYS = 120
"""How long after a card payment a shop may refund it."""


def refund_links(
    db: DBConnection, since: datetime | None, accounts: Accounts, new: Span
) -> tuple[list[Found], list[str]]:
    """Links from each card refund fetched since ``since`` to the payment it refunds."""
    t = TRANSACTIONS.c
    refunds = db.execute(
        select(t.id, t.account_id, t.reference, t.merchant_name, t.booked_at, t.amount).where(
            fetched(TRANSACTIONS, since),
            t.amount > 0,
            t.merchant_name.is_not(None),
            t.reference.is_not(None),
            unlinked_from(TRANSACTIONS, "transactions", "transactions"),
        )
    ).all()
    candidates = _joined(db, refunds) if len(refunds) > FEW else _one_by_one(db, refunds)
    found: list[Found] = []
    warnings: list[str] = []
    for key, _account, reference, merchant, booked, _amount in refunds:
        paid = [
            payment
            for payment, at in candidates.get(key, [])
            if booked - timedelta(days=REFUND_DAYS) <= at <= booked
        ]
        if len(paid) == 1:
            found.append((RULE, key, paid[0], HIGH))
        elif len(paid) > 1:
            warnings.append(
                f"A refund from {merchant} with reference {reference}: more than one payment"
                " carries that reference, so none is linked."
            )
    return found, warnings


FEW = 50
"""Up to this many refunds, each looks its payment up in its account's last
``REFUND_DAYS`` (an index range); beyond, one join finds every refund's payments at once:
per refund, at 100,000 transactions and 9,916 refunds, the ranges took 61 s (a join in SQL,
155 s: SQLite walked each refund's account range); one pass over the debits, in Python,
keeping those a refund's (account, reference, merchant) names: see the step's benchmark."""


Candidates = dict[str, list[tuple[str, datetime]]]
"""Per refund id: the payments that carry its reference, and when each was booked."""


def _one_by_one(db: DBConnection, refunds: Sequence[Any]) -> Candidates:
    t = TRANSACTIONS.c
    out: Candidates = {}
    for key, account, reference, merchant, booked, amount in refunds:
        query = select(t.id, t.booked_at).where(
            t.account_id == account,
            t.booked_at >= booked - timedelta(days=REFUND_DAYS),
            t.booked_at <= booked,
            t.reference == reference,
            t.merchant_name == merchant,
            t.amount <= -amount,
        )
        out[key] = [(id_, at) for id_, at in db.execute(query)]
    return out


def _joined(db: DBConnection, refunds: Sequence[Any]) -> Candidates:
    """Every refund's candidate payments (two at most: one links, two are a tie), from one
    pass over the debits that carry a reference and a merchant: those a refund's (account,
    reference, merchant) names are kept, by time, and each refund looks in its window.

    Bounded however a bank reuses references (a shop's constant "ORDER" reference makes
    thousands of candidates for every refund): a refund stops at its second candidate.
    """
    wanted = {(account, reference, merchant) for _, account, reference, merchant, _, _ in refunds}
    t = TRANSACTIONS.c
    query = select(t.account_id, t.reference, t.merchant_name, t.booked_at, t.amount, t.id).where(
        t.amount < 0, t.reference.is_not(None), t.merchant_name.is_not(None)
    )
    paid: dict[tuple[str, str, str], list[tuple[Any, Any, str]]] = {}
    for account, reference, merchant, at, amount, id_ in db.execution_options(
        yield_per=5000
    ).execute(query):
        if (account, reference, merchant) in wanted:
            paid.setdefault((account, reference, merchant), []).append((at, amount, id_))
    times: dict[tuple[str, str, str], list[Any]] = {}
    for key, payments in paid.items():
        payments.sort()
        times[key] = [at for at, _, _ in payments]
    out: Candidates = {}
    for refund, account, reference, merchant, booked, refunded in refunds:
        key = (account, reference, merchant)
        payments, at = paid.get(key, []), times.get(key, [])
        first = bisect.bisect_left(at, booked - timedelta(days=REFUND_DAYS))
        found: list[tuple[str, datetime]] = []
        for index in range(bisect.bisect_right(at, booked) - 1, first - 1, -1):
            when, amount, id_ = payments[index]
            if amount <= -refunded:
                found.append((id_, when))
                if len(found) == 2:
                    break
        out[refund] = found
    return out
