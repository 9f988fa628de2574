"""portal: get your data back from the companies that hold it.

The public surface for plugin authors is exported here; everything else is internal.
Names are imported lazily so that ``portal --help`` does not pay for pydantic or httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from portal.app import Portal
    from portal.batch import Batch
    from portal.errors import (
        AuthError,
        ConfigError,
        PortalError,
        ProviderError,
        RetryableError,
        SkippableError,
        UserError,
    )
    from portal.hookspecs import hookimpl
    from portal.provider import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider

_EXPORTS = {
    "Portal": "portal.app",
    "Batch": "portal.batch",
    "AuthError": "portal.errors",
    "ConfigError": "portal.errors",
    "PortalError": "portal.errors",
    "ProviderError": "portal.errors",
    "RetryableError": "portal.errors",
    "SkippableError": "portal.errors",
    "UserError": "portal.errors",
    "hookimpl": "portal.hookspecs",
    "Cursor": "portal.provider",
    "Cursors": "portal.provider",
    "InventoryItem": "portal.provider",
    "OAuthClient": "portal.provider",
    "Page": "portal.provider",
    "Provider": "portal.provider",
}

__all__ = [
    "AuthError",
    "Batch",
    "ConfigError",
    "Cursor",
    "Cursors",
    "InventoryItem",
    "OAuthClient",
    "Page",
    "Portal",
    "PortalError",
    "Provider",
    "ProviderError",
    "RetryableError",
    "SkippableError",
    "UserError",
    "hookimpl",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
