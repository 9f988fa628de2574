"""Broken on purpose: it cuts a transaction's description to 140 characters.

Open Banking allows 500 characters of TransactionInformation; a plugin written for card
statement lines keeps the first 140 and drops the rest without a word. Counts, validity and
legibility all still pass. The conformance suite must fail it with test_values[transactions].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank

EXPECTED_FAILURE = ("values", "transactions")
EXPECTED_IN_MESSAGE = (
    "TransactionId=394716c1-a21b-4dc5-8c04-581d963698d1",
    "description",
    "cut to 140 of 500 characters",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_cuts_description", display_name="Broken bank (cuts descriptions)"
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
    if stream.startswith("transactions"):
        for record in records:
            record.description = record.description[:140]
    return records
