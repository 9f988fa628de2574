"""Broken on purpose: a status read as more than the specification says it means.

Its card statements' bills say they are still owed (``due``), but an Open Banking statement
says what was owed and by when, never whether it was then paid (most of these were, by a
later payment): the bill is only ``issued``. Each state is filled and in portal's
vocabulary, so legibility passes it; only a comparison with what the sandbox states each
code means catches it: the conformance suite must fail it with test_values[bills], naming
the statement, the field, the served and the delivered state.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.record import State
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The demo's own history: only it has the card statements (made-on-demand data has none).
    from portal_bank.sandbox import BankSandbox

    return BankSandbox()


EXPECTED_FAILURE = ("values", "bills")
EXPECTED_IN_MESSAGE = ("StatementId=", "state served as issued, delivered as due")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_state_misread",
    display_name="Broken bank (broken_state_misread)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    records = bank.normalise(stream=stream, item=item, ref=ref)
    for record in records:
        if getattr(record, "state", None) == State.issued:
            record.state = State.due  # "pay by the due date" read as "not paid yet"
    return records
