"""Broken on purpose: its transaction statuses are labelled with the code behind a namespace.

"Booked" is labelled "UK.OBIE.Booked", as a mapping that reads the specification's code list
instead of its words does: a person learns nothing from it. Before labels were compared
with the namespace dropped, this passed as a label. The conformance suite must fail it with
test_legible[transactions.status].
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


EXPECTED_FAILURE = ("legible", "transactions.status")
EXPECTED_IN_MESSAGE = ("UK.OBIE.Booked", "is labelled with itself")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_label_namespaced",
    display_name="Broken bank (broken_label_namespaced)",
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
        if hasattr(record, "booked_at"):
            record.status_label = f"UK.OBIE.{record.status}"
    return records
