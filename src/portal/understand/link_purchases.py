"""The rules that link a retailer's purchases: ``order-paid-by-card``, ``refund-to-card``,
``return-of-purchase``; and ``mandate-pays-account`` for a bank's direct debits.

An order's candidate payments are card payments (a merchant named) at another provider,
in its currency, of exactly its total, booked within ``CARD_DAYS`` of it; a return's are
card refunds of what it gave back. Evidence: the payment names the order's number, or its
merchant is the shop (the name the retailer's accounts start with, or its store).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection as DBConnection

from portal.understand.links import (
    CARD_DAYS,
    HIGH,
    PURCHASES,
    RECURRING,
    TRANSACTIONS,
    Accounts,
    Found,
    Span,
    ambiguous_words,
    any_of,
    fetched,
    pairs_to_found,
    payments,
    shop_named,
    texts,
    unlinked_from,
)
from portal.understand.matching import mutual_best, names_any, plain

SLACK = timedelta(days=CARD_DAYS)


def purchase_links(
    db: DBConnection, since: datetime | None, accounts: Accounts, new: Span
) -> tuple[list[Found], list[str]]:
    """Links from the orders and returns fetched since ``since`` (and those a payment
    fetched since may have paid) to their card payments and refunds."""
    p = PURCHASES.c
    considered = [fetched(PURCHASES, since)]
    if new is not None:
        considered.append(and_(p.purchased_at >= new[0] - SLACK, p.purchased_at <= new[1] + SLACK))
    query = (
        select(PURCHASES)
        .where(
            p.total != 0,
            unlinked_from(PURCHASES, "purchases", "transactions"),
            any_of(considered),
        )
        .order_by(p.purchased_at, p.id)
    )
    purchases = {row.id: dict(row._mapping) for row in db.execute(query)}
    seen: dict[str, dict[str, Any]] = {}
    card = [TRANSACTIONS.c.merchant_name.is_not(None)]

    def candidates(purchase_id: str) -> list[str]:
        purchase = purchases[purchase_id]
        at: datetime = purchase["purchased_at"]
        found = payments(
            db, purchase["currency"], -purchase["total"], at - SLACK, at + SLACK,
            purchase["provider"], card,
        )  # fmt: skip
        seen.update(found)
        return sorted(found)

    def rivals(payment_id: str) -> list[str]:
        payment = seen[payment_id]
        booked: datetime = payment["booked_at"]
        query = select(PURCHASES).where(
            p.currency == payment["currency"],
            p.total == -payment["amount"],
            p.provider != payment["provider"],
            p.purchased_at >= booked - SLACK,
            p.purchased_at <= booked + SLACK,
            unlinked_from(PURCHASES, "purchases", "transactions"),
        )
        out = []
        for row in db.execute(query):
            purchases.setdefault(row.id, dict(row._mapping))
            out.append(row.id)
        return out

    def evidence(purchase_id: str, payment_id: str) -> int:
        purchase, payment = purchases[purchase_id], seen[payment_id]
        if names_any(texts(payment), {plain(purchase["order_number"])}):
            return 2
        store = plain(purchase["store"])
        if shop_named(accounts, purchase["provider"], payment) or (
            len(store) >= 4 and store in plain(payment["description"])
        ):
            return 1
        return 0

    pairs, ambiguous = mutual_best(list(purchases), candidates, rivals, evidence)
    found: list[Found] = []
    for rule, from_id, to_id, level in pairs_to_found("order-paid-by-card", pairs):
        refund = purchases[from_id]["total"] < 0
        found.append(("refund-to-card" if refund else rule, from_id, to_id, level))
    return found, ambiguous_words("Purchase", purchases, ambiguous)


def return_links(
    db: DBConnection, since: datetime | None, accounts: Accounts, new: Span
) -> tuple[list[Found], list[str]]:
    """Links from each return fetched since ``since`` (or whose order was) to the order it
    names, at the same provider."""
    p = PURCHASES.c
    new_orders = select(p.order_number).where(fetched(PURCHASES, since))
    query = select(p.id, p.provider, p.original_order_number).where(
        p.original_order_number.is_not(None),
        unlinked_from(PURCHASES, "purchases", "purchases"),
        any_of([fetched(PURCHASES, since), p.original_order_number.in_(new_orders)]),
    )
    found: list[Found] = []
    warnings: list[str] = []
    for return_id, provider, number in db.execute(query).all():
        originals = (
            db.execute(
                select(p.id).where(
                    p.provider == provider,
                    p.order_number == number,
                    p.original_order_number.is_(None),
                )
            )
            .scalars()
            .all()
        )
        if len(originals) == 1:
            found.append(("return-of-purchase", return_id, originals[0], HIGH))
        elif len(originals) > 1:
            warnings.append(f"Return of order {number}: {len(originals)} orders carry that number.")
    return found, warnings


def mandate_links(
    db: DBConnection, since: datetime | None, accounts: Accounts, new: Span
) -> tuple[list[Found], list[str]]:
    """Links from each direct debit or standing order to the one account at another
    provider whose number its reference carries (a person has tens of mandates: all are
    read, so a provider connected later is found)."""
    r = RECURRING.c
    query = select(r.id, r.provider, r.reference).where(
        r.reference.is_not(None), unlinked_from(RECURRING, "recurring_payments", "accounts")
    )
    found: list[Found] = []
    warnings: list[str] = []
    for mandate_id, provider, reference in db.execute(query).all():
        paid = sorted(
            account_id
            for account_id, numbers in accounts.numbers.items()
            if accounts.provider_of[account_id] != provider and names_any([reference], numbers)
        )
        if len(paid) == 1:
            found.append(("mandate-pays-account", mandate_id, paid[0], HIGH))
        elif len(paid) > 1:
            warnings.append(
                f"The payment with reference {reference} names {len(paid)} accounts; none linked."
            )
    return found, warnings
