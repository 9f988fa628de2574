"""Broken on purpose: when a 5xx outlasts the retries, it logs and raises its access token.

Only a sync whose server errors never stop takes that path, so a suite that searches only
syncs that succeed (or recover) misses it. The conformance suite must fail it with
test_secrets[errors] (it leaks into the logs as well).
"""

import dataclasses
import logging
import re
from collections.abc import Iterator
from typing import Any

from portal import hookimpl
from portal.errors import ProviderError
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("secrets", "errors")
EXPECTED_IN_MESSAGE = ("a 5xx that outlasts the retries", "access token")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_leaks_on_failure",
    display_name="Broken bank (broken_leaks_on_failure)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


log = logging.getLogger("broken_leaks_on_failure")


@hookimpl
def fetch(client: Any, cursors: Any) -> Iterator[Any]:
    try:
        yield from bank.fetch(client=client, cursors=cursors)
    except ProviderError as error:
        if not re.search(r"answered 5\d\d", str(error)):
            raise
        token = client.token["access_token"]
        log.error("gave up after server errors; token was %s", token)
        raise ProviderError(f"{error} (sent with token {token})") from None


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
