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

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.sql.elements import ColumnElement

from portal import localtime
from portal.record.tables import RecurringPaymentRow, TransactionRow
from portal.understand import Finding
from portal.understand.cadence import Payment, series_of
from portal.understand.tables import (
    RecurringChange,
    RecurringMember,
    RecurringPayeeName,
    RecurringSeries,
)

DECLARED_KINDS = ("direct_debit", "standing_order")
"""Kinds of recurring_payments rows that collect a series of payments."""

_T = TransactionRow.__table__  # type: ignore[attr-defined]
_R = RecurringPaymentRow.__table__  # type: ignore[attr-defined]
_SERIES = RecurringSeries.__table__  # type: ignore[attr-defined]
_MEMBERS = RecurringMember.__table__  # type: ignore[attr-defined]
_CHANGES = RecurringChange.__table__  # type: ignore[attr-defined]
_PAYEES = RecurringPayeeName.__table__  # type: ignore[attr-defined]

_NAMED = func.coalesce(_T.c.counterparty, _T.c.merchant_name)
"""Who was paid, as the index ``ix_transactions_paid_to`` holds it."""
_PAYEE = func.coalesce(_T.c.counterparty, _T.c.merchant_name, _T.c.description)
_UNNAMED = and_(_T.c.counterparty.is_(None), _T.c.merchant_name.is_(None))
_OUT = and_(_T.c.amount < 0, func.coalesce(_T.c.state, "") != "pending")
"""Money out that has moved, or will: a pending payment is booked again when it settles."""

_NOT_WORD = re.compile(r"[^a-z]+")
_SERIES_IDS = uuid.UUID("6f1d9c4e-2b7a-5e38-9a51-0c3d7e8f4b21")


def payee_key(text: str) -> str:
    """``text`` as payments are grouped by it: lower case, letters only (the digits of a
    reference or a store number, and punctuation, dropped), single spaces."""
    return " ".join(_NOT_WORD.split(text.casefold())).strip()


def series_id(account_id: str, currency: str, key: str) -> str:
    """The stable id of the series of one account's payments to one payee in one currency."""
    return str(uuid.uuid5(_SERIES_IDS, f"{account_id}\x1f{currency}\x1f{key}"))


@dataclass(frozen=True)
class Declared:
    """A mandate the bank declares: a direct debit or a standing order."""

    id: str
    account_id: str
    kind: str
    payee: str
    reference: str | None


Group = tuple[str, str, str]
"""(account id, currency, payee key)."""


class Recurring:
    """Finds recurring payments, and gives declared mandates the amount they collect."""

    name = "recurring"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Work out again the groups of payees paid in what was fetched since ``since``."""
        warnings = inconsistent(db, since)
        noted = _note_payees(db, since)
        touched = noted.touched | _orphaned(db)
        changed = _declared_since(db, since)
        # Mandates are matched to their payees only when there is something to match.
        declared = _declared(db) if touched or changed else []
        keys = _declared_keys(db, declared)
        for mandate in declared:
            if since is None or mandate.id in changed:
                key = keys.get(mandate.id)
                if key is not None:
                    touched.add((mandate.account_id, key[0], key[1]))
        by_group = {(m.account_id, *keys[m.id]): m for m in declared if m.id in keys}
        zone = localtime.zone()
        rows = _Rows([], [], [])
        found = cards = kinds = 0
        names = _names(db, touched)
        for group in sorted(touched):
            if group in noted.hopeless and group not in by_group:
                continue
            paid = _payments(db, group, *names[group])
            kind = _work_out(group, paid, by_group.get(group), zone, rows)
            found += kind is not None
            cards += kind == "card_subscription"
            kinds += kind in DECLARED_KINDS
        _write(db, touched, rows)
        accounts = {account for account, _, _ in touched} | noted.accounts
        for account in sorted(accounts):
            _judge(db, account)
        if not touched:
            return Finding(self.name, "", warnings)
        mandates = _count(
            kinds, "direct debit or standing order", "direct debits and standing orders"
        )
        summary = (
            f"{_count(found, 'recurring payment')} worked out"
            f" ({_count(cards, 'card subscription')}, {mandates} matched to their payments)"
        )
        return Finding(self.name, summary, warnings)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _since(column: Any, since: datetime | None) -> ColumnElement[bool]:
    condition: ColumnElement[bool] = column > since if since is not None else column.is_not(None)
    return condition


@dataclass
class _Noted:
    """What the payments fetched since the last run say, read in one pass."""

    touched: set[Group]
    """The groups whose payments out they fall in."""
    accounts: set[str]
    """The accounts they are in: each one's history now runs further."""
    hopeless: set[Group]
    """Groups that cannot recur, by their counts alone (read only over the whole store)."""


