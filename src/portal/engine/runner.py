"""Run several providers' syncs at once, and stop them cleanly on Ctrl-C.

Each provider syncs in its own thread: providers are independent, and most of a sync is
spent waiting on the network. The store takes their batches one transaction at a time.
On Ctrl-C the runner asks every sync to stop after the page it is on (each page is
committed with its cursor, so nothing committed is lost) and gives them a moment to do so;
a thread still waiting on the network after that is abandoned — it is a daemon thread, and
SQLite rolls back any transaction it had not committed. A sync whose plugin hangs is
abandoned the same way, and reported (``portal.engine.watch``).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

from portal.engine.sync import SyncResult
from portal.engine.watch import Watch

GRACE_SECONDS = 1.5
"""How long a Ctrl-C waits for running syncs to finish their current page."""

Job = Callable[[threading.Event, Watch], SyncResult]
"""One provider's sync; it must return soon after the event is set, and time every call
into the plugin on the ``Watch`` (``portal.engine.watch``)."""


def run_all(jobs: Mapping[str, Job], *, grace: float = GRACE_SECONDS) -> list[SyncResult]:
    """Run every job in its own thread; results in the order of ``jobs``.

    A KeyboardInterrupt while waiting stops every job (see the module docstring) and is
    raised again once they stopped or the grace period ran out. A job whose plugin does not
    answer within its bound (``Watch``) is no longer waited for: its result is the error.
    """
    stop = threading.Event()
    results: dict[str, SyncResult] = {}
    settled = threading.Lock()  # an abandoned job that answers late changes nothing
    watches = {name: Watch(name) for name in jobs}

    def work(name: str, job: Job) -> None:
        try:
            result = job(stop, watches[name])
        except Exception as error:
            result = SyncResult(name, error=error)
        with settled:
            results.setdefault(name, result)

    threads = {
        name: threading.Thread(target=work, args=(name, job), name=f"sync-{name}", daemon=True)
        for name, job in jobs.items()
    }
    with collecting_young_objects():
        for thread in threads.values():
            thread.start()
        try:
            _wait(threads, watches, results, settled)
        except KeyboardInterrupt:
            stop.set()
            deadline = time.monotonic() + grace
            for thread in threads.values():
                thread.join(max(0.0, deadline - time.monotonic()))
            raise
    return [results[name] for name in jobs]


def _wait(
    threads: Mapping[str, threading.Thread],
    watches: Mapping[str, Watch],
    results: dict[str, SyncResult],
    settled: threading.Lock,
) -> None:
    waiting = dict(threads)
    while waiting:
        for name, thread in list(waiting.items()):
            thread.join(0.1 / len(waiting))  # short joins keep the main thread responsive to Ctrl-C
            if not thread.is_alive():
                del waiting[name]
            elif (late := watches[name].overdue()) is not None:
                watches[name].abandoned = True
                with settled:
                    results.setdefault(name, SyncResult(name, error=late))
                del waiting[name]  # left behind: a daemon thread, it cannot keep the process


SYNC_GC_THRESHOLDS = (10_000, 10, 10)
"""The cyclic garbage collector's thresholds while syncs run (CPython's are 700, 10, 10)."""

_gc_lock = threading.Lock()
_gc_users = 0
_gc_before: tuple[int, int, int] | None = None


@contextmanager
def collecting_young_objects() -> Iterator[None]:
    """While syncs run, leave what was loaded before them out of garbage collection.

    A sync allocates tens of objects per record, and at CPython's thresholds every few
    thousand records set off a full collection that walks every object the process has:
    the 160,000 or so of SQLAlchemy, pydantic and the rest, none of which a sync frees.
    Those are frozen for the duration (``gc.freeze``) and collections run less often;
    measured: normalising took a third less time. What the syncs themselves allocate is
    collected as usual, and everything is back as it was afterwards (nested and
    concurrent runs share one freeze).
    """
    global _gc_users, _gc_before
    with _gc_lock:
        if _gc_users == 0 and gc.isenabled():
            _gc_before = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(*SYNC_GC_THRESHOLDS)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_before is not None:
                gc.set_threshold(*_gc_before)
                gc.unfreeze()
                _gc_before = None
