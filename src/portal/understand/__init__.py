"""Understanding: facts portal derives across providers, in the engine, incrementally.

A provider releases records; what they *mean* together is portal's work: which spending
category a card payment falls in, which payments recur, which bank payment paid which bill,
whether a bill agrees with the usage it charges for. Each of these is a *step*. Every step
runs after every sync and every import (``Portal.sync``, ``portal import``), reads only the
records fetched since it last ran (``since``: every record row carries ``fetched_at``, which
a sync sets when it stores a new or changed row and leaves alone on an unchanged one), and
writes its conclusions into tables of its own (``portal.understand.tables``), never into the
rows a provider sent. ``portal understand --again`` runs every step over the whole store.

The terminal (``portal show``, ``portal changes``, the sync summary), the exports, ``portal
view`` and a plugin author's tests all read the same tables, so they all see the same facts.

Reading each row once, even when another process syncs meanwhile. A row's ``fetched_at`` is
stamped when its page is normalised, and committed a little later (an import's, at the end
of its one transaction; another process's sync, whenever it gets the write lock), so a mark
alone could pass over it. Two things keep that from happening: a step holds the store's
write lock from its first read to its mark (``_hold``), so no commit lands in between; and
a batch committed with rows stamped before a step's mark brings the mark back to just
before them, in the batch's own transaction (``portal.store``, ``_Lowering``). A step must
therefore be idempotent (it may be given a row twice: ``--again`` gives it everything), and
should be short: while it runs, a sync in another process waits for the lock, and stops
(resumable, its committed pages kept) after ``portal.store_open.BUSY_TIMEOUT_MS``. The
mark coming back also covers a clock set back between two syncs.

What it costs. A re-sync that brings nothing new must cost under 5% of the first sync,
with a million transactions in the store (issue 19; ``benchmarks/understand.py``, figures
in benchmarks/RESULTS.md, "Understanding"). So a step reads only what ``since`` lets
through, and never the whole store when a query can do it: every record table has an
index on ``fetched_at`` (``portal.record.tables``), which makes a step's first question a
seek (under 0.1 ms at a million transactions, where the scan took 370 ms). The frame
does not skip a step whose tables brought nothing (``max(fetched_at)`` per table, one seek
each, would tell): with the index the step's own first query costs the same, and the
step knows best what it reads.

Adding a step: a module in this package with an object that has a ``name`` and a ``run(db,
since)`` (the ``Step`` protocol), returned by ``_steps`` in the order it must run (a step
may read what an earlier one wrote); its tables in ``portal.understand.tables`` (and in
``DERIVED_TABLES`` there when an undo need not put them back), a revision in
``portal.migrations``, a title in ``portal.browse``, and a file of ``portal export``
(``portal.understand.exported``) where a person would want it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection

from portal.understand.tables import Understood

if TYPE_CHECKING:
    from portal.store import Store

log = logging.getLogger(__name__)


@dataclass
class Finding:
    """What one step did on one run, in words a person reads in the sync summary."""

    step: str
    summary: str
    """One line, e.g. "312 transactions looked at: 310 given a category, 4 by your rules";
    empty when the step had nothing to do."""
    warnings: list[str] = field(default_factory=list)
    """What the step found wrong in what providers released, each naming the record."""
    failed: bool = False
    """The step stopped with an error (logged); what was synced is untouched."""
    seconds: float = 0.0
    """How long the step's run took, its transaction included (set by ``understand``): what
    ``benchmarks/understand.py`` reports per step."""


class Step(Protocol):
    """One kind of understanding."""

    name: str
    """Short, stable: the key of its row in ``understood``."""

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Derive facts from the records fetched after ``since`` (all of them when None),
        inside ``db``'s transaction, and say what was done."""


def _steps() -> tuple[Step, ...]:
    """Every step, in the order it runs (imported here: a command that never syncs never
    pays for them)."""
    from portal.understand.bills import BillsStep
    from portal.understand.categories import Categories
    from portal.understand.links import LinksStep
    from portal.understand.recurring import Recurring

    return (Categories(), Recurring(), LinksStep(), BillsStep())


def understand(
    store: Store, *, again: bool = False, only: Iterable[str] | None = None
) -> list[Finding]:
    """Run each step (or only those named) over what was fetched since it last ran.

    ``again`` runs them over the whole store (after a rule changed, or a better step).
    Each step runs in its own transaction with its mark: a step that fails leaves what it
    had derived before, and is reported and logged, never raised, so a sync whose records
    are safely stored never fails because of what portal concluded from them.
    """
    store.writable()
    wanted = None if only is None else set(only)
    findings: list[Finding] = []
    for step in _steps():
        if wanted is not None and step.name not in wanted:
            continue
        started = time.perf_counter()
        try:
            with store.engine.begin() as db:
                _hold(db)
                # The mark is the moment before anything is read: a row fetched later is
                # read next time, never marked as read and missed (a row stamped before it
                # and committed after is the store's to report: ``lower_marks``).
                now = datetime.now(UTC)
                since = None if again else _through(db, step.name)
                finding = step.run(db, since)
                _mark(db, step.name, now)
        except Exception as error:
            log.exception("Understanding step %s failed", step.name)
            finding = Finding(step.name, f"could not finish: {error}", failed=True)
        finding.seconds = time.perf_counter() - started
        findings.append(finding)
    return findings


def step_names() -> Sequence[str]:
    """The names of every step, in the order they run."""
    return [step.name for step in _steps()]


def _hold(db: DBConnection) -> None:
    """Make ``db``'s transaction the only writer of the store until it ends.

    On SQLite, Python's driver begins a transaction only at the first write, so a step's
    reads before it would each see the store as it was at that moment, and a batch committed
    between a read and the mark would be marked as read and never read. ``BEGIN IMMEDIATE``
    takes the write lock (and a snapshot) before the first read: a sync in another process
    commits before the step starts (and is read) or after it ends (and ``lower_marks``
    pulls the mark back if its rows were stamped earlier). Readers (``portal view``) are
    never held. On PostgreSQL, the ``understood`` table is locked against the batches'
    ``lower_marks`` (and other steps), which likewise wait for the step to end.
    """
    if db.dialect.name == "sqlite":
        db.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        db.exec_driver_sql("LOCK TABLE understood IN SHARE ROW EXCLUSIVE MODE")


def _through(db: DBConnection, step: str) -> datetime | None:
    table = Understood.__table__  # type: ignore[attr-defined]
    row = db.execute(select(table.c.through).where(table.c.step == step)).first()
    return None if row is None else row[0]


def _mark(db: DBConnection, step: str, through: datetime) -> None:
    table = Understood.__table__  # type: ignore[attr-defined]
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table).values(step=step, through=through)
    db.execute(insert.on_conflict_do_update(index_elements=["step"], set_={"through": through}))
