"""Serving the view on 127.0.0.1 until stopped (werkzeug's threaded server, quiet)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Self
from zoneinfo import ZoneInfo

from portal.serving import LOOPBACK, Served, listen_on_loopback
from portal.store import Store
from portal.view.guard import TOKEN_PARAMETER, Guard, new_secret
from portal.view.pages import Pages


class ViewServer:
    """``portal view`` on a real socket: the pages behind the guard, served in a thread.

    Only 127.0.0.1 is bound; ``port`` 0 takes any free port. ``login_url`` carries the
    per-run secret (give it to the person's browser only); ``url`` does not.
    """

    def __init__(
        self,
        store: Store,
        *,
        port: int = 0,
        now: Callable[[], datetime] | None = None,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.store = store
        self.port = port
        self._now = now  # the pages' clock: the machine's unless a test sets the day
        self._zone = zone  # the person's time zone (default: PORTAL_TZ, or the computer's)
        self._secret = new_secret()
        self._serving: Served | None = None

    def __repr__(self) -> str:  # never the secret
        return f"ViewServer({self.url if self._serving else 'not running'})"

    @property
    def url(self) -> str:
        """The view's address, without the secret."""
        return f"http://{LOOPBACK}:{self.port}/"

    @property
    def login_url(self) -> str:
        """The address to open once: it carries the secret, which the browser keeps as a cookie."""
        return f"{self.url}?{TOKEN_PARAMETER}={self._secret}"

    def start(self) -> Self:
        """Listen on 127.0.0.1 and serve in a daemon thread; return self."""
        listener = listen_on_loopback(self.port)
        self.port = listener.getsockname()[1]
        app = Guard(
            Pages(self.store, now=self._now, zone=self._zone),
            secret=self._secret,
            host=LOOPBACK,
            port=self.port,
        )
        self._serving = Served(listener, app, f"portal-view-{self.port}")
        return self

    def stop(self) -> None:
        """Stop serving, close kept-alive connections and join every thread. Idempotent."""
        serving, self._serving = self._serving, None
        if serving is not None:
            serving.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
