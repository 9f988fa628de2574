"""Resilience under the chaos switch, and crash and resume.

Every scenario runs a fresh sandbox and home, makes the sandbox misbehave one way (a
planned ``Fault`` or the random, seeded ``Chaos`` switch), syncs, and compares the store
with the fault-free main run: it must be set-equal, with a bounded number of requests.
Crash and resume stops a sync after each of several pages (in process, right after a
commit) and with SIGKILL (a real ``portal sync`` process), resumes, and requires exactly the
served set: no cursor may ever be committed before its records.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from portal.record.model import ENTITIES
from portal.sandbox import Chaos, Fault
from portal.sandbox.chaos import MIN_USES_BEFORE_REVOKE, ChaosMonkey
from portal_conformance.failures import CheckFailed, NotExercised, examples, require
from portal_conformance.harness import Harness, Run
from portal_conformance.observe import DeliveryRecorder

SCENARIOS = (
    "retry_after_seconds",
    "retry_after_date",
    "server_errors",
    "reset",
    "truncated",
    "unauthorized",
    "slow",
    "cursor_loop",
)
CHAOS_KINDS = {
    "server_errors": "5xx",
    "reset": "reset",
    "truncated": "truncated",
    "unauthorized": "401",
    "slow": "slow",
}
CRASH_POINTS = ("page_boundaries", "sigkill")
MAX_EXTRA_REQUESTS = 3.0
"""A faulty run may make at most this many times the fault-free run's requests."""


def _api_requests(run: Run) -> list[Any]:
    return [
        r
        for r in run.sandbox.requests
        if not r.path.startswith(("/oauth/", "/.well-known/", "/device"))
    ]


def paged_path(h: Harness) -> str:
    """The API path the main run requested most often: the paginated stream."""
    counts = Counter(r.path for r in _api_requests(h.main))
    if not counts:
        raise CheckFailed(
            "The sync made no API request at all.",
            where=f"the fetch hook of {h.name!r}",
            fix="Fetch through the client portal hands you.",
        )
    return counts.most_common(1)[0][0]


def _diff(h: Harness, run: Run) -> tuple[list[str], int]:
    """Each category's difference from the fault-free run, naming the items by the
    provider's own id; and how many items are missing in all."""
    problems, lost = [], 0
    for entity in ENTITIES:
        expected = {(r["id"], r["raw_id"]): r["provider_id"] for r in h.main.rows(entity)}
        got = {(r["id"], r["raw_id"]): r["provider_id"] for r in run.rows(entity)}
        missing = [v for k, v in expected.items() if k not in got]
        extra = [v for k, v in got.items() if k not in expected]
        if missing or extra:
            problems.append(
                f"{entity.category.value}: {len(missing)} missing"
                f"{' (' + examples(missing, 3) + ')' if missing else ''}, {len(extra)}"
                f" unexpected{' (' + examples(extra, 3) + ')' if extra else ''}"
            )
        lost += len(missing)
    return problems, lost


LOST_FIX = (
    "Items were lost: never end a stream early on an error or an odd page; let portal's"
    " client retry, let its errors propagate, and fetch every page to the end."
)
"""The fix when a faulty run's store lacks items, whatever the scenario's own fix is."""


def _require_same(h: Harness, run: Run, scenario: str, fix: str) -> None:
    problems, lost = _diff(h, run)
    require(
        run.result.ok and not problems,
        f"Under {scenario.replace('_', ' ')}, the sync ended"
        f" {'with: ' + str(run.result.error) if run.result.error else 'ok'} and the store"
        f" differs from the fault-free run: {examples(problems) or 'no difference'}.",
        where=f"portal sync {h.name} against its sandbox with {scenario.replace('_', ' ')}",
        # The fix follows the cause: a sync that ended ok short of items lost them.
        fix=LOST_FIX if lost and run.result.ok else fix,
    )
    clean, faulty = len(_api_requests(h.main)), len(_api_requests(run))
    require(
        faulty <= clean * MAX_EXTRA_REQUESTS + 10,
        f"Under {scenario.replace('_', ' ')} the sync made {faulty} API requests, against"
        f" {clean} without faults: retries are not bounded.",
        where=f"portal sync {h.name}",
        fix="Never retry in the plugin; portal's client retries with a bounded budget.",
    )


