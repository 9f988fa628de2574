"""Broken on purpose: it takes an account's currency from ``item["Currency"]``, as required.

Open Banking v3.1 requires an account's ``Currency`` except on an account being switched
away, so a client must read it as optional. The plugin indexes it: every sandbox shape the
bank ships (standard, sparse, spec-edge) sends it, so only the suite's generated answers
with every optional field absent (test_spec_variant[optional_absent]) make it crash.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.variants import SandboxVariants
from portal_bank import plugin as bank


def _sandbox(variant: str = "standard") -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a sync takes about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000, variant=variant)


EXPECTED_FAILURE = ("spec_variant", "optional_absent")
EXPECTED_IN_MESSAGE = (
    "every optional field left out",
    "normalise crashed on 2 items",
    "GET /accounts, item AccountId=",
    "KeyError: 'Currency'",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_account_currency",
    display_name="Broken bank (broken_account_currency)",
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
    records = bank.normalise(stream=stream, item=item, ref=ref)
    if stream == "accounts":
        for record in records:
            record.currency = item["Currency"]  # required, it thinks
    return records
