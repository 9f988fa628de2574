"""Resilience under the chaos switch, and crash and resume.

Every scenario runs a fresh sandbox and home, makes the sandbox misbehave one way (a
planned ``Fault`` or the random, seeded ``Chaos`` switch), syncs, and compares the store
with the fault-free main run: it must be set-equal, with a bounded number of requests.
Crash and resume stops a sync after each of several pages (in process, right after a
commit) and with SIGKILL (a real ``portal sync`` process), resumes, and requires exactly the
served set: no cursor may ever be committed before its records.
"""

from __future__ import annotations

import email.utils
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from portal.sandbox import Chaos, Fault
from portal_conformance.failures import CheckFailed, NotApplicable, examples, require
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


def _diff(h: Harness, run: Run) -> list[str]:
    expected, got = h.main.snapshot(), run.snapshot()
    problems = []
    for category in expected:
        missing, extra = expected[category] - got[category], got[category] - expected[category]
        if missing or extra:
            problems.append(f"{category}: {len(missing)} missing, {len(extra)} unexpected")
    return problems


def _require_same(h: Harness, run: Run, scenario: str, fix: str) -> None:
    problems = _diff(h, run)
    require(
        run.result.ok and not problems,
        f"Under {scenario.replace('_', ' ')}, the sync ended"
        f" {'with: ' + str(run.result.error) if run.result.error else 'ok'} and the store"
        f" differs from the fault-free run: {examples(problems) or 'no difference'}.",
        where=f"portal sync {h.name} against its sandbox with {scenario.replace('_', ' ')}",
        fix=fix,
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
    """One kind of misbehaviour; the store must end as if nothing had gone wrong."""
    h.unsupported("resilience", f"resilience.{scenario}")
    h.require_main_ok()
    path = paged_path(h)
    if scenario.startswith("retry_after"):
        _retry_after(h, scenario, path)
    elif scenario == "cursor_loop":
        _cursor_loop(h)
    else:
        # About three faults per sync, whatever the plugin's number of requests.
        rate = min(0.3, 3 / max(1, len(_api_requests(h.main))))
        chaos = Chaos(rate=rate, kinds=(CHAOS_KINDS[scenario],), seed=3, slow_seconds=0.2)
        run = h.run(f"chaos-{scenario}", before_sync=lambda r: r.sandbox.set_chaos(chaos))  # type: ignore[attr-defined]
        counts = run.sandbox.chaos_counts  # type: ignore[attr-defined]
        if not counts.get(CHAOS_KINDS[scenario]):
            raise NotApplicable(
                f"the seeded chaos drew no {scenario} in this sync (too few requests)"
            )
        _require_same(
            h,
            run,
            scenario,
            "Fetch through the client portal hands you and let exceptions from it propagate;"
            " never catch ProviderError to carry on, never retry yourself.",
        )


def _retry_after(h: Harness, scenario: str, path: str) -> None:
    wait = 1 if scenario == "retry_after_seconds" else 2

    def arm(run: Run) -> None:
        value = (
            str(wait)
            if scenario == "retry_after_seconds"
            else email.utils.formatdate(time.time() + wait, usegmt=True)
        )
        run.sandbox.add_fault(Fault(path=f"^{path}$", status=429, headers={"Retry-After": value}))

    run = h.run(scenario, before_sync=arm)
    requests = [r for r in _api_requests(run) if r.path == path]
    throttled = next((i for i, r in enumerate(requests) if r.status == 429), None)
    if throttled is None:
        raise CheckFailed(
            f"The sync never requested {path}, where the 429 waited.",
            where=f"the fetch hook of {h.name!r}",
            fix="Fetch the same paths as in the fault-free run.",
        )
    answered = requests[throttled].at
    retry = requests[throttled + 1] if throttled + 1 < len(requests) else None
    waited = (retry.started or retry.at) - answered if retry else None
    at_least = wait - 1.2 if scenario == "retry_after_date" else wait * 0.9
    require(
        waited is not None and waited >= at_least,
        f"After a 429 asking to wait {wait} s, {path} was asked again"
        f" {'never' if waited is None else f'{waited:.2f} s later'}.",
        where=f"requests to {path}",
        fix="Make every request through the client portal hands you: it waits as long as"
        " Retry-After says (seconds or an HTTP date). Never retry in the plugin.",
    )
    _require_same(h, run, scenario, "Let portal's client retry; do not catch its errors.")


def _cursor_loop(h: Harness) -> None:
    run = h.run(
        "chaos-loop", before_sync=lambda r: r.sandbox.set_chaos(Chaos(rate=0.0, loop_after=2))
    )  # type: ignore[attr-defined]
    looped = bool(run.sandbox.chaos_counts) and run.result.error is not None  # type: ignore[attr-defined]
    require(
        looped and "loop" in str(run.result.error).lower(),
        "A pagination that loops back to a page already served must stop the sync with an"
        f" error naming the loop; the sync ended {run.result.error or 'ok'}.",
        where=f"the fetch hook of {h.name!r}",
        fix="Paginate with portal.http.follow_links (or a declarative helper), which detects"
        " loops; never follow links blindly.",
    )
    run.sandbox.set_chaos(None)  # type: ignore[attr-defined]
    h.sync(run)
    _require_same(h, run, "a cursor loop, then a clean sync", "Commit only complete pages.")


# -- crash and resume -------------------------------------------------------------------


def crash_resume(h: Harness, how: str) -> None:
    """Killed at many points, the resumed sync ends with exactly the served set."""
    h.unsupported("crash_resume", f"crash_resume.{how}")
    main = h.require_main_ok()
    if how == "sigkill":
        _sigkill(h)
        return
    deliveries = main.recorder.deliveries
    first_cursor: dict[str, int] = {}
    for i, d in enumerate(deliveries, 1):
        if d.cursor is not None:
            first_cursor.setdefault(d.stream, i)
    # Right after the first cursor of each stream (where a cursor ahead of its records would
    # lose data), and in the middle.
    points = sorted({*list(first_cursor.values())[:3], max(1, len(deliveries) // 2)})
    recorder = DeliveryRecorder()
    run = h.run("crash", recorder=recorder, sync=False)
    assert run.connection is not None
    for point in points:
        # Start each cycle from an empty store, keeping the connection and its tokens.
        run.portal.store.delete_connection(run.connection, delete_data=True)
        run.portal.store.save_connection(run.connection)
        recorder.crash_after, recorder.deliveries[:] = point, []
        h.sync(run)
        recorder.crash_after = None
        h.sync(run)
        _require_resumed(h, run, f"a crash right after batch {point} of {len(deliveries)}")


def _require_resumed(h: Harness, run: Run, when: str) -> None:
    problems = _diff(h, run)
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
    env = {**os.environ, "PORTAL_HOME": str(run.portal.home), "PORTAL_VAULT": "file"}
    if h.plugins_dir:
        env["PORTAL_PLUGINS_DIR"] = str(h.plugins_dir)
    portal_bin = Path(sys.executable).with_name("portal")
    for target in (3, 8):
        seen = len(run.sandbox.requests)
        process = subprocess.Popen(  # noqa: S603 - our own CLI
            [str(portal_bin), "sync", h.name, "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            if len(_api_requests(run)) - seen >= target:
                os.kill(process.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        process.wait(timeout=30)
    h.sync(run)
    _require_resumed(h, run, "portal sync was killed with SIGKILL twice mid-sync")
