"""authlib's OAuth 2.0 client for httpx, imported in one place, with token responses checked.

Every token response (code exchange, device grant, refresh) goes through
``OAuth2Client.parse_response_token``, so it is checked there once: authlib itself turns
``expires_in`` NaN into a ``ValueError`` and 10**30 into an expiry in the year 10**22.

authlib 1.9.9 prefers the httpx2 fork when it is installed and warns that plain httpx is
deprecated. portal is built on httpx (and respx for its tests), so that warning is
expected here and silenced for this one import; if httpx2 is installed, authlib builds its
client on httpx2 instead, which portal cannot use, so that case is refused clearly.
"""

import warnings
from typing import Any

import authlib.deprecate  # noqa: F401 - installs authlib's "always" filter before ours goes on top
import httpx

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client as _AuthlibClient

from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2 import OAuth2Error

from portal.auth.tokens import TokenResponseError, TokenSet, check_token_response
from portal.errors import ConfigError

if not issubclass(_AuthlibClient, httpx.Client):  # pragma: no cover - needs httpx2 installed
    raise ConfigError(
        "authlib is using the httpx2 package, but portal needs httpx.",
        hint="Uninstall httpx2 from portal's environment (pip uninstall httpx2).",
    )


class OAuth2Client(_AuthlibClient):  # type: ignore[misc]
    """authlib's client, refusing token responses portal cannot use (``check_token_response``)."""

    def parse_response_token(self, resp: httpx.Response) -> Any:
        """The token response's values, checked; an OAuth error response raises as in authlib."""
        if resp.status_code >= 500:
            resp.raise_for_status()
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            resp.raise_for_status()
            raise TokenResponseError(
                f"the token response (HTTP {resp.status_code}) is not a JSON object", TokenSet({})
            )
        if "error" in body:
            raise self.oauth_error_class(
                error=body["error"], description=body.get("error_description")
            )
        self.token = check_token_response(body)
        return self.token


#: What authlib raises for an OAuth error response: ``OAuth2Error`` from its protocol
#: layer, ``OAuthError`` from the httpx client's token calls. Both carry ``.error``.
OAUTH_ERRORS = (OAuth2Error, OAuthError)

__all__ = ["OAUTH_ERRORS", "OAuth2Client"]