def resilience(h: Harness, scenario: str) -> None:
    """One kind of misbehaviour; the store must end as if nothing had gone wrong.

    To keep a whole run short, the kinds share runs: both Retry-After forms are planned
    faults in one sync, and the five random kinds are one seeded chaos sync, of which each
    scenario checks that its kind struck and the store still came out whole.
    """
    h.unsupported("resilience", f"resilience.{scenario}")
    if scenario == "unauthorized":
        h.requires_oauth("no token to refresh after an early 401 (a refused key ends the sync)")
    h.require_main_ok()
    if scenario.startswith("retry_after"):
        _retry_after(h, scenario)
    elif scenario == "cursor_loop":
        _cursor_loop(h)
    else:
        run, what = _struck_run(h, scenario)
        _require_same(
            h,
            run,
            what,
            "Fetch through the client portal hands you and let exceptions from it propagate;"
            " never catch ProviderError to carry on, never retry yourself.",
        )


def _struck_run(h: Harness, scenario: str) -> tuple[Run, str]:
    """A run in which ``scenario``'s fault certainly struck, and how it struck.

    The shared chaos run usually draws every kind, but requests overlap, so which answer a
    draw lands on is not fixed: a cut drawn for an error answer is spared. When the kind did
    not strike there, a run of its own makes it strike, planned where a ``Fault`` can model it
    (a truncated body, a 5xx), else chaos of that kind alone. A fault that never struck fails
    the check: a check that did not run must never pass nor be skipped in silence.
    """
    kind, name = CHAOS_KINDS[scenario], scenario.replace("_", " ")
    run = chaos_run(h)
    counts = run.sandbox.chaos_counts  # type: ignore[attr-defined]
    if counts.get(kind):
        return run, f"{name} (among chaos {counts})"
    path = paged_path(h)
    planned = PLANNED.get(scenario)
    if planned is not None:
        fault = planned(path)
        run = h.run(f"chaos-{kind}", before_sync=lambda r: r.sandbox.add_fault(fault))
        struck = fault not in run.sandbox.faults
    else:
        rate = min(0.5, 3 / max(1, len(_api_requests(h.main))))
        chaos = Chaos(rate=rate, kinds=(kind,), seed=1, slow_seconds=0.2)
        run = h.run(f"chaos-{kind}", before_sync=lambda r: r.sandbox.set_chaos(chaos))  # type: ignore[attr-defined]
        struck = bool(run.sandbox.chaos_counts.get(kind))  # type: ignore[attr-defined]
    require(
        struck,
        f"The suite could not make {name} strike: neither the shared chaos sync (it drew"
        f" {counts}) nor a sync with only that fault touched an answer of {h.name!r}.",
        where=f"portal sync {h.name} against its sandbox with {name}",
        fix="Make the sync fetch its data as JSON through the client portal hands you, so"
        " the sandbox's faults reach it; or declare the scenario unsupported with a reason"
        f" (unsupported: {{'resilience.{scenario}': '...'}}).",
    )
    return run, f"{name} ({'planned on ' + path if planned else 'chaos of that kind alone'})"


PLANNED: dict[str, Callable[[str], Fault]] = {
    "truncated": lambda path: Fault(path=f"^{re.escape(path)}$", malformed=True),
    "server_errors": lambda path: Fault(path=f"^{re.escape(path)}$", status=503, times=2),
}
"""Scenarios a planned ``Fault`` on the paged path reproduces exactly, when chaos missed."""


def chaos_run(h: Harness) -> Run:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "chaos" not in cache:
        chaos = chaos_for(len(_api_requests(h.main)), _chaos_kinds(h))
        cache["chaos"] = h.run("chaos", before_sync=lambda r: r.sandbox.set_chaos(chaos))  # type: ignore[attr-defined]
    return cache["chaos"]  # type: ignore[no-any-return]


