"""The chaos switch and the request log of a sandbox.

A ``Fault`` makes matching API requests misbehave a set number of times, then it is spent;
a ``RequestRecord`` is what the sandbox remembers of each request it answered. Both are
plain data so that tests can build and inspect them without touching Flask.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

MALFORMED_BODY = b'{"Data": {"Transaction": [{"TransactionId": "'
"""What a ``malformed`` fault answers: JSON cut off mid-string, as a dropped proxy would."""


@dataclass
class Fault:
    """Make API requests whose path matches ``path`` misbehave, ``times`` times.

    ``path`` is a regular expression searched for (``re.search``) in the request path;
    the authorization server's own routes (``/oauth/...``, ``/device``, ``/.well-known/...``)
    are never faulted. The
    sandbox answers ``status`` with ``headers`` (e.g. ``{"Retry-After": "1"}``), or, when
    ``malformed`` is set, 200 with a truncated JSON body. ``delay`` waits that many
    seconds before answering, to model a slow provider. ``always`` makes the fault never
    spent (``times`` is then ignored): every attempt fails, so a fault outlasts any retries.
    """

    path: str
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    malformed: bool = False
    times: int = 1
    delay: float = 0.0
    always: bool = False

    def matches(self, path: str) -> bool:
        """Whether this fault applies to a request for ``path``."""
        return re.search(self.path, path) is not None


@dataclass
class RequestRecord:
    """One request the sandbox answered. The token is never kept, only whether it was valid."""

    method: str
    path: str
    query: str
    status: int
    at: float
    """``time.monotonic()`` when the response was ready, so tests can measure back-off."""
    authorised: bool
    """True when a protected route accepted the request's bearer token."""
    started: float = 0.0
    """``time.monotonic()`` when the request arrived (for rates and concurrency)."""


class FaultBook:
    """The faults waiting to fire; safe to use from the server's request threads.

    It counts down its own copy of ``times``, so a ``Fault`` object can be armed again.
    """

    def __init__(self) -> None:
        self._armed: list[tuple[Fault, list[int]]] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> None:
        """Arm ``fault``; faults added earlier fire first."""
        if fault.times < 1:
            raise ValueError("A fault must affect at least one request (times >= 1).")
        re.compile(fault.path)  # a bad pattern should fail here, not inside a request thread
        with self._lock:
            self._armed.append((fault, [fault.times]))

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._armed.clear()

    def take(self, path: str) -> Fault | None:
        """The first armed fault matching ``path``, counting this request against it."""
        with self._lock:
            for entry in self._armed:
                fault, remaining = entry
                if fault.matches(path):
                    if fault.always:
                        return fault
                    remaining[0] -= 1
                    if remaining[0] <= 0:
                        self._armed.remove(entry)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        """The faults still armed, in firing order."""
        with self._lock:
            return [fault for fault, _ in self._armed]
