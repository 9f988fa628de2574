"""The person's category rules: kept in the store, applied at once to what they match and
by every later sync (the categories step reads them each run).

A rule is a glob on the counterparty, the merchant or the description (``NETFLIX*``),
without regard to case, and the category it gives; it wins over everything else that
decides a category (``portal.understand.spending``). Adding or removing one re-decides only
the transactions it matches or decided, not the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from portal.errors import UserError
from portal.understand.categories import DECIDED, RULES, TRANSACTIONS, categorise, matches
from portal.understand.spending import SPENDING_LABELS, Spending

if TYPE_CHECKING:
    from portal.store import Store

LONGEST_PATTERN = 200
"""Characters a pattern may have: a rule names a payee, not a paragraph."""


@dataclass(frozen=True)
class Rule:
    """One of the person's rules."""

    pattern: str
    category: Spending
    created_at: datetime


def category_named(name: str) -> Spending:
    """The category ``name`` names (its code, e.g. ``eating_out``, or its words, e.g.
    "Eating and drinking out", either case); refused with the list when it names none."""
    wanted = name.strip().casefold().replace("-", "_").replace(" ", "_")
    for category, words in SPENDING_LABELS.items():
        if wanted in (category.value, words.casefold().replace(" ", "_")):
            return category
    known = ", ".join(category.value for category in Spending)
    raise UserError(f"There is no category {name!r}.", hint=f"Use one of: {known}.")


def _checked(pattern: str) -> str:
    pattern = pattern.strip()
    if not pattern or not pattern.replace("*", "").replace("?", ""):
        raise UserError(
            "A rule needs some text to match, not only wildcards.",
            hint="Write part of the payee's name, e.g. 'NETFLIX*'.",
        )
    if len(pattern) > LONGEST_PATTERN:
        raise UserError(f"A pattern has at most {LONGEST_PATTERN} characters.")
    return pattern


def add_rule(store: Store, pattern: str, category: Spending) -> int:
    """Keep the rule (replacing one with the same pattern) and re-decide the transactions it
    matches; how many it matches."""
    pattern = _checked(pattern)
    store.writable()
    with store.engine.begin() as db:
        db.execute(delete(RULES).where(RULES.c.pattern == pattern))
        db.execute(
            RULES.insert().values(
                pattern=pattern, category=category.value, created_at=datetime.now(UTC)
            )
        )
        matching = select(TRANSACTIONS.c.id).where(matches(pattern, db.dialect.name))
        return categorise(db, matching).transactions


def remove_rule(store: Store, pattern: str) -> int | None:
    """Forget the rule and re-decide what it had decided; how many transactions that was,
    None when there is no rule with that pattern."""
    pattern = pattern.strip()
    store.writable()
    with store.engine.begin() as db:
        gone = db.execute(delete(RULES).where(RULES.c.pattern == pattern)).rowcount
        if not gone:
            return None
        decided = select(DECIDED.c.transaction_id).where(DECIDED.c.rule == f"person:{pattern}")
        return categorise(db, decided).transactions


def rules(store: Store) -> list[Rule]:
    """Every rule of the person's, in the order they were made."""
    with store.engine.connect() as db:
        rows = db.execute(
            select(RULES.c.pattern, RULES.c.category, RULES.c.created_at).order_by(
                RULES.c.created_at, RULES.c.pattern
            )
        ).all()
    return [Rule(pattern, Spending(category), made) for pattern, category, made in rows]
