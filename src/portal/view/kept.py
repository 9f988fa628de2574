"""What a page works out from the whole store, whatever the person asked (the Money page's
balances over time and money in and out per month), kept until the store changes.

With a million transactions those parts take half a second, and a person filtering the
list asks for the same page again and again: the second ask reuses them. Whether the store
changed is SQLite's own word: ``PRAGMA data_version``, read on a connection of portal's that
never writes, changes whenever any other connection (a sync in another process included)
commits. Read before the parts are worked out, so a write committed meanwhile makes the
next ask work them out again. Kept only for a SQLite file; any other store (PostgreSQL, a
database in memory) has them worked out on every ask.
"""

from __future__ import annotations

import sqlite3
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from portal.store import Store

T = TypeVar("T")

_LOCK = threading.Lock()
_WATCHES: weakref.WeakKeyDictionary[Store, sqlite3.Connection | None] = weakref.WeakKeyDictionary()
_KEPT: weakref.WeakKeyDictionary[Store, dict[Hashable, tuple[int, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _watch(store: Store) -> sqlite3.Connection | None:
    """A read-only connection to ``store``'s file, kept to read its data version; None
    where the store is not a SQLite file."""
    url = store.engine.url
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    path = Path(database)
    if url.query or not path.is_file():  # a URI with options of its own: not guessed at
        return None
    uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
    try:
        return sqlite3.connect(uri, uri=True, check_same_thread=False)
    except sqlite3.Error:
        return None


def version(store: Store) -> int | None:
    """A number that changes whenever a write to ``store`` is committed; None if unknown."""
    with _LOCK:
        if store not in _WATCHES:
            _WATCHES[store] = _watch(store)
            if (connection := _WATCHES[store]) is not None:
                weakref.finalize(store, connection.close)
        connection = _WATCHES[store]
        if connection is None:
            return None
        try:
            found = connection.execute("PRAGMA data_version").fetchone()
        except sqlite3.Error:
            return None
        return int(found[0])


def kept(store: Store, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, or what it gave for ``store`` and ``key`` before if the store has not
    changed since (``key`` holds whatever else the value depends on: the time zone)."""
    now = version(store)
    if now is None:
        return make()
    with _LOCK:
        found = _KEPT.setdefault(store, {}).get(key)
    if found is not None and found[0] == now:
        value: T = found[1]
        return value
    value = make()
    with _LOCK:
        _KEPT.setdefault(store, {})[key] = (now, value)
    return value
