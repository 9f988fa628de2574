"""The Demo Mart sandbox: the retailer's customer-data API v2 on 127.0.0.1.

It serves ``DemoRetailer``'s customer behind the shared sandbox machinery (a real OAuth
server with PKCE, faults, a request log). Each resource needs its own scope, so a narrower
grant returns less: ``profile`` (the customer and the processing notice), ``orders``
(orders, receipts and returns), ``loyalty`` (the Rewards account and its balances),
``preferences`` (marketing preferences) and ``insights`` (segments and scores).

Lists page with an opaque cursor (``pagination.next_cursor``, and the same as a link in
``pagination.next``); orders and returns also
take ``updated_since``, so a client can fetch only what changed. One write: a PATCH of a
marketing preference (a JSON merge patch of its ``status``), which the ground truth
follows. The shape is documented in ``plugins/retailer/README.md``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_retailer import moves as life
from portal_retailer.dataset import DemoRetailer
from portal_retailer.expected import expected
from portal_retailer.variants import variant as named_variant

API_PATH = "/customer-data/v2"
SCOPES = ("profile", "orders", "loyalty", "preferences", "insights")
CLIENT_ID = "portal-demo"
MAX_LIMIT = 100


class _Refused(Exception):
    """A request the API refuses, answered with its error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class RetailerSandbox(Sandbox):
    """Demo Mart: orders, receipts, returns, Rewards points, preferences, insights, notice.

    ``page_size`` is how many items a list page holds unless the client asks for fewer;
    ``seed`` picks the demo customer (the same seed always serves the same data). The
    client ``portal-demo`` is registered as a public client (PKCE, no secret) with the
    loopback redirect and every scope. ``variant`` names one of
    ``portal_retailer.variants.VARIANTS``: the same purchases served another way schema.org's
    Order allows.
    """

    def __init__(
        self,
        *,
        page_size: int = 20,
        seed: int = 2026,
        variant: str = "standard",
        ignore_preference_updates: bool = False,
        **kw: Any,
    ) -> None:
        kw.setdefault("scopes", SCOPES)
        super().__init__(**kw)
        if not 1 <= page_size <= MAX_LIMIT:
            raise ValueError(f"page_size must be from 1 to {MAX_LIMIT}.")
        self.page_size = page_size
        self.shop = DemoRetailer(seed)
        self.variant = named_variant(variant)
        self.ignore_preference_updates = ignore_preference_updates
        """A broken shop: a preference update is answered as if made, and not recorded (the
        next read serves the earlier state). For the test that ``portal sync`` says so."""
        self.register_client(CLIENT_ID, scope=" ".join(SCOPES))

    @property
    def api_base(self) -> str:
        """Where the API lives: ``base_url + "/customer-data/v2"``."""
        return self.base_url + API_PATH

    def add_activity(self, n: int = 3) -> None:
        """A few more days of shopping: ``n`` new in-store receipts, earning points."""
        self.shop.add_activity(n)

    moves = life.RETAILER_MOVES

    def move_on(self, step: str) -> None:
        """Play one step of ``moves`` (``portal_retailer.moves``)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        if step == "full_page" and any(r.authorised for r in self.requests):
            raise ValueError("full_page is played before the first sync, which reads it whole.")
        life.play(self.shop, step, self.page_size)

    def lock_preference(self, ident: str, reason: str) -> None:
        """Lock marketing preference ``ident``: updating it answers ``409 preference_locked``
        with ``reason`` (``DemoRetailer.lock_preference``)."""
        self.shop.lock_preference(ident, reason)

    def subject(self, client_id: str) -> str:
        """The customer's id: the same person whichever client asks."""
        return str(self.shop.profile["customer_id"])

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The API's error envelope."""
        return _error(status, _CODES.get(status, "internal_error"), message)

    @property
    def truth_rejections(self) -> dict[str, int]:
        """The purchases a correct plugin rejects: only the ``faulty`` variant has any."""
        return {"purchases": self.variant.rejected} if self.variant.rejected else {}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """What the API serves now, by record category, exactly as served.

        ``purchases`` is the orders and in-store receipts followed by the returns;
        ``balances`` the monthly Rewards statements and the balance now.
        """
        served = self.shop.snapshot()
        return {
            "party": [served["profile"]],
            "accounts": [served["account"]],
            "balances": served["balances"],
            "purchases": self.variant.serve(served["orders"] + served["returns"]),
            "consents": served["preferences"],
            "inferences": served["insights"],
            "processing": served["notice"],
        }

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served item must say in the record (``portal_retailer.expected``)."""
        return expected(self.ground_truth())

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The customer-data API v2."""
        shop = self.shop

        @app.errorhandler(_Refused)
        def refused(error: _Refused) -> tuple[dict[str, Any], int]:
            return _error(error.status, error.code, error.message), error.status

        def one(value: Any) -> dict[str, Any]:
            with shop.lock:
                return {"data": json.loads(json.dumps(value))}

        @app.get(f"{API_PATH}/customer")
        @require("profile")
        def customer() -> dict[str, Any]:
            return one(shop.profile)

        @app.get(f"{API_PATH}/privacy/processing")
        @require("profile")
        def processing() -> dict[str, Any]:
            return one(shop.notice)

        @app.get(f"{API_PATH}/loyalty/account")
        @require("loyalty")
        def loyalty() -> dict[str, Any]:
            return one(shop.account)

        @app.get(f"{API_PATH}/loyalty/balances")
        @require("loyalty")
        def balances() -> dict[str, Any]:
            with shop.lock:
                return self._page("balances", shop.balances(), dated=False)

        @app.get(f"{API_PATH}/orders")
        @require("orders")
        def orders() -> dict[str, Any]:
            with shop.lock:
                return self._page("orders", shop.collection("orders"))

        @app.get(f"{API_PATH}/returns")
        @require("orders")
        def returns() -> dict[str, Any]:
            with shop.lock:
                return self._page("returns", shop.collection("returns"))

        @app.get(f"{API_PATH}/marketing-preferences")
        @require("preferences")
        def marketing() -> dict[str, Any]:
            return one(shop.preferences)

        @app.patch(f"{API_PATH}/marketing-preferences/<ident>")
        @require("preferences")
        def update_preference(ident: str) -> dict[str, Any]:
            wanted = _wanted_status(flask.request)
            with shop.lock:
                if shop.preference(ident) is None:
                    raise _Refused(404, "not_found", f"No marketing preference {ident!r}.")
                if ident in shop.locked:
                    raise _Refused(409, "preference_locked", shop.locked[ident])
                now = shop.set_preference(ident, wanted, keep=not self.ignore_preference_updates)
                return {"data": now}

        @app.get(f"{API_PATH}/insights")
        @require("insights")
        def insights() -> dict[str, Any]:
            return one(shop.insights)

    def _page(
        self, kind: str, items: list[dict[str, Any]], *, dated: bool = True
    ) -> dict[str, Any]:
        """One page of a list: the first (from ``limit`` and ``updated_since``) or a cursor's."""
        args = flask.request.args
        if "cursor" in args:
            state = _read_cursor(args["cursor"], kind)
        else:
            since = args.get("updated_since") if dated else None
            if since is not None:
                _parse_time(since)
            state = {"k": kind, "o": 0, "s": since, "l": _limit(args.get("limit"), self.page_size)}
        if state.get("s") is not None:
            cut = _parse_time(state["s"])
            items = [i for i in items if datetime.fromisoformat(i["updated_at"]) >= cut]
        offset, limit = state["o"], state["l"]
        chunk = items[offset : offset + limit]
        more = offset + limit < len(items)
        next_cursor = _write_cursor({**state, "o": offset + limit}) if more else None
        link = f"{flask.request.base_url}?{urlencode({'cursor': next_cursor})}" if more else None
        if kind in ("orders", "returns"):
            chunk = self.variant.serve(chunk)
        return {
            "data": json.loads(json.dumps(chunk)),
            "pagination": {"limit": limit, "next_cursor": next_cursor, "next": link},
        }


