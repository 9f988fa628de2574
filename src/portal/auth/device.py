"""The device authorization grant (RFC 8628), for machines without a browser.

portal shows a short code and an address; the person approves on any other device while
portal polls the token endpoint, never faster than the provider's ``interval``, five
seconds slower for every ``slow_down`` (§3.5), and not past ``expires_in``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from portal.auth.oauth_client import OAUTH_ERRORS, OAuth2Client
from portal.auth.tokens import seconds
from portal.errors import AuthError, UserError
from portal.provider import Provider

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True)
class DeviceCode:
    """What the person needs to approve: where to go and the code to type."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: int


ShowCode = Callable[[DeviceCode], None]


def request_code(client: OAuth2Client, provider: Provider, scope: str) -> dict[str, Any]:
    """Ask the device authorization endpoint for a device code and a user code."""
    url = provider.oauth.device_authorization_url
    if not url:
        raise UserError(
            f"{provider.display_name} does not offer sign-in from another device.",
            hint=f"Run portal connect {provider.name} without --device, where a browser runs.",
        )
    data = {"client_id": provider.oauth.client_id, "scope": scope}
    auth = (
        (provider.oauth.client_id, provider.oauth.client_secret)
        if provider.oauth.client_secret
        else None
    )
    response = client.request(  # no token exists yet: ask authlib not to add one
        "POST", url, data=data, auth=auth or httpx.USE_CLIENT_DEFAULT, withhold_token=True
    )
    body: dict[str, Any] = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code != 200 or "device_code" not in body or "user_code" not in body:
        raise AuthError(
            f"{provider.display_name} refused to start sign-in from another device"
            f" ({body.get('error', response.status_code)}).",
            hint=f"Run portal connect {provider.name} again.",
        )
    for name, default, least in (("expires_in", 600, 1), ("interval", 5, 0)):  # RFC 8628 §3.2
        try:
            body[name] = seconds(name, body.get(name, default), least=least)
        except ValueError as problem:
            raise AuthError(
                f"{provider.display_name} answered the request to sign in from another device"
                f" with nonsense: its {problem}.",
                hint=f"Try portal connect {provider.name} again; if it persists, tell the"
                " provider.",
            ) from None
    return body


def poll(
    client: OAuth2Client,
    provider: Provider,
    grant: dict[str, Any],
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Poll the token endpoint until the person approves, refuses, or the code expires.

    ``timeout`` (``portal connect --timeout``): give up after that many seconds, if sooner.
    """
    name = provider.display_name
    interval = float(grant.get("interval", 5))
    expires = clock() + float(grant.get("expires_in", 600))
    deadline = expires if timeout is None else min(expires, clock() + timeout)
    while True:
        if clock() + interval > deadline:
            if deadline < expires:
                raise AuthError(
                    f"No approval for {name} came within {timeout:g} seconds.",
                    hint=f"Run portal connect {provider.name} --device again and approve"
                    " sooner, or give it longer with --timeout.",
                )
            raise _expired(provider)
        sleep(interval)
        try:
            token: dict[str, Any] = client.fetch_token(
                provider.oauth.token_url, grant_type=GRANT_TYPE, device_code=grant["device_code"]
            )
            return token
        except OAUTH_ERRORS as error:
            if error.error == "authorization_pending":
                continue
            if error.error == "slow_down":
                interval += 5  # RFC 8628 §3.5: for this and every later request
                continue
            if error.error == "expired_token":
                raise _expired(provider) from None
            if error.error == "access_denied":
                raise AuthError(
                    f"Access to {name} was refused on the other device.",
                    hint="Run portal connect again to retry.",
                ) from None
            raise AuthError(
                f"{name} refused the sign-in ({error.error}).",
                hint=f"Run portal connect {provider.name} again.",
            ) from None


def _expired(provider: Provider) -> AuthError:
    return AuthError(
        f"The sign-in code for {provider.display_name} expired before it was approved.",
        hint=f"Run portal connect {provider.name} --device again and approve sooner.",
    )
