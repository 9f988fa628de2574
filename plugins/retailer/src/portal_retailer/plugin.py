"""The retailer plugin's hooks: its declaration, and how it fetches and normalises.

Everything else (tokens, retries, pagination loops, cursors, storage) is the engine's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.control.changes import Change, ChangeResult, Outcome
from portal.errors import AuthError, ProviderError, RetryableError
from portal.http import RETRY_STATUSES, ProviderClient, follow_links
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
    # PATCH /marketing-preferences/{id}: each channel's preferences, and personalised offers
    # (profiling). It has no phone channel and shares no data for others' marketing.
    writes=("marketing.email", "marketing.sms", "marketing.post", "profiling"),
    write_instead=(
        "Demo Mart does not market by phone and does not give your data to other companies"
        " for their marketing (its processing notice lists neither); to ask it anything else"
        " about your data, write to its Data Protection Officer at privacy@demomart.example"
        " or Demo Mart Customer Data, PO Box 4172, London SW11 9ZZ."
    ),
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


CHANNELS = {"marketing.email": "email", "marketing.sms": "sms", "marketing.post": "post"}
"""The marketing preferences portal can change, by change key: Demo Mart's channel."""
PROFILING_TOPIC = "personalised_offers"
"""The topic that is consent to profiling (``labels.CONSENT_KINDS``)."""
REFUSALS = (404, 409, 422)
"""What Demo Mart answers when it will not make a change, with its reason in the body."""


def _change_of(preference: Mapping[str, Any]) -> str | None:
    """The change key a served preference answers to (its topic, then its channel)."""
    if preference.get("topic") == PROFILING_TOPIC:
        return "profiling"
    return next((k for k, c in CHANNELS.items() if c == preference.get("channel")), None)


def _reason(response: httpx.Response) -> str:
    """The API's own words from its error envelope, or the status when it gave none."""
    try:
        error = response.json().get("error") or {}
        message = str(error.get("message") or "").strip()
    except (ValueError, AttributeError):
        message = ""
    return message or f"Demo Mart answered {response.status_code} and gave no reason."


@hookimpl
def apply_change(provider: Provider, client: ProviderClient, change: Change) -> ChangeResult | None:
    """Set each of Demo Mart's preferences ``change`` is about to opted in or out.

    ``PATCH /marketing-preferences/{id}`` with ``{"status": "opted_in"}`` or
    ``{"status": "opted_out"}`` (a JSON merge patch, RFC 7396): 200 with the preference as
    it now is; 409 ``preference_locked`` or 422 with the shop's reason when it will not. The
    preferences are read first, so one already so is not asked again.
    """
    if change.key not in provider.writes:
        return None
    if "preferences" not in granted(client, provider):
        return ChangeResult(
            Outcome.not_supported,
            instead=f"Connect again allowing your marketing preferences: portal connect"
            f" {provider.name}.",
        )
    wanted = "opted_in" if change.allow else "opted_out"
    served = client.get_json("marketing-preferences")["data"]
    mine = [p for p in served if _change_of(p) == change.key]
    if not mine:
        return ChangeResult(Outcome.not_supported, instead=provider.write_instead)
    asked = [p for p in mine if (p.get("status") == "opted_in") is not change.allow]
    if not asked:
        return ChangeResult(Outcome.already)
    done = []
    for preference in asked:
        response = client.patch(
            f"marketing-preferences/{quote(str(preference['id']), safe='')}",
            content=json.dumps({"status": wanted}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        status = response.status_code
        if status in REFUSALS:
            return ChangeResult(Outcome.refused, detail=_reason(response))
        if status in RETRY_STATUSES:
            raise RetryableError(f"Demo Mart answered {status} to a preference update.")
        if status in (401, 403):
            raise AuthError(
                f"Demo Mart refused the preference update ({status}).",
                hint=f"Run portal connect {provider.name} again.",
            )
        if status != 200:
            raise ProviderError(f"Demo Mart answered {status} to a preference update.")
        now = response.json()["data"]
        done.append(f"{now.get('wording') or now.get('id')}: {now.get('status')}")
    return ChangeResult(Outcome.applied, detail="; ".join(done))


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Demo Mart item to the customer record."""
    return mapping.NORMALISERS[stream](item, ref)
