"""The SimpleFIN Bridge sandbox: a SimpleFIN server on 127.0.0.1, as the protocol describes it.

Routes, under the server's root ``/simplefin`` (https://www.simplefin.org/protocol.html):

- ``GET /simplefin/info``: the protocol versions served;
- ``POST /simplefin/claim/<token>``: a setup token's one-time claim; the answer is the
  Access URL (``http://USER:PASSWORD@127.0.0.1:PORT/simplefin``) as text; a token
  already claimed, or never issued, is ``403``;
- ``GET /simplefin/accounts``: the Account Set, with HTTP Basic authentication by the
  Access URL's credentials (``403`` without them, as the protocol says), and the
  parameters ``start-date``, ``end-date`` (epoch seconds; transactions on or after the
  one, before the other), ``pending=1``, ``balances-only=1``, ``account`` (repeatable) and
  ``version=2`` (the 2.0 document; the 1.0 one otherwise). A range longer than the
  Bridge's 90 days is capped to the latest 90 days, with a ``gen.api`` error saying so,
  as the production Bridge answers (its developer page states the limit, not the answer;
  securo-finance/securo#919 and firefly-iii/firefly-iii#12128 report what it does).

``connect_answers()`` issues a fresh setup token, as a person makes one in the Bridge.
``payment_required = True`` makes ``/accounts`` answer ``402``, the protocol's "payment
required" (a lapsed subscription).
"""

from __future__ import annotations

import base64
import copy
import hmac
import json
import secrets
import time
from typing import Any, ClassVar

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_simplefin import moves as life
from portal_simplefin.dataset import BRIDGE, DemoPerson
from portal_simplefin.expected import expected
from portal_simplefin.rules import MAX_RANGE_DAYS
from portal_simplefin.variants import (
    FAULTY_DESCRIPTION,
    MILES_ACCOUNT,
    MILES_CURRENCY,
    sparse_account,
    sparse_transaction,
)
from portal_simplefin.variants import variant as named_variant

ROOT = "/simplefin"


