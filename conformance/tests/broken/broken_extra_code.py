"""Broken on purpose: it keeps a provider code in ``extra`` without its words.

The balance type is copied to ``extra`` as a bare code, with no ``Type_label``. The
conformance suite must fail it with test_legible[balances.extra].
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


EXPECTED_FAILURE = ("legible", "balances.extra")
EXPECTED_IN_MESSAGE = ("extra.Type",)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_extra_code",
    display_name="Broken bank (broken_extra_code)",
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
            # A second code kept in extra, with no words beside it.
            record.extra = {**record.extra, "Type": record.balance_type}
    return records