def _note_payees(db: DBConnection, since: datetime | None) -> _Noted:
    """Keep the payee names of payments fetched since ``since``, and say what they touch."""
    out = _OUT.label("out")
    query = (
        select(
            _T.c.account_id,
            _T.c.currency,
            _PAYEE,
            _UNNAMED,
            out,
            func.count(),
            func.count(_T.c.amount.distinct()),
            func.min(_T.c.booked_at),
            func.max(_T.c.booked_at),
        )
        .where(_since(_T.c.fetched_at, since))
        .group_by(_T.c.account_id, _T.c.currency, _PAYEE, _UNNAMED, out)
    )
    noted = _Noted(set(), set(), set())
    rows: list[dict[str, Any]] = []
    counts: dict[Group, list[Any]] = {}
    for account, currency, text, unnamed, paid_out, n, amounts, first, last in db.execute(query):
        noted.accounts.add(account)
        key = payee_key(text or "")
        if not paid_out or not key:
            continue
        rows.append(
            {
                "account_id": account,
                "currency": currency,
                "text": text,
                "from_description": bool(unnamed),
                "payee_key": key,
            }
        )
        group = (account, currency, key)
        noted.touched.add(group)
        seen = counts.setdefault(group, [0, 0, first, last])
        seen[0] += n
        seen[1] = max(seen[1], amounts)  # at least as many amounts as any one name had
        seen[2], seen[3] = min(seen[2], first), max(seen[3], last)
    if rows:
        dialect = postgresql if db.dialect.name == "postgresql" else sqlite
        db.execute(dialect.insert(_PAYEES).on_conflict_do_nothing(), rows)
    if since is None:  # the counts are the whole group's
        noted.hopeless = {g for g, c in counts.items() if not _may_recur(*c)}
    return noted


def _may_recur(payments: int, amounts: int, first: datetime, last: datetime) -> bool:
    """Whether payments this many, at least this many amounts, from ``first`` to ``last``,
    could pass ``portal.understand.cadence``'s rules: enough of them, steady enough (each
    further amount is a change), and far enough apart (no cadence has gaps under five
    days; a day either end for the person's zone). Most groups of a large store fail here,
    and are never read."""
    if payments < 2 or 3 * (amounts - 1) > payments - 1:
        return False
    return (last - first).days + 2 >= 5 * (payments - 1)


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


def _declared(db: DBConnection) -> list[Declared]:
    query = select(_R.c.id, _R.c.account_id, _R.c.kind, _R.c.payee, _R.c.reference).where(
        _R.c.kind.in_(DECLARED_KINDS)
    )
    return [Declared(*row) for row in db.execute(query.order_by(_R.c.id))]


def _declared_since(db: DBConnection, since: datetime | None) -> set[str]:
    query = select(_R.c.id).where(_R.c.kind.in_(DECLARED_KINDS), _since(_R.c.fetched_at, since))
    return set(db.execute(query).scalars())


def _declared_keys(db: DBConnection, declared: Iterable[Declared]) -> dict[str, tuple[str, str]]:
    """Each mandate's (currency, payee key) among its account's payees: the same key as its
    payee, else as its reference, else the shortest key its payee's begins (a description
    that goes on with the reference, "LAMBETH COUNCIL COUNCIL TAX" for "Lambeth Council").
    A few index lookups a mandate: a bank declares tens of them."""
    found: dict[str, tuple[str, str]] = {}
    columns = select(_PAYEES.c.currency, _PAYEES.c.payee_key)
    for mandate in declared:
        mine = _PAYEES.c.account_id == mandate.account_id
        wanted = [payee_key(mandate.payee), payee_key(mandate.reference or "")]
        match = None
        for key in (w for w in wanted if w):
            match = db.execute(columns.where(mine, _PAYEES.c.payee_key == key).limit(1)).first()
            if match is not None:
                break
        if match is None and wanted[0]:
            # Keys that begin with the payee's and a space: from "payee " to "payee!".
            begun = and_(
                _PAYEES.c.payee_key > wanted[0] + " ", _PAYEES.c.payee_key < wanted[0] + "!"
            )
            query = columns.where(mine, begun).order_by(func.length(_PAYEES.c.payee_key))
            match = db.execute(query.limit(1)).first()
        if match is not None:
            found[mandate.id] = (match[0], match[1])
    return found


