"""Broken on purpose: it reads response bodies itself and takes one it cannot parse (a body
cut short by a proxy or a dropped connection) for an empty page, instead of letting portal's
client fetch it again.

The conformance suite must fail it with test_resilience[truncated]. Before that check made
a cut body strike in every run, it was skipped whenever the seeded chaos missed one.
"""

import dataclasses
import json
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=40)


EXPECTED_FAILURE = ("resilience", "truncated")
EXPECTED_IN_MESSAGE = ("Under truncated", "missing")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_lenient_json",
    display_name="Broken bank (broken_lenient_json)",
    sandbox=_sandbox,
)


class _Lenient:
    """The client, but a body that is not JSON reads as an empty object."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_json(self, url: str, params: Any = None) -> Any:
        response = self._client.get(url, params=params)
        response.raise_for_status()
        try:
            return json.loads(response.content)
        except ValueError:
            return {}


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=_Lenient(client), cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
