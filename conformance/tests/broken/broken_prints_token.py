"""Broken on purpose: a debugging print left in fetch writes the access token to stderr.

Nothing goes through logging, so a search of log lines and errors finds nothing; only what
`portal sync` prints in a process of its own shows it. The conformance suite must fail it
with test_secrets_every_run[logs_errors_output].
"""

import dataclasses
import sys
from collections.abc import Iterator
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("secrets_every_run", "logs_errors_output")
EXPECTED_IN_MESSAGE = ("printed output", "access token")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_prints_token",
    display_name="Broken bank (broken_prints_token)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Iterator[Any]:
    print(f"fetching with {client.token['access_token']}", file=sys.stderr)  # noqa: T201
    yield from bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
