"""Broken on purpose: its merchant category codes have no label.

The conformance suite must fail it with test_legible[transactions.merchant_category_code].
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


EXPECTED_FAILURE = ("legible", "transactions.merchant_category_code")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_no_labels",
    display_name="Broken bank (broken_no_labels)",
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
        if hasattr(record, "merchant_category_label"):
            record.merchant_category_label = None
    return records
