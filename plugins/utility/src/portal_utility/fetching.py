"""Fetching Green Button Connect My Data: follow the token's URIs, feed by feed, page by page.

The token response names where the customer's data lives (``resourceURI``,
``authorizationURI``, ``customerResourceURI``), as Connect My Data does. Usage comes from the
Subscription's resources: UsagePoints, each one's MeterReadings and their ReadingType, then
the IntervalBlocks page by page (``updated-min`` from the cursor, Atom ``next`` links), one
``Page`` per feed page of blocks, so memory holds one feed page however long the history.

A feed page that is not well-formed XML (cut short by a proxy) is fetched again, within the
client's retry budget; a feed that tries an XML attack is refused at once.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from portal import Cursor, Cursors, Page, ProviderError
from portal.http import ProviderClient
from portal_utility import espi, items

BLOCKS_PER_PAGE = 31
"""IntervalBlocks (days) asked for per feed page."""


class ReadingsCursor(Cursor):
    """Where the next sync of one MeterReading's blocks starts: the last block's ``updated``.

    Inclusive: the last block is fetched again (harmless, upserts are idempotent), so a
    block updated in the same second as it is never skipped.
    """

    updated: datetime


def fetch_all(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Every page of one customer's Green Button data, each yielded as soon as it is read.

    Links are followed as served; the raw items keep them as paths (``items.portable``).
    """
    for page in _pages(client, cursors):
        yield Page(page.stream, items.portable(list(page.items)), page.cursor)


