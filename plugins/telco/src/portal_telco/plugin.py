"""The telco plugin's hooks: its declaration, and how it fetches and normalises.

Everything else (tokens, retries, cursors, storage) is the engine's. Each resource sits
behind its own scope; a connection granted fewer scopes fetches only what they cover.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.control.changes import Change, ChangeResult
from portal.http import ProviderClient
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_telco import control, mapping, spec_variants, usage, variants
from portal_telco.paging import collect, follow_offsets

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://api.demotelecom.example"
LOGIN = "https://login.demotelecom.example/oauth"
SCOPES = ("customer", "products", "bills", "usage", "privacy")
CUSTOMERS = "tmf-api/customerManagement/v4/customer"
PRODUCTS = "tmf-api/productInventory/v4/product"
BILLS = "tmf-api/customerBillManagement/v4/customerBill"
RATES = "tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
USAGE = "tmf-api/usageManagement/v4/usage"
PRIVACY = "tmf-api/privacyManagement/v4/partyPrivacyProfile"
PROCESSING = "portal/v1/processing"
INFERENCES = "portal/v1/inferences"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_telco.sandbox import TelcoSandbox

    return TelcoSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    *(
        Variant(v.name, FAULTY if v.name == "faulty" else VALID, v.description)
        for v in variants.VARIANTS.values()
        if v.name != "standard"  # the usual sandbox: every conformance check already uses it
    ),
)
"""Demo Telecom's sandbox, and the other shapes TMF678 allows it to serve in."""


PROVIDER = Provider(
    name="telco",
    display_name="Demo Telecom",
    sector=Sector.telco,
    description="A UK mobile and broadband contract over TM Forum Open APIs"
    " (TMF629, TMF637, TMF678, TMF635, TMF644).",
    api_base=API,
    timezone="Europe/London",  # bill periods are London days (portal_telco.rating)
    oauth=OAuthClient(
        authorize_url=f"{LOGIN}/authorize",
        token_url=f"{LOGIN}/token",
        revocation_url=f"{LOGIN}/revoke",
        device_authorization_url=f"{LOGIN}/device",
        client_id="portal-telco",
        scopes=SCOPES,
    ),
    inventory=(
        InventoryItem(
            Category.party,
            "Your name, contact details and addresses (TMF629 Customer).",
            ("name", "engagedParty", "contactMedium"),
        ),
        InventoryItem(
            Category.accounts,
            "Your mobile and broadband contracts, with their numbers.",
            ("id", "name", "status", "startDate", "billingAccount", "productCharacteristic"),
        ),
        InventoryItem(
            Category.products,
            "Your plans and add-ons with their prices and terms (TMF637 Product).",
            ("productOffering", "productSpecification", "productPrice", "productTerm"),
        ),
        InventoryItem(
            Category.bills,
            "Your monthly bills with every charge on them (TMF678).",
            ("billNo", "billDate", "billingPeriod", "amountDue", "state", "taxIncludedAmount"),
        ),
        InventoryItem(
            Category.usage,
            "Every call, text and data session for six months, with what it cost (TMF635).",
            ("usageDate", "usageType", "usageCharacteristic", "ratedProductUsage"),
        ),
        InventoryItem(
            Category.consents,
            "Your marketing and data-sharing permissions, per channel (TMF644).",
            ("partyPrivacyProfileCharacteristic", "status", "validFor"),
        ),
        InventoryItem(
            Category.inferences,
            "Your credit score and the marketing segment we put you in.",
            ("creditProfile", "characteristic"),
        ),
        InventoryItem(
            Category.processing,
            "What we do with your data, why, who receives it and for how long.",
            ("purpose", "legalBasis", "recipients", "retention", "automatedDecision"),
        ),
    ),
    sandbox=SANDBOX,
    specification=spec_variants.SPECIFICATION,
    sandbox_only=True,  # Demo Telecom is fictional: its production endpoints do not exist.
    # Each preference is a TMF644 privacy profile, changed by PATCH (portal_telco.control).
    writes=control.WRITES,
    write_instead="Ask Demo Telecom's customer services, or change it in the Demo Telecom app"
    " (Account, then Privacy): its API changes only the permissions it releases.",
)


PORTAL_CONFORMANCE = {
    "telco": {
        "unsupported": {
            "changes.full_page": "The sandbox adds usage a day at a time, so it cannot yet"
            " make the usage end exactly on a full page.",
            "changes.amend": "The sandbox does not yet rate usage again or amend a bill.",
            "changes.withdraw": "The sandbox does not yet withdraw any usage.",
            "changes.book": "The sandbox does not yet bill rated usage between syncs.",
            "changes.empty": "No stream of the demo customer's empties in the sandbox.",
            "reconcile.usage~readings": "Demo Telecom's bills state no usage summary for a"
            " period: TMF678 gives a usage charge a quantity but no periodCoverage (it is"
            " for events, not a period), so no bill line says how much was used when.",
        },
        # A re-sync asks for the customer, inferences, privacy profile, notice and products,
        # the applied rates of each of the eleven bills (TMF678 serves them apart), and the
        # usage not yet billed, which may still change (three pages of the demo's month);
        # for each billing account its bills; then a page for each hundred new items.
        "resync_budget": {"per_sync": 19, "per_account": 1, "items_per_request": 100},
        # Each resource has its own scope; a narrower grant fetches less (see fetch).
        "category_scopes": {
            "party": "customer",
            "inferences": "customer",
            "accounts": "products",
            "products": "products",
            "bills": "bills",
            "usage": "usage",
            "consents": "privacy",
            "processing": "privacy",
        },
        "ignored_fields": {
            "bills": {
                "appliedCustomerBillingRate[].characteristic[].valueType": "The JSON type"
                " (string, number) of a characteristic's value, which the value itself has;"
                " characteristics a line has no column for are kept whole in extra.",
            }
        },
    }
}
"""What the conformance suite needs to know about Demo Telecom (portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Demo Telecom."""
    register(PROVIDER)


