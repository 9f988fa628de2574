"""The step "recurring": recurring payments found in each account's history.

Payments out of an account are grouped by payee (``payee_key``: the counterparty, else the
merchant, else the description, in lower case without the digits of references), currency
and account; a group whose payments keep a regular cadence at a steady amount is a
recurring payment (``portal.understand.cadence`` states the rules). A mandate the bank
declares (a direct debit, a standing order) is matched to its payee's group, whatever the
cadence, and takes its amount from the payments it collects: a direct debit has no fixed
amount, so the latest one collected is what it costs now.

Incremental: a run reads the payee names of the transactions fetched since the last run,
and works out again only the groups those fall in (and those of declared mandates that
changed); a run with nothing new works nothing out again. Payee names and the key each is
grouped under are kept (``recurring_payees``), so a group's payments are found through the
index on who was paid, not by reading the account. The first run reads the store once,
grouped in SQL, and reads the payments only of the groups whose counts allow a series.

Inconsistent dates a provider releases (a standing order whose last payment is after its
next one) are warnings, once, when the record arrives: the record is kept as released, so
the person still sees the mandate, and ``portal recurring`` marks it. A rejection would
have hidden a mandate that is real and still collecting, for a fault in one date.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.engine import Connection as DBConnection

from portal import localtime
from portal.record.tables import RecurringPaymentRow, TransactionRow
from portal.understand import Finding
from portal.understand.cadence import Payment, series_of
from portal.understand.payees import (
    DECLARED_KINDS,
    Declared,
    Group,
    Paid,
    chunks,
    declared_keys,
    declared_since,
    fetched_since,
    mandates,
    note_payees,
    payee_key,
    payee_names,
    payments,
    reference_key,
)
from portal.understand.tables import RecurringChange, RecurringMember, RecurringSeries

_T = TransactionRow.__table__  # type: ignore[attr-defined]
_R = RecurringPaymentRow.__table__  # type: ignore[attr-defined]
_SERIES = RecurringSeries.__table__  # type: ignore[attr-defined]
_MEMBERS = RecurringMember.__table__  # type: ignore[attr-defined]
_CHANGES = RecurringChange.__table__  # type: ignore[attr-defined]
_SERIES_IDS = uuid.UUID("6f1d9c4e-2b7a-5e38-9a51-0c3d7e8f4b21")


def series_id(account_id: str, currency: str, key: str) -> str:
    """The stable id of the series of one account's payments to one payee in one currency."""
    return str(uuid.uuid5(_SERIES_IDS, f"{account_id}\x1f{currency}\x1f{key}"))


class Recurring:
    """Finds recurring payments, and gives declared mandates the amount they collect."""

    name = "recurring"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Work out again the groups of payees paid in what was fetched since ``since``."""
        warnings = inconsistent(db, since)
        noted = note_payees(db, since)
        touched = noted.touched | _orphaned(db)
        changed = declared_since(db, since)
        # Mandates are matched to their payees only when there is something to match.
        declared = mandates(db) if touched or changed else []
        keys = declared_keys(db, declared)
        for mandate in declared:
            if since is None or mandate.id in changed:
                key = keys.get(mandate.id)
                if key is not None:
                    touched.add((mandate.account_id, key[0], key[1]))
        by_group: dict[Group, list[Declared]] = {}
        for m in declared:
            if m.id in keys:
                by_group.setdefault((m.account_id, *keys[m.id]), []).append(m)
        zone = localtime.zone()
        rows = _Rows([], [], [])
        found = cards = kinds = 0
        names = payee_names(db, touched)
        for group in sorted(touched):
            if group in noted.hopeless and group not in by_group:
                continue
            paid = payments(db, group, *names[group])
            shared = by_group.get(group, [])
            for owner, its in _by_mandate(paid, shared):
                id_ = _series_id(group, owner, shared)
                kind = _work_out(group, id_, its, owner, zone, rows)
                found += kind is not None
                cards += kind == "card_subscription"
                kinds += kind in DECLARED_KINDS
        _write(db, touched, rows, by_group)
        accounts = {account for account, _, _ in touched} | noted.accounts
        for account in sorted(accounts):
            _judge(db, account)
        if not touched:
            return Finding(self.name, "", warnings)
        matched = _count(
            kinds, "direct debit or standing order", "direct debits and standing orders"
        )
        summary = (
            f"{_count(found, 'recurring payment')} worked out"
            f" ({_count(cards, 'card subscription')}, {matched} matched to their payments)"
        )
        return Finding(self.name, summary, warnings)


def _by_mandate(
    paid: list[Paid], mandates: list[Declared]
) -> list[tuple[Declared | None, list[Paid]]]:
    """A group's payments, and the mandate each set is for: all of them for its one mandate
    (or none); with two mandates to one payee (two accounts at one supplier), each gets the
    payments that carry its reference, the first also those that carry no other's."""
    if len(mandates) <= 1:
        return [(mandates[0] if mandates else None, paid)]
    references = {reference_key(m.reference): m for m in mandates if m.reference}
    split: dict[str, list[Paid]] = {m.id: [] for m in mandates}
    for payment in paid:
        owner = references.get(reference_key(payment.reference), mandates[0])
        split[owner.id].append(payment)
    return [(m, split[m.id]) for m in mandates if split[m.id]]


def _series_id(group: Group, mandate: Declared | None, shared: list[Declared]) -> str:
    """The id of a series: its group's, or, for a mandate whose payee has other mandates on
    the account, besides the first, one of its own (by its reference)."""
    if mandate is None or not shared or mandate is shared[0]:
        return series_id(*group)
    account, currency, key = group
    return series_id(account, currency, f"{key}\x1f{reference_key(mandate.reference)}")


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _orphaned(db: DBConnection) -> set[Group]:
    """The groups of series that hold a payment no longer in the store (withdrawn by the
    provider, or its import undone): a lookup by id for each payment of every series, few
    beside the transactions, so that a deletion, which no mark shows, is caught too."""
    gone = (
        select(_SERIES.c.account_id, _SERIES.c.currency, _SERIES.c.payee_key)
        .join(_MEMBERS, _MEMBERS.c.series_id == _SERIES.c.id)
        .outerjoin(_T, _T.c.id == _MEMBERS.c.transaction_id)
        .where(_T.c.id.is_(None))
        .distinct()
    )
    return {(account, currency, key) for account, currency, key in db.execute(gone)}


@dataclass
class _Rows:
    """What a run writes: series, their members, their changes."""

    series: list[dict[str, Any]]
    members: list[dict[str, Any]]
    changes: list[dict[str, Any]]


def _work_out(
    group: Group, id_: str, paid: list[Paid], mandate: Declared | None, zone: Any, rows: _Rows
) -> str | None:
    """One group's series (added to ``rows``); its kind, or None if it is none."""
    account, currency, key = group
    payments = [Payment(localtime.local(p.at, zone).date(), -p.amount, p.id) for p in paid]
    series = series_of(payments, declared=mandate is not None)
    if series is None:
        return None
    if mandate is not None:
        kind = mandate.kind
    else:
        kind = "card_subscription" if 2 * sum(p.card for p in paid) > len(paid) else "detected"
    rows.series.append(
        {
            "id": id_,
            "account_id": account,
            "payee_key": key,
            "payee": mandate.payee if mandate is not None else paid[-1].payee,
            "kind": kind,
            "declared_id": None if mandate is None else mandate.id,
            "cadence": None if series.cadence is None else series.cadence.name,
            "amount": series.amount,
            "currency": currency,
            "cost_per_year": series.cost_per_year,
            "payments": len(series.payments),
            "first_seen": series.first,
            "last_seen": series.last,
            "next_expected": series.next_expected,
            "lapses_after": series.lapses_after,
            "status": "active",
        }
    )
    rows.members += [{"series_id": id_, "transaction_id": p.transaction_id} for p in payments]
    # The last change of any day (two payments on one day, at two amounts).
    for change in {change.on: change for change in series.changes}.values():
        rows.changes.append(
            {
                "series_id": id_,
                "changed_on": change.on,
                "from_amount": change.before,
                "to_amount": change.after,
            }
        )
    return kind


def _write(
    db: DBConnection, groups: Iterable[Group], rows: _Rows, by_group: dict[Group, list[Declared]]
) -> None:
    """Replace the series of ``groups`` by ``rows``."""
    ids = [series_id(*group) for group in groups]
    ids += [_series_id(g, m, by_group[g]) for g in groups if g in by_group for m in by_group[g][1:]]
    for chunk in chunks(ids):
        db.execute(delete(_MEMBERS).where(_MEMBERS.c.series_id.in_(chunk)))
        db.execute(delete(_CHANGES).where(_CHANGES.c.series_id.in_(chunk)))
        db.execute(delete(_SERIES).where(_SERIES.c.id.in_(chunk)))
    for table, values in (
        (_SERIES, rows.series),
        (_MEMBERS, rows.members),
        (_CHANGES, rows.changes),
    ):
        if values:
            db.execute(insert(table), values)


def _judge(db: DBConnection, account: str) -> None:
    """Mark the account's series lapsed when its history runs past their lapse day.

    Against the latest transaction the provider released, not today's date: a bank that
    releases a year's history up to last month has not seen this month's payments yet.
    """
    latest = db.execute(select(func.max(_T.c.booked_at)).where(_T.c.account_id == account))
    horizon = latest.scalar_one()
    if horizon is None:
        return
    runs_to: date = horizon.date()
    lapsed = and_(_SERIES.c.lapses_after.is_not(None), _SERIES.c.lapses_after < runs_to)
    status = case((lapsed, "lapsed"), else_="active")
    db.execute(update(_SERIES).where(_SERIES.c.account_id == account).values(status=status))


def inconsistent(db: DBConnection, since: datetime | None) -> list[str]:
    """A warning for each declared payment fetched since ``since`` whose last payment is
    after its next one, naming it and both dates."""
    query = (
        select(
            _R.c.kind_label, _R.c.payee, _R.c.provider, _R.c.last_payment_on, _R.c.next_payment_on
        )
        .where(_R.c.last_payment_on > _R.c.next_payment_on, fetched_since(_R.c.fetched_at, since))
        .order_by(_R.c.payee, _R.c.id)
    )
    return [
        f"{kind} to {payee}: {provider} says its last payment was {_day(last)}, after its"
        f" next one, {_day(next_)}; kept as released"
        for kind, payee, provider, last, next_ in db.execute(query)
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


__all__ = ["DECLARED_KINDS", "Recurring", "inconsistent", "payee_key", "series_id"]
