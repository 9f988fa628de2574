"""Time and change: one portal home follows the sandbox's customer as their life moves on.

The sandbox names the steps it can play (``Sandbox.moves``, from ``portal.sandbox.moves``:
``full_page``, ``amend``, ``withdraw``, ``book``, ``arrive``, ``empty``). One home and one
sandbox serve every step: ``full_page`` (if played) comes before the first sync, which
reads every stream whole; each other step is played and then synced again, as a person's
next ``portal sync`` would be. The sequence runs once per run of the suite; there is one
check per step (``test_changes[amend]``), so a failure names the step that broke and a
defect caught at one step does not hide behind another. Each check judges its own step:

- **the store equals the truth**: each category holds exactly as many records as the
  sandbox serves; every item served is a record whose raw payload is that item as served
  (the plugin may add fields of its own, never change one) or a rejection with a reason;
  nothing already synced that the sandbox still serves is lost;
- **nothing withdrawn is presented as current**: a record still made from an item the
  sandbox no longer serves (withdrawn, or an earlier version of an amended one) fails.
  Withdrawn means *deleted* from the record tables (``Page.withdrawn``): every reader of
  the store (exports, the report, the person's own SQL) then sees only what is current
  without learning a flag, and the raw payload it came from stays in ``raw_items``;
- **the re-sync asked only for what is new**: the API requests the sandbox answered for
  that sync are counted against the ``resync_budget`` the plugin declares: so many per
  sync, so many per account, and one more for each ``items_per_request`` items that are
  new or changed. A plugin that declares none is refused; one that fetches all history
  again exceeds it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from portal.record.ids import canonical_json
from portal.record.model import ENTITIES
from portal.sandbox.moves import MOVES
from portal_conformance.failures import CheckFailed, SetupFailed, examples
from portal_conformance.harness import Harness, Run
from portal_conformance.observe import DeliveryRecorder
from portal_conformance.rules.completeness import describe_item
from portal_conformance.rules.resilience import _api_requests
from portal_conformance.rules.stored import raw_items, rejections
from portal_conformance.truth import GroundTruth, read_truth

BEFORE_FIRST_SYNC = ("full_page",)
"""Steps played on the fresh sandbox, before the first sync (which reads streams whole)."""


@dataclass
class Step:
    """What one step left: the problems found after its sync, and the requests it took."""

    name: str
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    allowed: int | None = None
    changed: int = 0
    error: str | None = None


def changes(h: Harness, step: str) -> dict[str, float]:
    """After ``step`` and a sync, the store equals the truth, within the request budget."""
    h.unsupported("changes", f"changes.{step}")
    if step not in BEFORE_FIRST_SYNC and h.declaration.resync_budget is None:
        raise CheckFailed(
            f"The plugin declares no resync_budget, so whether the re-sync after the step"
            f" {step!r} asks only for what is new cannot be judged.",
            where=f"PORTAL_CONFORMANCE[{h.name!r}]",
            fix=" ".join(_fixes(["declares no resync_budget"], h.name)),
        )
    played = _played(h)
    if step not in played:
        raise CheckFailed(
            f"The sandbox does not play the step {step!r}: its customer never does that, so"
            " the plugin is not seen handling it.",
            where=f"{type(_sandbox(h)).__name__}.moves",
            fix=f"Make the sandbox play {step!r} (portal.sandbox.moves says what it means),"
            f" or declare PORTAL_CONFORMANCE[{h.name!r}]['unsupported']['changes.{step}']"
            " with the reason.",
        )
    outcome = played[step]
    if outcome.error:
        raise SetupFailed(
            f"After the step {step!r} the sync failed: {outcome.error}",
            where=f"portal sync {h.name} after {step!r}",
            fix="Make the sync complete whatever state the customer's data is in.",
        )
    problems = outcome.problems
    if problems:
        raise CheckFailed(
            f"After the step {step!r}: {'; '.join(problems)}.",
            where=f"the store of a home synced after each step, provider {h.name!r}",
            fix=" ".join(_fixes(problems, h.name)),
        )
    return {"requests": float(outcome.requests), "changed_items": float(outcome.changed)}


def _fixes(problems: list[str], provider: str) -> list[str]:
    """The fix for each cause among ``problems``."""
    text = " ".join(problems)
    fixes = []
    if "API requests" in text:
        fixes.append(
            "Keep a cursor per stream and ask only for what came after it (and for pending"
            " items, which may still change); never fetch the whole history on every sync."
        )
    if "declares no resync_budget" in text:
        fixes.append(
            f"Declare PORTAL_CONFORMANCE[{provider!r}]['resync_budget'] = {{'per_sync': n,"
            " 'per_account': n, 'items_per_request': page size}: the requests a re-sync"
            " with nothing new makes, and how many items one more request brings."
        )
    if "still presented" in text:
        fixes.append(
            "Yield Page(..., withdrawn=[(category, provider_id)]) for each item the provider"
            " stopped serving (a pending item missing from the window fetched again, an"
            " item missing from a resource served whole)."
        )
    if "earlier version" in text:
        fixes.append(
            "Fetch again every item that may still change: never move a cursor past a"
            " pending item, and keep fetching it until it is booked."
        )
    if "never stored" in text:
        fixes.append(
            "Fetch every page of every stream, the last one too when it is exactly full,"
            " and every new item after the cursor."
        )
    return fixes or ["Store exactly what the sandbox serves after each step."]


# -- playing the steps, once per harness -------------------------------------------------


def _sandbox(h: Harness) -> Any:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "changes_sandbox" not in cache:
        cache["changes_sandbox"] = h.sandbox()
    return cache["changes_sandbox"]


def _played(h: Harness) -> dict[str, Step]:
    """Play every step the sandbox lists, syncing after each; cached for the run."""
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "changes" in cache:
        return cache["changes"]  # type: ignore[no-any-return]
    sandbox = _sandbox(h)
    moves = tuple(getattr(sandbox, "moves", ()) or ())
    unknown = [m for m in moves if m not in MOVES]
    if unknown:
        raise CheckFailed(
            f"The sandbox lists steps portal does not know: {', '.join(unknown)}.",
            where=f"{type(sandbox).__name__}.moves",
            fix=f"Name steps from portal.sandbox.moves.MOVES ({', '.join(MOVES)}).",
        )
    if not moves:
        raise CheckFailed(
            "The sandbox plays no step of its customer's life (Sandbox.moves is empty), so"
            " no sync is ever seen following a change.",
            where=f"{type(sandbox).__name__}.moves",
            fix="List the steps the sandbox can play and play them in move_on (see"
            " portal.sandbox.moves and the provider cookbook), or declare"
            f" PORTAL_CONFORMANCE[{h.name!r}]['unsupported']['changes'] with the reason.",
        )
    played: dict[str, Step] = {}
    first = [m for m in moves if m in BEFORE_FIRST_SYNC]
    later = [m for m in moves if m not in BEFORE_FIRST_SYNC]
    for name in first:
        sandbox.move_on(name)
    run = _connected(h, sandbox)
    before: GroundTruth | None = None
    # The first sync is judged as the step played before it, if any; then step by step.
    for name in [first[-1] if first else None, *later]:
        if name in later:
            sandbox.move_on(name)
        step = Step(name or "first sync")
        truth = read_truth(sandbox)
        start = len(_api_requests(run))
        result = h.sync(run)
        if not result.ok:
            step.error = str(result.error)
        else:
            step.problems = _compare(run, truth, before)
            step.requests = len(_api_requests(run)) - start
            if before is not None:
                _judge_budget(h, step, truth, before)
        if name is not None:
            played[name] = step
        before = truth
    cache["changes"] = played
    return played


def _connected(h: Harness, sandbox: Any) -> Run:
    recorder = DeliveryRecorder()
    portal = h.portal("changes", recorder=recorder)
    run = Run("changes", portal, sandbox, recorder, provider=h.name)
    try:
        run.connection = h.connect(portal, sandbox)
    except Exception as error:
        raise SetupFailed(
            f"Connecting to the sandbox failed: {error}",
            where=f"the authenticate hook of {h.name!r} against its sandbox",
            fix="Make portal connect work against the sandbox (see the OAuth checks).",
        ) from None
    return run


# -- judging one step ----------------------------------------------------------------------


def _judge_budget(h: Harness, step: Step, truth: GroundTruth, before: GroundTruth) -> None:
    budget = h.declaration.resync_budget
    if budget is None:
        return
    old = {c: {canonical_json(i) for i in items} for c, items in before.items.items()}
    step.changed = sum(
        1
        for category, items in truth.items.items()
        for item in items
        if canonical_json(item) not in old.get(category, set())
    )
    accounts = truth.served("accounts")
    step.allowed = budget.allowed(accounts=accounts, changed=step.changed)
    if step.requests > step.allowed:
        step.problems.append(
            f"the re-sync made {step.requests} API requests where {step.allowed} are allowed"
            f" (resync_budget: {budget.per_sync} per sync + {budget.per_account} for each of"
            f" {accounts} accounts + 1 for each {budget.items_per_request} of the"
            f" {step.changed} items new or changed): it asked again for what it already had"
        )


def _key(item: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """An item's own ids (its top-level text fields named ``...id``), to find its record;
    for an item without ids, its top-level plain values (a reading: its meter, start and
    value), so that thousands of them are not compared with one another."""
    ids = sorted((k, v) for k, v in item.items() if "id" in k.lower() and isinstance(v, str))
    if ids:
        return tuple(ids)
    plain = (str, int, float, bool, type(None))
    return tuple(sorted((k, v) for k, v in item.items() if isinstance(v, plain)))


def _holds(stored: Mapping[str, Any], served: Mapping[str, Any]) -> bool:
    """Whether a stored payload is ``served`` as served: every field of it, unchanged."""
    return all(k in stored and stored[k] == v for k, v in served.items())


def _objects(value: Any) -> Iterable[dict[str, Any]]:
    """``value`` if it is an object, and every object nested in it."""
    if isinstance(value, dict):
        yield value
        for inner in value.values():
            yield from _objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _objects(inner)


class _Payloads:
    """Raw payloads by their items' own ids, each with what it became.

    An item may arrive inside another (a credit profile inside the customer it belongs
    to): every object nested in a payload is found by its ids as well.
    """

    def __init__(self, entries: Iterable[tuple[dict[str, Any], str]]) -> None:
        self.by_key: dict[tuple[tuple[str, Any], ...], list[tuple[dict[str, Any], str]]] = {}
        for payload, what in entries:
            for found in _objects(payload):
                self.by_key.setdefault(_key(found), []).append((found, what))

    def holding(self, served: Mapping[str, Any]) -> list[str]:
        """What became of each stored payload that is ``served`` as served."""
        return [w for p, w in self.by_key.get(_key(served), ()) if _holds(p, served)]


def _compare(run: Run, truth: GroundTruth, before: GroundTruth | None) -> list[str]:
    """How the store differs from ``truth``; ``before`` names what was withdrawn.

    An item is found by its own ids (``describe_item`` names it by them): stored as
    served; stored in an earlier version (changed at the provider since); or never
    stored. An item served before and no longer, whose ids nothing served now carries,
    was withdrawn: a record still made from it is presented as current.
    """
    raws = raw_items(run)
    refused = [raws[r["raw_id"]][1] for r in rejections(run) if r["raw_id"] in raws]
    problems = []
    for entity in ENTITIES:
        category = entity.category.value
        if category not in truth.items:
            continue
        rows = run.rows(entity)
        stored = _Payloads(
            (raws[r["raw_id"]][1], r["provider_id"]) for r in rows if r["raw_id"] in raws
        )
        rejected = _Payloads((item, "") for item in refused)
        served = truth.items[category]
        outdated: list[str] = []
        missing: list[str] = []
        for item in served:
            if stored.holding(item) or rejected.holding(item):
                continue
            (outdated if _key(item) in stored.by_key else missing).append(describe_item(item))
        if missing:
            problems.append(
                f"{len(missing)} {category} items served were never stored: {examples(missing)}"
            )
        if outdated:
            problems.append(
                f"{len(outdated)} {category} items changed at the provider, and the store"
                f" still holds an earlier version: {examples(outdated)}"
            )
        keys = {_key(i) for i in served}
        now = {canonical_json(i) for i in served}
        gone = [
            i
            for i in (before.items.get(category, []) if before else [])
            if canonical_json(i) not in now and _key(i) not in keys and stored.holding(i)
        ]
        if gone:
            problems.append(
                f"{len(gone)} {category} items the sandbox no longer serves are still"
                f" presented as current: {examples(describe_item(i) for i in gone)}"
            )
        expected = truth.expected_records(category)
        if len(rows) != expected:
            problems.append(
                f"the store holds {len(rows)} {category} records; the sandbox serves"
                f" {len(served)} ({expected} expected)"
            )
    return problems


def step_names(provider: object) -> list[str]:
    """The parameters of ``test_changes``: every step a sandbox may play."""
    return list(MOVES)
