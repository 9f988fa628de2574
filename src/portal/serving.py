"""The HTTP plumbing under portal's local servers (the sandboxes, ``portal view``):
werkzeug's server, made quiet and quick to stop.

Kept apart from the sandboxes because it is about sockets and threads, not about OAuth or
providers, and ``portal view`` serves through it without Flask: the request handler logs
nothing (request lines carry authorization codes) and tracks open connections, so that
stopping a server closes kept-alive ones and leaves no thread behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

from werkzeug.serving import WSGIRequestHandler, make_server

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


def listen_on_loopback(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1 at ``port`` (any free port for 0), for a server the
    person started (``portal view``, ``portal browse``); a port in use is a UserError
    saying what to do, where werkzeug's make_server would print and exit."""
    from portal.errors import UserError

    try:
        return socket.create_server((LOOPBACK, port))
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise UserError(
            f"Port {port} on {LOOPBACK} is already in use.",
            hint="Pick another with --port, or leave --port out for any free port.",
        ) from None


class Connections:
    """The open client connections of one server, so that stop() can close kept-alive ones."""

    def __init__(self) -> None:
        self._open: dict[socket.socket, threading.Thread] = {}
        self._lock = threading.Lock()

    def opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._open[connection] = threading.current_thread()

    def closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.pop(connection, None)

    def close_all(self) -> None:
        """Unblock handler threads waiting on idle keep-alive connections, then join them."""
        with self._lock:
            open_now = list(self._open.items())
        for connection, _ in open_now:
            with contextlib.suppress(OSError):  # the client may have closed it already
                connection.shutdown(socket.SHUT_RDWR)
        for _, thread in open_now:
            thread.join(timeout=5)


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log: request lines carry authorization codes
    (and ``portal view``'s per-run secret)."""

    # Declared here so werkzeug does not set it on the class for us (it mutates the class).
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        connections = getattr(self.server, "portal_connections", None)
        if connections is not None:
            connections.opened(self.connection)

    def finish(self) -> None:
        connections = getattr(self.server, "portal_connections", None)
        if connections is not None:
            connections.closed(self.connection)
        super().finish()

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            logger.debug("local server error: " + message, *args)


class Served:
    """``app`` served on an already bound 127.0.0.1 ``listener``, in a daemon thread.

    The caller binds the listener (on a busy port werkzeug's ``make_server`` would print and
    call ``sys.exit``), so it says in its own words what a busy port means. ``stop`` is quick
    (the loop polls every 50 ms), closes kept-alive connections and joins every thread.
    """

    def __init__(self, listener: socket.socket, app: WSGIApplication, name: str) -> None:
        try:
            self.server = make_server(
                "127.0.0.1",
                listener.getsockname()[1],
                app,
                threaded=True,
                request_handler=QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # make_server works on a duplicate of the descriptor
        self._connections = Connections()
        self.server.portal_connections = self._connections  # type: ignore[attr-defined]
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=name,
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """The port it listens on."""
        return self.server.port

    def stop(self) -> None:
        """Stop serving, close kept-alive connections and join every thread."""
        self.server.shutdown()
        self._thread.join()
        self._connections.close_all()
        self.server.server_close()
