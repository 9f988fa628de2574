"""Per-provider request limits: how many requests in flight, and how many start a second.

A provider's API terms cap the load a client may put on it; the plugin declares them in
``Provider.limits`` and the engine holds every request to them, whatever the plugin does
(threads of its own included). One ``Limiter`` is shared by everything that talks to one
provider in a process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from portal.provider import RequestLimits


class Limiter:
    """Admits a request when a concurrency slot is free and the rate allows it."""

    def __init__(
        self,
        limits: RequestLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.concurrent)
        self._interval = 1.0 / limits.per_second if limits.per_second else 0.0
        self._next_start = 0.0
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a concurrency slot for one request, starting it no sooner than the rate allows."""
        with self._slots:
            self._pace()
            yield

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:  # reserve the next start time, then wait for it outside the lock
            now = self._clock()
            start = max(now, self._next_start)
            self._next_start = start + self._interval
        if start > now:
            self._sleep(start - now)
