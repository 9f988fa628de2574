"""Broken on purpose: its transactions cursor moves past pending items to the latest one.

A pending payment can still change (a tip added), be dropped, or book under a new id; a
cursor past it never asks for it again, so the store keeps the pending version forever.
The conformance suite must fail it with test_changes[amend], naming the payment.
"""

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from portal import Page, hookimpl
from portal_bank import plugin as bank
from portal_bank.sandbox import BankSandbox

EXPECTED_FAILURE = ("changes", "amend")
EXPECTED_IN_MESSAGE = ("'amend'", "earlier version", "TransactionId=", "pending item")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_cursor_past_pending",
    display_name="Broken bank (broken_cursor_past_pending)",
    sandbox=BankSandbox,
)
PORTAL_CONFORMANCE = {"broken_cursor_past_pending": bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    latest: dict[str, datetime] = {}
    for page in bank.fetch(client=client, cursors=cursors):
        if not page.stream.startswith("transactions") or page.cursor is None:
            yield page
            continue
        for item in page.items:
            booked = datetime.fromisoformat(item["BookingDateTime"])
            latest[page.stream] = max(latest.get(page.stream, booked), booked)
        # Just past the latest item: the bank's ``since`` is inclusive, and when the latest
        # item is itself the pending one, a cursor *at* it would still ask for it again.
        moved = latest[page.stream] + timedelta(seconds=1) if page.stream in latest else None
        cursor = bank.TransactionsCursor(since=moved or page.cursor.since)
        yield Page(page.stream, page.items, cursor)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
