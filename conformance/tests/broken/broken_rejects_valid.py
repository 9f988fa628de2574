"""Broken on purpose: it rejects, with a reason, available balances it could store: the
specification allows them, the plugin's author did not expect them.

The conformance suite must fail it with test_no_silent_drop[balances], naming the reason of
the rejections and asking to accept what the specification allows (nothing vanished, so
"never filter items out in fetch" would be the wrong fix).
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal.errors import SkippableError
from portal_bank import plugin as bank


def _sandbox() -> Any:
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=200)


EXPECTED_FAILURE = ("no_silent_drop", "balances")
EXPECTED_IN_MESSAGE = (
    "x 'balance type InterimAvailable is not supported'",
    "more were rejected than the sandbox expects",
    "fix: Accept every item the specification allows",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_rejects_valid",
    display_name="Broken bank (broken_rejects_valid)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    if stream == "balances" and item.get("Type") == "InterimAvailable":
        raise SkippableError("balance type InterimAvailable is not supported")
    return bank.normalise(stream=stream, item=item, ref=ref)
