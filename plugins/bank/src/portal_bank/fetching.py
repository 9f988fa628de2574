"""Fetching an account's payment arrangements, product, offers and statements.

Each resource is one page per account, its stream named ``resource:account id``. Statements
are fetched from where the last sync stopped (a statement never changes once issued), and
each statement's PDF is downloaded once, to record its SHA-256 and size: a statement is a
document, and a document is known by its content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import datetime
from operator import methodcaller
from typing import Any

from portal import Cursor, Cursors, Page, ProviderError
from portal.http import ProviderClient
from portal.record import Entity
from portal_bank import arrangement_mapping, statement_mapping
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


def arrangements(client: ProviderClient, account_id: str) -> list[Iterator[Page]]:
    """The account's direct debits to offers: a source of one page for each resource, so
    they can be fetched side by side."""
    return [
        page(
            client,
            f"{stream}:{account_id}",
            f"accounts/{account_id}/{path}",
            methodcaller("get", key, []),
        )
        for stream, path, key in RESOURCES
    ]


def page(
    client: ProviderClient, stream: str, path: str, items: Callable[[Any], list[Any]]
) -> Iterator[Page]:
    """The one page of a resource that is not paginated: ``items`` picks them out of Data."""
    yield Page(stream, items(client.get_json(path)["Data"]))


def statements(client: ProviderClient, cursors: Cursors, account_id: str) -> Iterator[Page]:
    """The statements issued since the last sync, each with its file measured."""
    stream = f"statements:{account_id}"
    cursor = cursors.get(stream, StatementsCursor)
    params = {"fromStatementDateTime": cursor.after.isoformat()} if cursor else None
    items = client.get_json(f"accounts/{account_id}/statements", params=params)["Data"]
    found: list[dict[str, Any]] = items.get("Statement", [])
    if not found:
        return
    for item in found:
        url = f"accounts/{account_id}/statements/{item['StatementId']}/file"
        item[statement_mapping.FILE] = _measure(client, url)
    newest = max(datetime.fromisoformat(s["EndDateTime"]) for s in found)
    yield Page(stream, found, StatementsCursor(after=newest))


def _measure(client: ProviderClient, url: str) -> dict[str, Any]:
    """Download a file and return its media type, SHA-256 and size (not the content)."""
    response = client.get(url)
    if response.status_code >= 400:
        raise ProviderError(
            f"{client.provider.display_name} answered {response.status_code} to {url}.",
            hint="Try again later; if it persists, report it to the plugin's authors.",
        )
    content = response.content
    declared = response.headers.get("Content-Length")
    if declared is not None and int(declared) != len(content):
        raise ProviderError(
            f"{client.provider.display_name} sent {len(content)} of {declared} bytes of {url}.",
            hint="Run portal sync again; nothing from this page was stored.",
        )
    return {
        "content_type": response.headers.get("Content-Type", "application/octet-stream")
        .split(";")[0]
        .strip(),
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }
