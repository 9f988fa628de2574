"""Raw-field coverage: every field the provider released, at any depth, is accounted for.

A field is mapped to the record, kept in ``extra``, or declared ignored with a reason;
nothing is dropped silently. Fields are named by their path in the raw item:
``Amount.Currency`` is a field of an object, ``Account[].SecondaryIdentification`` a
field of each object in an array. A path counts as used when removing it, or changing
every value under it, changes what normalise returns; the suite re-normalises a sample of
stored raw items one path at a time, from the top down. A path found unused is reported
and nothing beneath it; a path kept whole in ``extra`` or declared ignored covers
everything beneath it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from portal.record.ids import canonical_json
from portal.record.model import Entity
from portal_conformance.failures import NotApplicable, examples, require
from portal_conformance.harness import Harness
from portal_conformance.rules.completeness import describe_item
from portal_conformance.rules.stored import main_raw_items, normaliser

EACH = "[]"
"""The step into every element of an array of objects."""
SAMPLE = 40
"""Raw items re-normalised per category at most: the first few, then any with a new path."""

Path = tuple[str, ...]
Normalise = Callable[[str, dict[str, Any]], list[Entity]]

_PROVENANCE = {"id", "provider", "connection_id", "consent_id", "fetched_at", "raw_id"}


def name(path: Path) -> str:
    """A path as people write it: ``Account[].SecondaryIdentification``."""
    text = ""
    for step in path:
        text += step if step == EACH else (f".{step}" if text else step)
    return text


def paths(value: Any, prefix: Path = ()) -> Iterator[Path]:
    """Every field path in a raw item, each parent before its children (with repeats)."""
    if not isinstance(value, dict):
        return
    for key, child in value.items():
        path = (*prefix, str(key))
        yield path
        if isinstance(child, dict):
            yield from paths(child, path)
        elif isinstance(child, list):
            for element in child:
                yield from paths(element, (*path, EACH))


def _edit(value: Any, path: Path, change: Callable[[dict[str, Any], str], Any]) -> Any:
    # ``value`` with ``change(container, key)`` applied wherever ``path`` leads.
    head, rest = path[0], path[1:]
    if head == EACH:
        return [_edit(v, rest, change) for v in value] if isinstance(value, list) else value
    if not isinstance(value, dict) or head not in value:
        return value
    if not rest:
        return change(value, head)
    return {**value, head: _edit(value[head], rest, change)}


def _removed(container: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in container.items() if k != key}


def _changed(container: dict[str, Any], key: str) -> dict[str, Any]:
    return {**container, key: _mutated(container[key])}


def _mutated(value: Any) -> Any:
    # Every leaf changed, so a field used only through a fallback still shows its use.
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "~"
    if isinstance(value, dict):
        return {k: _mutated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mutated(v) for v in value] or ["~"]
    return "~"


def _comparable(entities: list[Entity]) -> list[str]:
    return [
        f"{type(e).__name__}:{canonical_json(e.model_dump(mode='json', exclude=_PROVENANCE))}"
        for e in entities
    ]


def _unused(
    call: Normalise, stream: str, item: dict[str, Any], path: Path, baseline: list[str]
) -> bool:
    """Whether normalise returns ``baseline`` with ``path`` removed and with it changed."""
    for change in (_removed, _changed):
        try:
            if _comparable(call(stream, _edit(item, path, change))) != baseline:
                return False
        except Exception:  # the field is needed: normalise cannot do without it
            return False
    return True


def _sample(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    # The first few items, then every item with a path not seen yet, up to SAMPLE.
    chosen, covered = list(items[:3]), set()
    for _, item in chosen:
        covered |= set(paths(item))
    for stream, item in items[3:]:
        if len(chosen) >= SAMPLE:
            break
        new = set(paths(item)) - covered
        if new:
            chosen.append((stream, item))
            covered |= new
    return chosen


def _kept_whole(entities: list[Entity], item: dict[str, Any], key: str) -> bool:
    # A top-level field copied into extra as it came (what the bank plugin's _rest does).
    return any(key in e.extra and e.extra[key] == item[key] for e in entities)


def dropped_paths(
    call: Normalise, stream: str, item: dict[str, Any], ignored: set[str]
) -> list[str]:
    """The paths of ``item`` that normalise drops silently (none beneath a reported one)."""
    entities = call(stream, item)
    baseline = _comparable(entities)
    settled: set[Path] = set()  # reported, ignored or kept whole: nothing beneath is tried
    dropped: list[str] = []
    for path in dict.fromkeys(paths(item)):
        if any(path[:i] in settled for i in range(1, len(path))):
            continue
        if name(path) in ignored or (len(path) == 1 and _kept_whole(entities, item, path[0])):
            settled.add(path)
        elif _unused(call, stream, item, path, baseline):
            settled.add(path)
            dropped.append(name(path))
    return dropped


def raw_fields(h: Harness, category: str) -> dict[str, float]:
    """Every raw field, nested ones too, is mapped, kept in ``extra``, or declared ignored."""
    run = h.require_main_ok()
    entity = h.entity(category)
    raws = main_raw_items(h)
    ignored = set(h.declaration.ignored_fields.get(category, {}))
    items = [raws[rid] for rid in sorted({r["raw_id"] for r in h.rows(entity)}) if rid in raws]
    if not items:
        raise NotApplicable(f"no {category} records to trace back to raw items")
    call = normaliser(run, h)
    where_seen: dict[str, str] = {}
    checked: set[str] = set()
    for stream, item in _sample(items):
        checked |= {name(p) for p in paths(item)}
        for path in dropped_paths(call, stream, item, ignored):
            where_seen.setdefault(path, f"stream {stream!r}, item {describe_item(item)}")
    dropped = sorted(where_seen)
    shown = [f"{path} ({where_seen[path]})" for path in dropped]
    first = dropped[0] if dropped else ""
    require(
        not dropped,
        f"{len(dropped)} raw field{'s' if len(dropped) > 1 else ''} of {category}"
        f" {'are' if len(dropped) > 1 else 'is'} dropped silently (neither mapped, nor kept"
        f" in extra, nor declared ignored): {examples(shown)}.",
        where=f"the normalise hook of {h.name!r} for {category}",
        fix="Map each to a record field; or keep it in extra (for a nested field, what its"
        " parent holds beyond what you mapped, under the same path: see rest() in the"
        " utility plugin, which takes paths such as 'lines[].amount'); or declare it dropped"
        f" with a reason: PORTAL_CONFORMANCE[{h.name!r}]['ignored_fields'][{category!r}]"
        f"[{first!r}] = 'why it is dropped'.",
    )
    return {"fields": len(checked)}
