"""The chaos switch: a sandbox that misbehaves at random, the way real providers do.

``Chaos(rate=0.2)`` makes one API request in five go wrong in one of the ways a provider,
a proxy or the network goes wrong: 429 with Retry-After (in seconds, or as an HTTP date),
a burst of 500/502/503, a slow answer, the connection reset in the middle of the body,
JSON cut short, or a 401 because the access token was revoked early. The draws come from
a seeded generator, so a test that fails can be replayed exactly.

A cursor loop is not a random fault (no client can recover from it, so a sync must stop
and say so): ask for it explicitly with ``Chaos(loop_after=N)``, which points the next
link of the N-th paged answer back at the page itself (or, for offset paging, which has no
link, answers the N-th page with the page before it again).

Only API routes misbehave; the authorization server's routes never do, as with ``Fault``.
"""

from __future__ import annotations

import email.utils
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import flask

MIN_USES_BEFORE_REVOKE = 3
"""A token is revoked early only after this many requests made with it."""

KINDS = ("429", "429-date", "5xx", "slow", "reset", "truncated", "401")
"""Every kind of random fault, as named in ``Chaos.kinds`` and ``ChaosLog.counts``."""


@dataclass(frozen=True)
class Chaos:
    """How a sandbox should misbehave. ``rate`` is the share of API requests that go wrong."""

    rate: float = 0.2
    kinds: tuple[str, ...] = KINDS
    seed: int = 0
    burst: int = 2
    """How many requests in a row a 5xx burst takes (the first included)."""
    slow_seconds: float = 0.3
    retry_after: int = 1
    """Seconds a 429 asks the client to wait (as a number, or as a date that far ahead)."""
    loop_after: int | None = None
    """Point the next link of this many-th paged answer back at itself (a cursor loop)."""

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"Chaos rate must be between 0 and 1, not {self.rate}.")
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"Unknown chaos kinds {sorted(unknown)}; known: {', '.join(KINDS)}.")
        if self.burst < 1:
            raise ValueError("A 5xx burst takes at least one request (burst >= 1).")


@dataclass
class Decision:
    """What to do with one request."""

    kind: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    loop: bool = False


class ChaosMonkey:
    """Draws a decision for each API request; thread-safe; counts what it did."""

    def __init__(self, chaos: Chaos) -> None:
        self.chaos = chaos
        self._random = random.Random(chaos.seed)
        self._lock = threading.Lock()
        self._burst_left = 0
        self._burst_status = 500
        self._paged = 0
        self.counts: dict[str, int] = {}
        """How many requests each kind of fault took, and ``"ok"`` for the ones left alone."""

    def decide(self, *, may_revoke: bool = True) -> Decision:
        """The decision for the next API request.

        ``may_revoke`` is False for a token that has hardly been used: a provider revokes a
        token early mid-sync, not the moment it was issued (a client refreshes once on a
        401 and rightly gives up if the fresh token is refused too).
        """
        with self._lock:
            if self._burst_left > 0:
                self._burst_left -= 1
                return self._count(Decision("5xx", status=self._burst_status))
            if not self.chaos.kinds or self._random.random() >= self.chaos.rate:
                return self._count(Decision())
            kind = self._random.choice(self.chaos.kinds)
            if kind == "5xx":
                self._burst_status = self._random.choice((500, 502, 503))
                self._burst_left = self.chaos.burst - 1
                return self._count(Decision(kind, status=self._burst_status))
            if kind == "429":
                headers = {"Retry-After": str(self.chaos.retry_after)}
                return self._count(Decision(kind, status=429, headers=headers))
            if kind == "429-date":
                when = email.utils.formatdate(time.time() + self.chaos.retry_after, usegmt=True)
                return self._count(Decision(kind, status=429, headers={"Retry-After": when}))
            if kind == "slow":
                return self._count(Decision(kind, delay=self.chaos.slow_seconds))
            if kind == "401":
                if not may_revoke:
                    return self._count(Decision())
                return self._count(Decision(kind, status=401))
            return self._count(Decision(kind))  # reset and truncated cut a real answer

    def paged(self) -> bool:
        """Count a paged answer; True when it is the one whose next link must loop."""
        with self._lock:
            self._paged += 1
            return self.chaos.loop_after is not None and self._paged == self.chaos.loop_after

    def spare(self, decision: Decision) -> None:
        """Count a decision that could not be carried out as a request left alone."""
        with self._lock:
            key = decision.kind or "ok"
            self.counts[key] -= 1
            self.counts["ok"] = self.counts.get("ok", 0) + 1

    def _count(self, decision: Decision) -> Decision:
        key = decision.kind or "ok"
        self.counts[key] = self.counts.get(key, 0) + 1
        return decision


