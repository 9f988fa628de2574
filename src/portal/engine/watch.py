"""Every call into a provider's plugin, timed, so that a hung plugin cannot hang a sync.

A plugin's ``fetch`` (each page), ``normalise`` (each page's items) and ``deliver`` (each
batch) run in the engine's threads; one that never returns (a ``time.sleep(10**6)``, an
endless loop, a socket read without a timeout) would keep ``portal sync`` waiting forever,
the other providers' results unprinted. A Python thread cannot be killed, so instead the
sync notes each call as it starts and ends (``Watch.call``), and the runner, which waits
for every provider's sync, stops waiting for one whose call has gone on for longer than
its bound: it reports the provider as failed, naming the hook, and leaves the thread
behind (a daemon thread: the process still exits).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from portal.errors import ConfigError, ProviderError

T = TypeVar("T")


class Unanswered(ProviderError):
    """A plugin hook call that did not return within its bound; its sync was abandoned."""


class Watch:
    """The hook calls in progress in one provider's sync, each with its deadline."""

    def __init__(self, provider: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.provider = provider
        self._clock = clock
        self._calls: dict[object, tuple[str, float, float]] = {}
        self._lock = threading.Lock()
        self.abandoned = False
        """Set once the runner has stopped waiting: what the sync says after is not heard."""

    @contextmanager
    def call(self, hook: str, seconds: float) -> Iterator[None]:
        """Time one call of ``hook``, which may take ``seconds`` at most."""
        key = object()
        with self._lock:
            self._calls[key] = (hook, seconds, self._clock() + seconds)
        try:
            yield
        finally:
            with self._lock:
                del self._calls[key]

    def each(self, hook: str, seconds: float, values: Iterable[T]) -> Iterator[T]:
        """``values`` (a plugin's generator), each one's production timed as ``hook``."""
        found = iter(values)
        try:
            while True:
                with self.call(hook, seconds):
                    value = next(found, _END)
                if value is _END:
                    return
                yield value  # type: ignore[misc]
        finally:
            close = getattr(found, "close", None)
            if close is not None:  # stopped early: the plugin's generator ends here too
                with self.call(hook, seconds):
                    close()

    def overdue(self) -> Unanswered | None:
        """The error to report if a call in progress has passed its deadline, else None."""
        now = self._clock()
        with self._lock:
            late = [(hook, seconds) for hook, seconds, end in self._calls.values() if now > end]
        if not late:
            return None
        hook, seconds = late[0]
        return Unanswered(
            f"{self.provider}'s plugin did not answer within {seconds:g} s in {hook}.",
            hint="portal stopped waiting for it; what was synced before is kept. Report it"
            " to the plugin's authors.",
        )


_END = object()


LOAD_SECONDS = 60.0
"""How long loading one plugin, or one of its ``register_*`` hooks, may take by default.

``PORTAL_PLUGIN_LOAD_SECONDS`` sets another bound (tests use a second). Loading runs before
any provider is known, so no ``RequestLimits`` can say it."""


def load_seconds() -> float:
    """The bound on loading one plugin or calling one ``register_*`` hook, in seconds."""
    value = os.environ.get("PORTAL_PLUGIN_LOAD_SECONDS")
    try:
        seconds = float(value) if value else LOAD_SECONDS
    except ValueError:
        seconds = LOAD_SECONDS
    return seconds if seconds > 0 else LOAD_SECONDS


def within(seconds: float, what: str, call: Callable[[], T]) -> T:
    """``call()``, unless it runs longer than ``seconds``: then a ConfigError naming ``what``.

    For the calls into a plugin that happen before any sync (importing its module, its
    ``register_providers`` and ``register_importers``): one that never returns would hang
    every ``portal`` command. The call runs in a daemon thread that is left behind if it
    does not return in time (a thread cannot be killed; a daemon one does not keep the
    process). Whatever it raises is raised here.
    """
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as error:  # handed to the caller's thread as it is
            outcome.append((False, error))

    thread = threading.Thread(target=run, name=f"portal-load {what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if not outcome:
        raise ConfigError(
            f"{what} did not answer within {seconds:g} s.",
            hint="portal went on without it; fix or uninstall the plugin.",
        )
    done, value = outcome[0]
    if not done:
        raise value  # type: ignore[misc]
    return value  # type: ignore[return-value]
