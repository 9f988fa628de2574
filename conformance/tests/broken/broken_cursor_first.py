"""Broken on purpose: it commits each page's cursor in an empty page before the page's items.

The conformance suite must fail it with test_crash_resume[page_boundaries].
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


EXPECTED_FAILURE = ("crash_resume", "page_boundaries")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_cursor_first",
    display_name="Broken bank (broken_cursor_first)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    for page in bank.fetch(client=client, cursors=cursors):
        if page.cursor is not None:
            yield Page(page.stream, [], page.cursor)  # the cursor, ahead of its records
        yield page


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
