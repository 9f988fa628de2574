"""Fetching an account's payment arrangements, product, offers and statements.

Each resource is one page per account, its stream named ``resource:account id``. Statements
are fetched from where the last sync stopped (a statement never changes once issued), and
each statement's PDF is downloaded once and kept in the portal home (``portal.files``),
named by its SHA-256: a statement is a document, and a document carries its file.

Every answer is read as the specification allows it: ``"Data": {}`` is an empty list, an
item without its id is numbered among its twins (``portal_bank.identity``), and a statement
without a ``StatementId`` (so without a file to download) keeps its own JSON as its file.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from portal import Cursor, Cursors, Page, ProviderError
from portal.http import ProviderClient
from portal.record import Category, Entity
from portal_bank import arrangement_mapping, identity, statement_mapping
from portal_bank.mapping import Ref

# Stream name, path under the account, and where the items are in Data.
RESOURCES = (
    ("direct_debits", "direct-debits", "DirectDebit"),
    ("standing_orders", "standing-orders", "StandingOrder"),
    ("scheduled_payments", "scheduled-payments", "ScheduledPayment"),
    ("beneficiaries", "beneficiaries", "Beneficiary"),
    ("product", "product", "Product"),
    ("offers", "offers", "Offer"),
)

NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "direct_debits": arrangement_mapping.direct_debit,
    "standing_orders": arrangement_mapping.standing_order,
    "scheduled_payments": arrangement_mapping.scheduled_payment,
    "beneficiaries": arrangement_mapping.beneficiary,
    "product": arrangement_mapping.product,
    "offers": arrangement_mapping.offer,
    "processing": arrangement_mapping.processing,
    "statements": statement_mapping.statement,
}


class StatementsCursor(Cursor):
    """The end of the newest statement fetched: the next sync asks only for later ones."""

    after: datetime


def data(client: ProviderClient, body: Any, path: str) -> dict[str, Any]:
    """The ``Data`` object of an answer, which the specification requires of every one."""
    found = body.get("Data") if isinstance(body, dict) else None
    if not isinstance(found, dict):
        raise ProviderError(
            f"{client.provider.display_name} answered {path} without the Data object that"
            " Open Banking requires.",
            hint="Report it to the bank; portal stored nothing from this answer.",
        )
    return found


def listed(found: dict[str, Any], key: str) -> list[Any]:
    """The array ``key`` of a ``Data`` object; absent (``"Data": {}``) means none."""
    value = found.get(key, [])
    # A lone object where an array belongs is still that one item, not a reason to stop.
    return value if isinstance(value, list) else [value]


class WholeCursor(Cursor):
    """The records made from a resource served whole at the last sync, as (category,
    provider id): any the next answer no longer holds were withdrawn by the bank."""

    records: tuple[tuple[Category, str], ...] = ()


Records = Callable[[str, dict[str, Any]], list[tuple[Category, str]]]
"""What normalise makes of one item of a stream: (category, provider id) of each record."""


def arrangements(
    client: ProviderClient, cursors: Cursors, account_id: str, records: Records
) -> list[Iterator[Page]]:
    """The account's direct debits to offers: a source of one page for each resource, so
    they can be fetched side by side. Each is served whole, so what it no longer lists (an
    offer that lapsed, a standing order that ended) is withdrawn."""

    def items(stream: str, key: str) -> Callable[[dict[str, Any]], list[Any]]:
        return lambda found: identity.number(stream, listed(found, key), Counter(), account_id)

    return [
        whole(
            page(
                client,
                f"{stream}:{account_id}",
                f"accounts/{account_id}/{path}",
                items(stream, key),
            ),
            cursors,
            records,
        )
        for stream, path, key in RESOURCES
    ]


def whole(pages: Iterator[Page], cursors: Cursors, records: Records) -> Iterator[Page]:
    """The pages of a resource served whole, the last one withdrawing what is no longer
    listed and remembering what is (``WholeCursor``)."""
    now: list[tuple[Category, str]] = []
    held: Page | None = None
    for current in pages:
        if held is not None:
            yield held
        held = current
        now += (
            r
            for item in current.items
            if isinstance(item, dict)
            for r in records(current.stream, item)
        )
    if held is None:
        return
    before = cursors.get(held.stream, WholeCursor)
    gone = sorted(set(before.records if before else ()) - set(now))
    yield dataclasses.replace(held, cursor=WholeCursor(records=tuple(now)), withdrawn=gone)


def page(
    client: ProviderClient, stream: str, path: str, items: Callable[[dict[str, Any]], list[Any]]
) -> Iterator[Page]:
    """The one page of a resource that is not paginated: ``items`` picks them out of Data."""
    yield Page(stream, items(data(client, client.get_json(path), path)))


def statements(client: ProviderClient, cursors: Cursors, account_id: str) -> Iterator[Page]:
    """The statements issued since the last sync, each with its file measured."""
    stream = f"statements:{account_id}"
    cursor = cursors.get(stream, StatementsCursor)
    params = {"fromStatementDateTime": cursor.after.isoformat()} if cursor else None
    path = f"accounts/{account_id}/statements"
    found: list[Any] = listed(data(client, client.get_json(path, params=params), path), "Statement")
    if not found:
        return
    identity.number("statements", found, Counter(), account_id)
    ends = []
    for item in found:
        if not isinstance(item, dict):
            continue  # normalise rejects it, saying why
        statement_id = item.get("StatementId")
        item[statement_mapping.FILE] = (
            _measure(client, f"{path}/{statement_id}/file")
            if isinstance(statement_id, str) and statement_id
            else _measure_resource(client, item)
        )
        ends.append(instant(item.get("EndDateTime")))
    known = [end for end in ends if end is not None]
    # A statement whose end is missing or unreadable is rejected by normalise; it must not
    # move the cursor past statements not yet seen, nor stop the others being stored.
    yield Page(stream, found, StatementsCursor(after=max(known)) if known else cursor)


def instant(value: Any) -> datetime | None:
    """An ISODateTime with its zone as a datetime, or None for anything else."""
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def _measure_resource(client: ProviderClient, item: dict[str, Any]) -> dict[str, Any]:
    """A statement with no file of its own: its resource, as canonical JSON, is the document."""
    content = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return client.keep_content(content, "application/json").as_dict()


def _measure(client: ProviderClient, url: str) -> dict[str, Any]:
    """Download a statement's file into the portal home; return its media type, SHA-256, size."""
    return client.keep_file(url).as_dict()