class SimpleFinSandbox(Sandbox):
    """The Bridge with Jordan Avery's three accounts (``portal_simplefin.dataset``).

    ``variant`` names one of ``portal_simplefin.variants.VARIANTS``: the same person served
    another way the protocol allows.
    """

    uses_oauth = False
    truth_categories: ClassVar[dict[str, str | None]] = {}

    def __init__(self, *, seed: int = 2026, variant: str = "standard", **kw: Any) -> None:
        kw.setdefault("scopes", ("accounts",))
        super().__init__(**kw)
        self.person = DemoPerson(seed)
        self.variant = named_variant(variant)
        self.claims: dict[str, str | None] = {}
        """Setup tokens' claim codes issued, each with the username that claimed it."""
        self.credentials: dict[str, str] = {}
        """Access URL credentials issued: username to password."""
        self.payment_required = False

    moves = life.SIMPLEFIN_MOVES

    def move_on(self, step: str) -> None:
        """Play one step of ``moves`` (``portal_simplefin.moves``)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        life.play(self.person, step)

    @property
    def api_base(self) -> str:
        """The SimpleFIN server's root: ``base_url + "/simplefin"``."""
        return self.base_url + ROOT

    # -- credentials --------------------------------------------------------------------

    def setup_token(self) -> str:
        """A fresh setup token: the base64 of a one-time claim URL, as the Bridge makes one."""
        code = secrets.token_urlsafe(24)
        self.claims[code] = None
        token = base64.b64encode(f"{self.api_base}/claim/{code}".encode()).decode()
        self.note_secret(token, "setup_token")
        self.note_secret(code, "claim_code")
        return token

    def connect_answers(self) -> dict[str, str]:
        """What the person pastes into ``portal connect simplefin``: a fresh setup token."""
        return {"setup_token": self.setup_token()}

    def _claim(self, code: str) -> str | None:
        """The Access URL for claim ``code``, once; None for a claimed or unknown code."""
        if code not in self.claims or self.claims[code] is not None:
            return None
        user, password = f"user{secrets.token_hex(4)}", secrets.token_urlsafe(24)
        self.claims[code] = user
        self.credentials[user] = password
        url = f"http://{user}:{password}@{self.api_base.removeprefix('http://')}"
        self.note_secret(password, "access_url_password")
        self.note_secret(url, "access_url")
        return url

    def revoke_access(self) -> None:
        """The person deletes the app's connection in the Bridge: every Access URL stops."""
        self.credentials.clear()

    def authorise(self, request: flask.Request) -> flask.Response | None:
        """Admit a request with Basic credentials of an Access URL; else the protocol's 403."""
        auth = request.authorization
        known = self.credentials.get(auth.username or "") if auth and auth.type == "basic" else None
        if known is None or not hmac.compare_digest(known, auth.password or ""):  # type: ignore[union-attr]
            return flask.Response("Forbidden", status=403, mimetype="text/plain")
        return None

    # -- what it serves -----------------------------------------------------------------

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The body of an error the sandbox answers itself."""
        return {"errlist": [{"code": "gen.api", "msg": message}], "accounts": []}

    @property
    def truth_rejections(self) -> dict[str, int]:
        """The transactions a correct plugin refuses: only ``miles`` and ``faulty`` have any."""
        return {"transactions": self.variant.rejected} if self.variant.rejected else {}

    def document(
        self,
        *,
        start: int | None = None,
        end: int | None = None,
        pending: bool = True,
        balances_only: bool = False,
        accounts: list[str] | None = None,
    ) -> dict[str, Any]:
        """The Account Set for a query, in the variant's shape."""
        served = self.person.snapshot()
        accounts_out = []
        for account in served["accounts"] + self._more_accounts():
            if accounts and account["id"] not in accounts:
                continue
            out = copy.deepcopy(account)
            if not balances_only:
                txns = served["transactions"].get(account["id"]) or self._more_transactions(
                    account["id"]
                )
                out["transactions"] = [
                    self._shaped_transaction(t) for t in txns if _within(t, start, end, pending)
                ]
            accounts_out.append(self._shaped_account(out))
        errors = [e["msg"] for e in served["errlist"]]
        if self.variant.name == "v1":
            return {"errors": errors, "accounts": accounts_out}
        connections = served["connections"]
        if self.variant.name == "miles":
            connections = [*connections, dict(MILES_CONNECTION)]
        return {
            "errors": errors,
            "errlist": served["errlist"],
            "connections": connections,
            "accounts": accounts_out,
        }

    def _more_accounts(self) -> list[dict[str, Any]]:
        if self.variant.name != "miles":
            return []
        return [
            {
                "id": MILES_ACCOUNT,
                "name": "Mileage Plan",
                "conn_id": MILES_CONNECTION["conn_id"],
                "currency": MILES_CURRENCY,
                "balance": "48210",
                "balance-date": int(self.person.now.timestamp()),
            }
        ]

    def _more_transactions(self, account: str) -> list[dict[str, Any]]:
        if account != MILES_ACCOUNT:
            return []
        at = int(self.person.anchor.timestamp())
        return [
            {
                "id": f"TRN-miles-{n}",
                "posted": at - n * 86400 * 20,
                "amount": amount,
                "description": what,
            }
            for n, (amount, what) in enumerate(
                (("1250", "FLIGHT PDX-YVR"), ("-12500", "AWARD TICKET"), ("500", "CARD BONUS")),
                start=1,
            )
        ]

    def _shaped_account(self, account: dict[str, Any]) -> dict[str, Any]:
        if self.variant.name == "sparse":
            return sparse_account(account)
        if self.variant.name == "v1":
            conn_id = account.pop("conn_id")
            conn = next(c for c in self.person.connections if c["conn_id"] == conn_id)
            domain = conn["org_url"].removeprefix("https://")
            return {
                "org": {"domain": domain, "name": conn["org_name"], "sfin-url": BRIDGE},
                **account,
            }
        return account

    def _shaped_transaction(self, txn: dict[str, Any]) -> dict[str, Any]:
        txn = copy.deepcopy(txn)
        if self.variant.name == "sparse":
            return sparse_transaction(txn)
        if self.variant.name == "faulty" and txn["id"] == self._faulty_id():
            txn["amount"] = float(txn["amount"])
        return txn

    def _faulty_id(self) -> str:
        planted = (
            t["id"]
            for txns in self.person.transactions.values()
            for t in txns
            if t["description"] == FAULTY_DESCRIPTION
        )
        return str(next(planted))

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """What the Bridge serves now, by record category, exactly as served.

        ``accounts``: each account without its transactions; ``balances``: each account's
        ``balance`` and its ``available-balance`` (the balance when it is left out, as the
        protocol says), each stated with the account's ids and its ``balance-date``;
        ``transactions``: every transaction, pending ones too.
        """
        document = self.document()
        accounts, balances, transactions = [], [], []
        for account in document["accounts"]:
            txns = account.pop("transactions", [])
            accounts.append(account)
            ids = {k: v for k, v in account.items() if "id" in k.lower() and isinstance(v, str)}
            for kind in ("balance", "available-balance"):
                # Absent, the available balance "is the same as balance" (the protocol).
                value = account.get(kind, account["balance"])
                balances.append({**ids, kind: value, "balance-date": account["balance-date"]})
            transactions += txns
        return {"accounts": accounts, "balances": balances, "transactions": transactions}

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served item must say in the record (``portal_simplefin.expected``)."""
        owners = {
            t["id"]: account["id"]
            for account in self.document()["accounts"]
            for t in account.get("transactions", [])
        }
        return expected(self.ground_truth(), owners)

    # -- the routes ---------------------------------------------------------------------

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The SimpleFIN server's endpoints."""

        @app.get(f"{ROOT}/info")
        def info() -> dict[str, Any]:
            return {"versions": ["1.0", "2.0"]}

        @app.post(f"{ROOT}/claim/<code>")
        def claim(code: str) -> flask.Response:
            url = self._claim(code)
            if url is None:
                return flask.Response("Forbidden", status=403, mimetype="text/plain")
            return flask.Response(url, mimetype="text/plain")

        @app.get(f"{ROOT}/accounts")
        @require("accounts")
        def accounts() -> flask.Response:
            if self.payment_required:
                return flask.Response("Payment Required", status=402, mimetype="text/plain")
            args = flask.request.args
            try:
                start = _epoch_arg(args.get("start-date"))
                end = _epoch_arg(args.get("end-date"))
            except ValueError as error:
                return flask.Response(str(error), status=400, mimetype="text/plain")
            capped = None
            if start is not None and (end or time.time()) - start > MAX_RANGE_DAYS * 86400:
                # As the production Bridge does: the latest 90 days, and a warning.
                start = int((end or time.time()) - MAX_RANGE_DAYS * 86400)
                capped = CAPPED
            body = self.document(
                start=start,
                end=end,
                pending=args.get("pending") == "1",
                balances_only=args.get("balances-only") == "1",
                accounts=args.getlist("account") or None,
            )
            if capped is not None:
                body["errors"] = [*body["errors"], capped["msg"]]
                if "errlist" in body:
                    body["errlist"] = [*body["errlist"], capped]
            if self.variant.name != "v1" and args.get("version") != "2":
                body = _as_v1(body, self.person.connections)
            return flask.Response(json.dumps(body), mimetype="application/json")


