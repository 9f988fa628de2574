"""Specification variants: the plugin holds up against the answers its API's specification allows.

A plugin that declares its API's published specification (``Provider.specification``,
``portal.specvariants``) gets one sync per generated variant (``test_spec_variant[NAME]``:
every optional field absent, every open code list with a code nobody listed, an unknown
field in every open object, every optional array empty, other currencies), against its
usual sandbox with every answer rewritten on the way out, so the plugin meets the variant
on the wire. Each generated answer is checked against the specification before it is
served: a generator that makes an invalid answer fails here, not the plugin.

Compared with the main run (the same sandbox, the answers as they are), it requires:

- no internal error: the sync completes, and no item makes ``normalise`` raise anything but
  a ``SkippableError`` (a crash on valid data, named with the variant, the endpoint and the
  item);
- every item fetched becomes a record or a rejection with a reason, and as many items reach
  ``normalise`` as in the main run (none lost in ``fetch``, none made up);
- a variant that only adds or changes (codes, fields, currencies) invents no record (no
  category holds more records than in the main run), rejects no item the main run kept,
  and tells an unknown code in words saying what it is.

A variant that takes information away (``portal.specvariants.TAKES_AWAY``) may reject an
item, with a reason, and may change what records an item makes (a statement without its
amounts is no bill; an add-on product without its relationship is a contract of its own).
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import urlsplit

from portal.engine.sync import NORMALISE_FAILED, SyncResult
from portal.provider import Provider, sandbox_endpoints
from portal.record.ids import canonical_json
from portal.record.model import ENTITIES
from portal.specvariants import (
    GENERATED,
    TAKES_AWAY,
    UNKNOWN_CODES,
    Specification,
    declared_specification,
)
from portal_conformance.failures import (
    CheckFailed,
    DeclaredUnsupported,
    NotExercised,
    examples,
)
from portal_conformance.harness import Harness, Run
from portal_conformance.rules.codes import code_problem, extra_problems
from portal_conformance.rules.completeness import describe_item
from portal_conformance.rules.legibility import label_of
from portal_conformance.rules.stored import raw_items, rejections

NONE_DECLARED = "(no specification declared)"
"""The parameter of the one, skipped, check of a plugin that declares no specification."""


def names(provider: Provider) -> list[str]:
    """The generated variants the plugin's specification allows, or one placeholder."""
    spec = declared_specification(provider)
    return list(spec.variants) if spec is not None else [NONE_DECLARED]


class Served:
    """The rewrite the sandbox applies: each answer varied, checked, and remembered."""

    def __init__(self, spec: Specification, variant: str, base_path: str) -> None:
        self.spec, self.variant, self.base = spec, variant, base_path.rstrip("/")
        self._lock = threading.Lock()
        self.answers = 0
        self.changes = 0
        self.broken: list[str] = []
        """Answers the generator failed on or made invalid (served as they were)."""
        self.endpoint: dict[str, str] = {}
        """Each item served (its canonical JSON) to the path it was served at."""

    def __call__(self, path: str, content_type: str, body: bytes) -> bytes:
        if path != self.base and not path.startswith(self.base + "/"):
            return body
        relative = path[len(self.base) :] or "/"
        try:
            varied = self.spec.vary(self.variant, relative, content_type, body)
            problems = (
                [] if varied is None else self.spec.problems(relative, content_type, varied.body)
            )
        except Exception as error:  # the generator's bug: reported by the check, not a 500
            with self._lock:
                self.broken.append(f"{relative}: {type(error).__name__}: {error}")
            return body
        if varied is None:
            return body
        with self._lock:
            if problems:
                self.broken.append(f"{relative}: {examples(problems, 3)}")
                return body
            self.answers += 1
            self.changes += varied.changes
            for item in varied.items:
                self.endpoint.setdefault(canonical_json(item), relative)
        return varied.body

    def where(self, item: Any, stream: str) -> str:
        """The endpoint an item was served at (or, if the plugin changed it, its stream)."""
        path = self.endpoint.get(canonical_json(item))
        return f"GET {path}" if path else f"stream {stream!r}"


def spec_variant(h: Harness, name: str) -> dict[str, float]:
    """Sync against answers varied as ``name``; nothing may crash, vanish or be made up."""
    spec = declared_specification(h.provider)
    if spec is None:
        # The provider's own declaration says there is nothing to generate from: like a
        # check declared unsupported, it leaves the tier open, and the report says why.
        raise DeclaredUnsupported(
            "the plugin declares no published specification of its API"
            " (Provider.specification, see portal.specvariants), so the suite cannot"
            " generate the answers it allows: only the sandbox's own shapes are checked"
        )
    h.unsupported("spec_variant", f"spec_variant.{name}")
    main = h.require_main_ok()
    holder: list[Served] = []

    def rewrite(run: Run) -> None:
        base = urlsplit(sandbox_endpoints(run.sandbox)["api_base"]).path
        holder.append(Served(spec, name, base))
        run.sandbox.rewrite_answers(holder[0])

    run = h.run(f"spec-{name}", before_sync=rewrite)
    [served] = holder
    about = f"Against answers with {GENERATED.get(name, name)} ({spec.source})"
    _check_generator(h, spec, served, name)
    _check_sync(run, served, about, name)
    # The first sync of the main run: a later check may sync it again (idempotence).
    _check_counts(h, main.results[0], run.result, about, name)
    if name == UNKNOWN_CODES:
        _check_labels(run, about, name)
    return {
        "answers": float(served.answers),
        "changes": float(served.changes),
        "records": float(sum(run.result.records.values())),
        "rejections": float(run.result.rejected),
    }


