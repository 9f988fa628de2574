"""The Demo Energy sandbox: Green Button Connect My Data (ESPI) on 127.0.0.1.

It serves ``DemoUtility``'s customer behind the shared sandbox machinery (a real OAuth
server, faults, chaos, a request log). As in Connect My Data, each authorization creates an
ESPI Authorization, and the token response says where the customer's data lives:
``resourceURI`` (the Batch/Subscription), ``authorizationURI`` and ``customerResourceURI``
(the retail customer's Batch). IntervalBlock feeds page with ``max-results`` and
``start-index`` (and an Atom ``next`` link) and filter on ``published-min/max`` and
``updated-min/max``. Tariffs and the processing notice come from Demo Energy's own JSON API.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import flask

from portal.sandbox import Chaos, Require, Sandbox
from portal_utility.atom_query import Refused, when, whole, within
from portal_utility.customer import (
    METERS,
    NOW,
    RETAIL_CUSTOMER_ID,
    SUBSCRIPTION_ID,
    TARIFFS,
    Meter,
    atom_time,
    processing_json,
    product_json,
)
from portal_utility.dataset import DemoUtility
from portal_utility.espi import ESPI
from portal_utility.expected import expected
from portal_utility.feeds import HOSTILE, Entry, entry_xml, feed_xml
from portal_utility.plugin import SCOPE
from portal_utility.resources import RESOURCE, Resources
from portal_utility.variants import variant as named_variant

API_PATH = "/DataCustodian"
CLIENT_ID = "portal-demo"
MAX_RESULTS = 100
ATOM_TYPE = "application/atom+xml"


class UtilitySandbox(Sandbox):
    """Demo Energy: an electricity and a gas meter over Green Button Connect My Data.

    ``page_size`` is how many IntervalBlocks (days) a feed page holds unless the client asks
    for fewer with ``max-results``; ``seed`` picks the readings (the same seed always serves
    the same data); ``now`` sets Demo Energy's clock (default 18 April 2026: six bills and
    both clock changes; an earlier one serves less history). The client ``portal-demo`` is
    registered as a public client (PKCE, no secret) with the loopback redirect and the Green
    Button scope. ``variant`` names one of ``portal_utility.variants.VARIANTS``: the same data
    served another way ESPI allows (optional elements left out, other units, ESPI 1.x
    names...); ``set_variant`` switches it on a running sandbox.
    """

    def __init__(
        self,
        *,
        page_size: int = 31,
        seed: int = 2026,
        now: datetime = NOW,
        variant: str = "standard",
        **kw: Any,
    ) -> None:
        kw.setdefault("scopes", (SCOPE,))
        super().__init__(**kw)
        if not 1 <= page_size <= MAX_RESULTS:
            raise ValueError(f"page_size must be between 1 and {MAX_RESULTS}.")
        self.page_size = page_size
        self.utility = DemoUtility(seed, now, named_variant(variant))
        self.register_client(CLIENT_ID, scope=SCOPE)
        self._tamper: tuple[str, str, int | None] | None = None
        self._loop_after: int | None = None
        self._paged = 0
        self.ignore_revocations = False
        """A switch for tests: answer an Authorization's DELETE 204 and change nothing (a
        Data Custodian that says it revoked a grant and did not)."""
        self.refuse_revocations: str | None = None
        """A switch for tests: refuse every Authorization's DELETE with this message (400)."""

    @property
    def api_base(self) -> str:
        """Where the Data Custodian's API lives: ``base_url + "/DataCustodian"``."""
        return self.base_url + API_PATH

    @property
    def resources(self) -> Resources:
        """The sandbox's resources, addressed at its current URL."""
        return Resources(self.api_base, self.utility)

    def set_variant(self, name: str) -> None:
        """Serve the data as variant ``name`` from the next request on."""
        with self.utility.lock:
            self.utility.variant = named_variant(name)

    def advance(self, days: int = 1) -> None:
        """Move Demo Energy's clock on ``days`` days: new readings, and a bill on the 18th."""
        self.utility.advance(days)

    def set_chaos(self, chaos: Chaos | None) -> None:
        """Misbehave at random (see ``Chaos``); ``loop_after`` also loops Atom ``next`` links.

        The shared chaos switch rewrites the links of JSON answers; ESPI pages with Atom
        links, so the sandbox points the ``next`` link of the ``loop_after``-th paged feed
        back at that feed itself.
        """
        super().set_chaos(chaos)
        with self.utility.lock:
            self._loop_after = chaos.loop_after if chaos is not None else None
            self._paged = 0

    def tamper_feeds(
        self, kind: str | None, path: str = "/IntervalBlock", times: int | None = None
    ) -> None:
        """Serve spoiled Atom answers on paths containing ``path``, or honest ones with None.

        ``entities`` serves a billion-laughs entity bomb, ``external`` an external entity
        reading ``/etc/passwd``, ``truncated`` the real feed cut off half way. ``times``
        limits how many answers are spoiled (default: all until told otherwise).
        """
        if kind is not None and kind not in (*HOSTILE, "truncated"):
            raise ValueError(f"Unknown tampering {kind!r}: entities, external or truncated.")
        with self.utility.lock:
            self._tamper = None if kind is None else (kind, path, times)

    def download_my_data(self) -> bytes:
        """The Download My Data file the customer would get from Demo Energy's website.

        The Batch/Subscription feed as one XML document: every usage point, reading and
        summary published so far.
        """
        url = f"{self.resources.subscription.replace('/Subscription/', '/Batch/Subscription/')}"
        with self.utility.lock:
            body = feed_xml(
                "Green Button Download My Data",
                url,
                atom_time(self.utility.now),
                self._served(self._batch(SUBSCRIPTION_ID)),
            )
        return body.encode("utf-8")

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        """Create the ESPI Authorization of this grant; say where the data is, as CMD does."""
        root = self.resources.root
        urls = {
            "resourceURI": f"{root}/Batch/Subscription/{SUBSCRIPTION_ID}",
            "authorizationURI": f"{root}/Authorization/{{id}}",
            "customerResourceURI": f"{root}/Batch/RetailCustomer/{RETAIL_CUSTOMER_ID}",
        }
        authorization = self.utility.new_authorization(scope, urls)
        content = authorization["content"]
        return {
            "resourceURI": content["resourceURI"],
            "authorizationURI": content["authorizationURI"],
            "customerResourceURI": content["customerResourceURI"],
            "consent_id": authorization["id"],
        }

    def revoke_tokens(self) -> None:
        """Every token stops working (the demo's one grant is the Authorization revoked)."""
        super().withdraw_consent()

    def withdraw_consent(self) -> None:
        """The customer revokes every authorization; every token stops working."""
        super().withdraw_consent()
        self.utility.revoke_authorizations()

    @property
    def truth_rejections(self) -> dict[str, int]:
        """What a correct plugin rejects: with the ``faulty`` variant, each block's first
        reading and every summary; with ``unusable``, every reading of the unrecorded fuel
        (see ``portal_utility.variants``)."""
        with self.utility.lock:
            variant = self.utility.variant
            if variant.unrecorded:
                readings = self.utility.served_readings()
                return {"usage": sum(m.fuel in variant.unrecorded for m, _ in readings)}
            if not variant.faulty:
                return {}
            days = len(list(self.utility.days()))
            return {"usage": days * len(METERS), "bills": len(self.utility.periods()) * len(METERS)}

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """What Demo Energy serves now, by record category, exactly as served.

        ``usage`` is every published reading: ``usage_point``, ``start``, ``duration``,
        ``value`` (an integer in ``uom`` times ten to ``multiplier``, as the variant serves
        it) and ``quality`` (None when valid). ``bills`` is every issued UsageSummary with its
        ``usage_point``, ``id`` and ``content`` as the variant serves it.
        """
        utility, res = self.utility, self.resources
        with utility.lock:
            variant = utility.variant
            usage = [
                {
                    "usage_point": meter.usage_point,
                    "start": reading.start,
                    "duration": reading.duration,
                    "value": variant.value(meter.fuel, reading.value),
                    "uom": variant.units[meter.fuel][0],
                    "multiplier": variant.units[meter.fuel][1],
                    "quality": variant.code("quality", reading.quality)
                    if reading.quality
                    else variant.default_quality,
                    "cost": variant.cost(meter.fuel, reading.value),
                }
                for meter, reading in utility.served_readings()
            ]
            bills = []
            for meter in METERS:
                for first, last in utility.periods():
                    bill = utility.summary(meter, first, last)
                    bill["content"] = variant.content("UsageSummary", bill["content"])
                    bills.append({"usage_point": meter.usage_point, **bill})
            customer = res.customer_entries()
            return copy.deepcopy(
                {
                    "party": [dict(customer[0].content)],
                    "accounts": [dict(e.content) for e in customer[1:-1]]
                    + [dict(res.usage_point(m).content) for m in METERS],
                    "products": [product_json(t) for t in TARIFFS],
                    "usage": usage,
                    "bills": bills,
                    "consents": [a["content"] for a in utility.authorizations],
                    "processing": processing_json()["purposes"],
                }
            )

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each served resource must say in the record (``portal_utility.expected``)."""
        with self.utility.lock:
            return expected(self.resources, lambda entry: next(iter(self._served([entry])), None))

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The Connect My Data resources, plus Demo Energy's product and privacy API."""
        root = API_PATH + RESOURCE
        sub = f"{root}/Subscription/<sid>"

        @app.errorhandler(Refused)
        def refused(error: Refused) -> tuple[dict[str, Any], int]:
            return self.error_body(error.status, error.message), error.status

        @app.get(f"{root}/Batch/Subscription/<sid>")
        @require(SCOPE)
        def batch(sid: str) -> flask.Response:
            return self._feed("Green Button data", self._batch(sid))

        @app.get(f"{sub}/UsagePoint")
        @require(SCOPE)
        def usage_points(sid: str) -> flask.Response:
            self._subscription(sid)
            return self._feed("Usage points", [self.resources.usage_point(m) for m in METERS])

        @app.get(f"{sub}/UsagePoint/<up>")
        @require(SCOPE)
        def usage_point(sid: str, up: str) -> flask.Response:
            return self._entry(self.resources.usage_point(self._meter(sid, up)))

        @app.get(f"{sub}/UsagePoint/<up>/MeterReading")
        @require(SCOPE)
        def meter_readings(sid: str, up: str) -> flask.Response:
            meter = self._meter(sid, up)
            return self._feed("Meter readings", [self.resources.meter_reading(meter)])

        @app.get(f"{sub}/UsagePoint/<up>/MeterReading/<mr>/IntervalBlock")
        @require(SCOPE)
        def blocks(sid: str, up: str, mr: str) -> flask.Response:
            meter = self._meter(sid, up, mr)
            return self._blocks(meter)

        @app.get(f"{sub}/UsagePoint/<up>/UsageSummary")
        @app.get(f"{sub}/UsagePoint/<up>/ElectricPowerUsageSummary")  # ESPI 1.x's name
        @require(SCOPE)
        def summaries(sid: str, up: str) -> flask.Response:
            meter = self._meter(sid, up)
            entries = [self.resources.summary(meter, *p) for p in self.utility.periods()]
            return self._feed("Usage summaries", entries)

        @app.get(f"{root}/ReadingType/<rt>")
        @require(SCOPE)
        def reading_type(rt: str) -> flask.Response:
            meter = next((m for m in METERS if m.reading_type == rt), None)
            if meter is None:
                raise Refused(404, f"No ReadingType {rt}.")
            return self._entry(self.resources.reading_type(meter))

        @app.get(f"{root}/LocalTimeParameters/<lt>")
        @require(SCOPE)
        def local_time(lt: str) -> flask.Response:
            if lt != "1":
                raise Refused(404, f"No LocalTimeParameters {lt}.")
            return self._entry(self.resources.local_time())

        @app.get(f"{root}/Authorization/<aid>")
        @require(SCOPE)
        def authorization(aid: str) -> flask.Response:
            with self.utility.lock:
                found = next((a for a in self.utility.authorizations if a["id"] == aid), None)
                if found is None:
                    raise Refused(404, f"No Authorization {aid}.")
                return self._entry(self.resources.authorization(copy.deepcopy(found)))

        @app.delete(f"{root}/Authorization/<aid>")
        @require(SCOPE)
        def revoke_authorization(aid: str) -> tuple[str, int]:
            # ESPI: the authorizationURI is where the Third Party updates or deletes the
            # grant; its status becomes 0 (Revoked) and its tokens stop working.
            with self.utility.lock:
                found = next((a for a in self.utility.authorizations if a["id"] == aid), None)
                if found is None:
                    raise Refused(404, f"No Authorization {aid}.")
                if self.refuse_revocations is not None:
                    raise Refused(400, self.refuse_revocations)
                if self.ignore_revocations or found["content"]["status"] == "0":
                    return "", 204
                found["content"]["status"] = "0"
                found["updated"] = atom_time(self.utility.now)
            self.revoke_tokens()
            return "", 204

        @app.get(f"{root}/Batch/RetailCustomer/<rc>")
        @require(SCOPE)
        def retail_customer(rc: str) -> flask.Response:
            if rc != RETAIL_CUSTOMER_ID:
                raise Refused(404, f"No RetailCustomer {rc}.")
            return self._feed("Retail customer", self.resources.customer_entries())

        @app.get(f"{API_PATH}/products/<code>")
        @require(SCOPE)
        def product(code: str) -> dict[str, Any]:
            tariff = next((t for t in TARIFFS if t.code == code), None)
            if tariff is None:
                raise Refused(404, f"No product {code}.")
            return product_json(tariff)

        @app.get(f"{API_PATH}/privacy/processing")
        @require(SCOPE)
        def processing() -> dict[str, Any]:
            return processing_json()

    # -- helpers ----------------------------------------------------------------------

    def _subscription(self, sid: str) -> None:
        if sid != SUBSCRIPTION_ID:
            raise Refused(403, f"Subscription {sid} is not this authorization's.")

    def _meter(self, sid: str, up: str, mr: str | None = None) -> Meter:
        self._subscription(sid)
        meter = next((m for m in METERS if m.usage_point == up), None)
        if meter is None or (mr is not None and mr != meter.meter_reading):
            raise Refused(404, f"No UsagePoint {up}" + (f" MeterReading {mr}." if mr else "."))
        return meter

    def _batch(self, sid: str) -> list[Entry]:
        self._subscription(sid)
        res, utility = self.resources, self.utility
        entries = [res.local_time()]
        for meter in METERS:
            entries += [res.usage_point(meter), res.meter_reading(meter), res.reading_type(meter)]
            entries += [res.block(meter, day) for day in utility.days()]
            entries += [res.summary(meter, *p) for p in utility.periods()]
        return entries

    def _served(self, entries: list[Entry]) -> list[Entry]:
        # Every usage entry goes out as the variant serves it; customer resources as they are.
        variant = self.utility.variant
        served = [variant.serve(e) if e.namespace == ESPI else e for e in entries]
        return variant.order([e for e in served if e is not None])

    def _blocks(self, meter: Meter) -> flask.Response:
        args = flask.request.args
        bounds = {
            name: when(args[name])
            for name in ("published-min", "published-max", "updated-min", "updated-max")
            if name in args
        }
        size = whole(args.get("max-results", str(self.page_size)), "max-results")
        start = whole(args.get("start-index", "1"), "start-index")
        if not 1 <= size <= MAX_RESULTS:
            raise Refused(400, f"max-results must be between 1 and {MAX_RESULTS}.")
        with self.utility.lock:
            days = self.utility.days()
            matching = [d for d in days if within(self.utility.block_dates(d), bounds)]
        page = matching[start - 1 : start - 1 + size]
        url = self.resources.blocks_url(meter)
        query = {k: v for k, v in args.items() if k != "start-index"}
        next_url = None
        if start - 1 + size < len(matching):
            next_url = f"{url}?{urlencode({**query, 'start-index': start + size})}"
            with self.utility.lock:
                self._paged += 1
                if self._paged == self._loop_after:
                    next_url = flask.request.url  # a cursor loop: the next page is this one
        entries = [self.resources.block(meter, day) for day in page]
        return self._feed("Interval blocks", entries, next_url=next_url)

    def _feed(
        self, title: str, entries: list[Entry], next_url: str | None = None
    ) -> flask.Response:
        served = self._served(entries)
        body = feed_xml(
            title, flask.request.url, atom_time(self.utility.now), served, next_url=next_url
        )
        return flask.Response(self._spoil(body), 200, mimetype=ATOM_TYPE)

    def _entry(self, entry: Entry) -> flask.Response:
        [served] = self._served([entry]) or [entry]
        body = entry_xml(served, standalone=True)
        return flask.Response(self._spoil(body), 200, mimetype=ATOM_TYPE)

    def _spoil(self, body: str) -> str:
        with self.utility.lock:
            if self._tamper is None or self._tamper[1] not in flask.request.path:
                return body
            kind, path, times = self._tamper
            if times is not None:
                self._tamper = (kind, path, times - 1) if times > 1 else None
        return body[: len(body) // 2] if kind == "truncated" else HOSTILE[kind]