CAPPED = {
    "code": "gen.api",
    "msg": f"Requested date range exceeds limit of {MAX_RANGE_DAYS} days and was capped.",
}
"""What the production Bridge says of a longer range (reported in securo-finance/securo#919)."""

MILES_CONNECTION = {
    "conn_id": "CON-3c55e2b8-alaska",
    "name": "Alaska Demo Airlines Mileage Plan",
    "org_id": "INST-alaskademoair",
    "org_name": "Alaska Demo Airlines",
    "sfin_url": BRIDGE,
}


def _as_v1(body: dict[str, Any], connections: list[dict[str, Any]]) -> dict[str, Any]:
    """The 2.0 document as a 1.0 server answers it (``version=2`` not asked for)."""
    by_id = {c["conn_id"]: c for c in [*connections, MILES_CONNECTION]}
    accounts = []
    for account in body["accounts"]:
        conn = by_id[account.pop("conn_id")]
        org = {"name": conn["org_name"], "sfin-url": BRIDGE}
        accounts.append({"org": org, **account})
    return {"errors": body["errors"], "accounts": accounts}


def _epoch_arg(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValueError(f"{raw!r} is not a UNIX epoch timestamp.")
    return int(raw)


def _within(txn: dict[str, Any], start: int | None, end: int | None, pending: bool) -> bool:
    """Whether the query's range and ``pending`` take ``txn`` (pending: by when it happened)."""
    if txn.get("pending") and not pending:
        return False
    moment = txn.get("posted") or txn.get("transacted_at") or 0
    return (start is None or moment >= start) and (end is None or moment < end)
