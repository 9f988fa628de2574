"""Budgets: memory flat while streaming, the plugin's import time, requests per record.

Streaming is observed, not guessed: the suite compares when each page was requested from
the sandbox with when each batch was delivered. A plugin that streams has asked for about
one page per batch delivered; one that materialises a stream asks for all its pages before
the first one is delivered, so its memory grows with the history.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from portal.engine.sync import LOOKAHEAD
from portal_conformance.failures import NotApplicable, require
from portal_conformance.harness import IMPORT, Harness
from portal_conformance.rules.files import memory_flat
from portal_conformance.rules.resilience import _api_requests

ENGINE_LOOKAHEAD = LOOKAHEAD
"""Pages the engine itself fetches ahead of the one being delivered."""
IMPORT_SECONDS = 0.5
"""The plugin module's own import time, on top of portal's (lazy-import heavy dependencies).
portal's modules a plugin is meant to import (``portal.importing`` for an importer with
them) are imported before the clock starts: their cost is portal's, not the plugin's."""
REQUESTS_PER_RECORD = 0.25
"""At most one request per four records, on top of ten (fetch pages, not items one by one)."""
PREFETCH = 2 + ENGINE_LOOKAHEAD
"""Pages a plugin may have asked for ahead of what was delivered: a couple of its own, plus
the engine's look-ahead (it fetches the next page while this one is stored)."""

_TIMER = """
import importlib.util, sys, time
import portal, portal.provider, portal.record, portal.http, portal.errors, portal.importing
path, name = sys.argv[1], sys.argv[2]
start = time.perf_counter()
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def budget(h: Harness, which: str) -> dict[str, float]:
    """One budget; returns the measured figure for the report."""
    h.unsupported("budgets", f"budgets.{which}")
    run = h.require_main_ok()
    if which == "memory_flat" and h.mode == IMPORT:
        return memory_flat(h)
    if which == "memory_flat":
        return _streaming(h)
    if which == "import_time":
        module = sys.modules.get(getattr(h.owner, "__name__", ""), h.owner)
        path = getattr(module, "__file__", None)
        if not path:
            raise NotApplicable("the plugin is not a module with a file")
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", _TIMER, path, f"portal_budget_{h.name}"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        require(
            done.returncode == 0,
            f"The plugin module failed to import alone: {done.stderr[-400:]}",
            where=path,
            fix="Make the plugin module importable on its own.",
        )
        seconds = float(done.stdout.strip().splitlines()[-1])
        require(
            seconds <= IMPORT_SECONDS,
            f"Importing the plugin takes {seconds:.2f} s on top of portal (budget"
            f" {IMPORT_SECONDS} s): it slows every portal command.",
            where=path,
            fix="Import heavy libraries (the sandbox's Flask, data tables) inside the functions"
            " that need them, not at module level.",
        )
        return {"import_seconds": seconds}
    requests = _api_requests(run)
    records = sum(run.result.records.values())
    allowed = records * REQUESTS_PER_RECORD + 10
    require(
        len(requests) <= allowed,
        f"The sync made {len(requests)} API requests for {records} records (budget {allowed:.0f}).",
        where=f"the fetch hook of {h.name!r}",
        fix="Fetch pages of items (the largest page size the API allows), not items one by one.",
    )
    return {"requests_per_record": len(requests) / max(1, records)}


def _streaming(h: Harness) -> dict[str, float]:
    run = h.main
    requests = _api_requests(run)
    deliveries = run.recorder.deliveries
    per_path = Counter(r.path for r in requests)
    paged, pages = per_path.most_common(1)[0] if per_path else ("", 0)
    if pages < 3:
        raise NotApplicable(
            "no stream in the sandbox has 3 pages or more, so streaming cannot be observed;"
            " seed the sandbox with more data or a smaller page size"
        )
    # Pages of the most paginated path fetched between one delivery and the next: a plugin
    # that streams fetches one (or a couple), one that materialises fetches them all.
    moments = [d.at for d in deliveries] + [float("inf")]
    worst, since = 0, float("-inf")
    for until in moments:
        between = sum(1 for r in requests if r.path == paged and since < r.at <= until)
        worst, since = max(worst, between), until
    require(
        worst <= PREFETCH,
        f"The plugin fetched {worst} of the {pages} pages of {paged} before delivering any of"
        " them: it reads a stream whole before yielding it, so memory grows with the history.",
        where=f"the fetch hook of {h.name!r}",
        fix="Yield each Page as soon as it is fetched (a generator); never collect pages"
        " into a list.",
    )
    return {"pages_ahead": float(worst)}
