"""Who a payment pays: the keys payments are grouped by, the payee names kept for each
account, a group's payments, and the mandates a bank declares matched to their payees.

The reading side of the step "recurring" (``portal.understand.recurring``): every query it
makes of the transactions is here, each shaped for the indexes the store has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection
from sqlalchemy.sql.elements import ColumnElement

from portal.record.tables import RecurringPaymentRow, TransactionRow
from portal.understand.tables import RecurringPayeeName

DECLARED_KINDS = ("direct_debit", "standing_order")
"""Kinds of recurring_payments rows that collect a series of payments."""

_T = TransactionRow.__table__  # type: ignore[attr-defined]
_R = RecurringPaymentRow.__table__  # type: ignore[attr-defined]
_PAYEES = RecurringPayeeName.__table__  # type: ignore[attr-defined]

_NAMED = func.coalesce(_T.c.counterparty, _T.c.merchant_name)
"""Who was paid, as the index ``ix_transactions_paid_to`` holds it."""
_PAYEE = func.coalesce(_T.c.counterparty, _T.c.merchant_name, _T.c.description)
_UNNAMED = and_(_T.c.counterparty.is_(None), _T.c.merchant_name.is_(None))
_OUT = and_(_T.c.amount < 0, func.coalesce(_T.c.state, "") != "pending")
"""Money out that has moved, or will: a pending payment is booked again when it settles."""

_NOT_WORD = re.compile(r"[^a-z]+")


def payee_key(text: str) -> str:
    """``text`` as payments are grouped by it: lower case, letters only (the digits of a
    reference or a store number, and punctuation, dropped), single spaces."""
    return " ".join(_NOT_WORD.split(text.casefold())).strip()


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


def fetched_since(column: Any, since: datetime | None) -> ColumnElement[bool]:
    """``column`` (a ``fetched_at``) after ``since``; every row when it is None (no condition
    at all: given ``fetched_at IS NOT NULL``, SQLite walks an index on it, if there is one,
    and fetches each row from it, 17 s where reading the table takes 7 at 1,000,000)."""
    condition: ColumnElement[bool] = column > since if since is not None else true()
    return condition


@dataclass
class Noted:
    """What the payments fetched since the last run say, read in one pass."""

    touched: set[Group]
    """The groups whose payments out they fall in."""
    accounts: set[str]
    """The accounts they are in: each one's history now runs further."""
    hopeless: set[Group]
    """Groups that cannot recur, by their counts alone (read only over the whole store)."""


def note_payees(db: DBConnection, since: datetime | None) -> Noted:
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
        .where(fetched_since(_T.c.fetched_at, since))
        .group_by(_T.c.account_id, _T.c.currency, _PAYEE, _UNNAMED, out)
    )
    noted = Noted(set(), set(), set())
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
        noted.hopeless = {g for g, c in counts.items() if not may_recur(*c)}
    return noted


def may_recur(payments: int, amounts: int, first: datetime, last: datetime) -> bool:
    """Whether payments this many, at least this many amounts, from ``first`` to ``last``,
    could pass ``portal.understand.cadence``'s rules: enough of them, steady enough (each
    further amount is a change), and far enough apart (no cadence has gaps under five
    days; a day either end for the person's zone). Most groups of a large store fail here,
    and are never read."""
    if payments < 2 or 3 * (amounts - 1) > payments - 1:
        return False
    return (last - first).days + 2 >= 5 * (payments - 1)


def mandates(db: DBConnection) -> list[Declared]:
    """Every direct debit and standing order the banks declare (tens, not thousands)."""
    query = select(_R.c.id, _R.c.account_id, _R.c.kind, _R.c.payee, _R.c.reference).where(
        _R.c.kind.in_(DECLARED_KINDS)
    )
    return [Declared(*row) for row in db.execute(query.order_by(_R.c.id))]


def declared_since(db: DBConnection, since: datetime | None) -> set[str]:
    """The ids of the mandates fetched since ``since``."""
    query = select(_R.c.id).where(
        _R.c.kind.in_(DECLARED_KINDS), fetched_since(_R.c.fetched_at, since)
    )
    return set(db.execute(query).scalars())


def declared_keys(db: DBConnection, declared: Iterable[Declared]) -> dict[str, tuple[str, str]]:
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
class Paid:
    """One payment out as read for its group."""

    at: datetime
    id: str
    amount: Any
    payee: str
    card: bool
    reference: str | None = None
    """The payment's own reference: a direct debit's names its mandate."""


def reference_key(reference: str | None) -> str:
    """A reference as mandates and their payments are matched by it: letters and digits
    only, in one case (``BA-31877204`` and ``ba 31877204`` are one)."""
    return "".join(c for c in (reference or "").casefold() if c.isalnum())


def payee_names(
    db: DBConnection, groups: Iterable[Group]
) -> dict[Group, tuple[list[str], list[str]]]:
    """Each group's payee texts: those that name who was paid, and descriptions."""
    wanted = set(groups)
    found: dict[Group, tuple[list[str], list[str]]] = {g: ([], []) for g in wanted}
    accounts = sorted({account for account, _, _ in wanted})
    for chunk in chunks(accounts):
        query = select(_PAYEES).where(_PAYEES.c.account_id.in_(chunk))
        for row in db.execute(query):
            group = (row.account_id, row.currency, row.payee_key)
            if group in found:
                found[group][1 if row.from_description else 0].append(row.text)
    return found


def payments(
    db: DBConnection, group: Group, names: list[str], descriptions: list[str]
) -> list[Paid]:
    """The group's payments out, oldest first."""
    account, currency, _ = group
    columns = (
        _T.c.booked_at,
        _T.c.id,
        _T.c.amount,
        _PAYEE,
        _T.c.merchant_name.is_not(None),
        _T.c.reference,
    )
    found: list[Paid] = []
    if names:
        # Found through the index on who was paid alone (SQLite's planner, given the account
        # and currency too, prefers their indexes and reads every payment in the currency):
        # other accounts' payments to the same names are few, and left out here.
        query = select(*columns, _T.c.account_id, _T.c.currency).where(_OUT, _NAMED.in_(names))
        for *paid, in_account, in_currency in db.execute(query):
            if (in_account, in_currency) == (account, currency):
                found.append(Paid(*paid))
    if descriptions:  # payments that name no payee: the account's are read
        query = select(*columns).where(
            _T.c.account_id == account,
            _T.c.currency == currency,
            _OUT,
            _UNNAMED,
            _T.c.description.in_(descriptions),
        )
        found.extend(Paid(*paid) for paid in db.execute(query))
    found.sort(key=lambda paid: (paid.at, paid.id))
    return found


def chunks(values: list[str], size: int = 500) -> Iterator[list[str]]:
    """``values`` a few hundred at a time (SQLite binds at most 32,766 values a statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
