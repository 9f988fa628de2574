"""Enable Banking's API on 127.0.0.1: a test double that follows the published reference.

An application (its id, a key pair made at start) is registered, as in the control panel;
every API request must carry a JWT it signed (``signing.verify_jwt``: RS256, the
registered ``kid``, ``iss``, ``aud``, expiry, at most 24 hours long), or it gets the API's
own 401 ``ErrorResponse``. The person's authorisation goes as the reference describes it:
``POST /auth`` gives the URL of the bank's page; the bank (here ``/mock-aspsp/authorize``,
which approves at once, as a person would) redirects to the application's ``redirect_url``
with ``code`` and ``state``; ``POST /sessions`` with the code opens a session and lists
its accounts, each with a ``uid`` valid only in that session. ``DELETE /sessions/{id}``
closes it. Accounts, balances and transactions are served from ``dataset``; transactions
a page of ``PAGE`` at a time, the next page through an opaque ``continuation_key``.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import flask
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_enablebanking import dataset as demo
from portal_enablebanking.expected import expected_records
from portal_enablebanking.signing import Refused, verify_jwt
from portal_enablebanking.variants import REJECTED, VARIANTS

PAGE = 50
"""Transactions per page of the sandbox's answers."""
APPLICATION_ID = "0f2b3c4d-5e6f-4a1b-8c9d-0e1f2a3b4c5d"
MAX_CONSENT = 180 * 24 * 3600
"""The Mock ASPSP's ``maximum_consent_validity``, in seconds."""
REDIRECT_URLS = ["http://127.0.0.1/enablebanking/callback", "https://portal.example/enablebanking"]
"""The application's registered redirect URLs; a loopback one matches on any port."""


