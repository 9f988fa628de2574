"""Connecting to Enable Banking: what portal asks, the bank's authorisation, the session.

``authenticate`` checks the application (``GET /application``),
finds the bank among those Enable Banking lists for its country (``GET /aspsps``), starts
an authorisation for as long as that bank allows (``POST /auth``), sends the person to
their bank, and opens a session with the code the bank sends back (``POST /sessions``).
The session's id and the accounts' uids are kept in the vault with the answers, and the
session's ``valid_until`` as the grant's expiry.

The bank sends the person back to a redirect URL registered with the application. Where
that URL is a loopback one (``http://127.0.0.1:PORT/...``), portal listens there and takes
the code itself; any other URL (Enable Banking's control panel may require https) is
opened by the browser and the person pastes the address they landed on, as Enable
Banking's own samples do.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from portal.auth.credentials import Ask, CredentialHelpers, KeyCredential
from portal.auth.tokens import TokenSet
from portal.errors import AuthError, ProviderError
from portal.hookspecs import hookimpl
from portal.provider import Provider, Quota
from portal_enablebanking.signing import SignedJWT, signed_jwt

UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
CONTROL_PANEL = "https://enablebanking.com/cp/applications"

ASKS = (
    Ask(
        "application_id",
        "Application id",
        secret=False,
        pattern=UUID,
        help=f"The id of your application in Enable Banking's control panel ({CONTROL_PANEL}).",
    ),
    Ask(
        "private_key",
        "Private key file",
        secret=True,
        file=True,
        help="The PEM file of the private key the application was registered with.",
    ),
    Ask(
        "aspsp_name",
        "Bank",
        secret=False,
        help="Your bank's name as Enable Banking lists it (e.g. Nordea); portal lists the"
        " banks of the country if it finds no such name.",
    ),
    Ask(
        "aspsp_country",
        "Bank's country",
        secret=False,
        pattern=r"[A-Z]{2}",
        help="The two-letter code of the bank's country (e.g. FI).",
    ),
    Ask(
        "redirect_url",
        "Redirect URL",
        secret=False,
        pattern=r"https?://\S+",
        help="One of the redirect URLs registered with the application. A loopback one"
        " (http://127.0.0.1:PORT/PATH) lets portal hear the bank's answer itself; with any"
        " other you paste the address your browser lands on.",
    ),
)
"""What ``portal connect enablebanking`` asks, in order."""

CREDENTIAL = KeyCredential(
    kind="signed_jwt",
    auth=signed_jwt,
    check="application",
    revoke_hint="portal closed the Enable Banking session. To stop the application for good,"
    f" delete it (or its key) in the control panel: {CONTROL_PANEL}.",
)

QUOTA = Quota(
    syncs=4,
    hours=24,
    why="PSD2 lets a bank limit reads made without you present to four a day (EBA RTS"
    " article 36(5)), and banks enforce it through Enable Banking",
)
"""PSD2's limit on account information read without the person present (RTS article 36(5)):
four a day, which banks enforce through Enable Banking."""


def _loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")


def _aspsp(client: Any, name: str, country: str) -> dict[str, Any]:
    listed = client.get("aspsps", params={"country": country, "service": "AIS"})
    _raise_for(listed, "list the banks")
    banks = listed.json().get("aspsps") or []
    for bank in banks:
        if bank.get("name", "").casefold() == name.casefold():
            return dict(bank)
    some = ", ".join(sorted(str(b.get("name")) for b in banks)[:30]) or "none"
    raise AuthError(
        f"Enable Banking lists no bank named {name!r} in {country}.",
        hint=f"Connect again and give one of: {some}.",
    )


def _raise_for(response: Any, doing: str) -> None:
    if response.status_code < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = {}
    said = body.get("error") or body.get("message") or f"HTTP {response.status_code}"
    if response.status_code in (401, 403):
        raise AuthError(
            f"Enable Banking refused to {doing}: {said}.",
            hint="Check the application id and private key, then run portal connect again.",
        )
    raise AuthError(f"Enable Banking could not {doing}: {said}.", hint="Run portal connect again.")


@hookimpl
def authenticate(provider: Provider, credentials: CredentialHelpers) -> TokenSet:
    """Send the person to their bank through Enable Banking and open a session."""
    answers = dict(credentials.answers)
    with credentials.client(values=answers) as client:
        return _connect(credentials, client, answers)


def _connect(credentials: CredentialHelpers, client: Any, answers: dict[str, str]) -> TokenSet:
    application = client.get("application")
    _raise_for(application, "recognise the application")
    bank = _aspsp(client, answers["aspsp_name"], answers["aspsp_country"])
    redirect_url = answers["redirect_url"]
    registered = application.json().get("redirect_urls") or []
    if not _loopback(redirect_url) and redirect_url not in registered:
        raise AuthError(
            "The redirect URL given is not one the Enable Banking application registered.",
            hint=f"Give one of: {', '.join(registered) or '(none: add one in the control panel)'}.",
        )
    seconds = int(bank.get("maximum_consent_validity") or 90 * 24 * 3600)
    until = datetime.now(UTC) + timedelta(seconds=seconds) - timedelta(minutes=5)

    def start(redirect_uri: str, state: str) -> str:
        body = {
            "access": {"valid_until": until.isoformat()},
            "aspsp": {"name": bank["name"], "country": bank["country"]},
            "state": state,
            "redirect_url": redirect_uri,
            "psu_type": "personal",
        }
        started = client.post("auth", json=body)
        _raise_for(started, "start the authorisation")
        return str(started.json()["url"])

    if _loopback(redirect_url):
        answer = credentials.redirect(start, redirect_uri=redirect_url)
    else:
        answer = _pasted(credentials, start, redirect_url)
    opened = client.post("sessions", json={"code": answer.get("code", "")})
    _raise_for(opened, "open the session")
    session = opened.json()
    ends = datetime.fromisoformat(session["access"]["valid_until"])
    credentials.tell(
        f"Enable Banking: {len(session['accounts'])} account(s) at {bank['name']},"
        f" authorised until {ends:%Y-%m-%d}."
    )
    return TokenSet(
        {
            **answers,
            "session_id": session["session_id"],
            "grant_expires_at": int(ends.timestamp()),
        }
    )


PASTED = Ask(
    "redirected_to",
    "address your browser was sent to",
    secret=True,  # it carries the one-time code
    pattern=r"\S+",
    help="After approving at your bank, copy the whole address from your browser's address"
    " bar (it holds code=... and state=...) and paste it here.",
)


def _pasted(credentials: CredentialHelpers, start: Any, redirect_url: str) -> dict[str, str]:
    state = secrets.token_urlsafe(16)
    credentials.browser(start(redirect_url, state))
    pasted = credentials.ask(PASTED)
    query = {k: v[0] for k, v in parse_qs(urlsplit(pasted).query).items()}
    if query.get("state") != state:
        raise AuthError(
            "The address pasted is not the one the bank sent back for this connection.",
            hint="Run portal connect enablebanking again and paste the address shown after"
            " approving.",
        )
    if "error" in query:
        said = query.get("error_description") or query["error"]
        raise AuthError(
            f"Enable Banking did not grant access: {said[:200]}.",
            hint="Run portal connect enablebanking again to retry.",
        )
    return query


def session_of(client: Any) -> list[str]:
    """The uids of the session's accounts, after checking the session is still authorised."""
    auth = client.auth
    if not isinstance(auth, SignedJWT) or not auth.session_id:
        raise AuthError(
            "portal holds no Enable Banking session for this connection.",
            hint="Run portal connect enablebanking.",
        )
    found = client.get_json(f"sessions/{auth.session_id}")
    if found.get("status") != "AUTHORIZED":
        with contextlib.suppress(AuthError):
            client.refresh()  # a key has no refresh: this marks the connection to reconnect
        raise AuthError(
            f"The Enable Banking session is {str(found.get('status')).lower()}.",
            hint="Run portal connect enablebanking to authorise access at your bank again.",
        )
    return [str(uid) for uid in found.get("accounts") or []]


@hookimpl
def revoke(provider: Provider, client: Any, tokens: TokenSet) -> bool | None:
    """Close the session (``DELETE /sessions/{id}``): the bank's consent is closed with it."""
    session_id = tokens.values.get("session_id")
    if not session_id:
        return None
    closed = client.delete(f"sessions/{session_id}")
    if closed.status_code == 404:
        return True  # nothing left to close
    if closed.status_code >= 400:
        raise ProviderError(
            f"Enable Banking refused to close the session (HTTP {closed.status_code}).",
            hint="Delete the application's sessions in the control panel: " + CONTROL_PANEL,
        )
    return True
