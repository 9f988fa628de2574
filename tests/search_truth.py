"""What a search must find, worked out here in Python from the store's rows (``Store.rows``),
independently of the index: the tests of the index and of the Search page compare to it."""

import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from portal.record import ENTITIES, Category, Entity
from portal.search import searched_fields
from portal.store import Store


def _plain(text: str) -> str:
    """Case and accents folded, as the index's tokenizer folds them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", _plain(text))


def _words_of(row: dict[str, Any], entity: type[Entity]) -> list[str]:
    """The words of a stored row's searched fields in order, computed here in Python."""
    words: list[str] = []
    for name in searched_fields(entity):
        column, _, inner = name.partition(".")
        value = row[column]
        if inner:
            value = [item.get(inner) for item in value or []]
        for text in _strings(value):
            words += tokens(text)
    return words


def _holds(words: list[str], typed: str) -> bool:
    """Whether ``words`` hold what a person typed: each thing typed (``co-op``: its words
    one after another) with its last word as the start of a word."""
    for part in typed.split():
        wanted = tokens(part)
        if not wanted:
            continue
        *whole, start = wanted
        n = len(wanted)
        if not any(
            words[i : i + n - 1] == whole and words[i + n - 1].startswith(start)
            for i in range(len(words) - n + 1)
        ):
            return False
    return True


Words = list[tuple[Category, str, list[str]]]
"""Every record of a store, as (category, portal id, its words in order)."""


def words(store: Store) -> Words:
    """Every record's words, read row by row from the store (for several ``expected``)."""
    return [
        (entity.category, row["id"], _words_of(row, entity))
        for entity in ENTITIES
        for row in store.rows(entity)
    ]


def expected(store: Store, typed: str, known: Words | None = None) -> set[tuple[Category, str]]:
    """The records holding what was typed, read row by row from the store (or ``known``,
    its records' words read once before)."""
    return {(c, key) for c, key, found in known or words(store) if _holds(found, typed)}
