"""A sandbox's authorization server: authlib's server, its grants and its HTTP routes.

``AuthorizationService`` owns the state (the ``OAuthStore``, the device authorizations, the
ID-token key) and puts the routes on the sandbox's Flask app: ``/oauth/authorize``,
``/oauth/token``, ``/oauth/revoke``, ``/oauth/device``, the ``/device`` page and the
``/.well-known`` documents (OpenID Discovery and RFC 8414 metadata, the JWKS); what the
token endpoint answers, and the switches that bend it, are in ``answers``. It notes
every secret value crossing those routes, so that a test can look for each one where it
must never appear.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import flask
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint

from portal.sandbox import pages
from portal.sandbox.answers import oauth_error, patched, shaped, token_generator, with_iss
from portal.sandbox.device import (
    DeviceBook,
    DeviceCredential,
    DeviceTiming,
    device_endpoint,
    device_grant,
)
from portal.sandbox.oauth import (
    CLIENT_AUTH_METHODS,
    Authorization,
    AuthorizationCode,
    Client,
    OAuthSettings,
    OAuthStore,
    S256Only,
    Token,
)
from portal.sandbox.oidc import IdTokens, discovery, openid_extensions
from portal.sandbox.refreshes import RefreshLog

_SECRET_FIELDS = (
    "code",
    "code_verifier",
    "refresh_token",
    "device_code",
    "token",
    "client_secret",
)
"""Request fields whose values are secrets, wherever they are sent."""
_REFRESH_FAILURE_STATUS = {
    "invalid_client": 401,
    "server_error": 500,
    "temporarily_unavailable": 503,
}


class AuthorizationService:
    """The authorization server of one sandbox: state, grants and routes.

    ``approve(client_id, scope)`` is called when the customer approves a request and returns
    the grant to issue tokens for; ``base_url()`` is the sandbox's address (the issuer);
    ``subject(client_id)`` is the ``sub`` of its ID tokens.
    """

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        approve: Callable[[str, str], Authorization],
        base_url: Callable[[], str],
        subject: Callable[[str], str],
    ) -> None:
        self.settings = settings
        self.store = OAuthStore(settings)
        self.devices = DeviceBook(DeviceTiming(settings.device_interval, settings.device_code_ttl))
        self.id_tokens = IdTokens(settings, base_url, subject)
        self.refreshes = RefreshLog(self.store)
        self._approve = approve
        self._base_url = base_url
        self._token_requests: Counter[str] = Counter()
        self._revocations: list[tuple[str, str]] = []
        self._metadata_requests: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    @property
    def token_requests(self) -> dict[str, int]:
        with self._lock:
            return dict(self._token_requests)

    @property
    def revocations(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._revocations)

    @property
    def metadata_requests(self) -> list[tuple[str, bool]]:
        """(path, whether it carried an ``Authorization`` header) of each metadata request."""
        with self._lock:
            return list(self._metadata_requests)

    def decide_device(self, user_code: str, approved: bool) -> None:
        """The person's decision on the device authorization shown as ``user_code``."""
        credential = self.devices.pending(user_code)
        if credential is None:
            raise LookupError(f"No device authorization awaits a decision on {user_code!r}.")
        self._decide(credential, approved)

    def _decide(self, credential: DeviceCredential, approved: bool) -> None:
        authorization = self._approve(credential.client_id, credential.scope) if approved else None
        self.devices.decide(credential, "approved" if approved else "denied", authorization)

    def withdraw(self) -> None:
        """The customer withdrew consent: every grant's tokens and pending approvals are void."""
        self.store.withdraw()
        self.devices.withdraw()

    # -- routes -----------------------------------------------------------------------

    def register(self, app: flask.Flask) -> ResourceProtector:
        """Put the authorization server's routes on ``app``; the bearer-token guard for the API."""
        server, protector = self._build(app)
        store, settings = self.store, self.settings

        @app.route("/oauth/authorize", methods=["GET", "POST"])
        def authorize() -> Any:
            # state and nonce are secrets of the login too: tests look for them in portal's logs.
            for name in ("state", "nonce"):
                store.remember([flask.request.values.get(name)], name)
            try:
                grant = server.get_consent_grant(end_user=None)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            client_id, scope = grant.request.client.client_id, grant.request.scope
            if not settings.auto_approve and flask.request.method == "GET":
                return pages.consent(client_id, scope)
            approved = settings.auto_approve or flask.request.form.get("decision") == "approve"
            user = self._approve(client_id, scope) if approved else None
            response = server.create_authorization_response(grant_user=user, grant=grant)
            return with_iss(response, self._base_url(), store)

        @app.route("/oauth/token", methods=["POST"])
        def token() -> Any:
            grant_type = flask.request.form.get("grant_type", "")
            with self._lock:
                self._token_requests[grant_type] += 1
            self._remember_request()
            if grant_type == "refresh_token" and (error := store.take_refresh_failure()):
                return oauth_error(error, _REFRESH_FAILURE_STATUS.get(error, 400))
            response = server.create_token_response()
            return shaped(grant_type, response, store, self.id_tokens, self._remember_response)

        @app.route("/oauth/revoke", methods=["POST"])
        def revoke() -> Any:
            self._remember_request()
            form = flask.request.form
            entry = (form.get("token_type_hint", ""), store.token_kind(form.get("token", "")))
            with self._lock:
                self._revocations.append(entry)
            return server.create_endpoint_response("revocation")

        @app.route("/oauth/device", methods=["POST"])
        def device_authorization() -> Any:
            self._remember_request()
            response = self._remember_response(
                server.create_endpoint_response("device_authorization")
            )
            return patched(response, store.device_patch, store)

        @app.route("/device", methods=["GET", "POST"])
        def device_page() -> Any:
            source = flask.request.args if flask.request.method == "GET" else flask.request.form
            user_code = source.get("user_code", "")
            if not user_code:
                return pages.device_code_form()
            credential = self.devices.pending(user_code)
            if credential is None:
                return pages.device_unknown(), 404
            if flask.request.method == "GET" and not settings.auto_approve:
                return pages.device_consent(credential.client_id, credential.scope, user_code)
            approved = settings.auto_approve or flask.request.form.get("decision") == "approve"
            self._decide(credential, approved)
            return pages.device_done(approved)

        # RFC 8414's and OpenID Connect Discovery's addresses serve the same metadata.
        @app.get("/.well-known/openid-configuration")
        @app.get("/.well-known/oauth-authorization-server")
        def metadata() -> Any:
            self._note_metadata_request()
            return discovery(self._base_url(), settings)

        @app.get("/.well-known/jwks.json")
        def jwks() -> Any:
            self._note_metadata_request()
            if not settings.openid:
                flask.abort(404)
            return self.id_tokens.jwks()

        return protector

    def _note_metadata_request(self) -> None:
        request = flask.request
        with self._lock:
            self._metadata_requests.append((request.path, "Authorization" in request.headers))

    def _remember_request(self) -> None:
        request = flask.request
        credentials = request.authorization
        for name in _SECRET_FIELDS:
            self.store.remember([request.form.get(name)], name)
        self.store.remember([credentials.password if credentials else None], "client_secret")

    def _remember_response(self, response: flask.Response) -> flask.Response:
        body = response.get_json(silent=True)
        if isinstance(body, dict):
            for name in ("access_token", "refresh_token", "id_token", "device_code"):
                if body.get(name):
                    self.store.remember([str(body[name])], name)
        return response

    # -- authlib ----------------------------------------------------------------------

    def _build(self, app: flask.Flask) -> tuple[AuthorizationServer, ResourceProtector]:
        store, settings, refreshes = self.store, self.settings, self.refreshes

        class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                nonce = data.get("nonce") or None
                with store.lock:
                    store.codes[code] = AuthorizationCode(
                        code=code,
                        client_id=request.client.client_id,
                        redirect_uri=request.payload.redirect_uri or "",
                        scope=request.scope,
                        authorization=request.user,
                        code_challenge=data["code_challenge"],
                        code_challenge_method=data["code_challenge_method"],
                        expires_at=time.time() + settings.code_ttl,
                        nonce=nonce,
                    )
                    if nonce:
                        store.nonces.add((request.client.client_id, nonce))
                store.remember([code], "code")

            def query_authorization_code(
                self, code: str, client: Client
            ) -> AuthorizationCode | None:
                with store.lock:
                    item = store.codes.get(code)
                if item and item.client_id == client.client_id and time.time() < item.expires_at:
                    return item
                return None

            def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
                with store.lock:
                    store.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code: AuthorizationCode) -> Authorization:
                return authorization_code.authorization

        class RefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = CLIENT_AUTH_METHODS
            INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: every refresh answers a new refresh token

            def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
                refreshes.note(refresh_token)
                token = store.by_refresh_token(refresh_token)
                return token if token and token.refresh_usable() else None

            def authenticate_user(self, refresh_token: Token) -> Authorization:
                return refresh_token.authorization

            def revoke_old_credential(self, refresh_token: Token) -> None:
                if settings.refresh_tokens == "first":
                    return  # no new refresh token was issued: the first one stays valid
                with store.lock:
                    refresh_token.refresh_revoked = refresh_token.rotated = True

        class Revocation(RevocationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = CLIENT_AUTH_METHODS

            def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
                lookups = [store.by_access_token, store.by_refresh_token]
                if token_type_hint == "refresh_token":  # noqa: S105 - a token type, not a secret
                    lookups.reverse()
                return next((t for find in lookups if (t := find(token_string))), None)

            def revoke_token(self, token: Token, request: Any) -> None:
                if token.refresh_token and secrets.compare_digest(
                    token.refresh_token, request.form["token"]
                ):
                    store.revoke_grant(token.authorization)
                else:
                    with store.lock:
                        token.access_revoked = True

        def save_token(token: dict[str, Any], request: Any) -> None:
            with store.lock:
                store.tokens.append(
                    Token(
                        client=request.client,
                        authorization=request.user,
                        access_token=token["access_token"],
                        refresh_token=token.get("refresh_token"),
                        scope=token.get("scope", ""),
                        issued_at=time.time(),
                        expires_in=token["expires_in"],
                        refresh_expires_at=time.time() + settings.refresh_token_ttl,
                    )
                )

        server = AuthorizationServer(app, query_client=store.client, save_token=save_token)
        server.scopes_supported = list(settings.scopes)
        server.register_token_generator("default", token_generator(store))
        code_oidc, device_oidc = openid_extensions(store, self.id_tokens)
        pkce = S256Only(required=True)
        if settings.openid:
            server.register_grant(AuthorizationCodeGrant, [pkce, code_oidc])
            server.register_grant(device_grant(self.devices), [device_oidc])
        else:
            server.register_grant(AuthorizationCodeGrant, [pkce])
            server.register_grant(device_grant(self.devices))
        server.register_grant(RefreshTokenGrant)
        server.register_endpoint(Revocation)
        verification_uri = lambda: f"{self._base_url()}/device"  # noqa: E731 - a port may change
        server.register_endpoint(device_endpoint(store, self.devices, verification_uri))

        class Validator(BearerTokenValidator):  # type: ignore[misc]
            def authenticate_token(self, token_string: str) -> Token | None:
                return store.by_access_token(token_string)

        protector = ResourceProtector()
        protector.register_token_validator(Validator())
        return server, protector
