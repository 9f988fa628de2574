"""The retailer plugin's hooks: its declaration, and how it fetches and normalises.

Everything else (tokens, retries, pagination loops, cursors, storage) is the engine's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.http import ProviderClient, follow_links
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_retailer import mapping, variants

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://api.demomart.example/customer-data/v2"
AUTH = "https://account.demomart.example/oauth"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_retailer.sandbox import RetailerSandbox

    return RetailerSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    *(
        Variant(v.name, FAULTY if v.name == "faulty" else VALID, v.description)
        for v in variants.VARIANTS.values()
        if v.name != "standard"  # the usual sandbox: every conformance check already uses it
    ),
)
"""Demo Mart's sandbox, and the other shapes schema.org's Order allows it to serve in."""


PROVIDER = Provider(
    name="retailer",
    display_name="Demo Mart",
    sector=Sector.retailer,
    description="A UK supermarket and homeware shop: orders, receipts, returns and Rewards.",
    api_base=API,
    oauth=OAuthClient(
        authorize_url=f"{AUTH}/authorize",
        token_url=f"{AUTH}/token",
        revocation_url=f"{AUTH}/revoke",
        device_authorization_url=f"{AUTH}/device",
        client_id="portal-demo",
        # One scope per kind of data, so a customer can share less and get less.
        scopes=("profile", "orders", "loyalty", "preferences", "insights"),
    ),
    inventory=(
        InventoryItem(
            Category.party,
            "Your name, contact details, date of birth and addresses.",
            ("first_name", "last_name", "email", "mobile", "date_of_birth", "addresses"),
        ),
        InventoryItem(
            Category.accounts,
            "Your Demo Mart Rewards membership.",
            ("membership_number", "programme", "tier", "status", "joined_on"),
        ),
        InventoryItem(
            Category.balances,
            "Your Rewards points: now and at each monthly statement.",
            ("points", "type", "as_of"),
        ),
        InventoryItem(
            Category.purchases,
            "Online orders, in-store receipts and returns, line by line, with points.",
            ("number", "placed_at", "store", "lines", "total", "loyalty", "order_number"),
        ),
        InventoryItem(
            Category.consents,
            "Your marketing preferences, including ones you withdrew.",
            ("channel", "topic", "status", "wording", "granted_at", "updated_at"),
        ),
        InventoryItem(
            Category.inferences,
            "Segments, scores and traits our models derived from your shopping.",
            ("type", "name", "value", "score", "computed_at", "explanation"),
        ),
        InventoryItem(
            Category.processing,
            "How we use your data: purposes, legal bases, recipients, retention, sources.",
            ("purpose", "legal_basis", "recipients", "retention", "source"),
        ),
    ),
    sandbox=SANDBOX,
    sandbox_only=True,  # Demo Mart is fictional: its production endpoints do not exist.
)

PORTAL_CONFORMANCE = {
    "retailer": {
        "unsupported": {
            "changes.withdraw": "Demo Mart never stops listing an order or a return.",
            "changes.book": "Demo Mart lists an order once it is paid: nothing is pending.",
            "changes.empty": "Orders and returns are the customer's history: never emptied.",
        },
        # A re-sync asks for the profile, notice, loyalty account, its balances (two pages),
        # the orders and returns changed since (a page each), preferences and insights;
        # then a page for each twenty new or changed items.
        "resync_budget": {"per_sync": 9, "per_account": 0, "items_per_request": 20},
        "category_scopes": {
            "party": "profile",
            "processing": "profile",
            "accounts": "loyalty",
            "balances": "loyalty",
            "purchases": "orders",
            "consents": "preferences",
            "inferences": "insights",
        },
    }
}
"""What the conformance suite should know: which scope grants each category."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Demo Mart."""
    register(PROVIDER)


class ChangedSince(Cursor):
    """Where the next sync of orders (or returns) starts: items changed at or after this.

    Inclusive, so an item changed in the same second as the last one seen is never
    missed; the one it fetches again is harmless, because the store's upserts are
    idempotent.
    """

    updated_since: datetime


class _Watermark:
    """The latest ``updated_at`` seen across the pages of one list (served oldest first)."""

    def __init__(self, start: datetime | None) -> None:
        self.since = start

    def __call__(self, body: Any, next_url: str | None) -> ChangedSince | None:
        for item in body["data"]:
            if not item.get("updated_at"):  # schema.org's dateModified is optional
                continue
            changed = datetime.fromisoformat(item["updated_at"])
            self.since = changed if self.since is None else max(self.since, changed)
        return None if self.since is None else ChangedSince(updated_since=self.since)


def _pages(
    client: ProviderClient,
    path: str,
    stream: str,
    params: Mapping[str, Any] | None = None,
    cursor: Callable[[Any, str | None], Any] | None = None,
) -> Iterator[Page]:
    """Every page of a list, following ``pagination.next`` (the next cursor's link) to the end.

    ``follow_links`` stops the sync with an error if the API ever hands back a page it
    already served, instead of looping forever. It compares links as given, so the first
    page is asked for by its full URL (the API's links are absolute): a link back to the
    first page is then recognised too.
    """
    first = client.base_url.join(path).copy_merge_params(params or {})
    yield from follow_links(
        client,
        str(first),
        stream=stream,
        items=lambda body: body["data"],
        next_url=lambda body: body["pagination"].get("next"),
        cursor=cursor or (lambda body, nxt: None),
    )


def granted(client: ProviderClient, provider: Provider) -> set[str]:
    """The scopes this customer granted (the ones asked for, if the server did not say)."""
    token = client.token or {}
    return set(str(token.get("scope") or "").split()) or set(provider.oauth.scopes)


@hookimpl
def fetch(provider: Provider, client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Every resource the grant covers; orders and returns only from where the last sync got."""
    scopes = granted(client, provider)
    if "profile" in scopes:
        yield Page("customer", [client.get_json("customer")["data"]])
        yield Page("processing", client.get_json("privacy/processing")["data"])
    if "loyalty" in scopes:
        yield Page("loyalty_account", [client.get_json("loyalty/account")["data"]])
        yield from _pages(client, "loyalty/balances", "loyalty_balances")
    if "orders" in scopes:
        for stream in ("orders", "returns"):
            saved = cursors.get(stream, ChangedSince)
            params = {"updated_since": saved.updated_since.isoformat()} if saved else None
            watermark = _Watermark(saved.updated_since if saved else None)
            yield from _pages(client, stream, stream, params, watermark)
    if "preferences" in scopes:
        yield Page("marketing", client.get_json("marketing-preferences")["data"])
    if "insights" in scopes:
        yield Page("insights", client.get_json("insights")["data"])


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Demo Mart item to the customer record."""
    return mapping.NORMALISERS[stream](item, ref)
