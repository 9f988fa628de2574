"""The OAuth flows portal runs for plugins: authorization code with PKCE on a loopback redirect.

RFC 8252 (OAuth for native apps): the redirect goes to a one-shot listener on 127.0.0.1
with a random port; PKCE S256 binds the code to this process; ``state`` ties the redirect
to this attempt, and the listener ignores (with an error page) any request without it, so
a forged redirect cannot end the login. Where the server declares it (RFC 9207), the
answer's ``iss`` must be the provider's issuer: the mix-up defence. authlib's httpx
client builds the request and exchanges the code. Tokens issued and then refused by a
check are revoked before the error is raised.
"""

from __future__ import annotations

import hmac
import html
import http.server
import logging
import secrets
import threading
import time
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from portal.auth import device, oidc
from portal.auth.device import DeviceCode, ShowCode
from portal.auth.metadata import ServerMetadata, discover
from portal.auth.oauth_client import OAUTH_ERRORS, OAuth2Client
from portal.auth.refresh import check_scopes
from portal.auth.revocation import describe, revoke
from portal.auth.tokens import TokenResponseError, TokenSet
from portal.errors import AuthError, ProviderError
from portal.http import Transport
from portal.provider import Provider
from portal.shown import shown

CALLBACK_PATH = "/callback"

Browser = Callable[[str], None]
"""Opens an authorization URL for the user: a real browser, a printed URL, or a test agent."""


class LoopbackListener:
    """A one-shot HTTP listener on 127.0.0.1 that waits for the authorization redirect.

    It listens on a free port unless given ``port``: a service that only sends the person
    back to an address registered in advance needs the registered port.
    """

    def __init__(
        self, path: str = CALLBACK_PATH, *, state: str | None = None, port: int = 0
    ) -> None:
        self.path = path
        self.state = state
        """The ``state`` of the login waited for: a request without it is not the answer."""
        self.result: dict[str, str] | None = None
        self._done = threading.Event()
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != listener.path or listener._done.is_set():
                    self.send_error(404)
                    return
                query = parse_qs(parts.query)
                answer = {k: v[0] for k, v in query.items()}
                if not listener.expects(answer):
                    # Forged or stale: refuse it and keep waiting for the real redirect.
                    self.send_error(400, "This is not the answer portal is waiting for")
                    return
                listener.result = answer
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(loopback_page(listener.result))
                listener._done.set()

            def log_message(self, format: str, *args: Any) -> None:
                # The request line carries the authorization code: never log it.
                return

        try:
            self._server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        except OSError as error:
            raise AuthError(
                f"portal cannot listen on 127.0.0.1:{port} for the login's answer ({error}).",
                hint="Another program (or another portal connect) uses that port: close it"
                " and connect again.",
            ) from None
        self.redirect_uri = f"http://127.0.0.1:{self._server.server_port}{path}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def expects(self, answer: dict[str, str]) -> bool:
        """Whether ``answer`` carries the state of the login waited for (or none is set)."""
        if self.state is None:
            return True
        given = answer.get("state", "").encode("utf-8", "replace")
        return hmac.compare_digest(given, self.state.encode())

    def _serve(self) -> None:
        while not self._done.is_set():
            self._server.handle_request()

    def __enter__(self) -> LoopbackListener:
        self._server.timeout = 0.2
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join(timeout=2)
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str]:
        """The redirect's query parameters, or an AuthError after ``timeout`` seconds."""
        if not self._done.wait(timeout) or self.result is None:
            raise AuthError(
                f"No answer from the browser within {timeout:g} second"
                f"{'' if timeout == 1 else 's'}.",
                hint="Run portal connect again and approve access in the browser.",
            )
        return self.result


def loopback_page(answer: dict[str, str]) -> bytes:
    """The page the browser shows after the redirect to the loopback listener.

    An ``error`` and ``error_description`` come from whoever sent the redirect: they are
    shown (neutralised, then HTML-escaped) as what went wrong, never as markup or control.
    """
    if "error" not in answer:
        words = "portal received the answer. You can close this window and return to the terminal."
        return f"<!doctype html><title>portal</title><p>{words}".encode()
    said = shown(answer["error"], limit=200)
    if answer.get("error_description"):
        said += ": " + shown(answer["error_description"], limit=500)
    return (
        "<!doctype html><title>portal</title><p>portal was not connected. The provider said: "
        f"<code>{html.escape(said)}</code></p><p>Return to the terminal and run portal connect"
        " again.</p>"
    ).encode()


def open_browser(url: str) -> None:
    """Open the URL in the user's browser (the CLI also prints it)."""
    webbrowser.open(url)


def auto_approve_browser(url: str) -> None:
    """A user agent for sandboxes with auto-approve: follow the redirects to the listener."""
    with httpx.Client(follow_redirects=True, timeout=10, transport=Transport()) as agent:
        agent.get(url)


def show_device_code(code: DeviceCode) -> None:
    """Tell the person where to approve (the CLI prints this to stderr)."""
    logging.getLogger(__name__).warning(
        "Open %s and enter the code %s", code.verification_uri, code.user_code
    )


