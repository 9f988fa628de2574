"""The bank plugin's hooks: its declaration, and how it fetches and normalises.

Everything else (tokens, retries, pagination loops, cursors, storage) is the engine's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.http import ProviderClient, follow_links, together
from portal.record import Category, Sector
from portal_bank import fetching, mapping

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://ob.demobank.example/open-banking/v3.1/aisp"


def _sandbox() -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox()


PROVIDER = Provider(
    name="bank",
    display_name="Demo Bank",
    sector=Sector.bank,
    description="A UK current account and credit card over Open Banking (AIS v3.1).",
    api_base=API,
    oauth=OAuthClient(
        authorize_url="https://auth.demobank.example/oauth/authorize",
        token_url="https://auth.demobank.example/oauth/token",  # noqa: S106 - a URL
        revocation_url="https://auth.demobank.example/oauth/revoke",
        device_authorization_url="https://auth.demobank.example/oauth/device",
        issuer="https://auth.demobank.example",
        jwks_url="https://auth.demobank.example/.well-known/jwks.json",
        client_id="portal-demo",
        # Open Banking logins are OpenID Connect (FAPI): portal checks the ID token and nonce.
        scopes=("openid", "accounts"),
    ),
    inventory=(
        InventoryItem(
            Category.party,
            "Your name, contact details and address.",
            ("Name", "FullLegalName", "EmailAddress", "Phone", "Mobile", "Address"),
        ),
        InventoryItem(
            Category.accounts,
            "Your current account and credit card.",
            ("AccountId", "AccountSubType", "Nickname", "Currency", "Account"),
        ),
        InventoryItem(
            Category.balances, "Booked and available balances.", ("Amount", "Type", "DateTime")
        ),
        InventoryItem(
            Category.transactions,
            "Every payment in and out, booked and pending.",
            ("Amount", "BookingDateTime", "TransactionInformation", "MerchantDetails"),
        ),
        InventoryItem(
            Category.consents,
            "Your access consent and marketing preferences.",
            ("Permissions", "Status", "Channel"),
        ),
        InventoryItem(
            Category.recurring_payments,
            "Your direct debits, standing orders and scheduled payments.",
            ("DirectDebit", "StandingOrder", "ScheduledPayment"),
        ),
        InventoryItem(
            Category.payees,
            "The payees you saved (beneficiaries).",
            ("BeneficiaryType", "Reference", "CreditorAccount"),
        ),
        InventoryItem(
            Category.documents,
            "Your monthly statements, each with its PDF.",
            ("StatementId", "StatementAmount", "StatementDescription"),
        ),
        InventoryItem(
            Category.bills,
            "Your credit card statements: what is owed and when it is due.",
            ("StatementAmount", "StatementDateTime"),
        ),
        InventoryItem(
            Category.products,
            "The product behind each account, its fees and rates, and our offers to you.",
            ("ProductName", "ProductType", "PCA", "OfferType"),
        ),
        InventoryItem(
            Category.processing,
            "What we do with your data, why, who receives it and for how long.",
            ("Purpose", "LegalBasis", "Recipients", "Retention", "AutomatedDecision"),
        ),
    ),
    sandbox=_sandbox,
    sandbox_only=True,  # Demo Bank is fictional: its production endpoints do not exist.
)


PORTAL_CONFORMANCE = {
    "bank": {
        "ignored_fields": {
            "transactions": {
                "Balance.Type": "The running balance after a booked transaction is always an"
                " InterimBooked balance; Transaction.balance_after holds its amount and sign.",
                "Balance.Amount.Currency": "The running balance is in the account's currency,"
                " which Transaction.currency already states.",
            }
        }
    }
}
"""What the conformance suite needs to know about Demo Bank (portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the Demo Bank."""
    register(PROVIDER)


class TransactionsCursor(Cursor):
    """Where the next sync of one account's transactions starts (inclusive).

    It never passes a pending transaction: pending items can still change, so they are
    fetched again until they are booked. The overlap this re-fetches is harmless, because
    the store's upserts are idempotent.
    """

    since: datetime


class _Watermark:
    """Tracks the cursor across the pages of one account's transactions."""

    def __init__(self, start: datetime | None) -> None:
        self.since = start
        self.frozen = False

    def __call__(self, body: Any, next_url: str | None) -> TransactionsCursor | None:
        for item in body["Data"]["Transaction"]:
            if self.frozen:
                break
            booked = datetime.fromisoformat(item["BookingDateTime"])
            self.since = booked
            self.frozen = item.get("Status") == "Pending"
        return None if self.since is None else TransactionsCursor(since=self.since)


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Accounts, party, consents and balances in full; transactions from the last cursor.

    After the accounts, every stream is independent of the others, so they are fetched
    side by side (``together``), the accounts' transactions first: they are the long ones.
    """
    accounts = client.get_json("accounts")["Data"]["Account"]
    yield Page("accounts", accounts)
    ids = [account["AccountId"] for account in accounts]
    sources = [_transactions(client, cursors, account_id) for account_id in ids]
    sources.append(fetching.page(client, "party", "party", lambda data: [data["Party"]]))
    consent_id = (client.token or {}).get("consent_id")
    if consent_id:
        path = f"account-access-consents/{consent_id}"
        sources.append(fetching.page(client, "consents", path, lambda data: [data]))
    sources += [
        fetching.page(client, "marketing", "marketing-preferences", itemgetter("Preference")),
        fetching.page(client, "processing", "processing-notice", itemgetter("Purpose")),
    ]
    for account_id in ids:
        balances = f"accounts/{account_id}/balances"
        sources.append(fetching.page(client, "balances", balances, itemgetter("Balance")))
        sources += fetching.arrangements(client, account_id)
        sources.append(fetching.statements(client, cursors, account_id))
    yield from together(client, sources)


def _transactions(client: ProviderClient, cursors: Cursors, account_id: str) -> Iterator[Page]:
    """An account's transactions from where the last sync stopped, page by page."""
    stream = f"transactions:{account_id}"
    cursor = cursors.get(stream, TransactionsCursor)
    params = {"fromBookingDateTime": cursor.since.isoformat()} if cursor else None
    yield from follow_links(
        client,
        f"accounts/{account_id}/transactions",
        stream=stream,
        params=params,
        items=lambda body: body["Data"]["Transaction"],
        next_url=lambda body: body.get("Links", {}).get("Next"),
        cursor=_Watermark(cursor.since if cursor else None),
        declared_pages=lambda body: body.get("Meta", {}).get("TotalPages"),
    )


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Open Banking item to the customer record."""
    kind = stream.split(":", 1)[0]
    return NORMALISERS[kind](item, ref)


NORMALISERS = {**mapping.NORMALISERS, **fetching.NORMALISERS}
