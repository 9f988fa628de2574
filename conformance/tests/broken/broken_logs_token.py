"""Broken on purpose: it logs the access token at DEBUG.

The conformance suite must fail it with test_secrets[logs].
"""

import dataclasses
import logging
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("secrets", "logs")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_logs_token",
    display_name="Broken bank (broken_logs_token)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


log = logging.getLogger("broken_logs_token")


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    log.debug("fetching with token %s", client.token["access_token"])
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
