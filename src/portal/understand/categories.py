"""The "categories" step: every transaction's spending category, decided in SQL.

What decides, in order, is ``portal.understand.spending``'s docstring. Here it is one
``INSERT ... SELECT`` over the transactions the step is given (a CASE over the person's
rules, the ISO 18245 table, the provider's codes and portal's payee words), so the first
run over a million transactions is a single statement, not a loop in Python; then transfers
between the person's own accounts are paired (a join on the amount, bounded to what the
batch brought) and marked on both sides.

The step is incremental: it is given the transactions fetched since it last ran, plus the
other side of any transfer one of them was paired with (so a changed transaction frees, or
keeps, its partner). A person's rule changing re-decides only the transactions it matches
or matched (``portal.understand.rules``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    REAL,
    Column,
    ColumnElement,
    MetaData,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection as DBConnection

from portal.record.tables import TransactionRow
from portal.understand import Finding
from portal.understand.spending import (
    CARD_FAMILY,
    CARD_PAYMENTS,
    MCC_CODES,
    MCC_RANGES,
    PAYEE_WORDS,
    PROVIDER_CODES,
    Spending,
)
from portal.understand.tables import CategoryRule, TransactionCategory

TRANSACTIONS: Table = TransactionRow.__table__  # type: ignore[attr-defined]
DECIDED: Table = TransactionCategory.__table__  # type: ignore[attr-defined]
RULES: Table = CategoryRule.__table__  # type: ignore[attr-defined]

TRANSFER_WINDOW = timedelta(days=4)
"""How far apart the two sides of a transfer between own accounts may be booked: a Friday
evening payment can arrive on Monday, later after a bank holiday."""

_BATCH = Table(
    "categorise_batch",
    MetaData(),
    Column("id", String, primary_key=True),
    prefixes=["TEMPORARY"],
)
"""The transactions one run decides (a temporary table of the connection): the step's
batch, the partners of its transfers, or the rows a person's rule matches."""


@dataclass
class Decided:
    """How many transactions one run decided, and by what."""

    transactions: int = 0
    by_person: int = 0
    own_transfers: int = 0
    uncategorised: int = 0

    def summary(self) -> str:
        """One line for the sync summary; empty when nothing was decided."""
        if not self.transactions:
            return ""
        given = self.transactions - self.uncategorised
        parts = [f"{self.transactions} transactions looked at: {given} given a category"]
        if self.by_person:
            parts.append(f"{self.by_person} by your rules")
        if self.own_transfers:
            parts.append(f"{self.own_transfers} between your own accounts")
        if self.uncategorised:
            parts.append(f"{self.uncategorised} not categorised")
        return ", ".join(parts)


class Categories:
    """The step: categorise what was fetched since the last run (``portal.understand``)."""

    name = "categories"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Decide the category of every transaction fetched after ``since`` (all when None)."""
        batch = (
            None
            if since is None
            else select(TRANSACTIONS.c.id).where(TRANSACTIONS.c.fetched_at > since)
        )
        return Finding(self.name, categorise(db, batch).summary())


def categorise(db: DBConnection, batch: Select[Any] | None) -> Decided:
    """Decide again the transactions ``batch`` selects (their ids; every one when None),
    with the partners of any transfer among them, inside ``db``'s transaction."""
    now = datetime.now(UTC)
    if batch is None:
        db.execute(delete(DECIDED))
        within = None
    else:
        _BATCH.create(db, checkfirst=True)
        db.execute(delete(_BATCH))
        db.execute(insert(_BATCH).from_select(["id"], batch.distinct()))
        if db.execute(select(_BATCH.c.id).limit(1)).first() is None:
            return Decided()  # nothing new: a re-sync that brought nothing costs one query
        partners = select(DECIDED.c.paired_with).where(
            DECIDED.c.transaction_id.in_(select(_BATCH.c.id)),
            DECIDED.c.paired_with.is_not(None),
            DECIDED.c.paired_with.not_in(select(_BATCH.c.id)),
        )
        db.execute(insert(_BATCH).from_select(["id"], partners.distinct()))
        within = select(_BATCH.c.id)
        db.execute(delete(DECIDED).where(DECIDED.c.transaction_id.in_(within)))
    db.execute(insert(DECIDED).from_select(_COLUMNS, _decisions(db, within, now)))
    _pair_own_transfers(db, within)
    return _count(db, within)


_COLUMNS = ["transaction_id", "category", "rule", "paired_with", "decided_at"]


def _glob_to_like(pattern: str) -> str:
    """A glob (``*``, ``?``) as a LIKE pattern escaped with a backslash."""
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def matches(pattern: str, dialect: str) -> ColumnElement[bool]:
    """Whether a transaction's counterparty, merchant or description match the glob
    ``pattern``, ignoring case (of ASCII letters, as SQLite's LIKE does)."""
    like = _glob_to_like(pattern)
    t = TRANSACTIONS.c
    columns = (t.counterparty, t.merchant_name, t.description)
    if dialect == "sqlite":  # LIKE ignores case already: ilike's lower() on both sides cost
        return or_(*(column.like(like, escape="\\") for column in columns))
    return or_(*(column.ilike(like, escape="\\") for column in columns))


def _person_rules(db: DBConnection) -> list[str]:
    """The person's patterns, the most specific first (the most characters that are not
    wildcards), then the newest: a rule for "NETFLIX*" beats one for "*"."""
    rows = db.execute(select(RULES.c.pattern, RULES.c.created_at)).all()
    return [
        pattern
        for pattern, _ in sorted(
            rows,
            key=lambda r: (-len(r[0].replace("*", "").replace("?", "")), -r[1].timestamp(), r[0]),
        )
    ]


def _first(whens: list[tuple[ColumnElement[bool], Any]]) -> ColumnElement[Any]:
    return case(*whens, else_=null()) if whens else null()


def _mcc_category(db: DBConnection) -> ColumnElement[Any]:
    mcc = TRANSACTIONS.c.merchant_category_code
    whens: list[tuple[ColumnElement[bool], Any]] = [
        (mcc.in_(codes), literal(category.value)) for category, codes in MCC_CODES.items()
    ]
    whens += [
        (mcc.between(first, last), literal(category.value)) for first, last, category in MCC_RANGES
    ]
    four_digits = (
        and_(func.length(mcc) == 4, mcc.op("NOT GLOB")("*[^0-9]*"))
        if db.dialect.name == "sqlite"
        else mcc.regexp_match("^[0-9]{4}$")
    )
    return case((four_digits, case(*whens, else_=null())), else_=null())


def _provider_category() -> ColumnElement[Any]:
    code, amount = TRANSACTIONS.c.category_code, TRANSACTIONS.c.amount
    return _first(
        [
            (code == known, case((amount < 0, literal(out.value)), else_=literal(in_.value)))
            for known, (in_, out) in PROVIDER_CODES.items()
        ]
    )


def _decisions(db: DBConnection, within: Select[Any] | None, now: datetime) -> Select[Any]:
    """One row per transaction: its category and the rule that decided it."""
    t = TRANSACTIONS.c
    dialect = db.dialect.name
    by_mcc, by_code = _mcc_category(db), _provider_category()
    # Payee words name who is paid (money in from "Thames Water" is a refund, not a bill),
    # and are read only where no code decided: their LIKEs are the costliest part.
    payee = case(
        (
            and_(t.amount < 0, by_mcc.is_(None), by_code.is_(None)),
            _first([(matches(pattern, dialect), literal(pattern)) for pattern, _ in PAYEE_WORDS]),
        ),
        else_=null(),
    )
    found = select(
        t.id,
        t.merchant_category_code.label("mcc"),
        t.category_code.label("code"),
        _first([(matches(p, dialect), literal(p)) for p in _person_rules(db)]).label("person"),
        by_mcc.label("by_mcc"),
        by_code.label("by_code"),
        payee.label("payee"),
    )
    if within is not None:
        found = found.where(t.id.in_(within))
    q = found.subquery("found")
    by_payee = case(
        *((q.c.payee == literal(p), literal(c.value)) for p, c in PAYEE_WORDS), else_=null()
    )
    category = func.coalesce(
        RULES.c.category, q.c.by_mcc, q.c.by_code, by_payee, literal(Spending.uncategorised.value)
    )
    rule = case(
        (RULES.c.category.is_not(None), literal("person:") + q.c.person),
        (q.c.by_mcc.is_not(None), literal("mcc:") + q.c.mcc),
        (q.c.by_code.is_not(None), literal("provider:") + q.c.code),
        (q.c.payee.is_not(None), literal("portal:") + q.c.payee),
        else_=literal("none"),
    )
    return select(
        q.c.id, category, rule, null(), literal(now, DECIDED.c.decided_at.type)
    ).select_from(q.outerjoin(RULES, RULES.c.pattern == q.c.person))


