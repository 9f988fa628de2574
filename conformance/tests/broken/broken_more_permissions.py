"""Broken on purpose: its access consent lists the permissions it asked for, not those granted.

The plugin states a fixed list of Open Banking permissions (ReadPAN among them) instead of
the consent's own ``Permissions``, so the record tells the customer she granted more than
she did. The conformance suite must fail it with test_values[consents].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank

ASKED = ["ReadAccountsDetail", "ReadBalances", "ReadPAN", "ReadTransactionsDetail"]
EXPECTED_FAILURE = ("values", "consents")
EXPECTED_IN_MESSAGE = (
    "ConsentId=aac-4e8c9c66-69be-4457-94fa-540a2f7e42d4",
    "permissions",
    "not served: 'ReadPAN'",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_more_permissions", display_name="Broken bank (more permissions)"
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
    if stream == "consents":
        for record in records:
            record.permissions = sorted({*record.permissions, *ASKED})
    return records