@dataclass(frozen=True)
class _Paid:
    """One payment out as read for its group."""

    at: datetime
    id: str
    amount: Any
    payee: str
    card: bool


def _names(db: DBConnection, groups: Iterable[Group]) -> dict[Group, tuple[list[str], list[str]]]:
    """Each group's payee texts: those that name who was paid, and descriptions."""
    wanted = set(groups)
    found: dict[Group, tuple[list[str], list[str]]] = {g: ([], []) for g in wanted}
    accounts = sorted({account for account, _, _ in wanted})
    for chunk in _chunks(accounts):
        query = select(_PAYEES).where(_PAYEES.c.account_id.in_(chunk))
        for row in db.execute(query):
            group = (row.account_id, row.currency, row.payee_key)
            if group in found:
                found[group][1 if row.from_description else 0].append(row.text)
    return found


def _payments(
    db: DBConnection, group: Group, names: list[str], descriptions: list[str]
) -> list[_Paid]:
    """The group's payments out, oldest first."""
    account, currency, _ = group
    columns = (_T.c.booked_at, _T.c.id, _T.c.amount, _PAYEE, _T.c.merchant_name.is_not(None))
    found: list[_Paid] = []
    if names:
        # Found through the index on who was paid alone (SQLite's planner, given the account
        # and currency too, prefers their indexes and reads every payment in the currency):
        # other accounts' payments to the same names are few, and left out here.
        query = select(*columns, _T.c.account_id, _T.c.currency).where(_OUT, _NAMED.in_(names))
        for *paid, in_account, in_currency in db.execute(query):
            if (in_account, in_currency) == (account, currency):
                found.append(_Paid(*paid))
    if descriptions:  # payments that name no payee: the account's are read
        query = select(*columns).where(
            _T.c.account_id == account,
            _T.c.currency == currency,
            _OUT,
            _UNNAMED,
            _T.c.description.in_(descriptions),
        )
        found.extend(_Paid(*paid) for paid in db.execute(query))
    found.sort(key=lambda paid: (paid.at, paid.id))
    return found


@dataclass
class _Rows:
    """What a run writes: series, their members, their changes."""

    series: list[dict[str, Any]]
    members: list[dict[str, Any]]
    changes: list[dict[str, Any]]


def _work_out(
    group: Group, paid: list[_Paid], mandate: Declared | None, zone: Any, rows: _Rows
) -> str | None:
    """One group's series (added to ``rows``); its kind, or None if it is none."""
    account, currency, key = group
    payments = [Payment(localtime.local(p.at, zone).date(), -p.amount, p.id) for p in paid]
    series = series_of(payments, declared=mandate is not None)
    if series is None:
        return None
    id_ = series_id(account, currency, key)
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


def _write(db: DBConnection, groups: Iterable[Group], rows: _Rows) -> None:
    """Replace the series of ``groups`` by ``rows``."""
    ids = [series_id(*group) for group in groups]
    for chunk in _chunks(ids):
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


def _chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` a few hundred at a time (SQLite binds at most 32,766 values a statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
        .where(_R.c.last_payment_on > _R.c.next_payment_on, _since(_R.c.fetched_at, since))
        .order_by(_R.c.payee, _R.c.id)
    )
    return [
        f"{kind} to {payee}: {provider} says its last payment was {_day(last)}, after its"
        f" next one, {_day(next_)}; kept as released"
        for kind, payee, provider, last, next_ in db.execute(query)
    ]


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


__all__ = ["Recurring", "inconsistent", "payee_key", "series_id"]
