"""The rule ``bill-paid-by-debit``: a bill at one provider, the bank debit that paid it.

A candidate is a debit at another provider, in the bill's currency, of exactly its total,
booked from the day the bill was issued to ``LATE_DAYS`` after it fell due (``DUE_DAYS``
after issue when it states no due date). Evidence: the debit's reference or payee names the
bill's own account (a telco's billing account), or another account of its provider (an
energy supplier's customer account number).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection as DBConnection

from portal.understand.links import (
    BILLS,
    DUE_DAYS,
    LATE_DAYS,
    LOOKBACK,
    Accounts,
    Found,
    Span,
    ambiguous_words,
    any_of,
    evidence_for_account,
    fetched,
    midnight,
    pairs_to_found,
    payments,
    unlinked_from,
    within,
)
from portal.understand.matching import mutual_best

RULE = "bill-paid-by-debit"


def window(bill: dict[str, Any]) -> tuple[datetime, datetime]:
    """When a payment of ``bill`` may be booked."""
    issued: date = bill["issued_on"]
    due: date = bill["due_on"] or issued + timedelta(days=DUE_DAYS)
    return midnight(issued), midnight(max(due, issued) + timedelta(days=LATE_DAYS + 2))


def bill_links(
    db: DBConnection, since: datetime | None, accounts: Accounts, new: Span
) -> tuple[list[Found], list[str]]:
    """Links from the bills fetched since ``since``, and from those a payment fetched since
    may have paid, to their payments; and the warnings for bills left ambiguous."""
    b = BILLS.c
    considered = [fetched(BILLS, since)]
    if new is not None:
        first, last = new
        considered.append(
            and_(b.issued_on >= (first - LOOKBACK).date(), b.issued_on <= last.date())
        )
    query = (
        select(BILLS)
        .where(b.total > 0, unlinked_from(BILLS, "bills", "transactions"), any_of(considered))
        .order_by(b.issued_on, b.id)
    )
    bills = {row.id: dict(row._mapping) for row in db.execute(query)}
    records = list(bills)
    seen: dict[str, dict[str, Any]] = {}

    def candidates(bill_id: str) -> list[str]:
        bill = bills[bill_id]
        found = payments(db, bill["currency"], -bill["total"], *window(bill), bill["provider"])
        seen.update(found)
        return sorted(found)

    def rivals(payment_id: str) -> list[str]:
        payment = seen[payment_id]
        booked: datetime = payment["booked_at"]
        query = select(BILLS).where(
            b.currency == payment["currency"],
            b.total == -payment["amount"],
            b.provider != payment["provider"],
            b.issued_on >= (booked - LOOKBACK).date(),
            b.issued_on <= booked.date() + timedelta(days=1),
            unlinked_from(BILLS, "bills", "transactions"),
        )
        out = []
        for row in db.execute(query):
            bill = dict(row._mapping)
            if within(booked, *window(bill)):
                bills.setdefault(row.id, bill)
                out.append(row.id)
        return out

    def evidence(bill_id: str, payment_id: str) -> int:
        bill = bills[bill_id]
        return evidence_for_account(
            accounts, bill["account_id"], bill["provider"], seen[payment_id]
        )

    pairs, ambiguous = mutual_best(records, candidates, rivals, evidence)
    return pairs_to_found(RULE, pairs), ambiguous_words("Bill", bills, ambiguous)
