"""authlib's OAuth 2.0 client for httpx, imported in one place.

authlib 1.9.9 prefers the httpx2 fork when it is installed and warns that plain httpx is
deprecated. portal is built on httpx (and respx for its tests), so that warning is
expected here and silenced for this one import; if httpx2 is installed, authlib builds its
client on httpx2 instead, which portal cannot use, so that case is refused clearly.
"""

import warnings

import authlib.deprecate  # noqa: F401 - installs authlib's "always" filter before ours goes on top
import httpx

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.httpx_client import OAuth2Client

from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2 import OAuth2Error

from portal.errors import ConfigError

if not issubclass(OAuth2Client, httpx.Client):  # pragma: no cover - needs httpx2 installed
    raise ConfigError(
        "authlib is using the httpx2 package, but portal needs httpx.",
        hint="Uninstall httpx2 from portal's environment (pip uninstall httpx2).",
    )

#: What authlib raises for an OAuth error response: ``OAuth2Error`` from its protocol
#: layer, ``OAuthError`` from the httpx client's token calls. Both carry ``.error``.
OAUTH_ERRORS = (OAuth2Error, OAuthError)

__all__ = ["OAUTH_ERRORS", "OAuth2Client"]
