"""Exports: the record as JSON Lines or CSV files, with a manifest of counts and digests."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from portal.private import new_private_file, open_private_folder
from portal.record.model import ENTITIES, Entity, nested_titles, titles
from portal.record.types import money_in_minor_units
from portal.store import Store

FORMATS = ("jsonl", "csv")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: never a float
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class _Digesting:
    """A text file that hashes what is written to it."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.sha256 = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha256.update(text.encode())
        return self.handle.write(text)


def export(store: Store, out: Path, fmt: str, provider: str | None = None) -> dict[str, Any]:
    """Write one file per entity into ``out`` and a ``manifest.json``; return the manifest.

    A whole export (no ``provider``) also writes what portal concluded across providers
    (``portal.understand.exported``: categories, recurring payments, links, bill checks,
    the person's rules, earlier versions of records), marked ``"derived": true``.

    ``out`` becomes (or is tightened to) a folder only its owner can open, and every file
    is written as a new 0600 file: never through a symbolic link someone planted at the
    folder or at a file's name. The export is whole or nothing: the files take their names
    only once every one of them is complete (the manifest last), and whatever stops it
    before that (a damaged row, a full disk, Ctrl-C) leaves ``out`` as it was.
    """
    created = not out.exists() and not out.is_symlink()
    folder = open_private_folder(out)
    written: list[tuple[str, str]] = []  # (temporary name, final name)
    try:
        files = {}
        for entity in ENTITIES:
            name = f"{entity.category.value}.{fmt}"
            with _new_file(folder, name, written) as handle:
                sink = _Digesting(handle)
                rows = (money_in_minor_units(entity, r) for r in store.rows(entity, provider))
                count = (
                    _write_jsonl(sink, rows)
                    if fmt == "jsonl"
                    else _write_csv(sink, rows, list(titles(entity)))
                )
            files[name] = {
                "entity": entity.__name__,
                "records": count,
                "sha256": sink.sha256.hexdigest(),
                "fields": _field_titles(entity),
            }
        if provider is None:  # what portal concluded is across providers: a whole export's
            files.update(_derived(store, folder, fmt, written))
        manifest = {
            "format": fmt,
            "exported_at": datetime.now(UTC).isoformat(),
            "provider": provider,
            "files": files,
        }
        with _new_file(folder, "manifest.json", written) as handle:
            handle.write(json.dumps(manifest, indent=2, ensure_ascii=False))
        # A rename replaces whatever sat at the name (a planted link included), not its target.
        for temporary, name in written:
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        for temporary, _ in written:
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
        if created:
            with suppress(OSError):
                out.rmdir()
        raise
    finally:
        os.close(folder)
    return manifest


def _derived(
    store: Store, folder: int, fmt: str, written: list[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    """The files of what the understanding layer concluded (``portal.understand.exported``)."""
    from portal.understand import exported

    files: dict[str, dict[str, Any]] = {}
    for model in exported.EXPORTED:
        name = f"{exported.name_of(model)}.{fmt}"
        fields = exported.columns(model)
        with _new_file(folder, name, written) as handle:
            sink = _Digesting(handle)
            rows = exported.rows(store, model)
            count = (
                _write_jsonl(sink, rows) if fmt == "jsonl" else _write_csv(sink, rows, list(fields))
            )
        files[name] = {
            "table": exported.name_of(model),
            "derived": True,
            "records": count,
            "sha256": sink.sha256.hexdigest(),
            "fields": fields,
        }
    return files


@contextmanager
def _new_file(folder: int, name: str, written: list[tuple[str, str]]) -> Iterator[IO[str]]:
    """A new 0600 file in ``folder``, under a temporary name recorded in ``written``."""
    temporary = f".{name}.{secrets.token_hex(8)}.tmp"
    fd = new_private_file(folder, temporary)
    written.append((temporary, name))
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        yield handle


def _field_titles(entity: type[Entity]) -> dict[str, dict[str, Any]]:
    # Nested values (prices, line items, recipients) get their own titles, so every value
    # in the file can be read in words.
    nested = nested_titles(entity)
    fields: dict[str, dict[str, Any]] = {}
    for name, (title, description) in titles(entity).items():
        fields[name] = {"title": title, "description": description}
        if name in nested:
            fields[name]["parts"] = {
                part: {"title": t, "description": d} for part, (t, d) in nested[name].items()
            }
    return fields


def _write_jsonl(sink: _Digesting, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    for row in rows:
        sink.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_csv(sink: _Digesting, rows: Iterator[dict[str, Any]], columns: list[str]) -> int:
    writer = csv.DictWriter(sink, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(
            {
                k: inert_cell(
                    json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else _plain(v)
                )
                for k, v in row.items()
            }
        )
        count += 1
    return count


# OWASP "CSV Injection": a cell starting with = + - @ (or tab, CR, NUL) is read as a
# formula by spreadsheets; some skip leading spaces first, so those are looked past too.
_FORMULA_START = ("=", "+", "-", "@")
_CONTROL_START = ("\t", "\r", "\n", "\0")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def inert_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text: formula-like text gets a leading apostrophe.

    Plain numbers (an amount of ``-12.50``) stay numbers; only text is touched, and JSON
    Lines exports are never changed (they are data, not something a spreadsheet opens).
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_CONTROL_START) or value.lstrip().startswith(_FORMULA_START):
        return value if _NUMBER.fullmatch(value) else "'" + value
    return value
