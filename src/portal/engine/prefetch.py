"""Fetch the next page while this one is normalised and stored; fetch streams side by side.

A sync alternates between waiting on the provider and working on what it sent; running
the plugin's page generator in a thread of its own overlaps the two. Pages still arrive in
order, one at a time, so every cursor is still committed after its records; one page waits
in the queue while the next is fetched, so memory stays flat.

``interleaved`` does the same for several page generators at once (a plugin's independent
streams, through ``portal.http.together``): each runs in one of a few threads, its own pages
in its own order, all of them handed over through the one small queue.

Runs nest: a plugin's fetch runs in the engine's fetch thread, and its ``together`` starts
threads of its own from there. When the outer run stops, so do the runs nested in it, and
the outer waits for their threads too, even when the plugin's code never closed them (a
fetch wrapper that raised while its inner generator was still suspended).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator, Iterable
from typing import Any

from portal.provider import Page

DEPTH = 1
"""Pages waiting in the queue; with the one being fetched, the engine is DEPTH + 1 ahead."""

_WAIT = 0.1
"""Seconds between checks for a consumer that stopped listening."""

_producing = threading.local()
"""The ``_Halt`` of the run whose producer thread this is, if it is one."""


def prefetched(pages: Iterable[Page], *, depth: int = DEPTH) -> Generator[Page, None, None]:
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
    halt = _Halt()
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
        _producing.halt = halt
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
    handoff: queue.Queue[Any], halt: _Halt, threads: list[threading.Thread]
) -> Generator[Page, None, None]:
    # Here, at the first page asked for, this code runs in the thread that consumes the run.
    outer: _Halt | None = getattr(_producing, "halt", None)
    halt.within(outer)
    for thread in threads:
        thread.start()
    if outer is not None:
        outer.nest(halt, threads)  # once started: the outer may join them from now on
    running = len(threads)
    try:
        while running:
            try:
                item = handoff.get(timeout=_WAIT)
            except queue.Empty:
                # Set while this run is consumed only when the run it is nested in stopped:
                # its producers stop, so no more pages come. Unwind the code consuming it.
                if halt.is_set():
                    raise _Stopped from None
                continue
            if item is _DONE:
                running -= 1
            elif isinstance(item, _Raised):
                raise item.error
            else:
                yield item
    finally:
        halt.set()
        deadline = time.monotonic() + _WAIT * 5  # for all of them: a Ctrl-C must end quickly
        for thread in [*threads, *halt.nested_threads()]:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


_DONE = object()


class _Halt:
    """Set when a run's consumer stops; a run nested in another also stops with the outer."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._outer: _Halt | None = None
        self._nested: list[tuple[_Halt, list[threading.Thread]]] = []
        self._lock = threading.Lock()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._outer is not None and self._outer.is_set())

    def within(self, outer: _Halt | None) -> None:
        """This run was started from one of ``outer``'s producer threads: it stops with it."""
        self._outer = outer

    def nest(self, inner: _Halt, threads: list[threading.Thread]) -> None:
        """Note ``inner``'s started threads, so that this run's end waits for them too."""
        with self._lock:
            # A fetch may start many runs in turn: forget those that have ended.
            self._nested = [
                (run, ts)
                for run, ts in self._nested
                if any(t.is_alive() for t in [*ts, *run.nested_threads()])
            ]
            self._nested.append((inner, threads))

    def nested_threads(self) -> list[threading.Thread]:
        """The threads of every run nested in this one, at any depth."""
        with self._lock:
            nested = list(self._nested)
        return [t for inner, threads in nested for t in [*threads, *inner.nested_threads()]]


class _Stopped(BaseException):
    """Raised in a nested run's consumer when the outer run stopped (not an ``Exception``, so
    that a plugin's error handling lets it through, like ``GeneratorExit``)."""


class _Raised:
    """An exception from a producer, carried through the queue."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