class EnableBankingSandbox(Sandbox):
    """Enable Banking's API, its Mock ASPSP, and Aino Mäkinen's two accounts there."""

    uses_oauth = False
    moves = ("full_page", "amend", "withdraw", "book", "arrive")

    def __init__(self, *, variant: str = "standard", **kw: Any) -> None:
        super().__init__(**kw)
        if variant != "standard" and variant not in VARIANTS:
            raise ValueError(f"No sandbox variant {variant!r}; there are {', '.join(VARIANTS)}.")
        self.variant = variant
        self.data = demo.dataset(variant)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.applications = {APPLICATION_ID: self.key.public_key()}
        self.authorisations: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, str] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.jwts_noted: set[str] = set()
        self.sent_back: list[str] = []
        """The redirect URL of each authorisation the Mock ASPSP approved."""
        self.deny = False
        """Make the Mock ASPSP refuse the next authorisation (the person says no)."""
        self.today = demo.TODAY

    # -- what a person types to connect ----------------------------------------------

    def private_key_pem(self) -> str:
        """The application's private key, as the control panel exports it."""
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    def connect_answers(self) -> dict[str, str]:
        """The application's id and private key, and the bank."""
        pem = self.private_key_pem()
        self.note_secret(pem, "private key")
        return {
            "application_id": APPLICATION_ID,
            "private_key": pem,
            "aspsp_name": demo.ASPSP["name"],
            "aspsp_country": demo.ASPSP["country"],
            "redirect_url": REDIRECT_URLS[0],
        }

    # -- the API's own errors ----------------------------------------------------------

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The reference's ``ErrorResponse``."""
        return {"message": message, "code": status}

    def _error(self, status: int, code: str, message: str, detail: Any = None) -> flask.Response:
        body: dict[str, Any] = {"message": message, "code": status, "error": code}
        if detail is not None:
            body["detail"] = detail
        return flask.Response(json.dumps(body), status, mimetype="application/json")

    def authorise(self, request: flask.Request) -> flask.Response | None:
        """Admit a request carrying a JWT the registered application signed."""
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return self._error(
                401, "AUTHORIZATION_NOT_PROVIDED", "Authorization header is not provided"
            )
        token = header.removeprefix("Bearer ").strip()
        if len(self.jwts_noted) < 50:  # each is signed afresh: a sample is enough to look for
            self.jwts_noted.add(token)
            self.note_secret(token, "jwt")
        try:
            verify_jwt(token, self.applications)
        except Refused as refused:
            return self._error(401, "UNAUTHORIZED_ACCESS", "Unauthorized access", str(refused))
        return None

    # -- the person's data -------------------------------------------------------------

    def _session_of(self, uid: str) -> tuple[dict[str, Any], dict[str, Any]] | flask.Response:
        # The newest session holding the account decides whether it may be read.
        account = next((a for a in self.data["accounts"] if demo.uid_of(a) == uid), None)
        if account is None or not self.sessions:
            return self._error(
                404, "ACCOUNT_DOES_NOT_EXIST", "No account found matching provided id"
            )
        return list(self.sessions.values())[-1], account

    def _usable(self, session: dict[str, Any]) -> flask.Response | None:
        if session["status"] == "CLOSED":
            return self._error(401, "CLOSED_SESSION", "Session is closed")
        if session["status"] == "REVOKED":
            return self._error(401, "REVOKED_SESSION", "Session is revoked")
        if datetime.fromisoformat(session["valid_until"]) <= datetime.now(UTC):
            return self._error(401, "EXPIRED_SESSION", "Session is expired")
        return None

    def details(self, account: dict[str, Any]) -> dict[str, Any]:
        """An account's ``AccountResource``, its uid included."""
        return {**account, "uid": demo.uid_of(account)}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """Every raw item served, by the record category it becomes."""
        d = self.data
        return {
            "accounts": [self.details(a) for a in d["accounts"]],
            "balances": [b for key in d["balances"] for b in d["balances"][key]],
            "transactions": [t for key in d["transactions"] for t in d["transactions"][key]],
        }

    @property
    def truth_rejections(self) -> dict[str, int]:
        """What a correct plugin rejects: the ``faulty`` variant's planted items."""
        return dict(REJECTED) if self.variant == "faulty" else {}

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each record must say, by category and id (``expected`` reads the reference)."""
        return expected_records(self.data)

    # -- routes ------------------------------------------------------------------------

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The application, the ASPSPs, the authorisation dance, sessions and accounts."""
        from portal_enablebanking.sandbox_routes import account_routes, session_routes

        session_routes(self, app, require)
        account_routes(self, app, require)

    # -- the person's life moves on ------------------------------------------------------

    def move_on(self, step: str) -> None:
        """Play one step of the person's life (``portal.sandbox.moves``)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        from portal_enablebanking.moves import play

        play(self, step)


def continuation_key(state: dict[str, Any]) -> str:
    """An opaque key for the next page (valid only in the session that asked)."""
    return base64.urlsafe_b64encode(json.dumps(state).encode()).decode().rstrip("=")


def read_continuation_key(key: str) -> dict[str, Any] | None:
    """The state a key carries, or None for a key this API did not give out."""
    try:
        state = json.loads(base64.urlsafe_b64decode(key + "=" * (-len(key) % 4)))
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def new_code() -> str:
    """A one-time authorisation code the Mock ASPSP hands the redirect."""
    return secrets.token_urlsafe(24)


def new_session(sandbox: EnableBankingSandbox, authorisation: dict[str, Any]) -> dict[str, Any]:
    """A session opened with an authorisation's code, authorised now."""
    now = datetime.now(UTC)
    session = {
        "id": str(uuid.uuid4()),
        "status": "AUTHORIZED",
        "aspsp": authorisation["aspsp"],
        "psu_type": authorisation["psu_type"],
        "valid_until": authorisation["valid_until"],
        "created": authorisation["created"],
        "authorized": now.isoformat(),
        "closed": None,
    }
    sandbox.sessions[session["id"]] = session
    # Not noted as a secret: like an account's uid it names what to read, and every request
    # needs the application's JWT too (Enable Banking's control panel lists sessions).
    return session


def redirect_with(url: str, **query: str) -> str:
    """``url`` with ``query`` added, as the bank redirects the person back."""
    return f"{url}{'&' if '?' in url else '?'}{urlencode(query)}"


def parse_valid_until(value: Any) -> datetime | None:
    """An RFC 3339 date-time with its offset, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def in_window(item: dict[str, Any], date_from: date | None, date_to: date | None) -> bool:
    """Whether a transaction's date falls within the asked window (both ends included)."""
    when = item.get("booking_date") or item.get("transaction_date") or item.get("value_date")
    if when is None:
        return True
    day = date.fromisoformat(when)
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def money_sum(items: list[dict[str, Any]]) -> Decimal:
    """The signed sum of transactions, from the account holder's side."""
    total = Decimal(0)
    for t in items:
        amount = Decimal(t["transaction_amount"]["amount"])
        total += amount if t["credit_debit_indicator"] == "CRDT" else -amount
    return total


def day_after(day: date) -> date:
    """The next day."""
    return day + timedelta(days=1)
