"""Broken on purpose: it retries a 429 at once with an HTTP client of its own.

The conformance suite must fail it with test_resilience[retry_after_seconds].
"""

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


EXPECTED_FAILURE = ("resilience", "retry_after_seconds")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_retry_after",
    display_name="Broken bank (broken_retry_after)",
    sandbox=_sandbox,
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


class Impatient:
    """The engine's client, except that get_json goes around it and never waits."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_json(self, url: str, params: Any = None) -> Any:
        token = self._client.token["access_token"]
        with httpx.Client(base_url=str(self._client.base_url), timeout=10) as raw:
            for _ in range(5):
                answer = raw.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
                if answer.status_code != 429:
                    break
        return answer.json()


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=Impatient(client), cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
