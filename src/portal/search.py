"""Full-text search over every record: an SQLite FTS5 index the store keeps by itself.

What is searched: for each entity, its ``Text`` fields (descriptions, names, references,
counterparties, merchants, purposes, every ``*_label`` ...), the ``Text`` fields of the
value objects it holds as JSON (bill and order lines, recipients of the data, addresses,
prices) and its JSON lists of words (data categories, permission codes). Not searched:
codes without words, amounts, timestamps, ids, and ``extra`` (the provider's other fields,
as released: keys and values a person did not write).

Kept up to date by triggers on each entity table (after insert, update, delete): every path
that writes a row (a sync's commit in this process, the writer process of a long sync, an
import's ``write_in``, ``disconnect --delete-data``) updates the index in the same SQLite
transaction as the row, so a sync killed at any moment leaves index and rows agreeing.

The index is two tables. ``search_keys`` gives every record a number, ``search_index``
(FTS5, tokenizer ``unicode61 remove_diacritics 2``: "cafe" finds "Café") holds its text
under that number. A number is its category's (``CATEGORY_NUMBERS``) shifted left by 40
bits plus a sequence: counting hits per category and listing one category's hits are rowid
ranges of the FTS5 table, with no join over the matches.

PostgreSQL stores have no index: ``search`` answers ``available=False`` and the view says
that search needs the SQLite store.
"""

