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

Adding a step: a module in this package with an object that has a ``name`` and a ``run(db,
since)`` (the ``Step`` protocol), appended to ``STEPS`` in the order it must run (a step may
read what an earlier one wrote); its tables in ``portal.understand.tables`` and a revision
in ``portal.migrations``.
"""

from __future__ import annotations

import logging
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
    """One line, e.g. "312 transactions categorised, 4 by your rules"; empty when the step
    had nothing to do."""
    warnings: list[str] = field(default_factory=list)
    """What the step found wrong in what providers released, each naming the record."""
    failed: bool = False
    """The step stopped with an error (logged); what was synced is untouched."""


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
        try:
            with store.engine.begin() as db:
                since = None if again else _through(db, step.name)
                now = datetime.now(UTC)
                finding = step.run(db, since)
                _mark(db, step.name, now)
        except Exception as error:
            log.exception("Understanding step %s failed", step.name)
            finding = Finding(step.name, f"could not finish: {error}", failed=True)
        findings.append(finding)
    return findings


def step_names() -> Sequence[str]:
    """The names of every step, in the order they run."""
    return [step.name for step in _steps()]


def _through(db: DBConnection, step: str) -> datetime | None:
    table = Understood.__table__  # type: ignore[attr-defined]
    row = db.execute(select(table.c.through).where(table.c.step == step)).first()
    return None if row is None else row[0]


def _mark(db: DBConnection, step: str, through: datetime) -> None:
    table = Understood.__table__  # type: ignore[attr-defined]
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    insert = dialect.insert(table).values(step=step, through=through)
    db.execute(insert.on_conflict_do_update(index_elements=["step"], set_={"through": through}))
