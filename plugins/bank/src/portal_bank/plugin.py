"""The bank plugin's hooks: its declaration, and how it fetches and normalises.

Everything else (tokens, retries, pagination loops, cursors, storage) is the engine's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.control.changes import CONSENT, Change, ChangeResult
from portal.errors import SkippableError
from portal.http import ProviderClient, follow_links, together
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_bank import control, fetching, identity, mapping, spec_check, spec_variants, variants
from portal_bank.fetching import listed

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://ob.demobank.example/open-banking/v3.1/aisp"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    *(
        Variant(name, FAULTY if name == "forbidden" else VALID)
        for name in variants.VARIANTS
        if name != "standard"  # the usual sandbox: every conformance check already uses it
    ),
)
"""The Demo Bank's sandbox, and the other shapes Open Banking allows it to serve in."""


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
    sandbox=SANDBOX,
    specification=spec_variants.SPECIFICATION,
    sandbox_only=True,  # Demo Bank is fictional: its production endpoints do not exist.
    # Open Banking's one write on the customer's sharing: deleting an account-access consent.
    writes=(CONSENT,),
    write_instead=control.WRITE_INSTEAD,
)


PORTAL_CONFORMANCE = {
    "bank": {
        "unsupported": {
            "permissions": "Demo Bank, like every Open Banking bank, grants all the data under"
            " its one 'accounts' scope: which categories are shared is chosen among the"
            " consent's Permissions on the bank's own screen, so portal has no narrower grant"
            " to ask for.",
        },
        "ignored_fields": {
            "transactions": {
                "Balance.Type": "The running balance after a booked transaction is always an"
                " InterimBooked balance; Transaction.balance_after holds its amount and sign.",
                "Balance.Amount.Currency": "The running balance is in the account's currency,"
                " which Transaction.currency already states.",
            }
        },
        # A re-sync asks for the accounts, party, consent, marketing preferences and notice
        # once; for each account its transactions from the cursor (a page), balances, six
        # resources and new statements; then a page for each hundred new or changed items.
        "resync_budget": {"per_sync": 5, "per_account": 9, "items_per_request": 100},
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
    the store's upserts are idempotent. ``pending`` holds the TransactionIds of the pending
    items last seen: one missing from the next sync's answer (which starts at or before it)
    was withdrawn, or booked under another id, as Open Banking lets a pending item be.
    """

    since: datetime
    pending: tuple[str, ...] = ()


class _Watermark:
    """Tracks the cursor across the pages of one account's transactions."""

    def __init__(self, start: TransactionsCursor | None) -> None:
        self.since = start.since if start else None
        self.frozen = False
        self.unseen = set(start.pending) if start else set()
        """Pending ids of the last sync not yet seen again: withdrawn, if never seen."""
        self.pending: list[str] = []

    def __call__(self, body: Any, next_url: str | None) -> TransactionsCursor | None:
        for item in listed(body["Data"], "Transaction"):
            if not isinstance(item, dict):
                continue
            transaction_id = item.get("TransactionId")
            if isinstance(transaction_id, str):
                self.unseen.discard(transaction_id)
                if item.get("Status") == "Pending":
                    self.pending.append(transaction_id)
            if self.frozen:
                continue
            booked = fetching.instant(item.get("BookingDateTime"))
            if booked is None:
                continue  # normalise rejects the item, saying why; it moves no cursor
            self.since = booked
            self.frozen = item.get("Status") == "Pending"
        return self.cursor(self.unseen)

    def cursor(self, unresolved: set[str]) -> TransactionsCursor | None:
        """The cursor, keeping ``unresolved`` pending ids to look for next time."""
        if self.since is None:
            return None
        return TransactionsCursor(since=self.since, pending=(*sorted(unresolved), *self.pending))


@hookimpl
def apply_change(client: ProviderClient, change: Change) -> ChangeResult | None:
    """Withdraw an account-access consent (``DELETE /account-access-consents/{ConsentId}``);
    marketing and profiling are not Open Banking's, so not supported here."""
    return control.apply_change(client, change)


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Accounts, party, consents and balances in full; transactions from the last cursor.

    After the accounts, every stream is independent of the others, so they are fetched
    side by side (``together``), the accounts' transactions first: they are the long ones.
    """
    accounts = listed(fetching.data(client, client.get_json("accounts"), "accounts"), "Account")
    yield Page("accounts", accounts)
    # An account without its (required) AccountId is rejected by normalise; nothing more of
    # it can be asked for.
    ids = [a["AccountId"] for a in accounts if isinstance(a, dict) and a.get("AccountId")]
    sources = [_transactions(client, cursors, account_id) for account_id in ids]
    sources.append(fetching.page(client, "party", "party", lambda data: listed(data, "Party")))
    consent_id = (client.token or {}).get("consent_id")
    if consent_id:
        sources.append(_consents(client, cursors, consent_id))
    sources += [
        fetching.page(
            client, "marketing", "marketing-preferences", lambda data: listed(data, "Preference")
        ),
        fetching.page(
            client, "processing", "processing-notice", lambda data: listed(data, "Purpose")
        ),
    ]
    for account_id in ids:
        balances = f"accounts/{account_id}/balances"
        sources.append(
            fetching.page(client, "balances", balances, lambda data: listed(data, "Balance"))
        )
        sources += fetching.arrangements(client, cursors, account_id, _records_of)
        sources.append(fetching.statements(client, cursors, account_id))
    yield from together(client, sources)


def _transactions(client: ProviderClient, cursors: Cursors, account_id: str) -> Iterator[Page]:
    """An account's transactions from where the last sync stopped, page by page."""
    stream = f"transactions:{account_id}"
    cursor = cursors.get(stream, TransactionsCursor)
    params = {"fromBookingDateTime": cursor.since.isoformat()} if cursor else None
    path = f"accounts/{account_id}/transactions"
    twins: Counter[str] = Counter()  # across the pages: twins may straddle a page boundary
    watermark = _Watermark(cursor)
    yield from follow_links(
        client,
        path,
        stream=stream,
        params=params,
        items=lambda body: identity.number(
            "transactions", listed(fetching.data(client, body, path), "Transaction"), twins
        ),
        next_url=lambda body: body.get("Links", {}).get("Next"),
        cursor=watermark,
        declared_pages=lambda body: body.get("Meta", {}).get("TotalPages"),
    )
    if watermark.unseen:
        # Every page is in: the pending items of the last sync not served again are gone.
        # Until this page is committed, each page's cursor kept them to look for again.
        withdrawn = [(Category.transactions, i) for i in sorted(watermark.unseen)]
        yield Page(stream, [], watermark.cursor(set()), withdrawn=withdrawn)


class ConsentsCursor(Cursor):
    """The account-access consents earlier connections were granted under.

    Each is read again at every sync (an AISP may read any consent of its own), so one the
    person withdrew (``portal apply --withdraw``) or that lapsed is released as it now is,
    after portal connects again under a new consent.
    """

    ids: tuple[str, ...] = ()


def _consents(client: ProviderClient, cursors: Cursors, consent_id: str) -> Iterator[Page]:
    """This connection's consent, and the earlier ones the bank still knows."""
    earlier = cursors.get("consents", ConsentsCursor)
    ids = [i for i in (earlier.ids if earlier else ()) if i != consent_id]
    found, kept = [], []
    for known in [*ids, consent_id]:
        path = f"account-access-consents/{quote(known, safe='')}"
        if known != consent_id:
            answer = client.get(path)
            if answer.status_code != 200:
                continue  # a bank that no longer shows it: nothing to say of it
        found.append(fetching.data(client, client.get_json(path), path))
        kept.append(known)
    yield Page("consents", found, ConsentsCursor(ids=tuple(kept)))


def _records_of(stream: str, item: dict[str, Any]) -> list[tuple[Category, str]]:
    """The records ``normalise`` makes of ``item``: (category, provider id) of each."""
    try:
        made = normalise(stream=stream, item=item, ref=lambda entity, provider_id: provider_id)
    except SkippableError:
        return []
    return [(record.category, record.provider_id) for record in made]


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Open Banking item to the customer record, or reject it saying why.

    An item the mapping cannot read is checked against the specification's rules
    (``portal_bank.spec``): the rules it breaks are the reason it is rejected. One that
    breaks none is read wrongly by the plugin, and that error is raised as it is.
    """
    kind, _, account_id = stream.partition(":")
    if kind == "beneficiaries" and isinstance(item, dict) and "AccountId" not in item:
        # Only a beneficiary may leave out its account: the path it was listed under names it.
        item = {**item, "AccountId": account_id}
    try:
        return NORMALISERS[kind](item, ref)
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        problems = spec_check.item_problems(kind, item)
        if not problems:
            raise
        raise SkippableError(f"Not valid Open Banking v3.1: {'; '.join(problems)}") from error


NORMALISERS = {**mapping.NORMALISERS, **fetching.NORMALISERS}