def _pages(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    token: Mapping[str, Any] = client.token or {}
    resource = _uri(client, token, "resourceURI")
    agreements: dict[str, dict[str, Any]] = {}
    yield from _customer(client, _uri(client, token, "customerResourceURI"), agreements)
    yield _authorizations(client, cursors, _uri(client, token, "authorizationURI"))
    notice = client.get_json("privacy/processing")
    controller = notice.get("controller")
    yield Page("processing", [{"controller": controller, **p} for p in notice["purposes"]])
    subscription = resource.replace("/Batch/Subscription/", "/Subscription/")
    points = _entries(client, f"{subscription}/UsagePoint")
    local_times = {href: _one(client, href) for p in points if (href := _local_link(p))}
    contexts = []
    found = []
    for point in points:
        local_time = local_times.get(_local_link(point))
        context = items.usage_point_context(point, local_time)
        contexts.append((point, context))
        item = {"UsagePoint": point, "LocalTimeParameters": local_time}
        agreement = agreements.get(context["customerAgreement"])
        if agreement is not None:
            item["CustomerAgreement"] = agreement
        found.append(item)
    yield Page("usage_points", found)
    for point, context in contexts:
        reading_types: list[dict[str, Any]] = []
        yield from _readings(client, cursors, point, context, reading_types)
        currency = items.summary_currency(reading_types)
        for summaries in _summary_links(point):
            entries = _entries(client, summaries)
            found = [items.summary_item(context, e, currency) for e in entries]
            yield Page("usage_summaries", found)


SUMMARY_FEEDS = ("/UsageSummary", "/ElectricPowerUsageSummary")
"""ESPI 3.x and 4.0 link a UsagePoint's summaries as UsageSummary; ESPI 1.x (and 4.0, as a
deprecated name) as ElectricPowerUsageSummary."""


def _summary_links(point: dict[str, Any]) -> list[str]:
    found = [espi.link(point, "related", name) for name in SUMMARY_FEEDS]
    return list(dict.fromkeys(href for href in found if href))


def _local_link(point: dict[str, Any]) -> str:
    return espi.link(point, "related", "/LocalTimeParameters/") or ""


def _customer(
    client: ProviderClient, url: str, agreements: dict[str, dict[str, Any]]
) -> Iterator[Page]:
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for entry in _entries(client, url):
        by_kind.setdefault(entry["resource"], []).append(entry)
    locations = by_kind.get("ServiceLocation", [])
    yield Page(
        "customer",
        [{"Customer": c, "ServiceLocation": locations} for c in by_kind.get("Customer", [])],
    )
    yield Page("customer_accounts", by_kind.get("CustomerAccount", []))
    yield Page("agreements", by_kind.get("CustomerAgreement", []))
    for agreement in by_kind.get("CustomerAgreement", []):
        number = items.agreement_number(agreement)
        agreements[number] = agreement
        for href in agreement["content"].get("PricingStructures", []):
            yield Page("tariffs", [{"agreement": number, "product": client.get_json(href)}])


def _readings(
    client: ProviderClient,
    cursors: Cursors,
    point: dict[str, Any],
    context: dict[str, str],
    reading_types: list[dict[str, Any]],
) -> Iterator[Page]:
    # ``reading_types`` gathers the point's ReadingTypes, for summaries that name no currency.
    readings = espi.link(point, "related", "/MeterReading")
    if readings is None:
        return
    for meter_reading in _entries(client, readings):
        meter = items.meter_reading_id(meter_reading)
        stream = items.readings_stream(context, meter)
        type_url = espi.link(meter_reading, "related", "/ReadingType/")
        blocks_url = espi.link(meter_reading, "related", "/IntervalBlock")
        if type_url is None or blocks_url is None:
            raise ProviderError(
                f"{client.provider.display_name}'s MeterReading {meter_reading['id']} links no"
                " ReadingType or no IntervalBlock feed, so its readings cannot be read.",
                hint="Report it to the provider.",
            )
        reading_type = _one(client, type_url)["content"]
        reading_types.append(reading_type)
        cursor = cursors.get(stream, ReadingsCursor)
        params: dict[str, Any] = {"max-results": BLOCKS_PER_PAGE}
        if cursor is not None:
            params["updated-min"] = cursor.updated.isoformat()
        for blocks in _paged(client, blocks_url, params, stream):
            if not blocks:
                continue
            found = [
                reading
                for block in blocks
                for reading in items.reading_items(context, meter, reading_type, block)
            ]
            updated = max(datetime.fromisoformat(block["updated"]) for block in blocks)
            yield Page(stream, found, ReadingsCursor(updated=updated))


def _paged(
    client: ProviderClient, url: str, params: dict[str, Any], stream: str
) -> Iterator[list[dict[str, Any]]]:
    # Each feed page's entries, following Atom next links; a link served before is a loop.
    seen: set[str] = set()
    current: str | None = str(httpx.URL(url, params=params))
    while current is not None:
        key = urlsplit(current)._replace(fragment="").geturl()
        if key in seen:
            raise ProviderError(
                f"{client.provider.display_name}'s paging of {stream!r} loops back to a page"
                " it already served.",
                hint="Report it to the provider; portal stopped instead of looping forever.",
            )
        seen.add(key)
        feed: list[espi.FeedLinks] = []
        yield _entries(client, current, None, feed)
        current = feed[0].get("next") if feed else None


def _one(client: ProviderClient, url: str) -> dict[str, Any]:
    found = list(_entries(client, url))
    if len(found) != 1:
        raise ProviderError(
            f"{client.provider.display_name} answered {len(found)} entries where one"
            f" resource was expected, at {_path(url)}."
        )
    return found[0]


def _entries(
    client: ProviderClient,
    url: str,
    params: Mapping[str, Any] | None = None,
    feed: list[espi.FeedLinks] | None = None,
) -> list[dict[str, Any]]:
    """The entries of one feed page (or single entry); the client fetches it again if cut short."""
    where = f"{client.provider.display_name}'s feed at {_path(url)}"
    links: list[espi.FeedLinks] = []

    def read(body: bytes) -> list[dict[str, Any]]:
        links.clear()  # a body fetched again starts afresh
        return list(espi.entries(io.BytesIO(body), where, links))

    try:
        entries = client.get_parsed(url, read, params=params, cut_short=(espi.MalformedFeed,))
    except espi.UnsafeFeed as error:
        raise ProviderError(
            error.message, hint="Nothing from it was stored. Report it to the provider."
        ) from None
    if feed is not None:
        feed.extend(links)
    return entries


class AuthorizationsCursor(Cursor):
    """The Authorizations of earlier connections (their URIs): each is read again at every
    sync, so one the person revoked (``portal apply --withdraw``) is released as it now is
    after portal connects again under a new one."""

    uris: tuple[str, ...] = ()


def _authorizations(client: ProviderClient, cursors: Cursors, current: str) -> Page:
    """This connection's Authorization, and the earlier ones the Data Custodian still knows."""
    earlier = cursors.get("authorizations", AuthorizationsCursor)
    here = urlsplit(current).netloc
    # An earlier one at another address (the Data Custodian moved, or a demo's sandbox
    # started again on another port) cannot be asked: the client reaches declared hosts only.
    before = [u for u in (earlier.uris if earlier else ()) if u != current]
    found, kept = [], []
    for uri in [*(u for u in before if urlsplit(u).netloc == here), current]:
        if uri != current and client.get(uri).status_code != 200:
            continue  # a Data Custodian that no longer shows it: nothing to say of it
        [authorization] = _entries(client, uri)
        found.append(authorization)
        kept.append(uri)
    return Page("authorizations", found, AuthorizationsCursor(uris=tuple(kept)))


def _uri(client: ProviderClient, token: Mapping[str, Any], name: str) -> str:
    value = token.get(name)
    if not isinstance(value, str) or not value:
        raise ProviderError(
            f"{client.provider.display_name}'s token response carried no {name}, so portal"
            " does not know where the data is.",
            hint=f"Run portal connect {client.provider.name} again; if it persists, report it.",
        )
    return value


def _path(url: str) -> str:
    # Errors name the path only: query strings can carry tokens.
    return urlsplit(url).path
