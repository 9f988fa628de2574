"""The envelope around ``portal view``: who may ask, how, and what every answer carries.

A page of the view shows a life's records, so the server answers only the browser the
person opened it in, as Jupyter's does:

- **The per-run secret.** The URL portal prints (or opens) carries ``?token=SECRET``; the
  first request with it gets an HttpOnly, SameSite=Strict cookie and a redirect to the
  same address without the token (so it stays out of the history and of anything the page
  shows). Every other request must carry the cookie. Secrets are compared in constant time.
- **The Host header.** Only the exact address it bound (``127.0.0.1:PORT``) is answered: a
  page on another site that points its own name at 127.0.0.1 (DNS rebinding) sends its own
  name as the Host, and is refused.
- **Reading only.** GET and HEAD; anything else is 405.
- **Headers on every answer**, refusals and errors included: a Content-Security-Policy
  allowing only the view's own origin, ``nosniff``, no referrer, no framing, no caching.
"""

from __future__ import annotations

import hmac
import secrets
import urllib.parse
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Nothing but the view's own origin: no CDN, no inline script, no third party."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # Pages hold personal data: no copy on disk in the browser's cache.
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
"""Set on every answer of the view, whatever produced it."""

TOKEN_PARAMETER = "token"  # noqa: S105 - a parameter name, not a secret
"""The query parameter carrying the per-run secret (the name the log redaction knows)."""

READING = ("GET", "HEAD")


def new_secret() -> str:
    """A fresh per-run secret: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


class Guard:
    """WSGI middleware admitting only the person's own browser, and only to read."""

    def __init__(self, app: WSGIApplication, *, secret: str, host: str, port: int) -> None:
        self._app = app
        self._secret = secret.encode()
        self.host = f"{host}:{port}"
        """The one Host header answered."""
        # Cookies are shared by every port of a host: one name per port keeps two views
        # (or a view and a notebook) from overwriting each other's.
        self.cookie = f"portal-view-{port}"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        def with_headers(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            ours = {name.lower() for name in SECURITY_HEADERS}
            kept = [(name, value) for name, value in headers if name.lower() not in ours]
            return start_response(status, kept + list(SECURITY_HEADERS.items()), exc_info)

        answer = self._refusal_or_login(Request(environ))
        if answer is not None:
            return answer(environ, with_headers)
        return self._app(environ, with_headers)

    def _refusal_or_login(self, request: Request) -> Response | None:
        # The raw header, compared exactly: werkzeug's ``request.host`` normalises it.
        if request.environ.get("HTTP_HOST") != self.host:
            return refused(
                403,
                "this address is not the one portal view serves at.",
                f"Open http://{self.host}/ as portal view printed it.",
            )
        if request.method not in READING:
            answer = refused(405, "portal view only shows the store; it changes nothing.")
            answer.headers["Allow"] = ", ".join(READING)
            return answer
        token = request.args.get(TOKEN_PARAMETER)
        if token is not None:
            return self._login(request, token)
        if self._matches(request.cookies.get(self.cookie)):
            return None
        return refused(
            403,
            "this browser has not shown portal view's secret for this run.",
            "Open the address portal view printed (with ?token=...), or start portal view again.",
        )

    def _login(self, request: Request, token: str) -> Response:
        if not self._matches(token):
            return refused(
                403,
                "the secret in this address is not this run's.",
                "Open the address the running portal view printed.",
            )
        rest = [(k, v) for k, v in request.args.items(multi=True) if k != TOKEN_PARAMETER]
        # One leading slash only: "//elsewhere" would send the browser to another site.
        location = urllib.parse.quote("/" + request.path.lstrip("/"))
        if rest:
            location += "?" + urllib.parse.urlencode(rest)
        answer = Response(status=303, headers={"Location": location})
        answer.set_cookie(
            self.cookie,
            self._secret.decode(),
            httponly=True,
            samesite="Strict",
            path="/",
        )
        return answer

    def _matches(self, offered: str | None) -> bool:
        if offered is None:
            return False
        return hmac.compare_digest(offered.encode(), self._secret)


def refused(status: int, why: str, hint: str = "") -> Response:
    """A plain page saying why a request was refused (and what to do, with ``hint``)."""
    text = f"portal view refused this request: {why}\n"
    if hint:
        text += f"{hint}\n"
    return Response(text, status=status, content_type="text/plain; charset=utf-8")
