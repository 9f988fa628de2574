"""Delivery: exports carry a manifest with counts and digests, and round-trip."""

from __future__ import annotations

import csv
import hashlib
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from portal.export import export
from portal.record.model import ENTITIES
from portal_conformance.failures import examples, require
from portal_conformance.harness import Harness


def delivery(h: Harness, fmt: str) -> None:
    """Export the main run in ``fmt``; the manifest's counts and digests match; rows come back."""
    h.unsupported("delivery", f"delivery.{fmt}")
    run = h.require_main_ok()
    out = run.portal.home / f"export-{fmt}"
    manifest = export(run.portal.store, out, fmt, h.name)
    written = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    problems: list[str] = []
    if written != json.loads(json.dumps(manifest, default=str)):
        problems.append("manifest.json differs from the manifest export() returned")
    for entity in ENTITIES:
        name = f"{entity.category.value}.{fmt}"
        entry = written["files"].get(name)
        stored = h.rows(entity)
        if entry is None:
            problems.append(f"{name} is not in the manifest")
            continue
        path: Path = out / name
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            problems.append(f"{name}: sha256 in the manifest does not match the file")
        if entry["records"] != len(stored):
            problems.append(
                f"{name}: manifest says {entry['records']}, the store holds {len(stored)}"
            )
        text = data.decode("utf-8")
        back = (
            [json.loads(line) for line in text.splitlines() if line]
            if fmt == "jsonl"
            else list(csv.DictReader(text.splitlines()))
        )
        if [r["id"] for r in back] != [r["id"] for r in stored]:
            problems.append(f"{name}: the exported ids do not come back as stored")
            continue
        for row, original in zip(back, stored, strict=True):
            money = {
                k for k, v in original.items() if v is not None and type(v).__name__ == "Decimal"
            }
            # The same number, digit for digit (exports write money to its currency's
            # minor unit: the stored 84.3 GBP exports as 84.30).
            bad = [k for k in money if not _same_number(row[k], original[k])]
            if bad:
                problems.append(f"{name}: {original['provider_id']} exports {bad} inexactly")
                break
        missing = set(entry.get("fields", {})) ^ set(entity.model_fields)
        if missing:
            problems.append(f"{name}: manifest fields differ from the record's: {sorted(missing)}")
    require(
        not problems,
        f"The {fmt} export does not round-trip: {examples(problems)}.",
        where=f"portal export --format {fmt} of provider {h.name!r}",
        fix="Deliver records the store can hold exactly (Decimal money, aware times); if a"
        " destination plugin writes the files, give it a manifest of counts and sha256.",
    )


def _same_number(exported: object, stored: Decimal) -> bool:
    try:
        return Decimal(str(exported)) == stored
    except InvalidOperation:
        return False
