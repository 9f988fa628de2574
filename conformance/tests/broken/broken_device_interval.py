"""Broken on purpose: its own device login polls every 20 ms, whatever interval the provider states.

The conformance suite must fail it with test_oauth[device_interval].
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


EXPECTED_FAILURE = ("oauth", "device_interval")
EXPECTED_IN_MESSAGE = ("sooner than the interval",)
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_device_interval",
    display_name="Broken bank (broken_device_interval)",
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
        while True:
            time.sleep(0.02)  # the defect: a fixed period, whatever interval was stated
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
