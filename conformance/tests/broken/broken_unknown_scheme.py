"""Broken on purpose: it labels a counterparty's account scheme by a table lookup with no default.

``SchemeName`` is a namespaced code list in Open Banking v3.1: the ``UK.OBIE.*`` codes are
Open Banking's, and a bank may use schemes of its own. The plugin labels the scheme of each
transaction's ``CreditorAccount`` and ``DebtorAccount`` with ``SCHEMES[code]``, which knows
only Open Banking's: every sandbox shape the bank ships (standard, sparse, spec-edge) uses
those there, so only the suite's generated answers with an unknown code in every open list
(test_spec_variant[unknown_codes]) make it crash.
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.variants import SandboxVariants
from portal_bank import labels
from portal_bank import plugin as bank


def _sandbox(variant: str = "standard") -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a sync takes about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000, variant=variant)


EXPECTED_FAILURE = ("spec_variant", "unknown_codes")
EXPECTED_IN_MESSAGE = (
    "normalise crashed on",
    "GET /accounts/",
    "/transactions, item AccountId=",
    "TransactionId=",
    "KeyError: 'UK.PortalConformance.UnlistedCode'",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_unknown_scheme",
    display_name="Broken bank (broken_unknown_scheme)",
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
    if stream.startswith("transactions"):
        for record in records:
            for key in ("CreditorAccount", "DebtorAccount"):
                kept = record.extra.get(key)
                if isinstance(kept, dict) and "SchemeName" in kept:
                    kept["SchemeName_label"] = labels.SCHEMES[kept["SchemeName"]]  # no default
    return records
