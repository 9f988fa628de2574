"""Broken on purpose: when a provider's pagination loops back, it ends the sync quietly with
what it has, instead of letting the error stop the sync (or fetching on).

The conformance suite must fail it with test_resilience[cursor_loop], naming the
transactions that went missing and saying they were lost (not "detect the loop": this plugin
did detect it).
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.errors import PortalError
from portal_bank import plugin as bank


def _sandbox() -> Any:
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=600)


EXPECTED_FAILURE = ("resilience", "cursor_loop")
EXPECTED_IN_MESSAGE = ("transactions: ", " missing (", "fix: Items were lost")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_stops_at_loop",
    display_name="Broken bank (broken_stops_at_loop)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    try:
        yield from bank.fetch(client=client, cursors=cursors)
    except PortalError as error:
        if "loop" not in str(error).lower():
            raise


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
