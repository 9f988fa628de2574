"""Broken on purpose: a status code it has no table entry for is left without a state.

Its transactions still carry the bank's status code and a label, but the booked ones say
nothing in portal's common vocabulary of states: its table of the bank's codes knows
Pending and Rejected and misses Booked. The conformance suite must fail it with
test_legible[transactions.state], naming the item, the code and the field.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("legible", "transactions.state")
EXPECTED_IN_MESSAGE = ("status 'Booked' has no state", "transactions.state")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_state_unmapped",
    display_name="Broken bank (broken_state_unmapped)",
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
        if getattr(record, "status", None) == "Booked" and hasattr(record, "booked_at"):
            record.state = None  # the code its table misses
    return records
