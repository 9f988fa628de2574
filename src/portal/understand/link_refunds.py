"""The rule ``refund-of-card-payment``: a card refund and the card payment it gives back.

A bank books a refund as a credit from the same merchant carrying the reference of the
payment it refunds (the acquirer's reference). Its payment is the one debit on the same
account, from the same merchant, with the same reference, booked before it within
``REFUND_DAYS``, of at least its amount (a refund may be partial). Both sides are at one
provider, so no amount or date can mislead: the reference decides, and two payments that
carry it leave the refund unlinked, and reported.
"""

from __future__ import annotations

from datetime import datetime, timedelta

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
    found: list[Found] = []
    warnings: list[str] = []
    for key, account, reference, merchant, booked, amount in refunds:
        paid = (
            db.execute(
                select(t.id).where(
                    t.account_id == account,
                    t.booked_at >= booked - timedelta(days=REFUND_DAYS),
                    t.booked_at <= booked,
                    t.reference == reference,
                    t.merchant_name == merchant,
                    t.amount <= -amount,
                )
            )
            .scalars()
            .all()
        )
        if len(paid) == 1:
            found.append((RULE, key, paid[0], HIGH))
        elif len(paid) > 1:
            warnings.append(
                f"A refund from {merchant} with reference {reference}: {len(paid)} payments"
                " carry that reference, so none is linked."
            )
    return found, warnings
