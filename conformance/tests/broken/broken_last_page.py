"""Broken on purpose: it drops the last page of every paginated stream.

The conformance suite must fail it with test_exact_count[transactions].
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


EXPECTED_FAILURE = ("exact_count", "transactions")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_last_page",
    display_name="Broken bank (broken_last_page)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    held: Page | None = None
    for page in bank.fetch(client=client, cursors=cursors):
        if (
            held is not None
            and held.stream != page.stream
            and held.stream.startswith("transactions")
        ):
            held = None  # the last page of a stream: dropped
        if held is not None:
            yield held
        held = page
    if held is not None and not held.stream.startswith("transactions"):
        yield held


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
