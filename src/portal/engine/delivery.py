"""Deliver batches in a thread of their own while the engine normalises the next pages.

Storing a batch is mostly SQLite's work, done in C without the GIL (``portal.store`` hands
it each batch as one statement); normalising is Python's. Running the ``deliver`` hook in
its own thread overlaps the two. Batches are still delivered one at a time and in order,
each committed with its cursor, so a crash leaves the store at the end of some batch as
before. After a delivery fails nothing later is delivered: a later batch's cursor would
skip the records of the one that failed.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from portal.batch import Batch

DEPTH = 1
"""Batches waiting while one is delivered; with the one being normalised, the engine works
at most DEPTH + 2 batches ahead of what is committed."""

_END = object()


class DeliveryFailed(Exception):
    """A ``deliver`` hook raised: ``error`` is what it raised."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class Deliverer:
    """Calls ``deliver`` then ``delivered`` for each submitted batch, in order, in a thread.

    ``submit`` hands a batch over (waiting while ``DEPTH`` batches already wait) and raises
    ``DeliveryFailed`` once an earlier delivery has failed; ``close`` waits until every
    submitted batch is delivered, and raises the failure if there was one.
    """

    def __init__(
        self,
        deliver: Callable[[Batch], None],
        delivered: Callable[[Batch, int], None],
        *,
        name: str = "portal-deliver",
        depth: int = DEPTH,
    ) -> None:
        self._deliver = deliver
        self._delivered = delivered
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._failure: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        """Whether a delivery has failed (later batches are then dropped, never delivered)."""
        return self._failure is not None

    def submit(self, batch: Batch, pages: int = 1) -> None:
        """Deliver ``batch`` (``pages`` pages merged) after the ones submitted before it."""
        self._raise_failure()
        self._queue.put((batch, pages))
        self._raise_failure()

    def close(self) -> None:
        """Wait for every submitted batch; raise ``DeliveryFailed`` if one failed."""
        self.end()
        self._raise_failure()

    def end(self) -> None:
        """Let the thread finish (after delivering what it was given) and wait for it."""
        if not self._closed:
            self._closed = True
            self._queue.put(_END)
            self._thread.join()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise DeliveryFailed(self._failure)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if self._failure is not None:
                continue  # drained, never delivered: their cursors would pass the failure
            batch, pages = item
            try:
                self._deliver(batch)
                self._delivered(batch, pages)
            except BaseException as error:  # carried to the engine's thread, raised there
                self._failure = error