@dataclass
class OAuthHelpers:
    """The flows an ``authenticate`` implementation can run for ``provider``."""

    provider: Provider
    browser: Browser = open_browser
    timeout: float = 300.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    show_code: ShowCode = show_device_code
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    flow: str = "browser"
    """Which flow ``run`` uses: "browser" (authorization code) or "device" (RFC 8628)."""

    def run(self, *, scopes: tuple[str, ...] | None = None) -> TokenSet:
        """The flow asked for: a browser on this machine, or a code to approve elsewhere."""
        if self.flow == "device":
            return self.device_code(scopes=scopes)
        return self.authorization_code(scopes=scopes)

    def _client(self, scope: str, **kwargs: Any) -> OAuth2Client:
        oauth = self.provider.oauth
        return OAuth2Client(
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            scope=scope,
            transport=self.transport,
            timeout=30,
            **kwargs,
        )

    def authorization_code(self, *, scopes: tuple[str, ...] | None = None) -> TokenSet:
        """Run the authorization-code flow with PKCE S256, state and a loopback redirect.

        With an ``openid`` scope and a declared issuer and JWKS, a nonce is sent and the
        ID token is validated. Tokens with more scopes than requested are refused.
        """
        oauth = self.provider.oauth
        wanted = scopes if scopes is not None else oauth.scopes
        verifier = secrets.token_urlsafe(64)
        nonce = secrets.token_urlsafe(32) if oauth.openid else None
        state = secrets.token_urlsafe(32)
        with (
            LoopbackListener(state=state, port=oauth.listen_port) as listener,
            self._client(
                " ".join(wanted), redirect_uri=listener.redirect_uri, code_challenge_method="S256"
            ) as client,
        ):
            metadata = discover(client, self.provider)
            extra = {**oauth.authorization_params, **({"nonce": nonce} if nonce else {})}
            url, _ = client.create_authorization_url(
                oauth.authorize_url, state=state, code_verifier=verifier, **extra
            )
            self.browser(url)
            answer = listener.wait(self.timeout)
            self._check_answer(answer, state, metadata)
            try:
                token = client.fetch_token(
                    oauth.token_url,
                    grant_type="authorization_code",
                    code=answer["code"],
                    code_verifier=verifier,
                )
            except (*OAUTH_ERRORS, httpx.HTTPError, ProviderError) as error:
                raise self._refused(client, error) from None
            return self._accept(client, dict(token), wanted, nonce)

    def device_code(self, *, scopes: tuple[str, ...] | None = None) -> TokenSet:
        """Run the device authorization grant (RFC 8628): a code to approve elsewhere."""
        wanted = scopes if scopes is not None else self.provider.oauth.scopes
        with self._client(" ".join(wanted)) as client:
            grant = device.request_code(client, self.provider, " ".join(wanted))
            self.show_code(
                DeviceCode(
                    verification_uri=grant.get("verification_uri", ""),
                    user_code=grant["user_code"],
                    verification_uri_complete=grant.get("verification_uri_complete"),
                    expires_in=int(grant.get("expires_in", 600)),
                )
            )
            try:
                token = device.poll(
                    client, self.provider, grant, sleep=self.sleep, timeout=self.timeout
                )
            except (httpx.HTTPError, ProviderError) as error:
                raise self._refused(client, error) from None
            return self._accept(client, token, wanted, None)

    def _accept(
        self,
        client: OAuth2Client,
        token: dict[str, Any],
        wanted: tuple[str, ...],
        nonce: str | None,
    ) -> TokenSet:
        tokens = TokenSet(token)
        try:
            check_scopes(self.provider, wanted, tokens)
            if self.provider.oauth.openid:
                jwks = oidc.fetch_jwks(client, self.provider)
                oidc.validate_id_token(token.get("id_token"), jwks, self.provider, nonce)
        except AuthError:
            revoke(client, self.provider, tokens)
            raise
        return tokens

    def _refused(self, client: OAuth2Client, error: Exception) -> AuthError:
        name = self.provider.display_name
        if isinstance(error, TokenResponseError):
            # Tokens were issued, in a response portal cannot use: they must not live on.
            revoke(client, self.provider, error.issued)
            return AuthError(
                f"{name} answered with tokens portal cannot use ({error.message});"
                " portal revoked them.",
                hint=f"Try portal connect {self.provider.name} again; if it persists, tell"
                " the provider.",
            )
        return AuthError(
            f"{name} refused to issue tokens: {describe(error).rstrip('.')}.",
            hint=f"Run portal connect {self.provider.name} again.",
        )

    def _check_answer(self, answer: dict[str, str], state: str, metadata: ServerMetadata) -> None:
        name = self.provider.display_name
        if not hmac.compare_digest(
            answer.get("state", "").encode("utf-8", "replace"), state.encode()
        ):
            raise AuthError(  # the listener lets none through: a second line of defence
                f"The answer from {name} carried the wrong state, so it was refused.",
                hint="Someone may have tried to hijack the login; run portal connect again.",
            )
        self._check_iss(answer, metadata)
        if "error" in answer:
            raise AuthError(
                f"{name} did not grant access ({answer['error']}).",
                hint=f"Run portal connect {self.provider.name} again and approve access.",
            )
        if "code" not in answer:
            raise AuthError(f"{name} sent no authorization code.", hint="Run portal connect again.")

    def _check_iss(self, answer: dict[str, str], metadata: ServerMetadata) -> None:
        """RFC 9207 §2.4: ``iss``, where present or required, must be the provider's issuer."""
        name, issuer = self.provider.display_name, self.provider.oauth.issuer
        iss = answer.get("iss")
        if iss is None and metadata.iss_parameter_supported:
            raise AuthError(
                f"The answer from {name} carried no issuer (iss), which {name} promises to"
                " send, so it was refused.",
                hint="Another server may have answered in its place (a mix-up attack); run"
                " portal connect again.",
            )
        if iss is not None and issuer and iss != issuer:
            raise AuthError(
                f"The answer came from the issuer {shown(iss, limit=200)}, not {name}'s"
                f" ({issuer}), so it was refused.",
                hint="Another server may have answered in its place (a mix-up attack); run"
                " portal connect again.",
            )
