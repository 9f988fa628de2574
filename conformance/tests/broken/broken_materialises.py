"""Broken on purpose: it reads the whole history into a list before yielding any of it.

The conformance suite must fail it with test_budget[memory_flat].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second. Pages of 50 give
    # the current account 16 pages, well beyond what the engine itself fetches ahead.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000, page_size=50)


EXPECTED_FAILURE = ("budget", "memory_flat")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_materialises",
    display_name="Broken bank (broken_materialises)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    pages = list(bank.fetch(client=client, cursors=cursors))
    yield from pages


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
