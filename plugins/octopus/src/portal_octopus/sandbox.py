"""The Octopus Energy sandbox: the REST API's account, consumption and charge lists on 127.0.0.1.

It follows the published reference (``portal_octopus.rules``; sources in the plugin's
README), not the plugin: HTTP Basic authentication with the customer's API key as the
user name and an empty password, ``{"detail": ...}`` error bodies, lists paginated with
``count``/``next``/``previous``/``results`` and a ``page`` parameter (``page_size`` results
a page, 100 unless asked), consumption newest first unless ``order_by=period``,
``period_from`` inclusive and ``period_to`` exclusive, datetimes without an offset read as
London time. Charges are served only for the tariffs on the demo account.

Where it is simpler than the service: ``group_by`` is answered 400 (the sandbox serves
half-hours only), and the charge lists, public at Octopus, ask for the key here too (the
plugin always sends it).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_octopus import rules
from portal_octopus.dataset import LONDON, OctopusHome, charges_between
from portal_octopus.expected import expected, truth

API_PATH = "/v1"
_ALPHABET = string.ascii_letters + string.digits


class _Refused(Exception):
    """A request the API refuses, answered with its ``{"detail": ...}`` body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def new_key() -> str:
    """A fresh API key of the form the dashboard shows (``sk_live_`` and 24 characters)."""
    return "sk_live_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


class OctopusSandbox(Sandbox):
    """Octopus Energy's REST API for one customer, behind that customer's API key.

    ``days`` is how many days of half-hours the meters have measured; ``seed`` picks the
    readings and Agile prices (the same seed always serves the same). ``api_key`` is the
    key the customer generated in their dashboard; a fresh one unless given. ``variant``
    names one of ``portal_octopus.dataset.VARIANTS``: the same customer with every optional
    field left out (``sparse``), or with half-hours that break the rules (``faulty``).
    """

    uses_oauth = False
    moves = ("full_page", "arrive")

    def __init__(
        self,
        *,
        days: int = 5,
        seed: int = 2026,
        api_key: str | None = None,
        variant: str = "standard",
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.home = OctopusHome(seed=seed, days=days, variant=variant)
        self.api_key = api_key or new_key()
        self.note_secret(self.api_key, "api_key")

    @property
    def api_base(self) -> str:
        """Where the API lives: ``base_url + "/v1"``."""
        return self.base_url + API_PATH

    # -- the credential --------------------------------------------------------------

    def connect_answers(self) -> dict[str, str]:
        """What the customer types at ``portal connect octopus``: the key and account number."""
        return {"api_key": self.api_key, "account_number": self.home.account()["number"]}

    def authorise(self, request: flask.Request) -> flask.Response | None:
        """Admit a request carrying the key as Basic user name; else Octopus's 401."""
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            return _answer(401, "Authentication credentials were not provided.")
        try:
            user, _, _password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return _answer(401, "Invalid basic header. Credentials not correctly base64 encoded.")
        if not secrets.compare_digest(user.encode(), self.api_key.encode()):
            return _answer(401, "Invalid API key.")
        return None

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The API's error body: ``{"detail": ...}``."""
        return {"detail": message}

    # -- what it serves --------------------------------------------------------------

    @property
    def truth_rejections(self) -> dict[str, int]:
        """The half-hours a correct plugin rejects: only the ``faulty`` variant has any."""
        spoiled = len(self.home.spoiled())
        return {"usage": spoiled} if spoiled else {}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """Every item served, by the record category it becomes (``portal_octopus.expected``)."""
        with self.home.lock:
            return truth(self.home)

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served item must say in the record (``portal_octopus.expected``)."""
        with self.home.lock:
            return expected(self.home)

    def move_on(self, step: str) -> None:
        """``full_page``: half-hours until each half-hourly list ends on a full page of 100;
        ``arrive``: another day of half-hours (readings and Agile prices)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        if step == "full_page":
            served = len(self.home.meters[0].readings)
            self.home.grow(-served % rules.DEFAULT_PAGE)
        else:
            self.home.grow(48)

    # -- routes ----------------------------------------------------------------------

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The account, the consumption lists and the charge lists."""
        home = self.home

        @app.errorhandler(_Refused)
        def refused(error: _Refused) -> flask.Response:
            return _answer(error.status, error.detail)

        @app.get(f"{API_PATH}/accounts/<number>/")
        @require("read")
        def account(number: str) -> Any:
            with home.lock:
                served = home.account()
            if number != served["number"]:
                raise _Refused(404, "Not found.")
            return served

        @app.get(f"{API_PATH}/electricity-meter-points/<point>/meters/<serial>/consumption/")
        @require("read")
        def electricity(point: str, serial: str) -> Any:
            return self._consumption("electricity", point, serial)

        @app.get(f"{API_PATH}/gas-meter-points/<point>/meters/<serial>/consumption/")
        @require("read")
        def gas(point: str, serial: str) -> Any:
            return self._consumption("gas", point, serial)

        @app.get(f"{API_PATH}/products/<product>/<fuel>-tariffs/<code>/<charge>/")
        @require("read")
        def charges(product: str, fuel: str, code: str, charge: str) -> Any:
            parts = rules.tariff_parts(code)
            tariff = home.tariff(fuel, code)
            if (
                tariff is None
                or parts is None
                or parts["product"] != product
                or charge not in rules.CHARGES.get(fuel, ())
            ):
                raise _Refused(404, "Not found.")
            start, end = _period()
            with home.lock:
                found = charges_between(tariff.charges.get(charge, []), start, end)
            return self._page(found, rules.MAX_CHARGES_PAGE)

    def _consumption(self, fuel: str, point: str, serial: str) -> dict[str, Any]:
        args = flask.request.args
        if args.get("group_by"):
            if args["group_by"] not in rules.GROUP_BY:
                raise _Refused(
                    400,
                    f"Select a valid choice. {args['group_by']} is not one of the available"
                    " choices.",
                )
            raise _Refused(400, "This sandbox serves half-hourly consumption only.")
        order = args.get("order_by", "-period")
        if order not in rules.ORDER_BY:
            raise _Refused(
                400, f"Select a valid choice. {order} is not one of the available choices."
            )
        start, end = _period()
        meter = self.home.meter(fuel, point, serial)
        if meter is None:
            raise _Refused(404, "Not found.")
        with self.home.lock:
            found = [
                r
                for r in meter.readings
                if (start is None or _moment(r["interval_start"]) >= start)
                and (end is None or _moment(r["interval_start"]) < end)
            ]
        if order == "period":
            found.reverse()
        return self._page(found, rules.MAX_CONSUMPTION_PAGE)

    def _page(self, items: list[dict[str, Any]], largest: int) -> dict[str, Any]:
        args = flask.request.args
        size = _whole(args.get("page_size"), "page_size", rules.DEFAULT_PAGE)
        size = min(max(size, 1), largest)
        page = _whole(args.get("page"), "page", 1)
        pages = max(1, -(-len(items) // size))
        if page < 1 or page > pages:
            raise _Refused(404, "Invalid page.")

        def link(number: int) -> str | None:
            if not 1 <= number <= pages:
                return None
            query = {**args.to_dict(), "page": str(number)}
            if number == 1:
                query.pop("page")
            text = urlencode(query)
            return f"{flask.request.base_url}?{text}" if text else flask.request.base_url

        return {
            "count": len(items),
            "next": link(page + 1),
            "previous": link(page - 1),
            "results": items[(page - 1) * size : page * size],
        }


def _answer(status: int, detail: str) -> flask.Response:
    response = flask.jsonify({"detail": detail})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="api"'
    return response


def _whole(raw: str | None, name: str, default: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit():
        raise _Refused(400, f"{name} must be a whole number.")
    return int(raw)


def _moment(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    # Without an offset, the reference says London time is assumed.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=LONDON)


def _period() -> tuple[datetime | None, datetime | None]:
    args = flask.request.args
    found: list[datetime | None] = []
    for name in ("period_from", "period_to"):
        raw = args.get(name)
        if raw is None:
            found.append(None)
            continue
        try:
            found.append(_moment(raw))
        except ValueError:
            raise _Refused(400, f"{name}: enter a valid date/time.") from None
    return found[0], found[1]
