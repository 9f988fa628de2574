"""A record's links, read from either side, in words: what ``portal show`` and the view's
record pages print ("Paid by: bank debit of £103.48 on 2 Dec 2025 to Demo Energy")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Table, or_, select
from sqlalchemy.engine import Connection as DBConnection

from portal.record import ENTITIES
from portal.record.tables import TABLES
from portal.understand.links import LINKS, RULES
from portal.view import formats

ROLES = {
    "bill-paid-by-debit": ("Paid by", "Pays the bill"),
    "order-paid-by-card": ("Paid by", "Pays for"),
    "refund-to-card": ("Refunded by", "Refund of the return"),
    "return-of-purchase": ("Returns items of", "Items returned by"),
    "mandate-pays-account": ("Pays the account", "Paid by"),
    "refund-of-card-payment": ("Refund of", "Refunded by"),
}
"""What the other record is to this one, seen from the link's first side and its second."""

_TABLES: dict[str, Table] = {
    e.category.value: TABLES[e].__table__  # type: ignore[attr-defined]
    for e in ENTITIES
}


@dataclass(frozen=True)
class Linked:
    """The record at the other end of one link."""

    role: str
    """What it is to this record, e.g. "Paid by"."""
    words: str
    """It, in words (provider text: pass through ``portal.shown`` before printing)."""
    rule: str
    rule_words: str
    confidence: str
    table: str
    key: str


def find(db: DBConnection, key: str) -> tuple[str, dict[str, Any]] | None:
    """The record whose portal id is ``key``, in whichever table holds it, with its table."""
    for name, table in _TABLES.items():
        row = db.execute(select(table).where(table.c.id == key)).first()
        if row is not None:
            return name, dict(row._mapping)
    return None


def links_of(db: DBConnection, table: str, key: str, zone: tzinfo | None = None) -> list[Linked]:
    """Every link of record ``key`` in ``table``, whichever side it is on, in words (dates
    in ``zone``, the computer's when None)."""
    c = LINKS.c
    query = select(LINKS).where(
        or_(
            (c.from_table == table) & (c.from_id == key),
            (c.to_table == table) & (c.to_id == key),
        )
    )
    out = []
    for link in db.execute(query).all():
        forward = link.from_table == table and link.from_id == key
        other_table, other_key = (
            (link.to_table, link.to_id) if forward else (link.from_table, link.from_id)
        )
        other = _TABLES[other_table]
        row = db.execute(select(other).where(other.c.id == other_key)).first()
        if row is None:  # the other record is gone: nothing to show
            continue
        role = ROLES.get(link.rule, ("Linked to", "Linked to"))[0 if forward else 1]
        out.append(
            Linked(
                role=role,
                words=describe(other_table, dict(row._mapping), zone),
                rule=link.rule,
                rule_words=RULES.get(link.rule, link.rule),
                confidence=link.confidence,
                table=other_table,
                key=other_key,
            )
        )
    return sorted(out, key=lambda linked: (linked.role, linked.words))


def _day(moment: datetime | Any, zone: tzinfo | None) -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone)
    return f"{moment.day} {moment:%b %Y}"


def describe(table: str, row: dict[str, Any], zone: tzinfo | None = None) -> str:
    """One record in a few words, naming its provider, amount and date."""
    provider = row.get("provider", "")
    if table == "transactions":
        amount = row["amount"]
        debit = amount < 0
        whom = row.get("counterparty") or row.get("merchant_name") or row.get("description")
        return (
            f"{provider} {'debit' if debit else 'credit'} of"
            f" {formats.money(abs(amount), row['currency'])} on {_day(row['booked_at'], zone)}"
            f" {'to' if debit else 'from'} {whom}"
        )
    if table == "bills":
        total = formats.money(row["total"], row["currency"])
        return (
            f"{provider} bill {row['bill_number']} of {total} issued {_day(row['issued_on'], zone)}"
        )
    if table == "purchases":
        return (
            f"{provider} {str(row['kind_label']).lower()} {row['order_number']} of"
            f" {formats.money(abs(row['total']), row['currency'])}"
            f" on {_day(row['purchased_at'], zone)}"
        )
    if table == "recurring_payments":
        reference = f" (reference {row['reference']})" if row.get("reference") else ""
        return f"{provider} {str(row['kind_label']).lower()} to {row['payee']}{reference}"
    if table == "accounts":
        return f"{provider} account {row['name']}"
    return f"{provider} record {row.get('provider_id', row['id'])}"
