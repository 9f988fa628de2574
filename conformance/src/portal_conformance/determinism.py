"""Normalise every stored raw item and print one digest per item: the determinism worker.

Run by the determinism check in a fresh process under another time zone, locale and hash
seed: ``python -m portal_conformance.determinism HOME PROVIDER``. The same raw item must
normalise to the same records (portal ids, values, instants in UTC) wherever and whenever
it runs; a plugin that reads the machine's zone or locale, or builds ids from ``hash()``,
prints other digests than the suite computed in its own process.
"""

from __future__ import annotations

import hashlib
import json
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from portal.record.ids import portal_id
from portal.record.model import Entity


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else f"NAIVE {value.isoformat()}"
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "model_dump"):
        return _plain(value.model_dump())
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


def digest(provider: str, entities: list[Entity]) -> str:
    """One digest for what an item normalised to, as the store would keep it."""
    parts = []
    for entity in entities:
        row = _plain(entity.model_dump())
        row["id"] = portal_id(provider, entity.category, entity.provider_id)
        parts.append([type(entity).__name__, row])
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


PER_STREAM = 150
"""Items normalised per kind of stream: a zone or locale bug shows in every item of a kind."""


def sample(items: dict[str, tuple[str, Any]]) -> list[tuple[str, tuple[str, Any]]]:
    """Up to ``PER_STREAM`` items of each kind of stream, the same in every process."""
    taken: dict[str, int] = {}
    chosen = []
    for raw_id, (stream, item) in sorted(items.items()):
        kind = stream.split(":", 1)[0]
        if taken.get(kind, 0) < PER_STREAM:
            taken[kind] = taken.get(kind, 0) + 1
            chosen.append((raw_id, (stream, item)))
    return chosen


def digests(home: Path, provider: str, plugins_dir: Path | None = None) -> dict[str, str]:
    """Normalise every raw item of ``provider`` in the store at ``home``; digest by raw id."""
    from portal.app import Portal
    from portal.auth.vault import FileStorage, Vault
    from portal_conformance.harness import Run
    from portal_conformance.observe import DeliveryRecorder
    from portal_conformance.rules.stored import raw_items

    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with Portal.open(home=home, vault=vault, plugins_dir=plugins_dir) as portal:
        run = Run("worker", portal, None, DeliveryRecorder(), provider=provider)  # type: ignore[arg-type]
        hook = portal.plugins.caller(provider, "normalise")
        declared = portal.plugins.provider(provider)
        out = {}
        for raw_id, (stream, item) in sample(raw_items(run)):

            def ref(entity: type[Entity], provider_id: str) -> str:
                return portal_id(provider, entity.category, provider_id)

            try:
                entities = list(hook(provider=declared, stream=stream, item=item, ref=ref) or ())
                out[raw_id] = digest(provider, entities)
            except Exception as error:
                out[raw_id] = f"error: {type(error).__name__}: {error}"
        return out


def main() -> None:
    """``python -m portal_conformance.determinism HOME PROVIDER``: digests as JSON on stdout."""
    home, provider = Path(sys.argv[1]), sys.argv[2]
    json.dump(digests(home, provider), sys.stdout)


if __name__ == "__main__":
    main()
