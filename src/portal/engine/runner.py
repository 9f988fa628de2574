"""Run several providers' syncs at once, and stop them cleanly on Ctrl-C.

Each provider syncs in its own thread: providers are independent, and most of a sync is
spent waiting on the network. The store takes their batches one transaction at a time.
On Ctrl-C the runner asks every sync to stop after the page it is on (each page is
committed with its cursor, so nothing committed is lost) and gives them a moment to do so;
a thread still waiting on the network after that is abandoned — it is a daemon thread, and
SQLite rolls back any transaction it had not committed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from portal.engine.sync import SyncResult

GRACE_SECONDS = 1.5
"""How long a Ctrl-C waits for running syncs to finish their current page."""

Job = Callable[[threading.Event], SyncResult]
"""One provider's sync; it must return soon after the event is set."""


def run_all(jobs: Mapping[str, Job], *, grace: float = GRACE_SECONDS) -> list[SyncResult]:
    """Run every job in its own thread; results in the order of ``jobs``.

    A KeyboardInterrupt while waiting stops every job (see the module docstring) and is
    raised again once they stopped or the grace period ran out.
    """
    stop = threading.Event()
    results: dict[str, SyncResult] = {}

    def work(name: str, job: Job) -> None:
        try:
            results[name] = job(stop)
        except Exception as error:
            results[name] = SyncResult(name, error=error)

    threads = [
        threading.Thread(target=work, args=(name, job), name=f"sync-{name}", daemon=True)
        for name, job in jobs.items()
    ]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(0.1)  # a short join keeps the main thread responsive to Ctrl-C
    except KeyboardInterrupt:
        stop.set()
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        raise
    return [results[name] for name in jobs]
