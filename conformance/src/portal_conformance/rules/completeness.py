"""Exact completeness and no silent drop: what the sandbox served is what the store holds.

Never "at least one record": every count is compared exactly with the sandbox's ground
truth, and every raw item is accounted for (a record or a rejection with a reason). That
every raw field is mapped, kept in ``extra`` or declared ignored is ``rules.rawfields``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import ValidationError

from portal.record.ids import canonical_json
from portal.record.model import ENTITIES, Entity
from portal_conformance.failures import CheckFailed, NotApplicable, examples, require
from portal_conformance.harness import Harness
from portal_conformance.rules.stored import main_raw_items, main_rejections


def describe_item(item: dict[str, Any]) -> str:
    """A raw item named by its ids, or by the start of its JSON, for a failure message.

    An item with one id alone (its parent's, as an item the specification lets go without
    an id of its own) is named by the start of the rest of its JSON as well.
    """
    named = [k for k, v in item.items() if "id" in k.lower() and isinstance(v, str)][:2]
    ids = ", ".join(f"{k}={item[k]}" for k in named)
    if len(named) > 1:
        return ids
    rest = canonical_json({k: v for k, v in item.items() if k not in named})[:80]
    return f"{ids} {rest}" if ids else rest


def _kind(stream: str) -> str:
    return stream.split(":", 1)[0]


def _arrow(row: dict[str, Any], name: str) -> str:
    return f"{row['provider_id']} -> {row[name]}"


def category_delivered(h: Harness, category: str) -> None:
    """A declared category arrives in the store (and the sandbox serves it)."""
    run = h.require_main_ok()
    entity = h.entity(category)
    where = f"category {category!r} of provider {h.name!r}"
    require(
        h.truth.served(category) > 0,
        f"The inventory declares {category!r} but {h.double} serves none, so its delivery"
        " cannot be checked.",
        where=f"{type(run.sandbox).__name__}.ground_truth()",
        fix=f"Seed the sandbox with {category} and state them in ground_truth().",
    )
    require(
        len(h.rows(entity)) > 0,
        f"The inventory declares {category!r} but none arrived in the store.",
        where=where,
        fix=f"Fetch the {category} stream in the fetch hook and normalise its items into"
        f" {entity.__name__} records.",
    )


def exact_count(h: Harness, category: str) -> None:
    """The store holds exactly as many records of ``category`` as the sandbox served."""
    h.require_main_ok()
    entity = h.entity(category)
    stored, expected = len(h.rows(entity)), h.truth.expected_records(category)
    if stored == expected:
        return
    raws = main_raw_items(h)
    received = {canonical_json(item) for _, item in raws.values()}
    served_here = {canonical_json(i) for i in h.truth.items.get(category, [])}
    missing = [i for i in h.truth.items.get(category, []) if canonical_json(i) not in received]
    detail = f" Never fetched: {examples(describe_item(i) for i in missing)}." if missing else ""
    refused = [
        f"{describe_item(raws[r['raw_id']][1])}: {r['reason']}"
        for r in main_rejections(h)
        if r["raw_id"] in raws and canonical_json(raws[r["raw_id"]][1]) in served_here
    ]
    if refused and stored < expected:
        detail += f" Rejected: {examples(refused)}."
    served = h.truth.served(category)
    raise CheckFailed(
        f"The store holds {stored} {category} records; {h.double} served {served}"
        f" ({expected} expected after {served - expected} declared rejections).{detail}",
        where=f"table {category!r}, provider {h.name!r}",
        fix="Accept every item the specification allows (derive a stable provider_id where"
        " it sends none); raise SkippableError only for what it forbids."
        if refused and stored < expected
        else "Fetch every page and every item (check the last page and the pagination stop"
        " condition), and give each item one stable provider_id."
        if stored < expected
        else "Give each served item exactly one record with a stable provider_id (no"
        " duplicates, no records made up).",
    )


def undeclared(h: Harness) -> list[str]:
    """Categories stored but missing from the declared inventory."""
    declared = {c.value for c in h.provider.categories}
    return [e.category.value for e in ENTITIES if e.category.value not in declared and h.rows(e)]


def parents_resolve(h: Harness, category: str) -> None:
    """Every reference to a parent (``account_id``, ...) names a record that exists."""
    h.require_main_ok()
    entity = h.entity(category)
    parents = {
        name: other
        for name in entity.model_fields
        for other in ENTITIES
        if name == f"{other.__name__.lower()}_id" and name not in Entity.model_fields
    }
    if not parents:
        raise NotApplicable(f"{entity.__name__} has no parent reference")
    for name, parent in parents.items():
        known = {r["id"] for r in h.rows(parent)}
        dangling = [r for r in h.rows(entity) if r.get(name) and r[name] not in known]
        require(
            not dangling,
            f"{len(dangling)} {category} records point at a {parent.__name__} that is not in"
            f" the store: {examples(_arrow(r, name) for r in dangling)}.",
            where=f"{category}.{name}",
            fix=f"Build {name} with ref({parent.__name__}, the parent's provider id) and"
            f" deliver every {parent.__name__} the provider holds.",
        )


def required_fields(h: Harness, category: str) -> None:
    """Every stored row is a valid record: required fields present, every value valid."""
    h.require_main_ok()
    entity = h.entity(category)
    problems: list[str] = []
    for row in h.rows(entity):
        try:
            entity.model_validate(row)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            problems.append(f"{row['provider_id']}: {field}: {first['msg']}")
    require(
        not problems,
        f"{len(problems)} stored {category} records are not valid {entity.__name__}s:"
        f" {examples(problems)}.",
        where=f"table {category!r}",
        fix="Fill every required field in normalise; the record model's fields say which.",
    )


def matches_served(h: Harness, category: str) -> None:
    """Currencies come from what was served: the raw item's or the parent account's."""
    h.require_main_ok()
    entity = h.entity(category)
    fields = [f for f in entity.model_fields if f == "currency" or f.endswith("_currency")]
    if not fields:
        raise NotApplicable(f"{entity.__name__} has no currency field")
    raws = main_raw_items(h)
    accounts = {r["id"]: r.get("currency") for r in h.rows(h.entity("accounts"))}
    wrong: list[str] = []
    for row in h.rows(entity):
        served = canonical_json(raws.get(row["raw_id"], ("", {}))[1])
        for name in fields:
            value = row.get(name)
            if (
                value
                and f'"{value}"' not in served
                and value != accounts.get(row.get("account_id"))
            ):
                wrong.append(f"{row['provider_id']}: {name}={value}")
    require(
        not wrong,
        f"{len(wrong)} {category} records carry a currency found neither in the raw item they"
        f" came from nor on their account: {examples(wrong)}.",
        where=f"{category}.{'/'.join(fields)}",
        fix="Take the currency from the provider's item (or its account), never a constant.",
    )


def no_silent_drop(h: Harness, category: str) -> None:
    """Raw items in = records delivered + rejections with a reason, for this category."""
    h.require_main_ok()
    entity = h.entity(category)
    raws, rejected = main_raw_items(h), main_rejections(h)
    made = {r["raw_id"] for r in h.rows(entity)}
    # The streams that made records of this category, and those of the same kind (the part
    # before ":") that made no record of any category: every item rejected, as an unusable
    # meter's readings. If nothing of it was stored, the kinds that make it in the usual
    # sandbox's run (a variant's harness); failing that, every stream that made nothing.
    mine = {raws[r][0] for r in made if r in raws}
    productive = {raws[r["raw_id"]][0] for e in ENTITIES for r in h.rows(e) if r["raw_id"] in raws}
    barren = {stream for stream, _ in raws.values()} - productive
    kinds = {_kind(stream) for stream in mine}
    if not kinds and h.origin is not h:
        usual = main_raw_items(h.origin)
        kinds = {
            _kind(usual[r["raw_id"]][0]) for r in h.origin.rows(entity) if r["raw_id"] in usual
        }
    streams = mine | {s for s in barren if not kinds or _kind(s) in kinds}
    rejected_here = [r for r in rejected if r["stream"] in streams]
    unreasoned = [r for r in rejected_here if not str(r["reason"]).strip()]
    require(
        not unreasoned,
        f"{len(unreasoned)} rejections of {category} carry no reason.",
        where=f"rejections of streams {sorted(streams)}",
        fix="Raise SkippableError('why') for an item that cannot be normalised.",
    )
    used = {r["raw_id"] for e in ENTITIES for r in h.rows(e)} | {r["raw_id"] for r in rejected}
    orphans = [rid for rid, (stream, _) in raws.items() if stream in streams and rid not in used]
    require(
        not orphans,
        f"{len(orphans)} raw items of {category} became neither a record nor a rejection.",
        where=f"streams {sorted(streams)}",
        fix="Return at least one record per item from normalise, or raise SkippableError.",
    )
    served, expected_rejections = h.truth.served(category), h.truth.rejections.get(category, 0)
    accounted = len(made) + len(rejected_here)
    if accounted == served and len(rejected_here) == expected_rejections:
        return
    reasons = Counter(str(r["reason"]) for r in rejected_here).most_common()
    why = f" ({examples(f'{n} x {reason!r}' for reason, n in reasons)})" if reasons else ""
    vanished, surplus = served - accounted, len(rejected_here) - expected_rejections
    raise CheckFailed(
        f"{h.double.capitalize()} served {served} {category} items"
        f" ({expected_rejections} to be rejected);"
        f" portal accounted for {accounted}: {len(made)} became records and"
        f" {len(rejected_here)} were rejected{why}."
        + (f" {vanished} vanished without a trace." if vanished > 0 else "")
        + (f" {surplus} more were rejected than the sandbox expects." if surplus > 0 else "")
        + (f" {-surplus} items it serves to be rejected were kept." if surplus < 0 else ""),
        where=f"streams {sorted(streams) or '(none)'} of provider {h.name!r}",
        # The fix follows the cause: items lost, valid items refused, invalid ones kept.
        fix="Never filter items out in fetch or swallow a failure: yield every item and let"
        " normalise raise SkippableError(reason) for one it cannot use."
        if vanished > 0
        else "Accept every item the specification allows (the reasons above name what was"
        " refused); raise SkippableError only for what it forbids."
        if surplus > 0
        else "Raise SkippableError(reason) for an item the specification forbids, rather"
        " than storing a record made from it.",
    )
