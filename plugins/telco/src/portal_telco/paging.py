"""TM Forum (TMF630) offset pagination: ``offset`` and ``limit``, a JSON array per page.

The loop ends when ``offset`` reaches ``X-Total-Count``, or, from a server that sends no
count, at the first empty page. It never stops at a page merely shorter than ``limit``:
servers cap ``limit`` as they please, and taking a short page for the last one silently
truncates (dlt #2505). A server that ignores ``offset`` and sends the same page again is
stopped with an error instead of being followed forever.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from portal import Cursor, Page, ProviderError
from portal.http import ProviderClient, decode_json

LIMIT = 100


def get_listing(
    client: ProviderClient, path: str, params: Mapping[str, Any]
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of a TMF collection and the ``X-Total-Count`` it states (None if it states none)."""
    response = client.get(path, params=params)
    body: Any = None
    total: int | None = None
    if response.is_success:
        with contextlib.suppress(ValueError):  # not JSON: the engine's path below says so
            body = decode_json(response.content)
            total = int(response.headers["X-Total-Count"])
    if body is None:
        # Let the engine word the failure (a refusal, a server error), or fetch a body that
        # was cut short again within its retry budget.
        body = client.get_json(path, params=params)
    if not isinstance(body, list):
        raise ProviderError(
            f"{client.provider.display_name} answered {path} with a JSON"
            f" {type(body).__name__}, not the list a TM Forum collection is.",
            hint="Report it to the provider: TMF630 collections are JSON arrays.",
        )
    return body, total


def follow_offsets(
    client: ProviderClient,
    path: str,
    *,
    stream: str,
    params: Mapping[str, Any] | None = None,
    cursor: Callable[[list[dict[str, Any]]], Cursor | None] = lambda items: None,
    limit: int = LIMIT,
) -> Iterator[Page]:
    """Pages of a TMF collection, each with the cursor ``cursor`` says its items reached."""
    offset = 0
    previous: list[Any] | None = None
    while True:
        items, total = get_listing(
            client, path, {**(params or {}), "offset": offset, "limit": limit}
        )
        if not items:
            return
        # The page's ids say whether it is the page before again; TM Forum leaves ids
        # optional, so a page without them is compared whole.
        ids = [item.get("id") for item in items]
        same = items if None in ids else ids
        if same == previous:
            raise ProviderError(
                f"{client.provider.display_name}'s pagination of {stream!r} loops: offset"
                f" {offset} served the page before it again.",
                hint="Report it to the provider; portal stopped instead of looping forever.",
            )
        previous = same
        yield Page(stream, items, cursor(items))
        offset += len(items)
        if total is not None and offset >= total:
            return


def collect(client: ProviderClient, path: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every item of a small TMF collection (a bill's applied rates), all pages together."""
    return [
        item
        for page in follow_offsets(client, path, stream=path, params=params)
        for item in page.items
    ]
