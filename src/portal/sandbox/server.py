"""The sandbox server: a real HTTP server on 127.0.0.1 with a real authorization server.

A provider's sandbox subclasses ``Sandbox``, adds its API routes in ``register_routes``
and states what it served in ``ground_truth``. Everything else — OAuth, faults, the
request log, starting and stopping cleanly — lives here, once for every provider.
"""

from __future__ import annotations

import functools
import http
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, ClassVar, Self

import flask
from werkzeug.exceptions import HTTPException

from portal.sandbox.authserver import AuthorizationService
from portal.sandbox.chaos import Chaos, ChaosSwitch
from portal.sandbox.device import DeviceTiming
from portal.sandbox.faults import MALFORMED_BODY, Fault, FaultBook, RequestRecord
from portal.sandbox.moves import unknown_move
from portal.sandbox.oauth import Authorization, Client, OAuthSettings
from portal.sandbox.refreshes import RefreshUse, refresh_state
from portal.sandbox.rewrite import AnswerRewriter, Rewrite
from portal.serving import Served

View = Callable[..., Any]
Require = Callable[[str], Callable[[View], View]]
"""``require(scope)``: a decorator admitting only requests with a bearer token for ``scope``."""

_AUTHORISED = "portal.sandbox.authorised"
_DEFAULT_REDIRECT = "http://127.0.0.1/callback"
_AUTHORIZATION_SERVER_PATHS = ("/oauth/", "/device", "/.well-known/")
"""Routes of the authorization server, which faults never touch."""


class Sandbox:
    """A real HTTP server on 127.0.0.1 (ephemeral port) with a real OAuth 2.0 authorization server.

    The authorization server is authlib's (Flask integration): authorization code with
    PKCE S256 required, refresh-token rotation and RFC 7009 revocation, on
    ``/oauth/authorize``, ``/oauth/token`` and ``/oauth/revoke``; the device authorization
    grant (RFC 8628) on ``/oauth/device`` and ``/device``; with ``openid``, ID tokens (RS256)
    and ``/.well-known/jwks.json``; and the discovery document at
    ``/.well-known/openid-configuration`` (and RFC 8414's address). Switches make it behave
    as servers portal did not write do: a short ``access_token_ttl``, ``refresh_tokens``
    ("rotating", "first" or "none"), ``authorization_response_iss`` (RFC 9207),
    ``id_token_on_refresh``, and at run time ``patch_token_responses`` and ``forge_iss``.
    A subclass adds the provider's API in ``register_routes``, describes the data it
    serves in ``ground_truth``, and may play steps of its customer's life (``moves``).
    Use it as a context manager, or call ``start`` and ``stop``; it can be started again
    after it stops (on a new port unless ``port`` is set).
    """

    def __init__(
        self,
        *,
        auto_approve: bool = True,
        access_token_ttl: int = 3600,
        refresh_token_ttl: int = 90 * 24 * 3600,
        scopes: tuple[str, ...] = ("read",),
        openid: bool = False,
        device_interval: float = 5,
        device_code_ttl: float = 600,
        refresh_tokens: str = "rotating",
        authorization_response_iss: bool = False,
        id_token_on_refresh: bool = False,
    ) -> None:
        if openid and "openid" not in scopes:
            scopes = ("openid", *scopes)  # an OpenID provider must accept the scope it is named for
        self.settings = OAuthSettings(
            auto_approve=auto_approve,
            access_token_ttl=access_token_ttl,
            refresh_token_ttl=refresh_token_ttl,
            scopes=tuple(scopes),
            openid=openid,
            device_interval=device_interval,
            device_code_ttl=device_code_ttl,
            refresh_tokens=refresh_tokens,
            authorization_response_iss=authorization_response_iss,
            id_token_on_refresh=id_token_on_refresh,
        )
        self.port = 0
        """The port to listen on at the next ``start``; 0 picks a free one."""
        self.requests: list[RequestRecord] = []
        """Every request answered, oldest first (``/oauth/*`` included)."""
        self._auth = AuthorizationService(
            self.settings,
            approve=self._authorization,
            base_url=lambda: self.base_url,
            subject=self.subject,
        )
        self._oauth = self._auth.store
        self._faults = FaultBook()
        self._chaos = ChaosSwitch(
            skip=_AUTHORIZATION_SERVER_PATHS,
            error_body=self.error_body,
            revoke_access_token=self._revoke_access_token,
        )
        self._rewriter = AnswerRewriter(skip=_AUTHORIZATION_SERVER_PATHS)
        self._lock = threading.Lock()
        self._in_flight = 0
        self.max_in_flight = 0
        """The most API requests this sandbox was answering at the same moment."""
        self._app: flask.Flask | None = None
        self._serving: Served | None = None

    # -- for subclasses ---------------------------------------------------------------

    uses_oauth = True
    """Whether ``@require(scope)`` checks an OAuth access token; a sandbox of a service that
    authorises requests with a key (an API key, an access URL, a signed JWT) sets it False
    and implements ``authorise``."""

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """Add the provider's API routes to ``app``; protect each with ``@require(scope)``."""

    def authorise(self, request: flask.Request) -> flask.Response | None:
        """For ``uses_oauth = False``: None to admit ``request``, or the service's own refusal
        (its documented 401 or 403 body). Called by ``@require`` before each protected route;
        note every key it accepts or refuses with ``note_secret``."""
        return flask.Response(status=401)

    def connect_answers(self) -> dict[str, str]:
        """What its customer answers to ``Provider.asks`` to connect to this sandbox: the
        key it issued them, their account number, a fresh setup token, an application's id
        and private key (a file ask's answer is the file's text). The conformance suite
        connects with these; ``portal sandbox`` prints them."""
        return {}

    def note_secret(self, value: str | None, kind: str = "secret") -> None:
        """Note a secret that crossed the sandbox (a key, an access URL, a setup token, a
        session id), so the conformance suite looks for it in logs, errors and the store."""
        self._oauth.remember([value], kind)

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """The raw objects this sandbox serves right now, by category, exactly as served.

        The conformance suite's contract: each key is a record category (``"transactions"``)
        and each item under it becomes exactly one record of it. A subclass maps other keys
        with a ``truth_categories = {"key": "category" or None}`` class attribute, and counts
        items a correct plugin must reject in ``truth_rejections = {"category": n}``.
        """
        return {}

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each record must say, by category and provider id, for what is served now.

        The conformance suite's ``values`` contract: ``{category: {provider_id: {field:
        value}}}`` for every item this sandbox serves right now (not those a correct plugin
        rejects), written from the provider's published specification, never from the
        plugin's mapping code: the sandbox is the provider's double and states what its data
        means. Values are in the record model's Python types: ``str`` exactly as it must be
        stored (no truncation, folding or re-encoding); ``Decimal`` signed as the record
        defines it (positive is money in) and compared as numbers (``1.10 == 1.1``);
        ``date``; aware ``datetime``, compared as the same instant (and the stored one must
        be UTC); codes as the record stores them, labels in the published code list's words;
        a ``list`` where order carries meaning, a ``set``/``frozenset`` where it carries none
        (a consent's permissions); nested models as dicts (a list of them as a list of
        dicts). A field referring to another record (``account_id``, any ``<entity>_id``)
        is stated as the provider's id of that record. A key of ``extra`` may be stated as
        ``"extra.<key>"``, or ``extra`` whole. ``None`` states that the field is left empty.
        Every field the stored record fills must be stated; the base class states nothing.
        A record whose ``provider_id`` is a stated id behind the plugin's own namespace
        (``statement:`` + a StatementId) answers that statement.
        """
        return {}

    moves: ClassVar[tuple[str, ...]] = ()
    """The steps of its customer's life this sandbox can play (``portal.sandbox.moves``)."""

    def move_on(self, step: str) -> None:
        """Play one step of ``moves``: the customer's life moves on, and what the API serves
        and ``ground_truth()`` states change with it. Unknown steps raise ``ValueError``."""
        raise unknown_move(self, step, self.moves)

    def live_until(self, day: date) -> None:
        """Serve the customer as of ``day`` (``portal sync --demo --demo-day``): what happened
        to them up to that day has happened. A sandbox whose customer has no dated events
        serves the same on every day."""

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        """Extra fields for the token responses of a new grant (e.g. a bank's ``consent_id``).

        Called once for each successful authorization (before the code is issued, or when a
        device login is approved); the fields are sent with the first token response and
        with every refresh of that grant.
        """
        return {}

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The JSON body of an error answered by the sandbox itself (a fault, an unknown route)."""
        return {"status": status, "message": message}

    def subject(self, client_id: str) -> str:
        """The ``sub`` of ID tokens for ``client_id``: the demo customer, the same every time."""
        return "demo-customer"

    def withdraw_consent(self) -> None:
        """The customer withdraws consent at the provider: every grant's tokens are revoked.

        API calls then get 401 ``invalid_token`` and refreshes ``invalid_grant``. A subclass
        that keeps consent objects marks them withdrawn too (and calls this).
        """
        self._auth.withdraw()

    # -- running ----------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1 and serve in a daemon thread; return self."""
        if self._serving is not None:
            raise RuntimeError("This sandbox is already running.")
        self._build_app()
        # Bound here: on a busy port make_server prints and calls sys.exit.
        listener = socket.create_server(("127.0.0.1", self.port))
        name = f"sandbox-{type(self).__name__}-{listener.getsockname()[1]}"
        self._serving = Served(listener, self._wsgi, name)
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

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._serving is not None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, once started."""
        if self._serving is None:
            raise RuntimeError(
                "The sandbox is not running: call start() or use it in a with block."
            )
        return f"http://127.0.0.1:{self._serving.port}"

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

    @property
    def device_authorization_url(self) -> str:
        """The RFC 8628 device authorization endpoint."""
        return f"{self.base_url}/oauth/device"

    @property
    def issuer(self) -> str:
        """The ``iss`` of ID tokens and the discovery document: the base URL."""
        return self.base_url

    @property
    def jwks_url(self) -> str:
        """The public keys ID tokens are signed with (served when ``openid`` is on)."""
        return f"{self.base_url}/.well-known/jwks.json"

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
        self._oauth.remember([client_secret], "client_secret")

    def set_chaos(self, chaos: Chaos | None) -> None:
        """Make a share of API requests misbehave at random (see ``Chaos``); None stops it."""
        self._chaos.set(chaos)

    def rewrite_answers(self, rewrite: Rewrite | None) -> None:
        """Serve every successful API answer as ``rewrite(path, content_type, body)``; None stops.

        For serving the same data in another shape (``portal.sandbox.rewrite``).
        """
        self._rewriter.rewrite = rewrite

    @property
    def chaos_counts(self) -> dict[str, int]:
        """How many API requests each kind of chaos took (``"ok"``: left alone)."""
        monkey = self._chaos.monkey
        return dict(monkey.counts) if monkey is not None else {}

    def _revoke_access_token(self, value: str) -> None:
        token = self._oauth.by_access_token(value) if value else None
        if token is not None:
            with self._oauth.lock:
                token.access_revoked = True

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
        return self._auth.token_requests

    def expire_tokens(self, within: float = 0) -> None:
        """Make every access token issued so far expire now, or ``within`` seconds from now.

        Refresh tokens still work. A token that would expire sooner is left as it is.
        """
        self._oauth.expire_access_tokens(within)

    def revoke_access_after(self, requests: int) -> None:
        """Revoke the access token of the API request after the next ``requests``: a 401
        partway through a sync, which only a refresh gets past."""
        self._auth.refreshes.revoke_after(requests)

    @property
    def refresh_uses(self) -> list[RefreshUse]:
        """Every refresh the token endpoint was asked for, oldest first (no token kept)."""
        return self._auth.refreshes.uses

    def refresh_token_state(self, value: str) -> str:
        """What a refresh token is now: ``current`` (the one to use next), ``rotated``,
        ``revoked``, ``expired`` or ``unknown`` (see ``portal.sandbox.refreshes``)."""
        return refresh_state(self._oauth, value)

    @property
    def revocations(self) -> list[tuple[str, str]]:
        """Each RFC 7009 call: (``token_type_hint`` or "", what the token really was).

        The second is ``access_token``, ``refresh_token`` or ``unknown``; no token is kept.
        """
        return self._auth.revocations

    def secrets_seen(self) -> set[str]:
        """Every secret value that crossed the sandbox, to look for where none may appear.

        Access, refresh and ID tokens issued; authorization and device codes; code
        verifiers, tokens and client secrets received; client secrets registered.
        """
        return self._oauth.seen()

    def secret_kinds(self) -> dict[str, str]:
        """``secrets_seen`` with the kind of each (``access_token``, ``code``, ...)."""
        return self._oauth.kinds()

    def widen_scopes(self, extra: str | None) -> None:
        """Grant ``extra`` on top of what is asked for in every token response from now on."""
        with self._oauth.lock:
            self._oauth.widen = extra

    def fail_refresh_with(self, error: str | None) -> None:
        """Make the next refresh answer this OAuth error instead (the grant is left as it was).

        ``temporarily_unavailable`` answers 503, ``server_error`` 500, ``invalid_client``
        401, anything else 400.
        """
        with self._oauth.lock:
            self._oauth.refresh_failure = error

    def patch_token_responses(self, fields: dict[str, Any]) -> None:
        """Put ``fields`` into every token response from now on; ``oauth.OMIT`` leaves one out.

        For a server that answers nonsense (``expires_in`` NaN or 10**30, no ``token_type``);
        ``{}`` answers honestly again. The tokens issued are the real ones either way.
        """
        with self._oauth.lock:
            self._oauth.token_patch = dict(fields)

    def patch_device_responses(self, fields: dict[str, Any]) -> None:
        """As ``patch_token_responses``, for device authorization responses (RFC 8628 §3.2)."""
        with self._oauth.lock:
            self._oauth.device_patch = dict(fields)

    def forge_iss(self, value: str | None) -> None:
        """Answer authorization responses with ``iss`` = ``value`` (None: no ``iss`` at all)."""
        with self._oauth.lock:
            self._oauth.forged_iss = (value,)

    @property
    def metadata_requests(self) -> list[tuple[str, bool]]:
        """(path, carried an ``Authorization`` header) of each JWKS or discovery request."""
        return self._auth.metadata_requests

    def tamper_id_token(self, kind: str | None) -> None:
        """Spoil ID tokens issued from now on, or issue honest ones again with None.

        "nonce" (another nonce; code grant only, as a device login sends none), "audience",
        "issuer", "expired" (``exp`` in the past), "signature" (signed with another key
        under the published ``kid``) or "subject" (another ``sub``, in ID tokens answered on
        refresh): each fails one check a client must make.
        """
        self._auth.id_tokens.tamper(kind)

    def approve_device(self, user_code: str) -> None:
        """Approve the device authorization showing ``user_code``, as the person would."""
        self._auth.decide_device(user_code, approved=True)

    def deny_device(self, user_code: str) -> None:
        """Deny the device authorization showing ``user_code``."""
        self._auth.decide_device(user_code, approved=False)

    def slow_down_next(self, n: int = 1) -> None:
        """Answer the next ``n`` device-code polls ``slow_down``, however well spaced.

        Each raises that device code's interval by 5 seconds, as a real one would.
        """
        if n < 1:
            raise ValueError("n must be at least 1.")
        self._auth.devices.force_slow_downs(n)

    def set_device_timing(self, *, interval: float, expires_in: float) -> None:
        """State this ``interval`` and ``expires_in`` for device codes issued from now on.

        The defaults (the constructor's: 5 seconds and 10 minutes, as RFC 8628 suggests)
        are what ``portal sandbox`` serves. A test or the conformance suite shortens them on
        a sandbox a plugin built, so a device login takes a second rather than minutes; a
        ``slow_down`` still adds RFC 8628's 5 seconds. Codes already issued keep theirs.
        """
        self._auth.devices.timing = DeviceTiming(interval=interval, lifetime=expires_in)

    def expire_device_codes(self) -> None:
        """End every device code issued so far: its next poll answers ``expired_token``."""
        self._auth.devices.expire_all()

    def device_polls(self, device_code: str) -> list[tuple[float, str]]:
        """Each poll of ``device_code``: (``time.monotonic()``, the error answered or "ok")."""
        return self._auth.devices.polls().get(device_code, [])

    def device_polls_by_code(self) -> dict[str, list[tuple[float, str]]]:
        """``device_polls`` for every device code issued, oldest first."""
        return self._auth.devices.polls()

    # -- the Flask app ----------------------------------------------------------------

    def _build_app(self) -> flask.Flask:
        if self._app is not None:
            return self._app
        app = flask.Flask("portal.sandbox")
        app.json.ensure_ascii = False  # type: ignore[attr-defined]  # serve clean UTF-8, not \u escapes
        app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the providers' field order
        protector = self._auth.register(app)

        def require(scope: str) -> Callable[[View], View]:
            if not self.uses_oauth:
                return self._key_guard
            guard = protector(scope)

            def decorator(view: View) -> View:
                @functools.wraps(view)
                def admitted(*args: Any, **kwargs: Any) -> Any:
                    flask.request.environ[_AUTHORISED] = True
                    return view(*args, **kwargs)

                return guard(admitted)  # type: ignore[no-any-return]  # authlib is untyped

            return decorator

        app.before_request(self._fault_response)
        self._chaos.install(app)
        # Installed after chaos, so it runs first (Flask runs after_request hooks in reverse):
        # a chaos cut then cuts the rewritten answer, as a network would.
        self._rewriter.install(app)
        app.register_error_handler(404, self._http_error)
        app.register_error_handler(405, self._http_error)
        self.register_routes(app, require)
        self._app = app
        return app

    def _key_guard(self, view: View) -> View:
        @functools.wraps(view)
        def admitted(*args: Any, **kwargs: Any) -> Any:
            refused = self.authorise(flask.request)
            if refused is not None:
                return refused
            flask.request.environ[_AUTHORISED] = True
            return view(*args, **kwargs)

        return admitted

    def _authorization(self, client_id: str, scope: str) -> Authorization:
        return Authorization(
            client_id=client_id, scope=scope, extra=self.extra_token_fields(client_id, scope)
        )

    def _fault_response(self) -> flask.Response | None:
        path = flask.request.path
        if path.startswith(_AUTHORIZATION_SERVER_PATHS):
            return None
        self._auth.refreshes.on_api_request(flask.request.headers.get("Authorization", ""))
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

        api = not environ.get("PATH_INFO", "").startswith(_AUTHORIZATION_SERVER_PATHS)
        started = time.monotonic()
        if api:
            with self._lock:
                self._in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            body: Iterable[bytes] = app(environ, capture)
        finally:
            if api:
                with self._lock:
                    self._in_flight -= 1
        record = RequestRecord(
            method=environ.get("REQUEST_METHOD", ""),
            path=environ.get("PATH_INFO", ""),
            query=environ.get("QUERY_STRING", ""),
            status=status[0],
            at=time.monotonic(),
            authorised=bool(environ.get(_AUTHORISED)),
            started=started,
        )
        with self._lock:
            self.requests.append(record)
        return body


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
