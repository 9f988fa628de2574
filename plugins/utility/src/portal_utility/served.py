"""Demo Energy's entries as a client reads them, and ESPI's values as they read.

The helpers of the sandbox's expected records (``portal_utility.expected``): an Atom entry as
a Green Button client reads it from the feed (its envelope, links as paths, its resource's
elements as text), and the meaning ESPI gives a time, a day, an amount and a status.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from portal.record.vocab import State
from portal_utility.customer import LONDON
from portal_utility.feeds import Entry


def portable(value: Any) -> Any:
    """A link as a raw item keeps it: its path and query, without the host."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return urlsplit(value)._replace(scheme="", netloc="").geturl()
    return value


def xml_text(value: Any) -> Any:
    """A served value as its XML reads back: text, an empty element as empty text."""
    if isinstance(value, Mapping):
        return {k: xml_text(v) for k, v in value.items()} if value else ""
    if isinstance(value, list):
        return [xml_text(v) for v in value]
    return portable(str(value).strip())


def as_read(entry: Entry | None) -> dict[str, Any]:
    """An Atom entry as a client reads it: its envelope, and its resource's content."""
    assert entry is not None
    links = [{"rel": "self", "href": entry.self_url}]
    if entry.up:
        links.append({"rel": "up", "href": entry.up})
    links += [{"rel": "related", "href": href} for href in entry.related]
    content = xml_text(entry.content)
    return {
        "id": entry.id,
        "title": entry.title,
        "published": entry.published,
        "updated": entry.updated,
        "links": [{k: portable(v) for k, v in link.items()} for link in links],
        "resource": entry.resource,
        "content": content if isinstance(content, dict) else {},
    }


def envelope(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's Atom envelope: all of it but its content."""
    return {k: v for k, v in entry.items() if k != "content"}


def resource_id(entry: dict[str, Any]) -> str:
    """The id of an entry's resource: the last segment of its self link."""
    return str(entry["links"][0]["href"]).rstrip("/").rsplit("/", 1)[-1]


def extra(left: Mapping[str, Any]) -> dict[str, Any]:
    """Elements with no column of their own, stated as ``extra.<key>``."""
    return {f"extra.{k}": v for k, v in left.items()}


def instant(seconds: str) -> datetime:
    """An ESPI time (seconds since the epoch) as the instant, in UTC."""
    return datetime.fromtimestamp(int(seconds), UTC)


def london_day(seconds: str | int) -> date:
    """The London day an ESPI time falls in."""
    return datetime.fromtimestamp(int(seconds), LONDON).date()


def money(value: str) -> Decimal:
    """ESPI money (an integer count of 10^-5 of the currency) as the amount."""
    return Decimal(int(value)).scaleb(-5)


def delivery(content: Mapping[str, Any]) -> dict[str, Any]:
    """A UsagePoint's delivery point (ESPI 1.x capitalises its name)."""
    found = content.get("serviceDeliveryPoint") or content.get("ServiceDeliveryPoint")
    return found if isinstance(found, dict) else {}


STATES: dict[str, dict[str, State]] = {
    # ESPI AuthorizationStatus: 0 Revoked (taken back), 1 Active, 2 Denied (never given).
    "authorization": {"0": State.withdrawn, "1": State.active, "2": State.declined},
    # ESPI UsagePoint status: 0 off, 1 on. A supply switched off can be switched on again.
    "usage_point": {"0": State.suspended, "1": State.active},
    # The customer schema's Status.value is the Data Custodian's own word; Demo Energy's are
    # active, inactive (the account or agreement has ended) and pending (not started yet).
    "agreement": {"active": State.active, "inactive": State.closed, "pending": State.pending},
}
"""What each status Demo Energy serves means in portal's common states, by code list: the
double's own reading, never the plugin's table."""


def state(code_list: str, code: str | None) -> State | None:
    """The state a served status ``code`` means (None if none was served); a code outside
    the list has no meaning, so ``unknown``."""
    if not code:
        return None
    return STATES[code_list].get(code, State.unknown)
