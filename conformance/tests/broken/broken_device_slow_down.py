"""Broken on purpose: its own device login waits the interval but never slows down.

A slow_down is taken for authorization_pending: the interval stays as it was.

The conformance suite must fail it with test_oauth[device_slow_down].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox() -> Any:
    # The Demo Bank made on demand: the same API and customer, a thousand transactions,
    # no statement files to render, so a variant syncs in about a second.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=1000)


EXPECTED_FAILURE = ("oauth", "device_slow_down")
EXPECTED_IN_MESSAGE = ("After slow_down the next poll came",)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_device_slow_down",
    display_name="Broken bank (broken_device_slow_down)",
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
    return bank.normalise(stream=stream, item=item, ref=ref)


@hookimpl
def authenticate(provider: Any, oauth: Any) -> Any:
    if oauth.flow != "device":
        return oauth.run()
    import time

    from portal.auth import device
    from portal.auth.oauth_client import OAUTH_ERRORS
    from portal.auth.tokens import TokenSet
    from portal.errors import AuthError

    scope = " ".join(provider.oauth.scopes)
    with oauth._client(scope) as client:
        grant = device.request_code(client, provider, scope)
        oauth.show_code(
            device.DeviceCode(
                grant["verification_uri"],
                grant["user_code"],
                grant.get("verification_uri_complete"),
                int(grant["expires_in"]),
            )
        )
        interval = float(grant.get("interval", 5))
        while True:
            time.sleep(interval)
            try:
                token = client.fetch_token(
                    provider.oauth.token_url,
                    grant_type=device.GRANT_TYPE,
                    device_code=grant["device_code"],
                )
                return TokenSet(dict(token))
            except OAUTH_ERRORS as error:
                if error.error not in ("authorization_pending", "slow_down"):
                    raise AuthError(f"Sign-in from another device refused: {error.error}") from None
                # The defect: a slow_down should add 5 seconds to the interval from now on.
