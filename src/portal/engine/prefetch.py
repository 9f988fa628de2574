"""Fetch the next page while this one is normalised and stored.

A sync alternates between waiting on the provider and working on what it sent; running
the plugin's page generator in a thread of its own overlaps the two. Pages still arrive in
order, one at a time, so every cursor is still committed after its records; one page waits
in the queue while the next is fetched, so memory stays flat.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from portal.provider import Page

DEPTH = 1
"""Pages waiting in the queue; with the one being fetched, the engine is DEPTH + 1 ahead."""

_END = object()
_WAIT = 0.1
"""Seconds between checks for a consumer that stopped listening."""


def prefetched(pages: Iterable[Page], *, depth: int = DEPTH) -> Iterator[Page]:
    """``pages``, produced in a background thread ``depth`` pages ahead.

    An exception raised by the generator is raised here, in order, after the pages before
    it. When the consumer stops early (an error, Ctrl-C, ``close``), the producer stops at
    its next page and the plugin's generator is closed in the thread that ran it.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    halt = threading.Event()

    def offer(value: Any) -> bool:
        while not halt.is_set():
            try:
                handoff.put(value, timeout=_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        source = iter(pages)
        try:
            for page in source:
                if not offer(page):
                    return
            offer(_END)
        except BaseException as error:
            offer(_Raised(error))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="portal-fetch", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item
    finally:
        halt.set()
        worker.join(timeout=_WAIT * 5)


class _Raised:
    """An exception from the producer, carried through the queue."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
