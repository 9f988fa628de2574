"""What a record's page says: every field with its title and description, where the record
came from, and the raw payload it was made from.

The words are the record model's own (each field's title and description, the category's
label, the vocabularies' labels), so the page says what exports and reports say. One
record is read by its key; its raw payload and rejections by the raw payload's digest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, get_args

from markupsafe import Markup, escape
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import select

from portal.record import CATEGORY_LABELS, ENTITIES, STATE_LABELS, Category, Entity, State
from portal.record.base import titles
from portal.record.tables import TABLES, Connection, RawItem, Rejection
from portal.record.types import Money, Quantity
from portal.record.vocab import Origin
from portal.search import searched_fields
from portal.shown import shown
from portal.store import Store
from portal.view import formats, zone
from portal.view.missing import Missing
from portal.view.stored import stored

if TYPE_CHECKING:
    from portal.understand.linked import Linked
    from portal.view.catalogue import Visit

RAW_LIMIT = 64_000
"""Characters of a raw payload the page shows; a longer one is cut, with a note."""

PROVENANCE = (
    "provider",
    "provider_id",
    "origin",
    "fetched_at",
    "consent_id",
    "connection_id",
    "raw_id",
    "id",
)
"""The fields every record carries about where it came from, in the order shown."""

NAMES = ("description", "name", "full_name", "title", "purpose", "payee", "bill_number")
"""The fields that name a record in its page's heading, the first it has (else its words)."""

ORIGINS = {
    Origin.provided: "Provided: you gave it to the provider (a name, an address, a choice).",
    Origin.observed: "Observed: the provider recorded it from what you did (a payment, a reading).",
    Origin.inferred: "Inferred: the provider worked it out about you (a segment, a score).",
}

_BY_CATEGORY = {entity.category: entity for entity in ENTITIES}


@dataclass(frozen=True)
class Value:
    """One value as a person reads it."""

    text: str = ""
    code: str | None = None
    """The code behind ``text`` (a status, a state), shown beside it."""
    moment: datetime | None = None
    """A moment, which the page shows in the person's time zone (``text`` is then empty)."""
    table: Table | None = None
    """Value objects (bill lines, recipients), as a table."""


@dataclass(frozen=True)
class Table:
    """A list of value objects: a heading per field, a row per object."""

    headings: list[str]
    rows: list[list[Value]]


@dataclass(frozen=True)
class Shown:
    """One field of the record: its title, its description and its value."""

    name: str
    title: str
    description: str
    value: Value


@dataclass(frozen=True)
class Raw:
    """The raw payload a record was made from."""

    id: str
    stream: str
    fetched_at: datetime
    text: Markup
    """Pretty-printed JSON, cut at ``RAW_LIMIT`` characters, neutralised (``portal.shown``,
    lines kept) and HTML-escaped here: the page prints it as it is, in a ``<pre>``."""
    size: int
    """The stored payload's size in bytes (canonical JSON)."""
    cut: bool


@dataclass(frozen=True)
class RecordPage:
    """Everything a record's page shows."""

    category: Category
    label: str
    name: str
    provider: str
    fields: list[Shown]
    provenance: list[Shown]
    extra: list[tuple[str, str]]
    connection: Connection | None
    consent_key: str | None
    """The portal id of the consent this record came under, if the store holds it."""
    raw: Raw | None
    rejections: list[dict[str, Any]] = field(default_factory=list)


def _is(info: FieldInfo, kind: Any) -> bool:
    """Whether a field is of the annotated type ``kind`` (``Money``), alone or optional."""
    base, *checks = get_args(kind)
    if info.annotation is base and all(check in info.metadata for check in checks):
        return True
    return kind in get_args(info.annotation)


def _plain(value: Any) -> str:
    if value is None:
        return "not stated"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _amount(value: Decimal, info: FieldInfo, holder: Any, currency: str | None) -> str:
    """Money with its currency (the holder's, or its record's for a line); a quantity, or
    money with no currency (loyalty points), with the holder's unit."""
    currency = getattr(holder, "currency", None) or currency
    if _is(info, Money) and currency:
        return formats.money(value, currency)
    unit = getattr(holder, "unit", None)
    return formats.quantity(value, str(unit) if unit else None)


def _value(holder: BaseModel, name: str, info: FieldInfo, currency: str | None = None) -> Value:
    """``holder``'s field ``name`` as a person reads it (``currency``: its record's)."""
    value = getattr(holder, name)
    fields = type(holder).model_fields
    label = f"{name.removesuffix('_code')}_label"
    if value is None:
        return Value("not stated")
    if isinstance(value, datetime):
        return Value(moment=value)
    if isinstance(value, Decimal) and (_is(info, Money) or _is(info, Quantity)):
        return Value(_amount(value, info, holder, currency))
    if isinstance(value, State):
        return Value(STATE_LABELS.get(value, value.value), value.value)
    if isinstance(value, Origin):
        return Value(ORIGINS[value], value.value)
    if label != name and label in fields and getattr(holder, label):
        return Value(str(getattr(holder, label)), _plain(value))
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return Value(table=_table(value, getattr(holder, "currency", None)))
    return Value(_plain(value))


