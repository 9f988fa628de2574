"""The SimpleFIN Bridge plugin's hooks: its declaration, how it connects, fetches and normalises.

A person makes a *setup token* in the Bridge (the base64 of a one-time claim URL) and
pastes it into ``portal connect simplefin``; ``authenticate`` claims it once (a POST to
the URL) and keeps the *Access URL* it answers (``https://USER:PASSWORD@HOST/PATH``) in
the vault; every request then authenticates with the URL's credentials (HTTP Basic).
Everything else (retries, cursors, storage) is the engine's.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from portal import InventoryItem, Provider, hookimpl
from portal.auth.credentials import (
    Ask,
    CredentialHelpers,
    KeyCredential,
    api_base,
    basic_in_url,
)
from portal.auth.tokens import TokenSet
from portal.errors import AuthError, ProviderError, UserError
from portal.provider import Quota
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_simplefin import fetching, mapping, spec_variants, variants
from portal_simplefin.rules import REQUESTS_PER_DAY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from portal import Cursors, Page
    from portal.http import ProviderClient
    from portal.record import Entity
    from portal.sandbox import Sandbox

BRIDGE = "https://beta-bridge.simplefin.org/simplefin"
OLD_BRIDGE = "https://bridge.simplefin.org/simplefin"
"""Where the Bridge serves claims and Access URLs: portal contacts these hosts only."""


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_simplefin.sandbox import SimpleFinSandbox

    return SimpleFinSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    *(
        Variant(v.name, FAULTY if v.name == "faulty" else VALID, v.description)
        for v in variants.VARIANTS.values()
        if v.name != "standard"
    ),
)
"""The Bridge's sandbox, and the other shapes the SimpleFIN protocol lets it serve."""

REVOKE_HINT = (
    "To end portal's access, sign in at https://beta-bridge.simplefin.org, open Apps"
    " (your connected apps) and delete the connection you made for portal: the Access URL"
    " portal held then stops working."
)

PROVIDER = Provider(
    name="simplefin",
    display_name="SimpleFIN Bridge",
    sector=Sector.bank,
    description="Read-only balances and transactions of US and Canadian bank accounts,"
    " through the SimpleFIN Bridge (a paid service for individuals).",
    api_base=BRIDGE,
    asks=(
        Ask(
            "setup_token",
            "SimpleFIN setup token",
            secret=True,
            help="Make one at https://beta-bridge.simplefin.org/simplefin/create after"
            " connecting your bank there; it can be used once.",
        ),
    ),
    credential=KeyCredential(
        kind="access_url",
        auth=basic_in_url("access_url"),
        base_from="access_url",
        revoke_hint=REVOKE_HINT,
        # The older address: setup tokens made there claim there, and its Access URLs point there.
        urls=(OLD_BRIDGE,),
    ),
    quota=Quota(
        syncs=REQUESTS_PER_DAY,
        hours=24,
        why=f"The SimpleFIN Bridge expects {REQUESTS_PER_DAY} requests a day or fewer from an"
        " app, and disables its access when it keeps asking for more",
    ),
    inventory=(
        InventoryItem(
            Category.accounts,
            "Each account you connected in the Bridge: its name, currency and bank.",
            ("id", "name", "currency", "org", "conn_id"),
        ),
        InventoryItem(
            Category.balances,
            "Each account's balance and available balance, and when they were so.",
            ("balance", "available-balance", "balance-date"),
        ),
        InventoryItem(
            Category.transactions,
            "Transactions, posted and pending: when, how much, the bank's description.",
            ("id", "posted", "amount", "description", "transacted_at", "pending", "mcc"),
        ),
    ),
    sandbox=SANDBOX,
    specification=spec_variants.SPECIFICATION,
)

PORTAL_CONFORMANCE = {
    "simplefin": {
        "unsupported": {
            "changes.full_page": "SimpleFIN answers one document per request: nothing is paged.",
            "changes.empty": "An account's transactions are its history: the list never empties.",
            "permissions": "An Access URL has no scopes: the person picks in the Bridge which"
            " accounts an app sees, and every category comes in the same document.",
        },
        "ignored_fields": {
            "accounts": {
                name: "Read from the same account as its own balances item (stream balances)."
                for name in ("balance", "available-balance", "balance-date")
            },
        },
        # A re-sync is one request: the accounts document from the last sync (less an
        # overlap for late postings) to now, well inside the Bridge's 90 days.
        "resync_budget": {"per_sync": 1, "per_account": 0, "items_per_request": 1000},
    }
}
"""What the conformance suite should know."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the SimpleFIN Bridge."""
    register(PROVIDER)


def claim_url(token: str) -> str:
    """The claim URL a setup token holds; a token that holds none is a UserError naming it."""
    refused = UserError(
        "What was given as the SimpleFIN setup token is not a setup token: it is the long"
        " base64 text the Bridge shows when you make one.",
        hint="Copy it again from https://beta-bridge.simplefin.org/simplefin/create, whole.",
    )
    try:
        text = base64.b64decode("".join(token.split()), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise refused from None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname or "/claim/" not in parts.path:
        raise refused
    return text


@hookimpl
def authenticate(provider: Provider, oauth: Any, credentials: CredentialHelpers) -> TokenSet:
    """Claim the setup token once; keep the Access URL it answers."""
    url = claim_url(credentials.answers["setup_token"])
    with credentials.client() as client:
        response = client.post(url, headers={"Content-Length": "0"})
    if response.status_code == 403:
        raise AuthError(
            "This setup token was already used (or never existed): make a new one in the"
            " Bridge. If you did not use it yourself, someone else may have: delete that"
            " connection in the Bridge.",
            hint="Make a new setup token at https://beta-bridge.simplefin.org/simplefin/create"
            " and run portal connect simplefin again.",
        )
    if response.status_code >= 400:
        raise ProviderError(
            f"The SimpleFIN Bridge answered {response.status_code} to the setup token's claim.",
            hint="Try again later with a new setup token.",
        )
    access = response.text.strip()
    parts = urlsplit(access)
    if parts.scheme not in ("https", "http") or not parts.username or not parts.password:
        raise ProviderError(
            "The SimpleFIN Bridge's answer to the claim is not an Access URL.",
            hint="Make a new setup token and run portal connect simplefin again.",
        )
    api_base(provider, {"access_url": access})  # on a host the plugin declares, or refused now
    return TokenSet({"access_url": access})


@hookimpl
def fetch(provider: Provider, client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """The accounts, then their transactions in windows of the Bridge's longest range."""
    yield from fetching.pages(client, cursors)


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one SimpleFIN item to the customer record."""
    return mapping.NORMALISERS[stream](item, ref)