def loop_back(body: Any, path: str, url: str) -> tuple[Any, bool]:
    """``body`` with every link to another page of ``path`` pointed at ``url`` instead."""
    if isinstance(body, dict):
        changed = False
        out = {}
        for key, value in body.items():
            out[key], hit = loop_back(value, path, url)
            changed = changed or hit
        return out, changed
    if isinstance(body, list):
        pairs = [loop_back(value, path, url) for value in body]
        return [v for v, _ in pairs], any(hit for _, hit in pairs)
    if isinstance(body, str) and body != url and body.startswith("http") and path in body:
        return url, True
    return body, False


def _collection(request: flask.Request) -> str:
    # A paged collection is its path and its filters: every query parameter but the paging.
    kept = sorted((k, v) for k, v in request.args.items() if k not in ("offset", "limit"))
    return request.path + "?" + "&".join(f"{k}={v}" for k, v in kept)


def cut(body: bytes) -> bytes:
    """The first half of a body: what arrives when a connection drops or a proxy truncates."""
    return body[: max(1, len(body) // 2)]


def is_json(content_type: str | None) -> bool:
    """Whether a response is JSON (the kinds of answer a chaos cut or loop applies to)."""
    return bool(content_type) and "json" in str(content_type)


class ChaosSwitch:
    """Installs a ``ChaosMonkey`` into a sandbox's Flask app; off until ``set`` is called."""

    def __init__(
        self,
        *,
        skip: tuple[str, ...],
        error_body: Callable[[int, str], dict[str, Any]],
        revoke_access_token: Callable[[str], None],
    ) -> None:
        self._skip = skip
        self._error_body = error_body
        self._revoke = revoke_access_token
        self._uses: dict[int, int] = {}
        self._revoked: set[int] = set()
        self._tokens = threading.Lock()
        self._last_page: dict[str, bytes] = {}
        self.monkey: ChaosMonkey | None = None

    def set(self, chaos: Chaos | None) -> None:
        """Switch chaos on with ``chaos``, or off with None."""
        self.monkey = ChaosMonkey(chaos) if chaos is not None else None
        self._last_page.clear()

    def install(self, app: flask.Flask) -> None:
        """Hook the switch into ``app``'s request cycle."""
        app.before_request(self._before)
        app.after_request(self._after)

    def _before(self) -> flask.Response | None:
        monkey = self.monkey
        if monkey is None or flask.request.path.startswith(self._skip):
            return None
        token = flask.request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        key = hash(token)  # the token itself is never kept
        with self._tokens:  # requests overlap: a token is revoked early once, by one of them
            uses = self._uses[key] = self._uses.get(key, 0) + 1
            may_revoke = uses > MIN_USES_BEFORE_REVOKE and key not in self._revoked
            decision = monkey.decide(may_revoke=may_revoke)
            if decision.status == 401:
                self._revoked.add(key)
        flask.g.portal_chaos = decision
        if decision.delay:
            time.sleep(decision.delay)
        if decision.status == 200:
            return None
        headers = dict(decision.headers)
        if decision.status == 401:
            # The provider revoked the token early: it stays revoked, so only a refresh helps.
            self._revoke(token)
            headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        body = self._error_body(decision.status, HTTPStatus(decision.status).phrase)
        return flask.Response(
            json.dumps(body), decision.status, headers=headers, mimetype="application/json"
        )

    def _after(self, response: flask.Response) -> flask.Response:
        monkey = self.monkey
        decision: Decision | None = flask.g.pop("portal_chaos", None)
        if monkey is None or decision is None:
            return response
        # 206 is a TMF630 page that is a part of its collection: an answer like any other.
        cuttable = response.status_code in (200, 206) and (
            decision.kind == "reset" or is_json(response.content_type)
        )
        if decision.kind in ("reset", "truncated") and not cuttable:
            monkey.spare(decision)  # nothing to cut (an error, or a body no client can check)
            return response
        answered = response.status_code in (200, 206) and is_json(response.content_type)
        if not answered and decision.kind != "reset":
            return response
        response.direct_passthrough = False  # a file answer: read it so it can be cut
        data = response.get_data()
        if decision.kind is None and monkey.chaos.loop_after is not None:
            body, linked = loop_back(json.loads(data), flask.request.path, flask.request.url)
            if linked and monkey.paged():
                response.set_data(json.dumps(body))
            elif not linked and "offset" in flask.request.args:
                # Offset paging has no link to bend back: answer the previous page again, as
                # a server that ignores ``offset`` does.
                collection = _collection(flask.request)
                before = self._last_page.get(collection)
                self._last_page[collection] = data
                if before is not None and monkey.paged():
                    response.set_data(before)
            return response
        if decision.kind == "truncated":
            response.set_data(cut(data))
        elif decision.kind == "reset":
            # Promise the whole body, send half, then hang up: a reset mid-body.
            response.response = [cut(data)]
            response.headers["Content-Length"] = str(len(data))
            response.headers["Connection"] = "close"
        return response


__all__ = [
    "KINDS",
    "Chaos",
    "ChaosMonkey",
    "ChaosSwitch",
    "Decision",
    "cut",
    "is_json",
    "loop_back",
]
