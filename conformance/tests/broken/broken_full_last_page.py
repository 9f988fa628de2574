"""Broken on purpose: it drops the last page of a transactions stream when it is exactly full.

It reads pages by number until one is short, and a full page with no next one falls
through the loop unread: history that ends on a page boundary loses its last page. The
conformance suite must fail it with test_changes[full_page], naming the items lost.
"""

import dataclasses
from typing import Any

from portal import Page, hookimpl
from portal_bank import plugin as bank
from portal_bank.sandbox import BankSandbox

PAGE_SIZE = 100
EXPECTED_FAILURE = ("changes", "full_page")
EXPECTED_IN_MESSAGE = ("'full_page'", "never stored", "TransactionId=", "exactly full")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_full_last_page",
    display_name="Broken bank (broken_full_last_page)",
    sandbox=lambda: BankSandbox(page_size=PAGE_SIZE),
)
PORTAL_CONFORMANCE = {"broken_full_last_page": bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    last: dict[str, Page] = {}
    for page in bank.fetch(client=client, cursors=cursors):
        if not page.stream.startswith("transactions"):
            yield page
            continue
        if page.stream in last:
            yield last[page.stream]
        last[page.stream] = page
    for page in last.values():
        if len(page.items) != PAGE_SIZE:  # a full page "must have a next one"
            yield page


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
