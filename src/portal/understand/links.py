"""Links across providers: which payment paid which bill, which card payment which order.

The step "links" reads what a sync brought and links, in the ``links`` table:

- a bill at one provider to the bank debit at another that paid it (``bill-paid-by-debit``);
- a retailer's order to the card payment that paid it (``order-paid-by-card``), and a
  return to the card refund (``refund-to-card``) and to the order it takes back
  (``return-of-purchase``);
- a direct debit or standing order to the account it pays at a connected provider
  (``mandate-pays-account``);
- a card refund to the card payment it gives back (``refund-of-card-payment``).

Each link records its rule and a confidence: *high* when the payment also names the
biller's account or the shop, *medium* on amount and date alone. A pair is made only when
each side is the other's one best candidate (``portal.understand.matching``), so two bills
of one amount in one window make no link, and are reported.

Incremental: a bill, order or return fetched since the last run looks for its payment
among every transaction in its window (an index range on currency and booking time); a
transaction fetched since looks, through the same rules, for the records whose window
holds it. ``portal understand --again`` works every link out anew.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection

from portal.record.tables import (
    AccountRow,
    BillRow,
    PurchaseRow,
    RecurringPaymentRow,
    TransactionRow,
)
from portal.understand import Finding
from portal.understand.matching import names_any, plain
from portal.understand.tables import Link

BILLS: Table = BillRow.__table__  # type: ignore[attr-defined]
TRANSACTIONS: Table = TransactionRow.__table__  # type: ignore[attr-defined]
PURCHASES: Table = PurchaseRow.__table__  # type: ignore[attr-defined]
RECURRING: Table = RecurringPaymentRow.__table__  # type: ignore[attr-defined]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]
LINKS: Table = Link.__table__  # type: ignore[attr-defined]

HIGH, MEDIUM = "high", "medium"
DUE_DAYS = 14
"""When a bill states no due date, it is taken to fall due this many days after issue."""
LATE_DAYS = 10
"""A direct debit may collect this many days after the bill falls due (weekends, holidays,
the biller's own run)."""
CARD_DAYS = 1
"""A card payment is booked within a day of the order (time zones, the card's cut-off)."""
LOOKBACK = timedelta(days=DUE_DAYS + LATE_DAYS + 60)
"""How far before a new payment a bill it may have paid can have been issued."""

RULES = {
    "bill-paid-by-debit": "a bank debit of the bill's total, after it was issued and by"
    f" {LATE_DAYS} days after it fell due",
    "order-paid-by-card": "a card payment of the order's total at the shop, within"
    f" {CARD_DAYS} day of the order",
    "refund-to-card": "a card refund of the return's amount from the shop, within"
    f" {CARD_DAYS} day of the return",
    "return-of-purchase": "the return names the order it takes back",
    "mandate-pays-account": "the payment's reference is the account number at a connected provider",
    "refund-of-card-payment": "a card refund from the same merchant carrying the payment's"
    " reference",
}
"""Every rule, in words (``portal show`` and the view print the rule's name beside them)."""


@dataclass(frozen=True)
class Accounts:
    """Each provider's account numbers and names, folded: the evidence a payment can name."""

    numbers: dict[str, set[str]]
    """Per account id."""
    by_provider: dict[str, set[str]]
    names: dict[str, list[str]]
    """Account names per provider (e.g. "Demo Mart Rewards")."""
    provider_of: dict[str, str]

    @classmethod
    def read(cls, db: DBConnection) -> Accounts:
        """Every account's identifiers (a person has tens of accounts, not millions)."""
        numbers: dict[str, set[str]] = {}
        by_provider: dict[str, set[str]] = {}
        names: dict[str, list[str]] = {}
        provider_of: dict[str, str] = {}
        columns = ACCOUNTS.c.id, ACCOUNTS.c.provider, ACCOUNTS.c.name, ACCOUNTS.c.identifiers
        for account_id, provider, name, identifiers in db.execute(select(*columns)):
            found = {plain(i.get("identification")) for i in identifiers or []}
            numbers[account_id] = found
            by_provider.setdefault(provider, set()).update(found)
            names.setdefault(provider, []).append(plain(name))
            provider_of[account_id] = provider
        return cls(numbers, by_provider, names, provider_of)


class LinksStep:
    """The step "links" (``portal.understand``)."""

    name = "links"

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Link what was fetched since ``since`` (everything, anew, when None)."""
        if since is None:
            db.execute(delete(LINKS))
        accounts = Accounts.read(db)
        now = datetime.now(UTC)
        made: Counter[str] = Counter()
        warnings: list[str] = []
        from portal.understand.link_bills import bill_links
        from portal.understand.link_purchases import mandate_links, purchase_links, return_links
        from portal.understand.link_refunds import refund_links

        new = new_payments(db, since)  # once: the one read of the transactions fetched since
        finders = (bill_links, purchase_links, return_links, mandate_links, refund_links)
        for finder in finders:
            found, said = finder(db, since, accounts, new)
            for rule, from_id, to_id, confidence in found:
                _add(db, rule, from_id, to_id, confidence, now)
                made[rule] += 1
            warnings += said
        total = sum(made.values())
        summary = ", ".join(f"{n} by {rule}" for rule, n in sorted(made.items()))
        words = f"{total} {'link' if total == 1 else 'links'} ({summary})" if made else ""
        return Finding(self.name, words, warnings)


FROM_TO = {
    "bill-paid-by-debit": ("bills", "transactions"),
    "order-paid-by-card": ("purchases", "transactions"),
    "refund-to-card": ("purchases", "transactions"),
    "return-of-purchase": ("purchases", "purchases"),
    "mandate-pays-account": ("recurring_payments", "accounts"),
    "refund-of-card-payment": ("transactions", "transactions"),
}
"""The tables each rule links from and to."""

Found = tuple[str, str, str, str]
"""(rule, from id, to id, confidence)."""


def _add(db: DBConnection, rule: str, from_id: str, to_id: str, level: str, at: datetime) -> None:
    from_table, to_table = FROM_TO[rule]
    dialect = postgresql if db.dialect.name == "postgresql" else sqlite
    values = {"from_table": from_table, "from_id": from_id, "to_table": to_table, "to_id": to_id}
    insert = dialect.insert(LINKS).values(**values, rule=rule, confidence=level, found_at=at)
    db.execute(insert.on_conflict_do_nothing())


def fetched(table: Table, since: datetime | None) -> ColumnElement[bool]:
    """Rows fetched after ``since`` (every row when None)."""
    if since is None:
        return and_(True)
    return table.c.fetched_at > since


def unlinked_from(table: Table, name: str, to_table: str) -> ColumnElement[bool]:
    """Rows of ``table`` (called ``name``) that no link to ``to_table`` starts from yet."""
    return ~exists().where(
        LINKS.c.from_table == name, LINKS.c.from_id == table.c.id, LINKS.c.to_table == to_table
    )


def unlinked_payment() -> ColumnElement[bool]:
    """Transactions no link from a bill or purchase ends at yet: a payment settles one thing
    (a refund of it, a link from a transaction, does not make it another's)."""
    return ~exists().where(
        LINKS.c.to_table == "transactions",
        LINKS.c.to_id == TRANSACTIONS.c.id,
        LINKS.c.from_table != "transactions",
    )


Span = tuple[datetime, datetime] | None
"""The first and last booking time of the transactions fetched since the last run (None:
none, or a run over everything)."""


def new_payments(db: DBConnection, since: datetime | None) -> Span:
    """The first and last booking time of the transactions fetched since ``since`` (a range
    of the index on ``fetched_at``: nothing to read when a sync brought nothing)."""
    if since is None:
        return None
    t = TRANSACTIONS.c
    first, last = db.execute(
        select(func.min(t.booked_at), func.max(t.booked_at)).where(fetched(TRANSACTIONS, since))
    ).one()
    if first is None:
        return None
    return _aware(first), _aware(last)


def payments(
    db: DBConnection,
    currency: str,
    amount: Any,
    start: datetime,
    end: datetime,
    not_provider: str,
    extra: Sequence[ColumnElement[bool]] = (),
) -> dict[str, dict[str, Any]]:
    """The unlinked transactions of ``amount`` booked in [start, end] at another provider,
    by id (an index range on currency and booking time)."""
    t = TRANSACTIONS.c
    query = select(TRANSACTIONS).where(
        t.currency == currency,
        t.booked_at >= start,
        t.booked_at <= end,
        t.amount == amount,
        t.provider != not_provider,
        unlinked_payment(),
        *extra,
    )
    return {row.id: dict(row._mapping) for row in db.execute(query)}


def midnight(day: date) -> datetime:
    """The start of ``day`` in UTC, less a day: a local date's payments may be booked the
    evening before in UTC."""
    return datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)


def _aware(value: Any) -> datetime:
    if isinstance(value, str):  # an aggregate on SQLite gives the stored text back
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def texts(payment: dict[str, Any]) -> list[str | None]:
    """What a payment says about whom it paid."""
    return [
        payment.get("reference"),
        payment.get("description"),
        payment.get("counterparty"),
        payment.get("merchant_name"),
    ]


def evidence_for_account(
    accounts: Accounts, account_id: str, provider: str, payment: dict[str, Any]
) -> int:
    """2 when the payment names the record's own account, 1 another account of its provider
    (or the provider's name), else 0."""
    said = texts(payment)
    if names_any(said, accounts.numbers.get(account_id, set())):
        return 2
    if names_any(said, accounts.by_provider.get(provider, set())):
        return 1
    return 1 if shop_named(accounts, provider, payment) else 0


def shop_named(accounts: Accounts, provider: str, payment: dict[str, Any]) -> bool:
    """Whether the payment's merchant or payee is the name one of the provider's accounts
    starts with ("Demo Mart" for "Demo Mart Rewards")."""
    payee = plain(payment.get("merchant_name") or payment.get("counterparty"))
    return len(payee) >= 4 and any(n.startswith(payee) for n in accounts.names.get(provider, []))


def pairs_to_found(rule: str, pairs: Sequence[Any]) -> list[Found]:
    """``mutual_best``'s pairs as links of ``rule``, high when the payment named the other."""
    return [(rule, p.from_id, p.to_id, HIGH if p.evidence else MEDIUM) for p in pairs]


def ambiguous_words(kind: str, rows: dict[str, dict[str, Any]], found: Sequence[Any]) -> list[str]:
    """Warnings for records left unlinked because several payments fitted as well."""
    out = []
    for a in found:
        row = rows[a.from_id]
        out.append(
            f"{kind} {row.get('bill_number') or row.get('order_number')} of"
            f" {row['total']} {row['currency']}: {a.candidates} payments fit it as well as"
            " each other, so none is linked."
        )
    return out


def within(moment: datetime, start: datetime, end: datetime) -> bool:
    """Whether ``moment`` lies in [start, end]."""
    return start <= _aware(moment) <= end


def any_of(conditions: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``or_`` that is false for no conditions."""
    return or_(False, *conditions)