# The SQL here is built from portal's own table and field names and numbers; every value a
# row or a person supplies is bound, never written into the text.
# ruff: noqa: S608

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from sqlalchemy import (
    ColumnElement,
    Engine,
    ScalarSelect,
    TextualSelect,
    column,
    func,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection as DBConnection

from portal.record.model import ENTITIES, Entity
from portal.record.types import Text
from portal.record.vocab import Category

VERSION = 1
"""Part of every trigger's name: a store whose triggers carry another version (an older
portal's choice of text) has its index built again."""

CATEGORY_NUMBERS: dict[Category, int] = {
    Category.party: 1,
    Category.accounts: 2,
    Category.products: 3,
    Category.balances: 4,
    Category.transactions: 5,
    Category.purchases: 6,
    Category.bills: 7,
    Category.usage: 8,
    Category.recurring_payments: 9,
    Category.consents: 10,
    Category.processing: 11,
    Category.inferences: 12,
    Category.documents: 13,
    Category.payees: 14,
}
"""The high bits of a record's number in the index. Stored in every store: never renumber;
a new category takes a new number."""

_SHIFT = 40
SEPARATOR = " · "
"""Between two fields of a record's text (a separator for the tokenizer too)."""
MARK_START, MARK_END = "\x02", "\x03"
"""What FTS5 puts around a hit in a snippet: control characters, which ``Text`` refuses,
so provider text cannot forge them. The page turns them into ``<mark>``."""
MAX_TERMS = 16
"""Words of a query used (the rest are ignored): each is a prefix query of its own."""


def _range(number: int) -> tuple[int, int]:
    return number << _SHIFT, ((number + 1) << _SHIFT) - 1


def _is_text(info: FieldInfo) -> bool:
    """Whether a field holds ``Text`` (clean words), alone or optional."""
    text_check = get_args(Text)[1]
    if info.annotation is str and any(m == text_check for m in info.metadata):
        return True
    return Text in get_args(info.annotation)


def _is_text_list(info: FieldInfo) -> bool:
    return info.annotation in (list[str], list[Text])


def _nested(info: FieldInfo) -> type[BaseModel] | None:
    """The value object a JSON list field holds (bill lines, recipients), if any."""
    for kind in get_args(info.annotation):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
    return None


def searched_fields(entity: type[Entity]) -> list[str]:
    """The fields of ``entity`` whose words are searched (nested ones as ``lines.description``)."""
    found: list[str] = []
    for name, info in entity.model_fields.items():
        if name == "extra":
            continue
        if _is_text(info) or _is_text_list(info):
            found.append(name)
        elif (inner := _nested(info)) is not None:
            parts = inner.model_fields.items()
            found += [f"{name}.{n}" for n, i in parts if _is_text(i) or _is_text_list(i)]
    # What the record says first, its labels after: a snippet starts with the words.
    return sorted(found, key=lambda name: name.endswith("_label"))


def _part(row: str, entity: type[Entity], name: str) -> str:
    """The SQL for one searched field of the row ``row`` (``new``, or a table's name)."""
    column, _, inner = name.partition(".")
    value = f'{row}."{column}"'
    if inner:
        # A list of value objects (JSON): each one's field; a list inside comes as JSON
        # text, whose quotes and brackets the tokenizer skips.
        return (
            f"(SELECT group_concat(json_extract(value, '$.{inner}'), ' ') FROM json_each({value}))"
        )
    if _is_text_list(entity.model_fields[column]):
        return f"(SELECT group_concat(value, ' ') FROM json_each({value}))"
    return value


def text_sql(entity: type[Entity], row: str) -> str:
    """The SQL expression of a record's searched text: its fields joined by ``SEPARATOR``."""
    parts = [
        f"coalesce('{SEPARATOR}' || nullif({_part(row, entity, n)}, ''), '')"
        for n in searched_fields(entity)
    ]
    joined = " || ".join(parts) or "''"
    return f"substr({joined}, {len(SEPARATOR) + 1})"


def _table(entity: type[Entity]) -> str:
    return entity.category.value


def _triggers(entity: type[Entity]) -> dict[str, str]:
    """The three triggers that keep ``entity``'s index entries in step with its rows."""
    table, number = _table(entity), CATEGORY_NUMBERS[entity.category]
    low, high = _range(number)
    key = f"(SELECT rowid FROM search_keys WHERE category = '{table}' AND id = old.id)"
    name = f"search_v{VERSION}_{table}"
    return {
        f"{name}_insert": f"""
            CREATE TRIGGER "{name}_insert" AFTER INSERT ON "{table}" BEGIN
              INSERT INTO search_keys (rowid, category, id) VALUES (
                coalesce((SELECT rowid FROM search_keys WHERE rowid BETWEEN {low} AND {high}
                          ORDER BY rowid DESC LIMIT 1), {low}) + 1,
                '{table}', new.id);
              INSERT INTO search_index (rowid, body)
                VALUES (last_insert_rowid(), {text_sql(entity, "new")});
            END""",
        f"{name}_update": f"""
            CREATE TRIGGER "{name}_update" AFTER UPDATE ON "{table}" BEGIN
              UPDATE search_index SET body = {text_sql(entity, "new")} WHERE rowid = {key};
              UPDATE search_keys SET id = new.id
                WHERE category = '{table}' AND id = old.id AND new.id IS NOT old.id;
            END""",
        f"{name}_delete": f"""
            CREATE TRIGGER "{name}_delete" AFTER DELETE ON "{table}" BEGIN
              DELETE FROM search_index WHERE rowid = {key};
              DELETE FROM search_keys WHERE category = '{table}' AND id = old.id;
            END""",
    }


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS search_keys ("
    " rowid INTEGER PRIMARY KEY, category TEXT NOT NULL, id TEXT NOT NULL,"
    " UNIQUE (category, id))",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5("
    " body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3', columnsize = 0)",
)


def ensure_search_index(db: DBConnection) -> bool:
    """Create the search index and its triggers if missing, and fill it from the rows.

    Idempotent, in ``db``'s transaction: a store whose index tables and triggers are all
    there, of this version, is left as it is (the triggers have kept it since it was
    built). One with no index, a table of it missing, or triggers missing or of another
    version (a table rebuilt by a migration loses its triggers) has its index built again
    from the rows. Does nothing on a database other than SQLite. Returns whether it built.
    """
    if db.dialect.name != "sqlite":
        return False
    master = "SELECT name FROM sqlite_master WHERE type = ? AND name LIKE 'search%'"
    tables = {row[0] for row in db.exec_driver_sql(master, ("table",))}
    present = {row[0] for row in db.exec_driver_sql(master, ("trigger",))}
    wanted = {name: sql for e in ENTITIES for name, sql in _triggers(e).items()}
    if {"search_keys", "search_index"} <= tables and present == set(wanted):
        return False
    for name in present:
        db.exec_driver_sql(f'DROP TRIGGER "{name}"')
    db.exec_driver_sql("DROP TABLE IF EXISTS search_index")
    db.exec_driver_sql("DROP TABLE IF EXISTS search_keys")
    for statement in _SCHEMA:
        db.exec_driver_sql(statement)
    for entity in ENTITIES:
        _fill(db, entity)
    for sql in wanted.values():
        db.exec_driver_sql(sql)
    return True


def _fill(db: DBConnection, entity: type[Entity]) -> None:
    table, (low, _) = _table(entity), _range(CATEGORY_NUMBERS[entity.category])
    # Portal's own names and numbers only: no value from a row is written into the SQL.
    db.exec_driver_sql(
        f"INSERT INTO search_keys (rowid, category, id)"
        f" SELECT {low} + row_number() OVER (ORDER BY rowid), '{table}', id FROM \"{table}\""
    )
    text = text_sql(entity, f'"{table}"')
    db.exec_driver_sql(
        f"INSERT INTO search_index (rowid, body)"
        f' SELECT k.rowid, {text} FROM "{table}"'
        f" JOIN search_keys AS k ON k.category = '{table}' AND k.id = \"{table}\".id"
    )


def has_search_index(db: DBConnection) -> bool:
    """Whether ``db`` holds the search index (a read-only store may predate it)."""
    if db.dialect.name != "sqlite":
        return False
    found = db.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'search_index'"
    ).first()
    return found is not None


def ids_matching(category: Category, words: str) -> TextualSelect | None:
    """The portal ids of ``category``'s records holding ``words`` (as the Search page finds
    them), as a subquery for ``column.in_(...)``; None when no word is left to look for."""
    return _matching(
        category,
        words,
        "SELECT k.id FROM search_index JOIN search_keys AS k ON k.rowid = search_index.rowid"
        " WHERE search_index MATCH :match AND search_index.rowid BETWEEN :low AND :high",
        "id",
    )


def numbers_matching(category: Category, words: str) -> TextualSelect | None:
    """The index numbers (``search_keys.rowid``) of ``category``'s records holding ``words``,
    as a subquery for ``IN``: read from the FTS5 table alone, without a join, so SQLite
    gathers even 800,000 of them in a fraction of a second. None when no word is left."""
    return _matching(
        category,
        words,
        "SELECT rowid FROM search_index"
        " WHERE search_index MATCH :match AND rowid BETWEEN :low AND :high",
        "rowid",
    )


def _matching(category: Category, words: str, sql: str, name: str) -> TextualSelect | None:
    """``sql`` (one column, ``name``) bound to the search for ``words`` among ``category``'s
    index numbers; None when no word is left to look for."""
    query = match_query(words)
    if query is None:
        return None
    low, high = _range(CATEGORY_NUMBERS[category])
    return text(sql).bindparams(match=query, low=low, high=high).columns(column(name))


def number_of(category: Category, key: ColumnElement[Any]) -> ScalarSelect[Any]:
    """The index number of the record of ``category`` whose portal id is ``key`` (a column
    of the outer query): one seek in ``search_keys``' unique index per row."""
    keys = table("search_keys", column("rowid"), column("category"), column("id"))
    found = select(keys.c.rowid).where(keys.c.category == category.value, keys.c.id == key)
    return found.scalar_subquery()


def count_matching(db: DBConnection, category: Category, words: str, most: int) -> int:
    """How many of ``category``'s records hold ``words``, counting no further than ``most``
    (each counted hit costs a step through the index: a common word has 800,000)."""
    numbers = numbers_matching(category, words)
    if numbers is None:
        return 0
    hits = numbers.subquery()
    capped = select(hits.c.rowid).limit(most).subquery()
    return int(db.execute(select(func.count()).select_from(capped)).scalar_one())


def keyed(db: DBConnection, category: Category) -> int:
    """How many of ``category``'s records the index has numbered, ever (deleted ones
    included): a bound for the size of the category, read with one seek."""
    low, high = _range(CATEGORY_NUMBERS[category])
    last = db.exec_driver_sql(
        "SELECT max(rowid) FROM search_keys WHERE rowid BETWEEN ? AND ?", (low, high)
    ).scalar()
    return 0 if last is None else int(last) - low


def match_query(words: str) -> str | None:
    """A person's words as an FTS5 query: every word must start a word of the record.

    Each word is quoted (doubling any ``"``), so nothing a person types is FTS5 syntax:
    ``NEAR(``, ``a OR``, a lone ``"`` are words like any other. None when nothing is left.
    """
    terms = words.split()[:MAX_TERMS]
    quoted = ['"' + term.replace('"', '""') + '"*' for term in terms]
    return " ".join(quoted) or None


@dataclass(frozen=True)
class Hit:
    """One record whose text matches, and the text around the match."""

    category: Category
    id: str
    provider: str
    snippet: list[tuple[str, bool]]
    """The matched text in pieces, each marked True where it is a hit."""


@dataclass(frozen=True)
class Found:
    """What a search found: counts per category, and one page of hits."""

    available: bool
    """False where the store has no index (PostgreSQL, or a store not opened for writing
    since search came)."""
    counts: dict[Category, int]
    hits: list[Hit]

    @property
    def total(self) -> int:
        """Every hit in every category."""
        return sum(self.counts.values())


def pieces(snippet: str) -> list[tuple[str, bool]]:
    """FTS5's snippet (hits between ``MARK_START`` and ``MARK_END``) as plain text pieces."""
    result: list[tuple[str, bool]] = []
    for n, part in enumerate(re.split(f"[{MARK_START}{MARK_END}]", snippet)):
        if part:
            result.append((part, n % 2 == 1))
    return result


def search(
    engine: Engine,
    words: str,
    categories: Iterable[Category] = (),
    *,
    limit: int = 50,
    offset: int = 0,
) -> Found:
    """What ``words`` match: the count in each category, and the hits of ``categories``
    (``limit`` each from ``offset``, most recently stored first)."""
    query = match_query(words)
    with engine.connect() as db:
        if not has_search_index(db):
            return Found(False, {}, [])
        if query is None:
            return Found(True, {}, [])
        counts = _counts(db, query)
        hits: list[Hit] = []
        for category in categories:
            if counts.get(category):
                hits += _hits(db, query, category, limit, offset)
    return Found(True, counts, hits)


def _counts(db: DBConnection, query: str) -> dict[Category, int]:
    by_number = {n: c for c, n in CATEGORY_NUMBERS.items()}
    rows = db.exec_driver_sql(
        f"SELECT rowid >> {_SHIFT}, count(*) FROM search_index"
        " WHERE search_index MATCH ? GROUP BY 1",
        (query,),
    )
    found = {by_number[n]: count for n, count in rows if n in by_number}
    return {c: found[c] for c in CATEGORY_NUMBERS if c in found}


def _hits(db: DBConnection, query: str, category: Category, limit: int, offset: int) -> list[Hit]:
    low, high = _range(CATEGORY_NUMBERS[category])
    table = category.value
    rows: Sequence[Any] = db.exec_driver_sql(
        "SELECT k.id, t.provider, s.snippet FROM ("
        "  SELECT rowid, snippet(search_index, 0, char(2), char(3), '…', 24) AS snippet"
        "  FROM search_index WHERE search_index MATCH ? AND rowid BETWEEN ? AND ?"
        "  ORDER BY rowid DESC LIMIT ? OFFSET ?) AS s"
        " JOIN search_keys AS k ON k.rowid = s.rowid"
        f' JOIN "{table}" AS t ON t.id = k.id'
        " ORDER BY s.rowid DESC",
        (query, low, high, limit, offset),
    ).all()
    return [Hit(category, key, provider, pieces(snippet)) for key, provider, snippet in rows]