def _open_to_pairing(decided: Any) -> ColumnElement[bool]:
    """A transaction that may be one side of a transfer between own accounts: nothing decided
    it (no rule of the person's, no merchant, no telling provider code, no payee word: a
    direct debit to an energy supplier is not a transfer), and it is not paired already."""
    # On the rule, which has no index, so that SQLite starts from the batch (a few rows)
    # rather than from every undecided transaction (the index on category: 90,000 of a
    # million, seeked for each sync's hundred).
    rule: ColumnElement[str] = decided.c.rule
    return rule == "none"


def _not_a_card_payment(side: Any) -> ColumnElement[bool]:
    code: ColumnElement[str] = side.c.category_code
    return or_(code.is_(None), and_(code.not_in(CARD_PAYMENTS), code.not_like(f"{CARD_FAMILY}%")))


def _pair_own_transfers(db: DBConnection, within: Select[Any] | None) -> None:
    """Mark as own_transfer each debit and a credit of the same amount and currency on
    another of the person's accounts booked within ``TRANSFER_WINDOW``, one to one, the
    closest in time first, where at least one side is in the batch."""
    d, c = TRANSACTIONS.alias("d"), TRANSACTIONS.alias("c")
    dk, ck = DECIDED.alias("dk"), DECIDED.alias("ck")

    def amount(side: Any) -> ColumnElement[Any]:
        # SQLite finds the other side through the index on CAST(amount AS REAL).
        return cast(side.c.amount, REAL) if db.dialect.name == "sqlite" else side.c.amount

    query = (
        select(d.c.id, d.c.booked_at, c.c.id, c.c.booked_at)
        .select_from(
            d.join(dk, dk.c.transaction_id == d.c.id)
            .join(
                c,
                and_(
                    # Both ways, so either side can be seeked by its amount; and || '' keeps
                    # SQLite off the index on currency: seeking every GBP transaction for
                    # each debit was quadratic (a million rows: minutes).
                    amount(c) == -amount(d),
                    amount(d) == -amount(c),
                    c.c.currency + literal("") == d.c.currency + literal(""),
                    c.c.account_id != d.c.account_id,
                ),
            )
            .join(ck, ck.c.transaction_id == c.c.id)
        )
        .where(
            d.c.amount < 0,
            _open_to_pairing(dk),
            _open_to_pairing(ck),
            _not_a_card_payment(d),
            _not_a_card_payment(c),
        )
    )
    sides = (
        [query]
        if within is None
        else [query.where(d.c.id.in_(within)), query.where(c.c.id.in_(within))]
    )
    candidates = {
        (abs(debited - credited), debit, credit)
        for side in sides
        for debit, debited, credit, credited in db.execute(side)
        if abs(debited - credited) <= TRANSFER_WINDOW
    }
    paired: set[str] = set()
    marks: list[dict[str, str]] = []
    for _, debit, credit in sorted(candidates):
        if debit in paired or credit in paired:
            continue
        paired |= {debit, credit}
        marks += [{"id": debit, "other": credit}, {"id": credit, "other": debit}]
    if marks:
        db.execute(
            update(DECIDED)
            .where(DECIDED.c.transaction_id == bindparam("id"))
            .values(
                category=Spending.own_transfer.value,
                rule="own-transfer",
                paired_with=bindparam("other"),
            ),
            marks,
        )


def _count(db: DBConnection, within: Select[Any] | None) -> Decided:
    rule, category = DECIDED.c.rule, DECIDED.c.category
    query = select(
        func.count(),
        func.coalesce(func.sum(case((rule.like("person:%"), 1), else_=0)), 0),
        func.coalesce(func.sum(case((category == Spending.own_transfer.value, 1), else_=0)), 0),
        func.coalesce(func.sum(case((category == Spending.uncategorised.value, 1), else_=0)), 0),
    )
    if within is not None:
        query = query.where(DECIDED.c.transaction_id.in_(within))
    row = db.execute(query).one()
    return Decided(*(int(value) for value in row))
