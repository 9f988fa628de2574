"""Broken on purpose: its ids come from hash(), which changes from one process to the next.

The conformance suite must fail it with test_deterministic[Pacific/Chatham].
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


EXPECTED_FAILURE = ("deterministic", "Pacific/Chatham")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_unstable_ids",
    display_name="Broken bank (broken_unstable_ids)",
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
    if stream.startswith("transactions"):
        for record in records:
            record.provider_id = f"tx-{hash(record.provider_id) & 0xFFFFFFFFFFFF:x}"
    return records
