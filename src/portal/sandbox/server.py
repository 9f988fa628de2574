"""The sandbox server: a real HTTP server on 127.0.0.1 with a real authorization server.

A provider's sandbox subclasses ``Sandbox``, adds its API routes in ``register_routes``
and states what it served in ``ground_truth``. Everything else — OAuth, faults, the
request log, starting and stopping cleanly — lives here, once for every provider.
"""

from __future__ import annotations

import contextlib
import functools
import html
import http
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Self

import flask
from authlib.oauth2 import OAuth2Error
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from portal.sandbox.faults import MALFORMED_BODY, Fault, FaultBook, RequestRecord
from portal.sandbox.oauth import (
    Authorization,
    Client,
    OAuthSettings,
    OAuthStore,
    build_authorization_server,
)

logger = logging.getLogger(__name__)

View = Callable[..., Any]
Require = Callable[[str], Callable[[View], View]]
"""``require(scope)``: a decorator admitting only requests with a bearer token for ``scope``."""

_AUTHORISED = "portal.sandbox.authorised"
_DEFAULT_REDIRECT = "http://127.0.0.1/callback"


class Sandbox:
    """A real HTTP server on 127.0.0.1 (ephemeral port) with a real OAuth 2.0 authorization server.

    The authorization server is authlib's (Flask integration): authorization code with
    PKCE S256 required, refresh-token rotation and RFC 7009 revocation, on
    ``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke``. A subclass adds the
    provider's API in ``register_routes`` and describes the data it serves in
    ``ground_truth``. Use it as a context manager, or call ``start`` and ``stop``; it
    can be started again after it stops (on a new port unless ``port`` is set).
    """

    def __init__(
        self,
        *,
        auto_approve: bool = True,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 90 * 24 * 3600,
        scopes: tuple[str, ...] = ("read",),
    ) -> None:
        self.settings = OAuthSettings(
            auto_approve=auto_approve,
            access_token_ttl=access_token_ttl,
            refresh_token_ttl=refresh_token_ttl,
            scopes=tuple(scopes),
        )
        self.port = 0
        """The port to listen on at the next ``start``; 0 picks a free one."""
        self.requests: list[RequestRecord] = []
        """Every request answered, oldest first (``/oauth/*`` included)."""
        self._oauth = OAuthStore(self.settings)
        self._faults = FaultBook()
        self._token_requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._app: flask.Flask | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._connections = _Connections()

    # -- for subclasses ---------------------------------------------------------------

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """Add the provider's API routes to ``app``; protect each with ``@require(scope)``."""

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """The raw objects this sandbox serves right now, by category, exactly as served."""
        return {}

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        """Extra fields for the token responses of a new grant (e.g. a bank's ``consent_id``).

        Called once for each successful authorization, before the code is issued; the
        fields are sent with the first token response and with every refresh of that grant.
        """
        return {}

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The JSON body of an error answered by the sandbox itself (a fault, an unknown route)."""
        return {"status": status, "message": message}

    # -- running ----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1 and serve in a daemon thread; return self."""
        if self._server is not None:
            raise RuntimeError("This sandbox is already running.")
        self._build_app()
        # Bind the socket ourselves: on a busy port make_server prints and calls sys.exit.
        listener = socket.create_server(("127.0.0.1", self.port))
        try:
            server = make_server(
                "127.0.0.1",
                listener.getsockname()[1],
                self._wsgi,
                threaded=True,
                request_handler=_QuietHandler,
                fd=listener.fileno(),
            )
        finally:
            listener.close()  # make_server works on a duplicate of the descriptor
        server.portal_connections = self._connections  # type: ignore[attr-defined]
        # A short poll interval keeps stop() quick: shutdown waits for the loop to notice.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"sandbox-{type(self).__name__}-{server.port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close kept-alive connections and join every thread. Idempotent."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        thread.join()
        self._connections.close_all()
        server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._server is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._server is None:
            raise RuntimeError(
                "The sandbox is not running: call start() or use it in a with block."
            )
        return f"http://127.0.0.1:{self._server.port}"

    @property
    def authorize_url(self) -> str:
        """The authorization endpoint."""
        return f"{self.base_url}/oauth/authorize"

    @property
    def token_url(self) -> str:
        """The token endpoint."""
        return f"{self.base_url}/oauth/token"

    @property
    def revocation_url(self) -> str:
        """The RFC 7009 revocation endpoint."""
        return f"{self.base_url}/oauth/revoke"

    # -- controls for tests -----------------------------------------------------------

    def register_client(
        self,
        client_id: str,
        client_secret: str | None = None,
        redirect_uris: Iterable[str] = (_DEFAULT_REDIRECT,),
        scope: str | None = None,
    ) -> None:
        """Register a client: public without a secret, confidential (basic or post) with one.

        ``scope`` defaults to every scope the sandbox supports. A loopback redirect URI
        matches requests on any port (RFC 8252 §7.3); every other one must match exactly.
        """
        with self._oauth.lock:
            self._oauth.clients[client_id] = Client(
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=list(redirect_uris),
                scope=scope if scope is not None else " ".join(self.settings.scopes),
            )

    def add_fault(self, fault: Fault) -> None:
        """Make matching API requests misbehave (see ``Fault``)."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        """Disarm every fault not yet spent."""
        self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """The faults still armed, in firing order."""
        return self._faults.pending()

    @property
    def token_requests(self) -> dict[str, int]:
        """How many times the token endpoint was called, by ``grant_type`` (failures included)."""
        with self._lock:
            return dict(self._token_requests)

    def expire_tokens(self) -> None:
        """Make every access token issued so far expired now (refresh tokens still work)."""
        self._oauth.expire_access_tokens()

    # -- the Flask app ----------------------------------------------------------------

    def _build_app(self) -> flask.Flask:
        if self._app is not None:
            return self._app
        app = flask.Flask("portal.sandbox")
        app.json.ensure_ascii = False  # type: ignore[attr-defined]  # serve clean UTF-8, not \u escapes
        app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the providers' field order
        server, protector = build_authorization_server(app, self._oauth)

        def require(scope: str) -> Callable[[View], View]:
            guard = protector(scope)

            def decorator(view: View) -> View:
                @functools.wraps(view)
                def admitted(*args: Any, **kwargs: Any) -> Any:
                    flask.request.environ[_AUTHORISED] = True
                    return view(*args, **kwargs)

                return guard(admitted)  # type: ignore[no-any-return]  # authlib is untyped

            return decorator

        @app.route("/oauth/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            try:
                grant = server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            if not self.settings.auto_approve and flask.request.method == "GET":
                return _consent_page(grant.request.client.client_id, grant.request.scope)
            approved = self.settings.auto_approve or flask.request.form.get("decision") == "approve"
            user = (
                self._authorization(grant.request.client.client_id, grant.request.scope)
                if approved
                else None
            )
            return server.create_authorization_response(grant_user=user, grant=grant)

        @app.route("/oauth/token", methods=["POST"])
        def token() -> Any:
            with self._lock:
                self._token_requests[flask.request.form.get("grant_type", "")] += 1
            return server.create_token_response()

        @app.route("/oauth/revoke", methods=["POST"])
        def revoke() -> Any:
            return server.create_endpoint_response("revocation")

        app.before_request(self._fault_response)
        app.register_error_handler(404, self._http_error)
        app.register_error_handler(405, self._http_error)
        self.register_routes(app, require)
        self._app = app
        return app

    def _authorization(self, client_id: str, scope: str) -> Authorization:
        return Authorization(
            client_id=client_id, scope=scope, extra=self.extra_token_fields(client_id, scope)
        )

    def _fault_response(self) -> flask.Response | None:
        path = flask.request.path
        if path.startswith("/oauth/"):
            return None
        fault = self._faults.take(path)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.malformed:
            return flask.Response(MALFORMED_BODY, 200, mimetype="application/json")
        body = self.error_body(fault.status, _reason(fault.status))
        return flask.Response(
            json.dumps(body, ensure_ascii=False),
            fault.status,
            headers=fault.headers,
            mimetype="application/json",
        )

    def _http_error(self, error: HTTPException) -> flask.Response:
        status = error.code or 500
        body = self.error_body(status, _reason(status))
        return flask.Response(
            json.dumps(body, ensure_ascii=False), status, mimetype="application/json"
        )

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # The Flask app, with every request recorded once it has been answered.
        app = self._build_app()
        status: list[int] = [500]

        def capture(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[0] = int(status_line.split(" ", 1)[0])
            return start_response(status_line, headers, exc_info)

        body: Iterable[bytes] = app(environ, capture)
        record = RequestRecord(
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            query=environ.get("QUERY_STRING", ""),
            status=status[0],
            at=time.monotonic(),
            authorised=bool(environ.get(_AUTHORISED)),
        )
        with self._lock:
            self.requests.append(record)
        return body


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


def _consent_page(client_id: str, scope: str) -> str:
    # Posting back to the same URL keeps the authorization request's parameters in the query.
    action = "?" + flask.request.query_string.decode("ascii", "replace")
    return (
        "<!doctype html><meta charset=utf-8><title>Approve access</title>"
        f"<p><b>{html.escape(client_id)}</b> asks to read: {html.escape(scope)}."
        f'<form method=post action="{html.escape(action)}">'
        "<button name=decision value=approve>Approve</button> "
        "<button name=decision value=deny>Deny</button></form>"
    )


class _Connections:
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


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without its access log: request lines carry authorization codes."""

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
            logger.debug("sandbox server error: " + message, *args)