def _chaos_kinds(h: Harness) -> tuple[str, ...]:
    """Every kind of chaos but ``401`` for a key credential: no token to refresh, a refused
    key ends the sync (and asks the person to connect again)."""
    kinds = tuple(CHAOS_KINDS.values())
    if h.provider.credential is not None:
        kinds = tuple(k for k in kinds if k != "401")
    return kinds


def chaos_for(requests: int, kinds: tuple[str, ...] = tuple(CHAOS_KINDS.values())) -> Chaos:
    """A seeded chaos that strikes with every one of ``kinds`` (all but ``401`` for a key
    credential, which has no token to refresh) within a sync of ``requests`` requests.

    The monkey's draws depend only on its seed, so the suite tries seeds until the first
    requests (a margin short of the sync's) meet every kind, and never more than three
    failures in a row (the client's retry budget must be able to recover).
    """
    rate = min(0.4, 9 / max(1, requests))
    horizon = max(len(kinds), int(requests * 0.7))
    for seed in range(500):
        chaos = Chaos(rate=rate, kinds=kinds, seed=seed, slow_seconds=0.2)
        monkey, seen, streak, worst, uses = ChaosMonkey(chaos), set(), 0, 0, 0
        for _ in range(horizon):
            uses += 1  # a token is revoked early only once it has been used a few times
            kind = monkey.decide(may_revoke=uses > MIN_USES_BEFORE_REVOKE).kind
            uses = 0 if kind == "401" else uses
            seen.add(kind)
            streak = streak + 1 if kind in ("5xx", "reset", "truncated", "401") else 0
            worst = max(worst, streak)
        if set(kinds) <= seen and worst <= 3:
            return chaos
    return Chaos(rate=rate, kinds=kinds, seed=3, slow_seconds=0.2)


def retry_after_run(h: Harness) -> Run:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "retry_after" not in cache:
        path = paged_path(h)
        # Seconds: a planned 429 on the most paginated path. An HTTP date must be computed
        # when the answer is sent, so it comes from the chaos switch (seeded, two expected).
        rate = min(0.3, 2 / max(1, len(_api_requests(h.main))))
        chaos = Chaos(rate=rate, kinds=("429-date",), seed=3, retry_after=2)

        def arm(run: Run) -> None:
            headers = {"Retry-After": "1"}
            run.sandbox.add_fault(Fault(path=f"^{re.escape(path)}$", status=429, headers=headers))
            run.sandbox.set_chaos(chaos)  # type: ignore[attr-defined]

        cache["retry_after"] = h.run("retry-after", before_sync=arm)
    return cache["retry_after"]  # type: ignore[no-any-return]


def _retry_after(h: Harness, scenario: str) -> None:
    run = retry_after_run(h)
    dated = scenario == "retry_after_date"
    wait = 2.0 if dated else 1.0
    requests = _api_requests(run)
    # The planned fault answers the first request to the paged path; chaos made the others.
    planned = next((i for i, r in enumerate(requests) if r.path == paged_path(h)), -1)
    throttled = [i for i, r in enumerate(requests) if r.status == 429 and (i == planned) != dated]
    if not throttled:
        raise NotExercised(f"no {scenario.replace('_', ' ')} struck in this sync")
    # An HTTP date has whole seconds, so it may mean up to a second less than asked.
    at_least = wait - 1.2 if dated else wait * 0.9
    impatient = []
    for i in throttled:
        answered, path = requests[i], requests[i].path
        retry = next((r for r in requests[i + 1 :] if r.path == path), None)
        waited = None if retry is None else (retry.started or retry.at) - answered.at
        if waited is None or waited < at_least:
            impatient.append(
                f"{path} asked again {'never' if waited is None else f'{waited:.2f} s later'}"
            )
    require(
        not impatient,
        f"After a 429 asking to wait {wait:g} s"
        f" ({'as an HTTP date' if dated else 'in seconds'}): {examples(impatient)}.",
        where=f"requests of {h.name!r} to its sandbox",
        fix="Make every request through the client portal hands you: it waits as long as"
        " Retry-After says (seconds or an HTTP date). Never retry in the plugin.",
    )
    _require_same(h, run, scenario, "Let portal's client retry; do not catch its errors.")


