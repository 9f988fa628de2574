"""portal's own hook implementations, registered like any other plugin."""

from __future__ import annotations

from portal.auth.flows import OAuthHelpers
from portal.auth.tokens import TokenSet
from portal.hookspecs import hookimpl
from portal.provider import Provider


@hookimpl(trylast=True)
def authenticate(provider: Provider, oauth: OAuthHelpers) -> TokenSet:
    """The authorization-code flow with PKCE S256 (or, if asked, the device flow)."""
    return oauth.run()
