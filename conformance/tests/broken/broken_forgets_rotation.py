"""Broken on purpose: it refreshes the token itself and never persists the rotated one.

Its author read the provider's advice ("refresh when less than a minute is left") and wrote
the refresh into fetch: a POST of its own to the token endpoint, the answer put on the
client for the rest of the sync. That sync works. But the provider rotates refresh tokens,
and the new one lives only in that process: the vault keeps the one the provider has just
rotated away, so the next sync, in a new process, cannot refresh at all. The fix is to leave
the refresh to portal's client, or call ``client.refresh()``, which persists the rotation.

The conformance suite must fail it with test_credentials[outside_margin]: the first of its
syncs, each in a process of its own, starts with the access token just outside portal's
refresh margin (and inside this plugin's minute).
"""

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("credentials", "outside_margin")
EXPECTED_IN_MESSAGE = ("Sync 1 of 3", "already rotated away", "the rotation was not persisted")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_forgets_rotation",
    display_name="Broken bank (broken_forgets_rotation)",
    sandbox=_sandbox,
)
REFRESH_BEFORE = 60
"""Seconds before expiry the provider's documentation says to refresh."""


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


def _refresh_if_due(client: Any) -> None:
    token = client.token
    if token.get("expires_at", float("inf")) - time.time() > REFRESH_BEFORE:
        return
    oauth = client.provider.oauth
    answer = client.request(
        "POST",
        oauth.token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": token["refresh_token"],
            "client_id": oauth.client_id,
        },
        withhold_token=True,  # the bearer token is not for the token endpoint
    )
    answer.raise_for_status()
    client.token = answer.json()  # the new refresh token stays in this process only


@hookimpl
def fetch(client: Any, cursors: Any) -> Iterator[Any]:
    _refresh_if_due(client)
    yield from bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
