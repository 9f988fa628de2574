"""What the suite watches while a plugin runs: log lines, outbound connections, deliveries.

Each is a small recorder switched on around one sync, so a check can say exactly what the
plugin did: which log lines it wrote at DEBUG, which hosts it tried to reach (through
portal's client or around it), and when each page was delivered with its cursor.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from portal.batch import Batch
from portal.hookspecs import hookimpl

SUITE_SIDE = threading.local()
"""Set ``active`` while the suite itself (not portal or the plugin) talks to the sandbox."""


def suite_browser(url: str) -> None:
    """The scripted user agent approving a login; its own log lines are not portal's."""
    from portal.auth.flows import auto_approve_browser

    SUITE_SIDE.active = True
    try:
        auto_approve_browser(url)
    finally:
        SUITE_SIDE.active = False


class LogCapture(logging.Handler):
    """Every log record formatted as a line, at DEBUG, from every logger."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def filter(self, record: logging.LogRecord) -> bool:
        # The sandbox runs in this process but is the provider, not portal: its request
        # threads' lines (authlib's server logs the tokens it issues) and the suite's own
        # scripted browser are not what the plugin logged.
        return not (
            "process_request_thread" in (record.threadName or "")
            or getattr(SUITE_SIDE, "active", False)
        )

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a plugin's bad format string is still a line to search
            line = f"{record.levelname} {record.name}: {record.msg!r} {record.args!r}"
        self.lines.append(line)


@contextmanager
def capture_logs() -> Iterator[LogCapture]:
    """Capture every log line at DEBUG (portal's, httpx's and the plugin's) while inside."""
    handler = LogCapture()
    root = logging.getLogger()
    before = root.level
    quietened = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "portal")}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in quietened:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(before)
        for name, level in quietened.items():
            logging.getLogger(name).setLevel(level)


class _Egress:
    """Every host this process resolved or connected to while recording (an audit hook)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recording: list[list[str]] = []
        self._installed = False

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self._recording:
            return
        if event == "socket.getaddrinfo":
            target = f"{args[0]}:{args[1]}" if args[1] is not None else str(args[0])
        elif event == "socket.connect":
            address = args[1]
            if not isinstance(address, tuple):
                return  # a Unix socket is not egress
            target = f"{address[0]}:{address[1]}"
        else:
            return
        with self._lock:
            for sink in self._recording:
                sink.append(target)

    @contextmanager
    def record(self) -> Iterator[list[str]]:
        """Collect ``host:port`` of every resolution and connection made inside."""
        if not self._installed:
            sys.addaudithook(self._hook)  # cannot be removed; it does nothing when idle
            self._installed = True
        sink: list[str] = []
        with self._lock:
            self._recording.append(sink)
        try:
            yield sink
        finally:
            with self._lock:
                self._recording.remove(sink)


EGRESS = _Egress()


@dataclass(frozen=True)
class Delivery:
    """One batch as a destination saw it."""

    at: float
    stream: str
    items: int
    records: int
    rejections: int
    cursor: dict[str, Any] | None


@dataclass(eq=False)  # a plugin: pluggy keeps plugins in sets, so hashed by identity
class DeliveryRecorder:
    """A destination plugin that notes every batch, and can simulate a crash after one.

    Registered for the suite's syncs only. It runs after the store (``trylast``), so with
    ``crash_after=k`` exactly ``k`` batches are committed before the "crash"; with
    ``crash_at_cursor``, every batch up to the first that carries a cursor (streams fetched
    side by side arrive in a different order each time: that one is found by what it is).
    """

    crash_after: int | None = None
    crash_at_cursor: bool = False
    deliveries: list[Delivery] = field(default_factory=list)

    @hookimpl(trylast=True)
    def deliver(self, batch: Batch) -> None:
        """Note the batch; raise once ``crash_after`` batches are in."""
        cursor = None if batch.cursor is None else batch.cursor.model_dump(mode="json")
        self.deliveries.append(
            Delivery(
                time.monotonic(),
                batch.stream,
                batch.items_in,
                len(batch.records),
                len(batch.rejections),
                cursor,
            )
        )
        if (self.crash_after is not None and len(self.deliveries) >= self.crash_after) or (
            self.crash_at_cursor and cursor is not None
        ):
            raise SimulatedCrash(f"simulated crash after batch {len(self.deliveries)}")


class SimulatedCrash(RuntimeError):
    """Raised by ``DeliveryRecorder`` to stop a sync as a crash would, after a commit."""
