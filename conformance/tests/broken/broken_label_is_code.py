"""Broken on purpose: its balance types are labelled with their own CamelCase codes.

"InterimAvailable" is labelled "InterimAvailable": no words a person did not have already.
The conformance suite must fail it with test_legible[balances.balance_type].
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


EXPECTED_FAILURE = ("legible", "balances.balance_type")
EXPECTED_IN_MESSAGE = ("InterimAvailable",)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_label_is_code",
    display_name="Broken bank (broken_label_is_code)",
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
        if getattr(record, "balance_type", None):
            # The code copied into its label, as a mapping without a lookup table does.
            record.balance_type_label = record.balance_type
    return records
