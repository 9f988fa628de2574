"""Exports: the record as JSON Lines or CSV files, with a manifest of counts and digests."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from portal.record.model import ENTITIES, Entity, nested_titles, titles
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
    """Write one file per entity into ``out`` and a ``manifest.json``; return the manifest."""
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner only
    files = {}
    for entity in ENTITIES:
        name = f"{entity.category.value}.{fmt}"
        with (out / name).open("w", encoding="utf-8", newline="") as handle:
            sink = _Digesting(handle)
            rows = store.rows(entity, provider)
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
    manifest = {
        "format": fmt,
        "exported_at": datetime.now(UTC).isoformat(),
        "provider": provider,
        "files": files,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    return manifest


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
                k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else _plain(v)
                for k, v in row.items()
            }
        )
        count += 1
    return count