def _check_generator(h: Harness, spec: Specification, served: Served, name: str) -> None:
    where = f"{type(spec).__name__}.vary, variant {name!r}"
    if served.broken:
        raise CheckFailed(
            f"The specification's generator failed on {len(served.broken)} answers or made"
            f" them invalid by its own rules: {examples(served.broken)}.",
            where=where,
            fix="Make vary() change only what the specification allows, so that problems()"
            " finds nothing in what it returns.",
        )
    if not served.changes:
        raise NotExercised(
            f"the specification generated no {name!r} change in any of the"
            f" {served.answers} answers the sandbox served; declare only the variants"
            f" {h.provider.display_name}'s specification and sandbox can show"
        )


def _check_sync(run: Run, served: Served, about: str, name: str) -> None:
    where = f"spec variant {name!r}"
    if not run.result.ok:
        raise CheckFailed(
            f"{about}, the sync failed: {run.result.error}",
            where=f"portal sync {run.provider}, {where}",
            fix="Read every field the specification leaves optional as optional, and accept"
            " every value it allows, in fetch as in normalise.",
        )
    raws = raw_items(run)
    refused = rejections(run)
    crashed = [
        f"{served.where(raws[r['raw_id']][1], r['stream'])}, item"
        f" {describe_item(raws[r['raw_id']][1])}: {r['reason']}"
        for r in refused
        if str(r["reason"]).startswith(NORMALISE_FAILED) and r["raw_id"] in raws
    ]
    if crashed:
        raise CheckFailed(
            f"{about}, normalise crashed on {len(crashed)} items the specification allows:"
            f" {examples(crashed)}.",
            where=where,
            fix="Read optional fields with .get() and map codes of an open list with a"
            " default that says the code is unknown; raise SkippableError(reason) only for"
            " what the specification forbids.",
        )
    unreasoned = [r for r in refused if not str(r["reason"]).strip()]
    used = {r["raw_id"] for r in refused}
    for entity in ENTITIES:
        used |= {row["raw_id"] for row in run.rows(entity)}
    orphans = [describe_item(item) for rid, (_, item) in raws.items() if rid not in used]
    if unreasoned or orphans:
        raise CheckFailed(
            f"{about}, {len(unreasoned)} rejections carry no reason and {len(orphans)} items"
            f" became neither a record nor a rejection: {examples(orphans)}.",
            where=where,
            fix="Return a record for every item normalise is given, or raise"
            " SkippableError('why') for one it cannot use.",
        )


def _check_counts(h: Harness, usual: SyncResult, varied: SyncResult, about: str, name: str) -> None:
    where = f"spec variant {name!r} against the main run, provider {h.name!r}"
    kinds = sorted(set(usual.streams) | set(varied.streams))
    fetched = [
        f"{k}: {varied.streams[k].items if k in varied.streams else 0} items, not"
        f" {usual.streams[k].items if k in usual.streams else 0}"
        for k in kinds
        if (usual.streams[k].items if k in usual.streams else 0)
        != (varied.streams[k].items if k in varied.streams else 0)
    ]
    if fetched:
        raise CheckFailed(
            f"{about}, fetch yielded other items than from the same data as served: "
            f"{examples(fetched)}.",
            where=where,
            fix="Yield every item the provider serves, whatever optional fields it holds,"
            " and only those; let normalise refuse an item, with a reason.",
        )
    if name in TAKES_AWAY:
        # Taking information away may change what an item is (an add-on product left with
        # no relationship is a contract of its own): only the items are held to the usual.
        return
    more = [
        f"{c}: {n} records, not {usual.records.get(c, 0)}"
        for c, n in sorted(varied.records.items())
        if n > usual.records.get(c, 0)
    ]
    if more:
        raise CheckFailed(
            f"{about}, the store holds records the same data as served did not make:"
            f" {examples(more)}.",
            where=where,
            fix="Make records only of what the provider served: never a record per unknown"
            " field or code, never a default standing in for an absent item.",
        )
    refused = [
        f"{k}: {varied.streams[k].normalised} of {s.items} items made records, not {s.normalised}"
        for k, s in sorted(usual.streams.items())
        if k in varied.streams and varied.streams[k].normalised < s.normalised
    ]
    if refused:
        raise CheckFailed(
            f"{about}, items the same data as served made records of were rejected:"
            f" {examples(refused)}. Nothing was taken away, so nothing should be refused.",
            where=where,
            fix="Accept codes, fields and currencies the plugin does not know: keep an unknown"
            " field in extra, label an unknown code as unknown, never refuse the item.",
        )


def _check_labels(run: Run, about: str, name: str) -> None:
    bad: list[str] = []
    for entity in ENTITIES:
        for row in run.rows(entity):
            who = f"{entity.category.value} {row.get('provider_id', '?')}"
            for field in entity.model_fields:
                label = label_of(entity, field)
                if label and (problem := code_problem(row.get(field), row.get(label))):
                    bad.append(f"{who}: {field}: {problem}")
            bad += [f"{who}: {p}" for p in extra_problems(_decoded(row.get("extra")))]
    if bad:
        raise CheckFailed(
            f"{about}, {len(bad)} codes are not told in words: {examples(bad)}.",
            where=f"spec variant {name!r}, the records' code and label fields",
            fix="Label a code the plugin has no words for as unknown, naming the code"
            ' ("Account scheme X (no label known)"), rather than leaving it bare.',
        )


def _decoded(extra: Any) -> Any:
    return json.loads(extra) if isinstance(extra, str) else extra or {}


__all__ = ["NONE_DECLARED", "Served", "names", "spec_variant"]
