"""Broken on purpose: it filters out items it cannot handle (those without merchant details)
instead of rejecting them.

The conformance suite must fail it with test_no_silent_drop[transactions].
"""

import dataclasses
from typing import Any

from portal import Page, hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("no_silent_drop", "transactions")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_swallows",
    display_name="Broken bank (broken_swallows)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    for page in bank.fetch(client=client, cursors=cursors):
        kept = [i for i in page.items if "MerchantDetails" in i or not page.stream.startswith("tr")]
        yield Page(page.stream, kept, page.cursor)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
