"""The sandbox's routes, as the API reference gives each endpoint, its answers and errors."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import flask

from portal.sandbox import Require
from portal_enablebanking import dataset as demo
from portal_enablebanking.sandbox import (
    APPLICATION_ID,
    MAX_CONSENT,
    PAGE,
    REDIRECT_URLS,
    continuation_key,
    in_window,
    new_code,
    new_session,
    parse_valid_until,
    read_continuation_key,
    redirect_with,
)

if TYPE_CHECKING:
    from portal_enablebanking.sandbox import EnableBankingSandbox


def redirect_allowed(url: str) -> bool:
    """Whether ``url`` is a registered redirect URL (a loopback one on any port, RFC 8252)."""
    asked = urlsplit(url)
    for registered in map(urlsplit, REDIRECT_URLS):
        same = (asked.scheme, asked.hostname, asked.path) == (
            registered.scheme,
            registered.hostname,
            registered.path,
        )
        if same and (asked.port == registered.port or registered.hostname == "127.0.0.1"):
            return True
    return False


def aspsp_data() -> dict[str, Any]:
    """The Mock ASPSP as ``GET /aspsps`` lists it (``ASPSPData``)."""
    return {
        **demo.ASPSP,
        "logo": "https://enablebanking.com/brands/FI/Mock%20ASPSP/",
        "psu_types": ["personal", "business"],
        "auth_methods": [{"name": "mock", "title": "Mock login", "psu_type": "personal",
                          "approach": "REDIRECT", "hidden_method": False}],
        "maximum_consent_validity": MAX_CONSENT,
        "beta": False,
        "bic": "MOCKFIHH",
    }  # fmt: skip


def session_routes(sb: EnableBankingSandbox, app: flask.Flask, require: Require) -> None:
    """``/application``, ``/aspsps``, ``/auth``, the bank's page, and ``/sessions``."""

    @app.get("/application")
    @require("read")
    def application() -> Any:
        return {
            "name": "portal (sandbox)", "kid": APPLICATION_ID, "environment": "SANDBOX",
            "redirect_urls": REDIRECT_URLS, "active": True, "countries": ["FI"],
            "services": ["AIS"],
        }  # fmt: skip

    @app.get("/aspsps")
    @require("read")
    def aspsps() -> Any:
        country = flask.request.args.get("country")
        listed = [aspsp_data()] if country in (None, demo.ASPSP["country"]) else []
        return {"aspsps": listed}

    @app.post("/auth")
    @require("read")
    def start_authorisation() -> Any:
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict) or not all(
            k in body for k in ("access", "aspsp", "state", "redirect_url")
        ):
            return sb._error(422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided")
        if body["aspsp"] != demo.ASPSP:
            return sb._error(404, "WRONG_ASPSP_PROVIDED", "Wrong ASPSP name provided")
        if not redirect_allowed(str(body["redirect_url"])):
            return sb._error(400, "REDIRECT_URI_NOT_ALLOWED", "Redirect URI not allowed")
        until = parse_valid_until((body.get("access") or {}).get("valid_until"))
        now = datetime.now(UTC)
        if until is None or until <= now or until > now + timedelta(seconds=MAX_CONSENT):
            return sb._error(
                422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided",
                "access.valid_until must be in the future and within maximum_consent_validity",
            )  # fmt: skip
        authorisation_id = str(uuid.uuid4())
        sb.authorisations[authorisation_id] = {
            "aspsp": body["aspsp"], "state": body["state"], "redirect_url": body["redirect_url"],
            "psu_type": body.get("psu_type", "personal"), "valid_until": until.isoformat(),
            "created": now.isoformat(),
        }  # fmt: skip
        url = f"{sb.base_url}/mock-aspsp/authorize?authorization_id={authorisation_id}"
        psu_hash = hashlib.sha256(f"{APPLICATION_ID}:{authorisation_id}".encode()).hexdigest()
        return {"url": url, "authorization_id": authorisation_id, "psu_id_hash": psu_hash}

    @app.get("/mock-aspsp/authorize")
    def mock_aspsp() -> Any:
        # The bank's page: the person logs in and approves (here at once), and is sent back.
        found = sb.authorisations.get(flask.request.args.get("authorization_id", ""))
        if found is None:
            return flask.Response("Unknown authorisation", 404)
        if sb.deny:
            sb.deny = False
            target = redirect_with(
                found["redirect_url"], state=found["state"], error="access_denied",
                error_description="The user cancelled the authorisation",
            )  # fmt: skip
            return flask.redirect(target)
        code = new_code()
        sb.note_secret(code, "authorization code")
        sb.codes[code] = flask.request.args["authorization_id"]
        sb.sent_back.append(found["redirect_url"])
        return flask.redirect(redirect_with(found["redirect_url"], code=code, state=found["state"]))

    @app.post("/sessions")
    @require("read")
    def authorise_session() -> Any:
        body = flask.request.get_json(silent=True)
        code = body.get("code") if isinstance(body, dict) else None
        authorisation_id = sb.codes.pop(str(code), None)
        if authorisation_id is None:
            return sb._error(400, "WRONG_AUTHORIZATION_CODE", "Wrong authorization code provided")
        authorisation = sb.authorisations.pop(authorisation_id)
        session = new_session(sb, authorisation)
        return {
            "session_id": session["id"],
            "accounts": [sb.details(a) for a in sb.data["accounts"]],
            "aspsp": session["aspsp"],
            "psu_type": session["psu_type"],
            "access": {"valid_until": session["valid_until"]},
        }

    @app.get("/sessions/<session_id>")
    @require("read")
    def get_session(session_id: str) -> Any:
        session = sb.sessions.get(session_id)
        if session is None:
            return sb._error(404, "SESSION_DOES_NOT_EXIST", "No session found matching provided id")
        accounts = sb.data["accounts"]
        status = session["status"]
        ends = datetime.fromisoformat(session["valid_until"])
        if status == "AUTHORIZED" and ends <= datetime.now(UTC):
            status = "EXPIRED"
        return {
            "status": status,
            "accounts": [demo.uid_of(a) for a in accounts],
            "accounts_data": [
                {"uid": demo.uid_of(a), "identification_hash": a["identification_hash"],
                 "identification_hashes": a["identification_hashes"]}
                for a in accounts
            ],
            "aspsp": session["aspsp"], "psu_type": session["psu_type"],
            "psu_id_hash": hashlib.sha256(session_id.encode()).hexdigest(),
            "access": {"valid_until": session["valid_until"]},
            "created": session["created"], "authorized": session["authorized"],
            **({"closed": session["closed"]} if session["closed"] else {}),
        }  # fmt: skip

    @app.delete("/sessions/<session_id>")
    @require("read")
    def delete_session(session_id: str) -> Any:
        session = sb.sessions.get(session_id)
        if session is None:
            return sb._error(404, "SESSION_DOES_NOT_EXIST", "No session found matching provided id")
        session.update(status="CLOSED", closed=datetime.now(UTC).isoformat())
        return {"message": "OK"}


def account_routes(sb: EnableBankingSandbox, app: flask.Flask, require: Require) -> None:
    """An account's details, balances and transactions, by its uid in a session."""

    def find(uid: str) -> tuple[dict[str, Any], dict[str, Any]] | flask.Response:
        found = sb._session_of(uid)
        if isinstance(found, flask.Response):
            return found
        session, account = found
        refused = sb._usable(session)
        return refused if refused is not None else (session, account)

    @app.get("/accounts/<uid>/details")
    @require("read")
    def details(uid: str) -> Any:
        found = find(uid)
        if isinstance(found, flask.Response):
            return found
        return sb.details(found[1])

    @app.get("/accounts/<uid>/balances")
    @require("read")
    def balances(uid: str) -> Any:
        found = find(uid)
        if isinstance(found, flask.Response):
            return found
        return {"balances": sb.data["balances"][found[1]["identification_hash"]]}

    @app.get("/accounts/<uid>/transactions")
    @require("read")
    def transactions(uid: str) -> Any:
        found = find(uid)
        if isinstance(found, flask.Response):
            return found
        args = flask.request.args
        if "continuation_key" in args:
            state = read_continuation_key(args["continuation_key"])
            if state is None or state.get("uid") != uid:
                return sb._error(422, "WRONG_CONTINUATION_KEY", "Wrong continuation key provided")
        else:
            problem = _window_problem(sb, args)
            if problem is not None:
                return problem
            state = {
                "uid": uid,
                "offset": 0,
                "date_from": args.get("date_from"),
                "date_to": args.get("date_to"),
                "status": args.get("transaction_status"),
            }
        date_from = date.fromisoformat(state["date_from"]) if state.get("date_from") else None
        date_to = date.fromisoformat(state["date_to"]) if state.get("date_to") else None
        items = [
            t
            for t in sb.data["transactions"][found[1]["identification_hash"]]
            if in_window(t, date_from, date_to) and state.get("status") in (None, t["status"])
        ]
        offset = int(state["offset"])
        body: dict[str, Any] = {"transactions": items[offset : offset + PAGE]}
        if offset + PAGE < len(items):
            body["continuation_key"] = continuation_key({**state, "offset": offset + PAGE})
        return body


def _window_problem(sb: EnableBankingSandbox, args: Any) -> flask.Response | None:
    try:
        date_from = date.fromisoformat(args["date_from"]) if "date_from" in args else None
        if "date_to" in args:
            date.fromisoformat(args["date_to"])
    except ValueError:
        return sb._error(422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided")
    if "date_to" in args and date_from is None:
        return sb._error(
            422, "DATE_TO_WITHOUT_DATE_FROM", "date_from must be provided if date_to provided"
        )
    if date_from is not None and date_from > sb.today:
        return sb._error(422, "DATE_FROM_IN_FUTURE", "date_from can not be in the future")
    if args.get("strategy") not in (None, "default", "longest"):
        return sb._error(422, "WRONG_REQUEST_PARAMETERS", "Wrong request parameters provided")
    return None
