"""Fetch the next page while this one is normalised and stored; fetch streams side by side.

A sync alternates between waiting on the provider and working on what it sent; running
the plugin's page generator in a thread of its own overlaps the two. Pages still arrive in
order, one at a time, so every cursor is still committed after its records; one page waits
in the queue while the next is fetched, so memory stays flat.

``interleaved`` does the same for several page generators at once (a plugin's independent
streams, through ``portal.http.together``): each runs in one of a few threads, its own pages
in its own order, all of them handed over through the one small queue.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from portal.provider import Page

DEPTH = 1
"""Pages waiting in the queue; with the one being fetched, the engine is DEPTH + 1 ahead."""

_WAIT = 0.1
"""Seconds between checks for a consumer that stopped listening."""


def prefetched(pages: Iterable[Page], *, depth: int = DEPTH) -> Iterator[Page]:
    """``pages``, produced in a background thread ``depth`` pages ahead.

    An exception raised by the generator is raised here, in order, after the pages before
    it. When the consumer stops early (an error, Ctrl-C, ``close``), the producer stops at
    its next page and the plugin's generator is closed in the thread that ran it.
    """
    return interleaved([pages], workers=1, depth=depth)


def interleaved(
    sources: Iterable[Iterable[Page]],
    *,
    workers: int,
    depth: int = DEPTH,
    name: str = "portal-fetch",
) -> Generator[Page, None, None]:
    """The pages of every source, each source's in its order, up to ``workers`` at once.

    Sources are started in the order given, as threads come free. The first exception from
    any source is raised here, after the pages handed over before it; the other sources
    then stop at their next page. Each source is closed in the thread that ran it, whether
    it ended, failed or was stopped.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=depth)
    halt = threading.Event()
    pending = iter(sources)
    taking = threading.Lock()

    def offer(value: Any) -> bool:
        while not halt.is_set():
            try:
                handoff.put(value, timeout=_WAIT)
                return True
            except queue.Full:
                continue
        return False

    def next_source() -> Iterable[Page] | None:
        with taking:
            return next(pending, None)

    def produce() -> None:
        try:
            while (source := next_source()) is not None:
                if not _run(source, offer):
                    return
            offer(_DONE)
        except BaseException as error:  # from the iterable of sources itself
            offer(_Raised(error))

    threads = [
        threading.Thread(target=produce, name=name if workers == 1 else f"{name}-{n}", daemon=True)
        for n in range(max(1, workers))
    ]
    return _consume(handoff, halt, threads)


def _run(source: Iterable[Page], offer: Callable[[Any], bool]) -> bool:
    """Hand over every page of ``source``; False if the consumer stopped or it failed."""
    pages = iter(source)
    try:
        return all(offer(page) for page in pages)
    except BaseException as error:
        offer(_Raised(error))
        return False
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def _consume(
    handoff: queue.Queue[Any], halt: threading.Event, threads: list[threading.Thread]
) -> Generator[Page, None, None]:
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = handoff.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Raised):
                raise item.error
            else:
                yield item
    finally:
        halt.set()
        deadline = time.monotonic() + _WAIT * 5  # for all of them: a Ctrl-C must end quickly
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


_DONE = object()


class _Raised:
    """An exception from a producer, carried through the queue."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
