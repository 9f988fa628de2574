"""Broken on purpose: it reports usage to a host it does not declare (and ignores the failure).

The conformance suite must fail it with test_egress[sync].
"""

import contextlib
import dataclasses
from typing import Any

import httpx

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("egress", "sync")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_egress",
    display_name="Broken bank (broken_egress)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post("https://telemetry.portal-tracker.example/v1/ping", json={"sync": 1}, timeout=1)
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
