"""Broken on purpose: it never tells portal what the bank stopped serving.

A pending payment whose authorisation lapsed stays in the store as if it were still on
its way. The conformance suite must fail it with test_changes[withdraw], naming it.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank
from portal_bank.sandbox import BankSandbox

EXPECTED_FAILURE = ("changes", "withdraw")
EXPECTED_IN_MESSAGE = ("'withdraw'", "still presented as current", "TransactionId=", "withdrawn=")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_keeps_withdrawn",
    display_name="Broken bank (broken_keeps_withdrawn)",
    sandbox=BankSandbox,
)
PORTAL_CONFORMANCE = {"broken_keeps_withdrawn": bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    for page in bank.fetch(client=client, cursors=cursors):
        yield dataclasses.replace(page, withdrawn=())


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