def _cursor_loop(h: Harness) -> None:
    # The chaos switch points one paged answer's next link back at itself, once. A sync
    # may stop there with an error naming the loop (then a clean sync must complete), or
    # fetch the page again and carry on; either way the store ends exact and bounded.
    chaos = Chaos(rate=0.0, loop_after=2)
    run = h.run("chaos-loop", before_sync=lambda r: r.sandbox.set_chaos(chaos))  # type: ignore[attr-defined]
    error = run.result.error
    if error is not None:
        require(
            "loop" in str(error).lower(),
            f"After a pagination loop the sync failed without naming it: {error}",
            where=f"the fetch hook of {h.name!r}",
            fix="Paginate with portal.http.follow_links (or a declarative helper), which"
            " detects loops and says so.",
        )
        run.sandbox.set_chaos(None)  # type: ignore[attr-defined]
        h.sync(run)
    _require_same(h, run, "a cursor loop", "Detect the loop (follow_links does) and stop.")


# -- crash and resume -------------------------------------------------------------------


def crash_resume(h: Harness, how: str) -> None:
    """Killed at many points, the resumed sync ends with exactly the served set."""
    h.unsupported("crash_resume", f"crash_resume.{how}")
    main = h.require_main_ok()
    if how == "sigkill":
        _sigkill(h)
        return
    deliveries = main.recorder.deliveries
    # Right after the first batch that carries a cursor (where a cursor ahead of its records
    # would lose data), and in the middle.
    middle = max(1, len(deliveries) // 2)
    crashes = [
        ("the first batch with a cursor", None),
        (f"batch {middle} of {len(deliveries)}", middle),
    ]
    recorder = DeliveryRecorder()
    run = h.run("crash", recorder=recorder, sync=False)
    assert run.connection is not None
    for when, point in crashes:
        # Start each cycle from an empty store, keeping the connection and its tokens.
        run.portal.store.delete_connection(run.connection, delete_data=True)
        run.portal.store.save_connection(run.connection)
        recorder.crash_after, recorder.crash_at_cursor = point, point is None
        recorder.deliveries[:] = []
        h.sync(run)
        recorder.crash_after, recorder.crash_at_cursor = None, False
        h.sync(run)
        _require_resumed(h, run, f"a crash right after {when}")


def _require_resumed(h: Harness, run: Run, when: str) -> None:
    problems, _ = _diff(h, run)
    require(
        run.result.ok and not problems,
        f"After {when}, the resumed sync ended {run.result.error or 'ok'} with a store that"
        f" differs from the served set: {examples(problems) or 'no difference'}.",
        where=f"cursors of {h.name!r}",
        fix="Attach to each Page the cursor reached after its own items, never a cursor"
        " ahead of items not yet yielded.",
    )


def _sigkill(h: Harness) -> None:
    run = h.run("sigkill", sync=False)
    env = h.environment(run)
    portal_bin = Path(sys.executable).with_name("portal")
    for target in (max(3, len(_api_requests(h.main)) // 3),):
        seen = len(run.sandbox.requests)
        # Its output goes to a file, not a pipe nobody reads while it runs; the secret
        # search reads it at the end.
        printed = tempfile.TemporaryFile()  # noqa: SIM115 - closed below
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(portal_bin), "sync", h.name],
            env=env,
            stdout=printed,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if len(_api_requests(run)) - seen >= target:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait(timeout=30)
        with printed:
            printed.seek(0)
            run.outputs.append(printed.read().decode(errors="replace"))
    h.sync(run)
    _require_resumed(h, run, "portal sync was killed with SIGKILL mid-sync")
