"""Every recurring payment, declared and found, as one list: what ``portal recurring``, the
exports and the view read.

A declared mandate and the series of payments it collects are one entry (the mandate's
payee, kind and state; the series' amount, cadence and changes); a series no mandate
declares is a card subscription or a payment found in the history; a mandate no payment
was matched to keeps what the bank says of it. Scheduled payments are left out: each is
one payment, not a recurring one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.engine import Connection as DBConnection

from portal.record.tables import RecurringPaymentRow
from portal.record.vocab import State
from portal.understand.cadence import Change
from portal.understand.payees import DECLARED_KINDS
from portal.understand.tables import RecurringChange, RecurringSeries, Understood

KINDS = {
    "direct_debit": "Direct debit",
    "standing_order": "Standing order",
    "card_subscription": "Card subscription",
    "detected": "Found in the history",
}
"""Each kind, in the order listed, with its words."""

ENDED = {State.cancelled.value, State.closed.value, State.suspended.value}
"""A declared state that says the mandate no longer collects, whatever its payments show."""


@dataclass
class Listed:
    """One recurring payment as a person reads it."""

    payee: str
    kind: str
    """direct_debit, standing_order, card_subscription or detected."""
    amount: Decimal | None
    """What it costs each time now: for a direct debit, the latest payment it collected."""
    currency: str | None
    cadence: str | None
    """weekly, monthly, quarterly, yearly, or the bank's words for a declared frequency."""
    next_on: date | None
    cost_per_year: Decimal | None
    status: str
    """active, lapsed, or the mandate's own state when the bank says it ended (cancelled)."""
    payments: int = 0
    """How many of its payments are in the history."""
    last_paid_on: date | None = None
    changes: Sequence[Change] = field(default_factory=list)
    series_id: str | None = None
    declared_id: str | None = None
    inconsistent: str | None = None
    """Why the bank's dates for it cannot all be right, if they cannot."""

    @property
    def kind_label(self) -> str:
        """The kind in words."""
        return KINDS.get(self.kind, self.kind)


def recurring_payments(db: DBConnection) -> list[Listed]:
    """Every recurring payment in the store, mandates first, then by payee."""
    series = RecurringSeries.__table__  # type: ignore[attr-defined]
    declared = RecurringPaymentRow.__table__  # type: ignore[attr-defined]
    mandates = {
        row.id: row
        for row in db.execute(select(declared).where(declared.c.kind.in_(DECLARED_KINDS)))
    }
    changes = _changes(db)
    listed: list[Listed] = []
    matched: set[str] = set()
    for row in db.execute(select(series)):
        mandate = mandates.get(row.declared_id) if row.declared_id else None
        entry = Listed(
            payee=row.payee,
            kind=row.kind,
            amount=row.amount,
            currency=row.currency,
            cadence=row.cadence,
            next_on=row.next_expected,
            cost_per_year=row.cost_per_year,
            status=row.status,
            payments=row.payments,
            last_paid_on=row.last_seen,
            changes=changes.get(row.id, []),
            series_id=row.id,
        )
        if mandate is not None:
            matched.add(mandate.id)
            _declared_over(entry, mandate)
        listed.append(entry)
    for id_, mandate in mandates.items():
        if id_ not in matched:
            entry = Listed(
                payee=mandate.payee,
                kind=mandate.kind,
                amount=mandate.amount,
                currency=mandate.currency,
                cadence=mandate.frequency_label,
                next_on=mandate.next_payment_on,
                cost_per_year=None,
                status=mandate.state or "active",
                last_paid_on=mandate.last_payment_on,
            )
            _declared_over(entry, mandate)
            listed.append(entry)
    order = list(KINDS)
    listed.sort(key=lambda e: (order.index(e.kind) if e.kind in order else 9, e.payee.casefold()))
    return listed


def _declared_over(entry: Listed, mandate: Row[Any]) -> None:
    """What the bank says of a mandate, over what its payments show: its payee and its
    next payment day; that it ended; that its dates disagree."""
    entry.declared_id = mandate.id
    entry.payee = mandate.payee
    if mandate.next_payment_on is not None:
        entry.next_on = mandate.next_payment_on
    if mandate.state in ENDED:
        entry.status = mandate.state
        entry.next_on = None
    if entry.amount is None and mandate.amount is not None:
        entry.amount, entry.currency = mandate.amount, mandate.currency
    last, next_ = mandate.last_payment_on, mandate.next_payment_on
    if last is not None and next_ is not None and last > next_:
        entry.inconsistent = (
            f"the bank says its last payment was {last.isoformat()},"
            f" after its next one, {next_.isoformat()}"
        )


def _changes(db: DBConnection) -> dict[str, list[Change]]:
    table = RecurringChange.__table__  # type: ignore[attr-defined]
    found: dict[str, list[Change]] = {}
    for row in db.execute(select(table).order_by(table.c.series_id, table.c.changed_on)):
        found.setdefault(row.series_id, []).append(
            Change(row.changed_on, row.from_amount, row.to_amount)
        )
    return found


def yearly_totals(listed: Iterable[Listed]) -> dict[str, Decimal]:
    """What the active recurring payments cost a year, per currency."""
    totals: dict[str, Decimal] = {}
    for entry in listed:
        if entry.status == "active" and entry.cost_per_year is not None and entry.currency:
            totals[entry.currency] = totals.get(entry.currency, Decimal(0)) + entry.cost_per_year
    return totals


def worked_out(db: DBConnection) -> bool:
    """Whether the step has run on this store (a store synced by an earlier portal has
    only the mandates its bank declares until it does)."""
    table = Understood.__table__  # type: ignore[attr-defined]
    return db.execute(select(table.c.step).where(table.c.step == "recurring")).first() is not None