def _table(items: list[BaseModel], currency: str | None) -> Table:
    kind = type(items[0])
    parts: dict[str, FieldInfo] = kind.model_fields
    headings = [info.title or name for name, info in parts.items()]
    rows = [[_value(item, n, info, currency) for n, info in parts.items()] for item in items]
    return Table(headings, rows)


def _shown(record: Entity, names: list[str]) -> list[Shown]:
    words = titles(type(record))
    info = type(record).model_fields
    return [Shown(n, *words[n], _value(record, n, info[n])) for n in names]


def _raw(store: Store, raw_id: str) -> Raw | None:
    table = RawItem.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as db:
        row = db.execute(select(table).where(table.c.id == raw_id)).first()
    if row is None:
        return None
    payload: str = row.payload
    try:
        text = json.dumps(json.loads(payload[: RAW_LIMIT * 16]), indent=2, ensure_ascii=False)
    except ValueError:  # too long to parse whole, or not JSON: shown as stored
        text = payload
    return Raw(
        id=row.id,
        stream=row.stream,
        fetched_at=row.fetched_at,
        text=escape(shown(text[:RAW_LIMIT], multiline=True, limit=RAW_LIMIT)),
        size=len(payload.encode()),
        cut=len(text) > RAW_LIMIT,
    )


def _rejections(store: Store, raw_id: str) -> list[dict[str, Any]]:
    table = Rejection.__table__  # type: ignore[attr-defined]
    with store.engine.connect() as db:
        rows = db.execute(select(table).where(table.c.raw_id == raw_id))
        return [r._asdict() for r in rows]


def _connection(store: Store, connection_id: str) -> Connection | None:
    return next((c for c in store.connections() if c.id == connection_id), None)


def _consent_key(store: Store, record: Entity) -> str | None:
    if not record.consent_id:
        return None
    table = TABLES[_BY_CATEGORY[Category.consents]].__table__  # type: ignore[attr-defined]
    query = select(table.c.id).where(
        table.c.provider == record.provider, table.c.provider_id == record.consent_id
    )
    with store.engine.connect() as db:
        key = db.execute(query).scalar()
    return None if key is None else str(key)


def record_page(store: Store, category: str, key: str) -> RecordPage:
    """The record ``key`` of ``category`` (its table's name); ``Missing`` if there is none."""
    try:
        entity = _BY_CATEGORY[Category(category)]
    except ValueError:
        raise Missing(
            "Portal's record has no category with that name.",
            "Follow a link from Search or another page rather than typing the address.",
        ) from None
    table = TABLES[entity].__table__  # type: ignore[attr-defined]
    with store.engine.connect() as db:
        row = db.execute(select(table).where(table.c.id == key)).first()
    label = CATEGORY_LABELS[entity.category]
    if row is None:
        raise Missing(
            f"Your store holds no record of {label.lower()} with that id.",
            "The provider may have withdrawn it since; search for it by its words.",
        )
    record = stored(entity, row._asdict())
    names = [n for n in entity.model_fields if n not in PROVENANCE and n != "extra"]
    named = (n for n in (*NAMES, *searched_fields(entity)) if n in names and getattr(record, n))
    name = next(named, None)
    return RecordPage(
        category=entity.category,
        label=label,
        name=str(getattr(record, name)) if name else record.provider_id,
        provider=record.provider,
        fields=_shown(record, names),
        provenance=_shown(record, list(PROVENANCE)),
        extra=[(k, _plain(v)) for k, v in sorted(record.extra.items())],
        connection=_connection(store, record.connection_id),
        consent_key=_consent_key(store, record),
        raw=_raw(store, record.raw_id),
        rejections=_rejections(store, record.raw_id),
    )


def context(visit: Visit) -> dict[str, Any]:
    """A record page's template context."""
    found = record_page(visit.store, visit.arguments["table"], visit.arguments["key"])
    return {"record": found, "raw_limit": RAW_LIMIT, "links": _links(visit.store, found)}


def _links(store: Store, page: RecordPage) -> list[Linked]:
    """The records linked to this one at other providers (``portal.understand.links``)."""
    from portal.understand.linked import links_of

    key = next(f.value.text for f in page.provenance if f.name == "id")
    with store.engine.connect() as db:
        return links_of(db, page.category.value, key, zone.current())