class UsageCursor(Cursor):
    """Where the next sync of usage starts (inclusive): the last usage already on a bill.

    Usage not yet billed can still change (re-rated, then billed), so the cursor never
    passes it; the overlap fetched again is harmless, as the store's upserts are idempotent.
    """

    since: datetime


class _Watermark:
    """Tracks the usage cursor across pages."""

    def __init__(self, start: datetime | None) -> None:
        self.since = start
        self.frozen = False

    def __call__(self, items: list[dict[str, Any]]) -> UsageCursor | None:
        for item in items:
            # TMF635 makes status and usageDate optional: a usage without either (or with a
            # date that is no date-time, which is rejected) stops the cursor where it is.
            when = usage.cursor_moment(item)
            if self.frozen or item.get("status") != "billed" or when is None:
                self.frozen = True
                break
            self.since = when
        return None if self.since is None else UsageCursor(since=self.since)


def granted(client: ProviderClient) -> set[str]:
    """The scopes this connection holds (all of them when the token does not say)."""
    scope = (client.token or {}).get("scope")
    return set(scope.split()) if isinstance(scope, str) else set(SCOPES)


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Customer, permissions, notice, products and bills in full; usage from the last cursor."""
    scopes = granted(client)
    if "customer" in scopes:
        yield from follow_offsets(client, CUSTOMERS, stream="customer")
        yield from follow_offsets(client, INFERENCES, stream="inferences")
    if "privacy" in scopes:
        yield from follow_offsets(client, PRIVACY, stream="privacy")
        yield from follow_offsets(client, PROCESSING, stream="processing")
    contracts: dict[str, str] = {}  # billing account id -> the contract (product) it bills
    unlinked = False  # a contract that names no billing account (TMF637 allows it)
    if "products" in scopes:
        for page in follow_offsets(client, PRODUCTS, stream="products"):
            for p in page.items:
                if p.get("productRelationship"):
                    continue  # an add-on: billed with its contract
                if (p.get("billingAccount") or {}).get("id") and p.get("id"):
                    contracts[p["billingAccount"]["id"]] = p["id"]
                else:
                    unlinked = True
            yield page
    # A bill names its billing account, not its contract: without the product inventory
    # there is nothing to attach bills to, so they need the "products" scope as well.
    if "bills" in scopes:
        for account, contract in contracts.items():
            yield from _bills(client, account, contract)
        if unlinked:
            # Its bills cannot be asked for by account: every other bill is fetched, so
            # each still arrives, and is refused saying it names no contract, not lost.
            yield from _bills(client, None, "", known=set(contracts))
    if "usage" in scopes:
        saved = cursors.get("usage", UsageCursor)
        yield from follow_offsets(
            client,
            USAGE,
            stream="usage",
            params={"usageDate.gte": saved.since.isoformat()} if saved else None,
            cursor=_Watermark(saved.since if saved else None),
        )


def _bills(
    client: ProviderClient, account: str | None, contract: str, known: set[str] | None = None
) -> Iterator[Page]:
    """One contract's bills, each with its applied charges (TMF678 serves them apart).

    One page per bill: its charges are fetched when the bill is, so nothing waits in memory.
    A bill without an id (TMF678 allows it) cannot be asked for its charges by id: it comes
    alone, and its normaliser derives an id for it. With no ``account``, every bill but
    those of the ``known`` billing accounts (fetched with their contracts already).
    """
    stream = f"bills:{contract}"
    params = {"billingAccount.id": account} if account else None
    for page in follow_offsets(client, BILLS, stream=stream, params=params):
        for bill in page.items:
            if known and (bill.get("billingAccount") or {}).get("id") in known:
                continue
            rates = collect(client, RATES, {"bill.id": bill["id"]}) if bill.get("id") else []
            yield Page(stream, [{**bill, "appliedCustomerBillingRate": rates}])


@hookimpl
def apply_change(client: ProviderClient, change: Change) -> ChangeResult | None:
    """Carry out one of the person's preferences: a TMF644 PATCH of its privacy profile."""
    return control.apply_change(client, change)


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one TM Forum item to the customer record."""
    kind, _, context = stream.partition(":")
    return mapping.NORMALISERS[kind](item, ref, context)