_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
}


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message}}


PREFERENCE_UPDATES = ("opted_in", "opted_out")
"""The statuses a customer can ask a marketing preference for (``withdrawn`` is what the
shop records when one in force is opted out of)."""
PATCH_TYPES = ("application/merge-patch+json", "application/json")


def _wanted_status(request: flask.Request) -> str:
    """The status a PATCH of a marketing preference asks for: a JSON merge patch (RFC 7396)
    naming ``status`` and nothing else."""
    kind = (request.mimetype or "").lower()
    if kind not in PATCH_TYPES:
        raise _Refused(
            415, "unsupported_media_type", "Send the change as application/merge-patch+json."
        )
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or set(body) != {"status"}:
        raise _Refused(
            400, "invalid_request", 'The body is a JSON object with "status" and nothing else.'
        )
    if body["status"] not in PREFERENCE_UPDATES:
        raise _Refused(
            422,
            "invalid_status",
            f"status must be one of {', '.join(PREFERENCE_UPDATES)}, not {body['status']!r}.",
        )
    return str(body["status"])


def _limit(raw: str | None, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise _Refused(
            400, "invalid_request", f"limit must be a whole number from 1 to {MAX_LIMIT}."
        )
    return int(raw)


def _parse_time(value: str) -> datetime:
    # A "+" left unescaped in a query string arrives as a space; take it back.
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise _Refused(
            400,
            "invalid_request",
            f"updated_since {value!r} is not an ISO 8601 date-time with a UTC offset.",
        )
    return parsed


def _write_cursor(state: dict[str, Any]) -> str:
    text = json.dumps(state, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _read_cursor(token: str, kind: str) -> dict[str, Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        state = json.loads(base64.urlsafe_b64decode(padded.encode()))
        valid = (
            isinstance(state, dict)
            and state.get("k") == kind
            and isinstance(state.get("o"), int)
            and isinstance(state.get("l"), int)
        )
    except (binascii.Error, ValueError, UnicodeDecodeError):
        valid = False
    if not valid:
        raise _Refused(400, "invalid_cursor", f"cursor is not one this API gave out for {kind}.")
    return state  # type: ignore[no-any-return]
