"""Broken on purpose: each sync gives the same items new ids, so a re-sync duplicates them.

The conformance suite must fail it with test_idempotent[resync].
"""

import dataclasses
import itertools
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("idempotent", "resync")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_duplicates",
    display_name="Broken bank (broken_duplicates)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


_SYNCS = itertools.count()
_RUN = [0]


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    _RUN[0] = next(_SYNCS)
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    records = bank.normalise(stream=stream, item=item, ref=ref)
    if stream.startswith("transactions"):
        for record in records:
            record.provider_id = f"{record.provider_id}#{_RUN[0]}"
    return records
