"""A page of bills at a time, newest first: the Energy and Phone pages list bills this way,
counted and paged in SQL so a long history never loads whole."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Table, func, select
from werkzeug.exceptions import BadRequest

from portal.record import Bill
from portal.record.tables import BillRow
from portal.store import Store
from portal.understand.tables import BillCheck
from portal.view.stored import stored

BILLS: Table = BillRow.__table__  # type: ignore[attr-defined]
CHECKS: Table = BillCheck.__table__  # type: ignore[attr-defined]
OUTCOME_WORDS = {
    "agrees": "Agrees with its usage and tariff",
    "differs": "Differs from its usage or tariff",
    "cannot_check": "Cannot be checked",
}
"""How a bill's check (``portal.understand.bills``) is headed beside it."""


@dataclass(frozen=True)
class Checked:
    """A bill's check against its usage and tariff, as the page shows it."""

    outcome: str
    words: str
    message: str


@dataclass(frozen=True)
class BillPage:
    """One page of bills, newest first, and where it sits among them all."""

    bills: list[Bill]
    total: int
    number: int
    size: int
    checks: dict[str, Checked] = field(default_factory=dict)
    """Each shown bill's check, by bill id (a bill not checked yet has none)."""

    @property
    def first(self) -> int:
        """The position of the first bill shown (1-based), 0 when there is none."""
        return (self.number - 1) * self.size + 1 if self.bills else 0

    @property
    def last(self) -> int:
        """The position of the last bill shown."""
        return self.first + len(self.bills) - 1 if self.bills else 0

    @property
    def pages(self) -> int:
        """How many pages the bills fill."""
        return max((self.total + self.size - 1) // self.size, 1)


def bills(store: Store, account_ids: Sequence[str], number: int, size: int) -> BillPage:
    """Page ``number`` (from 1) of the bills of ``account_ids``, newest period first."""
    t = BILLS
    where = t.c.account_id.in_(list(account_ids))
    query = (
        select(t)
        .where(where)
        .order_by(t.c.period_start.desc(), t.c.account_id, t.c.id)
        .limit(size)
        .offset((number - 1) * size)
    )
    with store.engine.connect() as db:
        total = db.execute(select(func.count()).select_from(t).where(where)).scalar() or 0
        found = [stored(Bill, row._asdict()) for row in db.execute(query)]
        checked = select(CHECKS.c.bill_id, CHECKS.c.outcome, CHECKS.c.message).where(
            CHECKS.c.bill_id.in_([b.id for b in found])
        )
        checks = {
            bill: Checked(outcome, OUTCOME_WORDS.get(outcome, outcome), message)
            for bill, outcome, message in db.execute(checked)
        }
    page = BillPage(found, total, number, size, checks)
    if number > page.pages:
        there = "is only 1 page" if page.pages == 1 else f"are only {page.pages} pages"
        raise BadRequest(f"there {there} of bills (page={number!r}): choose a page from 1.")
    return page
