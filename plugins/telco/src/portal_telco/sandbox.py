"""The Demo Telecom sandbox: TM Forum Open APIs on 127.0.0.1, behind a real OAuth server.

It serves ``DemoTelecom``'s customer at the standard REST paths, version 4:

- TMF629 ``/tmf-api/customerManagement/v4/customer``
- TMF637 ``/tmf-api/productInventory/v4/product``
- TMF678 ``/tmf-api/customerBillManagement/v4/customerBill`` and ``.../appliedCustomerBillingRate``
- TMF635 ``/tmf-api/usageManagement/v4/usage``
- TMF644 ``/tmf-api/privacyManagement/v4/partyPrivacyProfile`` (marketing permissions), and
  ``PATCH .../partyPrivacyProfile/{id}`` to change one (``portal_telco.privacy_patch``)

and, at ``/portal/v1/processing`` and ``/portal/v1/inferences``, the processing notice
and the inferences no TM Forum API carries (``portal_telco.notice``).

Collections follow TMF630: ``offset`` and ``limit`` (capped at ``page_size``), a bare JSON
array, ``X-Total-Count`` and ``X-Result-Count`` headers, and 206 Partial Content when the
page is not the whole collection. Attribute filters: ``billingAccount.id`` on bills,
``bill.id`` on applied rates, ``usageDate.gte`` on usage (which is sorted by date).
Each resource needs its own scope, so a narrower grant really does see less.
"""

from __future__ import annotations

import copy
import http
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_telco import later, privacy_patch
from portal_telco.customer import LONDON
from portal_telco.dataset import DemoTelecom
from portal_telco.expected import expected
from portal_telco.variants import variant as named_variant

CLIENT_ID = "portal-telco"
SCOPES = ("customer", "products", "bills", "usage", "privacy")
TMF = "/tmf-api"
PROCESSING_PATH = "/portal/v1/processing"
INFERENCES_PATH = "/portal/v1/inferences"


