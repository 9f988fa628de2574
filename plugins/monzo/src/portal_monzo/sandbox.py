"""The Monzo sandbox: Monzo's API for personal use, on 127.0.0.1, following docs.monzo.com.

A confidential OAuth client (``CLIENT_ID`` with a secret made for each sandbox) is
registered with its redirect URL, as a person registers theirs at developers.monzo.com.
After the login, Monzo grants nothing until the person approves access in the Monzo app
(strong customer authentication): until then every API request but ``/ping/whoami``
answers ``403 forbidden.insufficient_permissions``. The sandbox approves at once unless
``in_app_approval="manual"``; then ``approve_in_app()`` is the person tapping Approve.

Transactions: for five minutes after the person authenticated, the whole history is served;
afterwards a request reaching further back than 90 days is refused with
``403 forbidden.verification_required`` (docs.monzo.com#list-transactions). The sandbox
reads its clock through ``now()``; ``travel(delta)`` moves it on, so tests can pass the five
minutes without waiting.

Routes: ``GET /ping/whoami``, ``/accounts``, ``/balance``, ``/pots``, ``/transactions`` (with
``since`` as a time or a transaction id, ``before``, ``limit`` 1 to 100, ``expand[]=merchant``),
``/transactions/<id>``; ``POST /oauth2/logout`` ends the access. Errors are Monzo's
``{"code": "...", "message": "..."}``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal.sandbox.oauth import OMIT
from portal_monzo import moves as life
from portal_monzo import variants
from portal_monzo.dataset import USER, MonzoCustomer
from portal_monzo.expected import expected

CLIENT_ID = "oauthclient_0000A7bDemoPortal"
REDIRECT_URI = "http://127.0.0.1:8765/callback"
"""The redirect URL the person registers with their client (docs/providers/monzo.md)."""
MAX_LIMIT = 100
FULL_HISTORY = timedelta(minutes=5)
WINDOW = timedelta(days=90)
SCOPE = "monzo"
"""Monzo has no scopes; the shared authorization server guards routes by one, so all share it."""

INSUFFICIENT = "forbidden.insufficient_permissions"
OUTSIDE_WINDOW = "forbidden.verification_required"


class Refused(Exception):
    """A request Monzo refuses, answered with its error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class MonzoSandbox(Sandbox):
    """Priya Shah's Monzo: a current account, a joint account, two pots, their transactions.

    ``history_days`` is how far back transactions go (the default stays inside the 90 days
    Monzo serves at any time; more shows the limit); ``in_app_approval`` is "auto" or
    "manual"; ``page_limit`` is the largest page served whatever the client asks.
    """

    truth_categories: ClassVar[dict[str, str]] = {"pot_balances": "balances", "pots": "accounts"}

    def __init__(
        self,
        *,
        history_days: int = 88,
        seed: int = 2026,
        in_app_approval: str = "auto",
        page_limit: int = MAX_LIMIT,
        variant: str = "standard",
        **kw: Any,
    ) -> None:
        kw.setdefault("scopes", (SCOPE,))
        kw.setdefault("access_token_ttl", 6 * 3600)  # "valid for several hours"
        super().__init__(**kw)
        if in_app_approval not in ("auto", "manual"):
            raise ValueError("in_app_approval is 'auto' or 'manual'.")
        if variant not in variants.VARIANTS:
            raise ValueError(f"variant is one of {', '.join(variants.VARIANTS)}.")
        self.variant = variant
        self.offset = timedelta(0)
        self.customer = MonzoCustomer(self.now().date(), seed=seed, history_days=history_days)
        every = [t["id"] for txs in self.customer.transactions.values() for t in txs]
        self.spoiled = variants.planted(every) if variant == "faulty" else {}
        self.in_app_approval = in_app_approval
        self.page_limit = page_limit
        self.approved = False
        self.authenticated_at: datetime | None = None
        self.client_secret = secrets.token_urlsafe(48)
        self.register_client(CLIENT_ID, self.client_secret, redirect_uris=(REDIRECT_URI,))
        self.logouts = 0
        self.note_secret(self.client_secret, "client_secret")
        self.patch_token_responses({})

    def patch_token_responses(self, fields: dict[str, Any]) -> None:
        """As the base class, always without ``scope``: Monzo's token responses carry none."""
        super().patch_token_responses({"scope": OMIT, **fields})

    # -- the clock and the person ------------------------------------------------------

    def now(self) -> datetime:
        """The sandbox's clock: the real time, moved on by ``travel``."""
        return datetime.now(UTC) + self.offset

    def travel(self, delta: timedelta) -> None:
        """Move the sandbox's clock on (five minutes and one second ends the full history)."""
        self.offset += delta

    def approve_in_app(self) -> None:
        """The person taps Approve in the Monzo app: the API answers from now on."""
        self.approved = True

    def connect_answers(self) -> dict[str, str]:
        """What the person types at ``portal connect monzo``: their client's id and secret."""
        return {"client_id": CLIENT_ID, "client_secret": self.client_secret}

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        """Monzo's token response names the client and the user; the login starts the clock."""
        self.authenticated_at = self.now()
        self.approved = self.in_app_approval == "auto"
        return {"client_id": client_id, "user_id": USER}

    def subject(self, client_id: str) -> str:
        """The Monzo user: the same whichever client asks."""
        return USER

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """Monzo's error body: a dotted code and a message."""
        return {"code": _CODES.get(status, "internal_service"), "message": message}

    # -- life moves on -----------------------------------------------------------------

    moves = life.MONZO_MOVES

    def move_on(self, step: str) -> None:
        """Play one step of ``moves`` (``portal_monzo.moves``)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        self.travel(timedelta(minutes=1))
        life.play(self.customer, step, self.page_limit, self.now())

    # -- what it serves ----------------------------------------------------------------

    @property
    def truth_rejections(self) -> dict[str, int]:
        """The transactions a correct plugin rejects: only the ``faulty`` variant has any."""
        return {"transactions": len(self.spoiled)} if self.spoiled else {}

    def served(self) -> dict[str, Any]:
        """The customer's ``snapshot()`` as this sandbox's variant serves it."""
        snapshot = self.customer.snapshot()
        for key in ("accounts", "pots"):
            snapshot[key] = self._shaped(key, snapshot[key])
        snapshot["transactions"] = {
            a: self._shaped("transactions", txs) for a, txs in snapshot["transactions"].items()
        }
        return snapshot

    def _shaped(self, key: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return variants.serve(self.variant, key, items, self.spoiled)

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """Accounts and pots, balances (an account's ``/balance``, a pot's own), transactions."""
        served = self.served()
        return {
            "accounts": served["accounts"],
            "pots": served["pots"],
            "balances": list(served["balances"].values()),
            "pot_balances": served["pots"],
            "transactions": [t for txs in served["transactions"].values() for t in txs],
        }

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served item must say in the record (``portal_monzo.expected``)."""
        return expected(self.served(), set(self.spoiled))

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """Monzo's API: who am I, accounts, balance, pots, transactions, log out."""
        customer = self.customer

        @app.errorhandler(Refused)
        def refused(error: Refused) -> tuple[dict[str, Any], int]:
            return {"code": error.code, "message": error.message}, error.status

        def approved() -> None:
            if not self.approved:
                raise Refused(
                    403,
                    INSUFFICIENT,
                    "Access forbidden due to insufficient permissions: approve access in the"
                    " Monzo app.",
                )

        def body(value: Any) -> Any:
            with customer.lock:
                return json.loads(json.dumps(value))

        @app.get("/ping/whoami")
        @require(SCOPE)
        def whoami() -> dict[str, Any]:
            return {"authenticated": True, "client_id": CLIENT_ID, "user_id": USER}

        @app.get("/accounts")
        @require(SCOPE)
        def accounts() -> dict[str, Any]:
            approved()
            kind = flask.request.args.get("account_type")
            listed = [a for a in customer.accounts if kind is None or a["type"] == kind]
            return {"accounts": body(self._shaped("accounts", listed))}

        @app.get("/balance")
        @require(SCOPE)
        def balance() -> dict[str, Any]:
            approved()
            account_id = _account(customer, flask.request.args.get("account_id"))
            return body(customer.balance(account_id))  # type: ignore[no-any-return]

        @app.get("/pots")
        @require(SCOPE)
        def pots() -> dict[str, Any]:
            approved()
            account_id = _account(customer, flask.request.args.get("current_account_id"))
            listed = [p for p in customer.pots if p["current_account_id"] == account_id]
            return {"pots": body(self._shaped("pots", listed))}

        @app.get("/transactions")
        @require(SCOPE)
        def transactions() -> dict[str, Any]:
            approved()
            return {"transactions": body(self._transactions(flask.request.args))}

        @app.get("/transactions/<transaction_id>")
        @require(SCOPE)
        def transaction(transaction_id: str) -> dict[str, Any]:
            approved()
            expand = "merchant" in flask.request.args.getlist("expand[]")
            for txs in customer.transactions.values():
                for t in txs:
                    if t["id"] == transaction_id:
                        [shaped] = self._shaped("transactions", [_shaped(t, expand)])
                        return {"transaction": body(shaped)}
            raise Refused(404, "not_found.transaction", "Transaction not found.")

        @app.post("/oauth2/logout")
        @require(SCOPE)
        def logout() -> dict[str, Any]:
            # The access token (and the grant it came from) ends here: Monzo's log out.
            self.logouts += 1
            self.withdraw_consent()
            return {}

    def _transactions(self, args: Any) -> list[dict[str, Any]]:
        customer = self.customer
        account_id = _account(customer, args.get("account_id"))
        limit = _limit(args.get("limit"))
        txs = customer.transactions[account_id]
        since, before = args.get("since"), args.get("before")
        start = None
        if since is not None and since.startswith("tx_"):
            found = [i for i, t in enumerate(txs) if t["id"] == since]
            if not found:
                raise Refused(400, "bad_request.bad_param.since", "since names no transaction.")
            start = _time(txs[found[0]]["created"])
            txs = txs[found[0] + 1 :]
        elif since is not None:
            start = _parse(since, "since")
            txs = [t for t in txs if _time(t["created"]) >= start]
        if before is not None:
            end = _parse(before, "before")
            txs = [t for t in txs if _time(t["created"]) < end]
        self._within_window(start)
        expand = "merchant" in args.getlist("expand[]")
        page = [_shaped(t, expand) for t in txs[: min(limit, self.page_limit)]]
        return self._shaped("transactions", page)

    def _within_window(self, start: datetime | None) -> None:
        now = self.now()
        fresh = self.authenticated_at is not None and now - self.authenticated_at <= FULL_HISTORY
        if fresh or (start is not None and start >= now - WINDOW):
            return
        raise Refused(
            403,
            OUTSIDE_WINDOW,
            "Transactions older than 90 days can only be fetched in the first 5 minutes after"
            " authentication.",
        )


_CODES = {
    400: "bad_request",
    401: "unauthorized.bad_access_token",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
    500: "internal_service",
    502: "internal_service",
    503: "internal_service",
    504: "gateway_timeout",
}


def _shaped(tx: dict[str, Any], expand: bool) -> dict[str, Any]:
    # Without expand[]=merchant the merchant is its id (docs.monzo.com#transactions).
    if expand or not isinstance(tx.get("merchant"), dict):
        return tx
    return {**tx, "merchant": tx["merchant"]["id"]}


def _account(customer: MonzoCustomer, account_id: str | None) -> str:
    if not account_id:
        raise Refused(400, "bad_request.missing_param.account_id", "account_id is required.")
    if account_id not in customer.transactions:
        raise Refused(403, "forbidden.insufficient_permissions", "No access to that account.")
    return account_id


def _limit(raw: str | None) -> int:
    if raw is None:
        return MAX_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise Refused(400, "bad_request.bad_param.limit", f"limit is from 1 to {MAX_LIMIT}.")
    return int(raw)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _parse(value: str, name: str) -> datetime:
    try:
        parsed = _time(value.strip().replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Refused(400, f"bad_request.bad_param.{name}", f"{name} is not an RFC 3339 timestamp.")
    return parsed
