"""Broken on purpose: it rejects every transaction without a TransactionId.

Open Banking v3.1 makes TransactionId optional, so the usual sandbox (which always sends
one) cannot show the defect; the conformance suite must fail it with
test_variant[sparse], the sandbox's specification-valid variant without those ids.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.errors import SkippableError
from portal.variants import SandboxVariants
from portal_bank import plugin as bank


def _sandbox(variant: str = "standard") -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000, variant=variant)


EXPECTED_FAILURE = ("variant", "sparse")
EXPECTED_IN_MESSAGE = (
    "variant 'sparse'",
    "The store holds",
    "Rejected: AccountId=",
    "no TransactionId",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_requires_transaction_id",
    display_name="Broken bank (broken_requires_transaction_id)",
    sandbox=SandboxVariants(_sandbox, *bank.SANDBOX),
)
PORTAL_CONFORMANCE = {PROVIDER.name: bank.PORTAL_CONFORMANCE["bank"]}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    if stream.startswith("transactions") and "TransactionId" not in item:
        raise SkippableError("a transaction with no TransactionId cannot be identified")
    return bank.normalise(stream=stream, item=item, ref=ref)
