"""Fetching from the Bridge: windows of its longest range, a cursor, the errors said aloud.

``GET /accounts`` answers one document: every account with its balances and the
transactions in the date range asked for. The Bridge allows 90 days per request and
about 24 requests a day (https://beta-bridge.simplefin.org/info/developers, Limits), so:

- the first sync asks for the last ``HISTORY_DAYS`` in 90-day windows, oldest first (five
  requests: the Bridge allows "a little leeway ... when doing initial setup");
- the cursor after each window is where the next one starts; a re-sync starts
  ``OVERLAP`` before it (a transaction the bank reports late keeps its own date) and no
  later than the oldest transaction still pending, so a pending one is seen again until
  it posts; with syncs a day or a week apart that is one request;
- the last window has no ``end-date`` (the Bridge's own now), so nothing dated after
  portal's clock is missed;
- a pending transaction seen before and missing from the range fetched again was
  dropped by the bank: it is withdrawn from the store (``Page.withdrawn``);
- the document's ``errlist`` (2.0) or ``errors`` (1.0) is said to the person as a
  warning, once per sync: it is how the Bridge tells them a bank connection needs
  attention, or that the app asks too often.

Each window's document is one page: memory holds one window, never the whole history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field

from portal import Cursor, Cursors, Page
from portal.errors import ProviderError
from portal.http import ProviderClient
from portal.record import Category
from portal_simplefin.mapping import ACCOUNT_OF, CURRENCY_OF, balance_items
from portal_simplefin.rules import MAX_RANGE_DAYS, error_words

log = logging.getLogger(__name__)

HISTORY_DAYS = 365
"""How far back the first sync asks (the Bridge: "the number of days of history available
varies for each institution"; a year covers what most US banks give)."""
WINDOW = timedelta(days=MAX_RANGE_DAYS)
OVERLAP = timedelta(days=14)
SLACK = timedelta(hours=1)
"""How much shorter than 90 days an open-ended last window is: the Bridge's clock may be
ahead of portal's, and the request takes time."""
MAX_WORDS = 300
"""The longest error text said to the person, in characters (the Bridge's text is
hostile like any provider's: cut, then neutralised by the log's formatter)."""


def now() -> datetime:
    """Portal's clock, as an aware UTC datetime (a seam for tests)."""
    return datetime.now(UTC)


class Since(Cursor):
    """Where the next sync's transactions start, and the transactions still pending.

    ``pending`` maps each pending transaction's record id (account/transaction) to the
    epoch second it is dated by, so a re-sync reaches back to it.
    """

    since: datetime
    pending: dict[str, int] = Field(default_factory=dict)


def windows(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime | None]]:
    """``start`` to ``end`` in windows of the Bridge's longest range; the last is open-ended."""
    while end - start > WINDOW - SLACK:
        yield start, start + WINDOW
        start += WINDOW
    yield start, None


def start_of(saved: Since | None, clock: datetime) -> datetime:
    """Where this sync starts: a year back on the first, else the cursor less the overlap,
    or the oldest pending transaction if that is older."""
    if saved is None:
        return clock - timedelta(days=HISTORY_DAYS)
    start = saved.since - OVERLAP
    if saved.pending:
        oldest = datetime.fromtimestamp(min(saved.pending.values()), UTC)
        start = min(start, oldest)
    return start


def pages(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """The accounts (from the first window's document), then each window's transactions."""
    saved = cursors.get("transactions", Since)
    clock = now()
    start = start_of(saved, clock)
    before = dict(saved.pending) if saved else {}
    unseen = set(before)
    pending: dict[str, int] = {}
    said: set[str] = set()
    for n, (begin, end) in enumerate(windows(start, clock)):
        params: dict[str, Any] = {"version": "2", "pending": "1", "start-date": _epoch(begin)}
        if end is not None:
            params["end-date"] = _epoch(end)
        body = _accounts(client, params)
        tell_errors(body, said)
        accounts = [a for a in body["accounts"] if isinstance(a, Mapping)]
        if n == 0:
            plain = [{k: v for k, v in a.items() if k != "transactions"} for a in accounts]
            yield Page("accounts", plain)
            yield Page("balances", [b for a in plain for b in balance_items(a)])
        items = []
        for account in accounts:
            for txn in account.get("transactions") or []:
                key = f"{account['id']}/{txn.get('id')}"
                unseen.discard(key)
                if txn.get("pending") is True:
                    pending[key] = txn.get("transacted_at") or txn.get("posted") or _epoch(begin)
                else:
                    pending.pop(key, None)
                items.append({**txn, ACCOUNT_OF: account["id"], CURRENCY_OF: account["currency"]})
        last = end is None
        gone = sorted(k for k in unseen if before[k] >= _epoch(start)) if last else []
        still = {k: before[k] for k in unseen if k not in gone}
        yield Page(
            "transactions",
            items,
            cursor=Since(since=end or clock, pending={**still, **pending}),
            withdrawn=[(Category.transactions, k) for k in gone],
        )


def _accounts(client: ProviderClient, params: Mapping[str, Any]) -> dict[str, Any]:
    try:
        body = client.get_json("accounts", params=params)
    except ProviderError as error:
        if " 402 " in f" {error.message} ":
            raise ProviderError(
                "The SimpleFIN Bridge says payment is required: your subscription has lapsed.",
                hint="Renew it at https://beta-bridge.simplefin.org, then run portal sync again.",
            ) from None
        raise
    if not isinstance(body, Mapping) or not isinstance(body.get("accounts"), list):
        raise ProviderError(
            "The SimpleFIN Bridge answered a document without its accounts list.",
            hint="Nothing from it was stored; run portal sync again later.",
        )
    return dict(body)


def tell_errors(body: Mapping[str, Any], said: set[str]) -> None:
    """Say each error of the document to the person (a warning), once per sync.

    The 2.0 ``errlist`` when there is one (its ``errors`` is then the same, deprecated);
    else the 1.0 ``errors``.
    """
    errors = body.get("errlist") if isinstance(body.get("errlist"), list) else body.get("errors")
    for error in errors if isinstance(errors, list) else []:
        words = error_words(error)[:MAX_WORDS]
        if words not in said:
            said.add(words)
            log.warning("The SimpleFIN Bridge says: %s", words)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())