class _Refused(Exception):
    """An API request the telco refuses, answered with the TMF630 error object."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class TelcoSandbox(Sandbox):
    """Demo Telecom: a mobile and a broadband contract over TM Forum Open APIs v4.

    ``page_size`` is the most items a page holds, whatever ``limit`` asks; ``seed`` picks
    the demo customer (the same seed always serves the same data). The client
    ``portal-telco`` is registered as a public client (PKCE, no secret) with the loopback
    redirect and the scopes ``customer products bills usage privacy``. ``variant`` names one
    of ``portal_telco.variants.VARIANTS``: the same items served another way their TM Forum
    documents allow.
    """

    def __init__(
        self, *, page_size: int = 100, seed: int = 2026, variant: str = "standard", **kw: Any
    ) -> None:
        kw.setdefault("scopes", SCOPES)
        super().__init__(**kw)
        if page_size < 1:
            raise ValueError("page_size must be at least 1.")
        self.page_size = page_size
        self.telco = DemoTelecom(seed)
        self.variant = named_variant(variant)
        self.register_client(CLIENT_ID, scope=" ".join(SCOPES))
        self.refusals = dict(privacy_patch.REFUSALS)
        """The purposes the telco will not have granted through the API, with its reason."""
        self.ignore_privacy_patches = False
        """When set, a PATCH of a privacy profile answers 200 with the profile as changed,
        and changes nothing: a provider that says it applied what it did not."""

    def add_activity(self, days: int = 3) -> None:
        """Time passes at the telco: ``days`` more days of usage, rated and not yet billed."""
        self.telco.add_activity(days)

    moves: ClassVar[tuple[str, ...]] = ("arrive",)
    """The one step of the customer's life this sandbox plays (``portal.sandbox.moves``):
    a new day of calls, texts and data arrives, rated and not yet billed. It bills no
    usage between syncs, amends none and withdraws none."""

    def move_on(self, step: str) -> None:
        """Play one step of ``moves``: ``arrive`` is one more day of usage."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        self.add_activity(days=1)

    def live_until(self, day: date) -> None:
        """Serve the customer as of ``day``: the events of ``portal_telco.later`` dated up to
        it have happened (a permission withdrawn, a new inference, a new recipient)."""
        later.live_until(self.telco, day)

    def subject(self, client_id: str) -> str:
        """The customer's id: the same person whichever client asks."""
        return str(self.telco.customer["id"])

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The TMF630 error object."""
        return _tmf_error(status, str(status), message)

    truth_categories: ClassVar[dict[str, str | None]] = {
        "customer": "party",
        "privacy_profiles": "consents",
        "applied_rates": None,  # they arrive as the lines of their bills
    }
    """The record category each ground-truth key becomes (the conformance suite reads it)."""

    def set_variant(self, name: str) -> None:
        """Serve the customer, bills, products, permissions and usage as variant ``name`` from
        the next request on."""
        self.variant = named_variant(name)

    @property
    def truth_rejections(self) -> dict[str, int]:
        """The bills, permissions and usage a correct plugin rejects: only ``faulty`` has any."""
        counts = {
            "bills": self.variant.rejected_bills,
            "consents": self.variant.rejected_profiles,
            "usage": self.variant.rejected_usage,
        }
        return {category: n for category, n in counts.items() if n}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """What the telco serves, exactly as served, by resource.

        ``customer``, ``products``, ``bills``, ``applied_rates``, ``usage``,
        ``privacy_profiles`` and ``processing`` are whole collections. ``accounts`` are the
        products that are contracts (no ``productRelationship``: not an add-on), stated
        apart because each becomes an Account too; ``inferences`` are the customer's credit
        profiles (served inside the customer) and the ``/portal/v1/inferences`` collection.
        """
        telco = self.telco
        with telco.lock:
            [customer] = self.variant.serve([telco.customer], "customer")
            products = self.variant.serve(telco.products, "product")
            return copy.deepcopy(
                {
                    "customer": [customer],
                    "accounts": [p for p in products if not p.get("productRelationship")],
                    "products": products,
                    "bills": self.variant.serve(telco.bills, "bill"),
                    "applied_rates": self.variant.serve(telco.applied_rates, "rate"),
                    "usage": self.variant.serve(telco.usage, "usage"),
                    "privacy_profiles": self.variant.serve(telco.privacy_profiles, "privacy"),
                    "processing": telco.processing,
                    "inferences": [*customer.get("creditProfile", []), *telco.inferences],
                }
            )

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served item must say in the record (``portal_telco.expected``)."""
        return expected(self.ground_truth())

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The TMF resources, one scope each, and the portal processing notice."""
        telco = self.telco

        @app.errorhandler(_Refused)
        def refused(error: _Refused) -> flask.Response:
            return _json(_tmf_error(error.status, error.code, error.message), error.status)

        def listing(path: str, scope: str, items: Callable[[], Sequence[dict[str, Any]]]) -> None:
            @require(scope)
            def view() -> flask.Response:
                with telco.lock:
                    return self._page(list(items()))

            app.add_url_rule(path, endpoint=path, view_func=view, methods=["GET"])

        listing(
            f"{TMF}/customerManagement/v4/customer",
            "customer",
            lambda: self.variant.serve([telco.customer], "customer"),
        )
        listing(
            f"{TMF}/productInventory/v4/product",
            "products",
            lambda: self.variant.serve(telco.products, "product"),
        )
        listing(f"{TMF}/customerBillManagement/v4/customerBill", "bills", self._bills)
        listing(f"{TMF}/customerBillManagement/v4/appliedCustomerBillingRate", "bills", self._rates)
        listing(
            f"{TMF}/privacyManagement/v4/partyPrivacyProfile",
            "privacy",
            lambda: self.variant.serve(telco.privacy_profiles, "privacy"),
        )
        listing(PROCESSING_PATH, "privacy", lambda: telco.processing)
        listing(INFERENCES_PATH, "customer", lambda: telco.inferences)

        @app.patch(f"{TMF}/privacyManagement/v4/partyPrivacyProfile/<ident>")
        @require("privacy")
        def patch_profile(ident: str) -> flask.Response:
            return self._patch_profile(ident)

        @app.get(f"{TMF}/usageManagement/v4/usage")
        @require("usage")
        def usage() -> flask.Response:
            raw = flask.request.args.get("usageDate.gte")
            since = _parse_datetime(raw) if raw else None
            offset, limit = self._window()
            items, total = telco.usage_page(since, offset, limit)
            return _listing_response(self.variant.serve(items, "usage"), total)

    def _patch_profile(self, ident: str) -> flask.Response:
        """TMF644 PATCH of one privacy profile: a JSON merge patch, answered with the whole
        profile (200) or a TMF630 error (400, 404, 422)."""
        request = flask.request
        kind = request.mimetype
        if kind not in (privacy_patch.MERGE_PATCH, "application/json"):
            raise _Refused(
                400, "20", f"Send a JSON merge patch ({privacy_patch.MERGE_PATCH}), not {kind!r}."
            )
        body = request.get_json(silent=True, force=True)
        telco = self.telco
        with telco.lock:
            found = [p for p in telco.privacy_profiles if p.get("id") == ident]
            if not found:
                raise _Refused(404, "60", f"No privacy profile {ident!r}.")
            [profile] = found
            try:
                after = privacy_patch.patched(profile, body, self.refusals)
            except privacy_patch.PatchRefused as refused:
                raise _Refused(refused.status, refused.code, refused.message) from None
            if after is not profile and not self.ignore_privacy_patches:
                profile.clear()
                profile.update(after)
            [served] = self.variant.serve([after], "privacy")
            return _json(copy.deepcopy(served), 200)

    def _bills(self) -> list[dict[str, Any]]:
        wanted = flask.request.args.get("billingAccount.id")
        found = [b for b in self.telco.bills if not wanted or b["billingAccount"]["id"] == wanted]
        return self.variant.serve(found, "bill")

    def _rates(self) -> list[dict[str, Any]]:
        wanted = flask.request.args.get("bill.id")
        found = [r for r in self.telco.applied_rates if not wanted or r["bill"]["id"] == wanted]
        return self.variant.serve(found, "rate")

    def _window(self) -> tuple[int, int]:
        args = flask.request.args
        try:
            offset = int(args.get("offset", "0"))
            limit = int(args.get("limit", str(self.page_size)))
        except ValueError:
            raise _Refused(400, "40", "offset and limit must be whole numbers.") from None
        if offset < 0 or limit < 1:
            raise _Refused(400, "40", "offset must be 0 or more and limit 1 or more.")
        return offset, min(limit, self.page_size)

    def _page(self, items: list[dict[str, Any]]) -> flask.Response:
        offset, limit = self._window()
        return _listing_response(copy.deepcopy(items[offset : offset + limit]), len(items))


def _listing_response(items: list[dict[str, Any]], total: int) -> flask.Response:
    # TMF630: 206 when the page is a part of the collection, 200 when it is all of it.
    status = 200 if len(items) == total else 206
    response = _json(items, status)
    response.headers["X-Total-Count"] = str(total)
    response.headers["X-Result-Count"] = str(len(items))
    return response


def _json(body: Any, status: int) -> flask.Response:
    return flask.Response(json.dumps(body, ensure_ascii=False), status, mimetype="application/json")


def _parse_datetime(value: str) -> datetime:
    # A "+" left unescaped in a query string arrives as a space; take it back.
    text = value.strip().replace(" ", "+")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise _Refused(
            400, "41", f"usageDate.gte {value!r} is not an ISO 8601 date-time."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


def _tmf_error(status: int, code: str, message: str) -> dict[str, Any]:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return {
        "code": code,
        "reason": reason,
        "message": message,
        "status": str(status),
        "@type": "Error",
    }
