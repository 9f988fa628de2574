"""Broken on purpose: it drops Account[].SecondaryIdentification silently.

The account's identifiers are mapped, but the roll number beside the sort code and
account number (no column, not in extra) is lost. The conformance suite must fail it with
test_raw_fields[accounts], naming the nested path.
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


EXPECTED_FAILURE = ("raw_fields", "accounts")
EXPECTED_IN_MESSAGE = (
    "1 raw field of accounts is dropped silently",
    "Account[].SecondaryIdentification (stream 'accounts'",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_drops_nested_field",
    display_name="Broken bank (broken_drops_nested_field)",
    sandbox=_sandbox,
)
# The bank's own declaration (the fields it drops on purpose), so the defect is the only one.
PORTAL_CONFORMANCE = {PROVIDER.name: bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    records = bank.normalise(stream=stream, item=item, ref=ref)
    if stream == "accounts":
        for record in records:
            record.extra.pop("Account", None)
    return records
