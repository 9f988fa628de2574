"""The Monzo plugin's hooks: its declaration, the in-app approval, and how it fetches.

Monzo's API for personal use (docs.monzo.com): the person registers their own confidential
OAuth client at developers.monzo.com, and portal uses it (``Ask`` client id and secret).
Everything else (tokens, refresh, retries, cursors, storage) is the engine's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portal import Cursor, Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.auth.credentials import Ask
from portal.auth.tokens import TokenSet
from portal.errors import AuthError, ProviderError
from portal.provider import RequestLimits
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_monzo import labels, mapping, rules, spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.auth.credentials import CredentialHelpers
    from portal.auth.flows import OAuthHelpers
    from portal.http import ProviderClient
    from portal.record import Entity
    from portal.sandbox import Sandbox

log = logging.getLogger("portal.monzo")

API = "https://api.monzo.com"
PAGE = 100
"""The most transactions Monzo serves in one page ("Limit can range between 1 and 100")."""
WINDOW = timedelta(days=89)
"""How far back portal asks once Monzo's five minutes are over: its 90 days, less a day for
clocks that disagree."""
WITH_TRANSACTIONS = frozenset({"uk_retail", "uk_retail_joint", "uk_monzo_flex"})
"""The accounts Monzo lists transactions for ("Current Accounts and Flex Accounts",
docs.monzo.com#list-transactions); others (a prepaid card, Flex's backing loan) are stored
as accounts, and nothing more is asked of them."""
WITH_POTS = frozenset({"uk_retail", "uk_retail_joint"})
"""The accounts pots belong to (``GET /pots?current_account_id=``: current accounts)."""
REDIRECT_PORT = 8765
"""The loopback port of the redirect URL the person registers: http://127.0.0.1:8765/callback."""
APPROVAL_POLL = 3.0
"""Seconds between two looks at whether the person approved portal in the Monzo app."""
OUTSIDE_WINDOW = "forbidden.verification_required"
AWAITING_APPROVAL = "forbidden.insufficient_permissions"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_monzo.sandbox import MonzoSandbox

    return MonzoSandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    Variant("sparse", VALID, "Only the fields Monzo's reference requires."),
    Variant("faulty", FAULTY, "Two transactions break the reference's rules: both rejected."),
)
"""Monzo's sandbox, and the other shapes its reference allows (``portal_monzo.variants``)."""


PROVIDER = Provider(
    name="monzo",
    display_name="Monzo",
    sector=Sector.bank,
    description="Monzo Bank (UK): your current and joint accounts, pots, balances and"
    " transactions with merchants, through Monzo's API for personal use.",
    api_base=API,
    oauth=OAuthClient(
        authorize_url="https://auth.monzo.com/",
        token_url=f"{API}/oauth2/token",
        client_id="",  # the person's own client: asked at portal connect
        scopes=(),  # Monzo has no scopes: the person approves in the app what it shows
        # Monzo sends the person back only to a redirect URL registered with the client.
        redirect_port=REDIRECT_PORT,
    ),
    asks=(
        Ask(
            "client_id",
            "Client ID",
            secret=False,
            pattern=r"oauthclient_[0-9A-Za-z]{4,64}",
            help="Your client's ID (oauthclient_...) is on its page at"
            " https://developers.monzo.com (Clients); see docs/providers/monzo.md.",
        ),
        Ask(
            "client_secret",
            "Client secret",
            help="Your confidential client's secret is on its page at"
            " https://developers.monzo.com (Clients).",
        ),
    ),
    inventory=(
        InventoryItem(
            Category.accounts,
            "Your current account, joint accounts and pots.",
            ("id", "type", "description", "owners", "sort_code", "account_number", "name"),
        ),
        InventoryItem(
            Category.balances,
            "Each account's available balance, and each pot's.",
            ("balance", "total_balance", "spend_today", "currency"),
        ),
        InventoryItem(
            Category.transactions,
            "Every payment in and out, with its merchant; declined and pending ones too."
            " After the first five minutes of a connection, only the last 90 days.",
            ("amount", "created", "settled", "description", "merchant", "category"),
        ),
    ),
    sandbox=SANDBOX,
    specification=spec.SPECIFICATION,
    # Monzo documents no rate limit; portal keeps to a few requests at a time.
    limits=RequestLimits(concurrent=2),
    timezone="Europe/London",
)


PORTAL_CONFORMANCE = {
    "monzo": {
        "unsupported": {
            "permissions": "Monzo has no scopes: the person approves access to everything in"
            " the Monzo app, so portal has no narrower grant to ask for.",
            "declaration.scopes": "Monzo has no OAuth scopes: its authorization request takes"
            " none (docs.monzo.com#acquire-an-access-token), so portal declares none.",
            "oauth.scopes_not_widened": "Monzo has no scopes: its authorization request"
            " asks for none and its token responses state none, so none can be widened.",
            "changes.withdraw": "Monzo's reference says nothing of a transaction that stops"
            " being listed.",
            "changes.empty": "A Monzo account's transactions are its history: never emptied.",
        },
        # A re-sync asks for the accounts once; for each account its transactions from the
        # cursor (a page), its balance and its pots; then a page for each hundred new items.
        "resync_budget": {"per_sync": 1, "per_account": 3, "items_per_request": PAGE},
    }
}
"""What the conformance suite needs to know about Monzo (portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Monzo."""
    register(PROVIDER)


@hookimpl
def authenticate(oauth: OAuthHelpers, credentials: CredentialHelpers) -> TokenSet:
    """Log in with the person's own client, then wait for them to approve in the Monzo app.

    Monzo grants nothing until the person approves access in the app (strong customer
    authentication): until then the API answers ``403 forbidden.insufficient_permissions``.
    """
    tokens = oauth.run()
    credentials.tell(
        "Now open the Monzo app and approve portal's access (Monzo sent a notification)."
        " portal carries on once you have."
    )
    waited, answer = 0.0, None
    with credentials.client(tokens.as_dict()) as client:
        while True:
            answer = client.get("accounts")
            if not (answer.status_code == 403 and _code(answer) == AWAITING_APPROVAL):
                break
            if waited >= credentials.timeout:
                raise AuthError(
                    "Monzo is still waiting for you to approve portal's access in the Monzo"
                    " app, so portal gave up.",
                    hint="Run portal connect monzo again and approve in the app when asked.",
                )
            credentials.sleep(APPROVAL_POLL)
            waited += APPROVAL_POLL
    if answer.status_code != 200:
        raise AuthError(
            f"Monzo refused portal's first request after the login ({answer.status_code}"
            f" {_code(answer) or ''}).".replace(" )", ")"),
            hint="Run portal connect monzo again.",
        )
    return tokens


@hookimpl
def revoke(client: ProviderClient) -> bool:
    """Log out at Monzo (``POST /oauth2/logout``): the access token ends there."""
    answer = client.post("oauth2/logout")
    if answer.status_code >= 400:
        raise ProviderError(
            f"Monzo did not log portal out ({answer.status_code} {_code(answer) or ''}).".replace(
                " )", ")"
            ),
            hint="Delete your client at https://developers.monzo.com to be sure access ends.",
        )
    return True


def _code(answer: Any) -> str | None:
    """Monzo's error code from an error body (``{"code": "...", "message": "..."}``)."""
    try:
        body = answer.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


class TransactionsCursor(Cursor):
    """Where the next sync of one account's transactions starts, and the newest one seen.

    ``since`` (inclusive) never passes a transaction that has not settled: it may still
    change, so it is fetched again until it has. ``newest`` is the ``created`` of the newest
    transaction seen: the moment of the balance, which has not moved since.
    """

    since: datetime
    newest: str | None = None


class _OutsideWindow(Exception):
    """Monzo refused a request reaching further back than it serves now."""


def _listed(client: ProviderClient, params: dict[str, Any]) -> Any:
    """``GET /transactions``; Monzo's refusal of a request beyond its 90 days is told apart."""
    try:
        return client.get_json("transactions", params=params)
    except AuthError:
        # Only now is the refusal read: Monzo says in its body why it refused.
        response = client.get("transactions", params=params)
        if response.status_code == 403 and _code(response) == OUTSIDE_WINDOW:
            raise _OutsideWindow from None
        raise


def _now() -> datetime:
    """The time now (a seam for tests of the 90-day rule)."""
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _created(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Watermark:
    """The cursor across one account's pages (served oldest first)."""

    def __init__(self, saved: TransactionsCursor | None, start: datetime) -> None:
        self.since = saved.since if saved else start
        self.newest = saved.newest if saved else None
        self.frozen = False

    def see(self, items: list[dict[str, Any]]) -> TransactionsCursor:
        for item in items:
            created = item.get("created") if isinstance(item, dict) else None
            if not isinstance(created, str) or not rules.is_time(created):
                continue  # normalise rejects it, saying why; it moves no cursor
            moment = _created(created)
            if self.newest is None or moment > _created(self.newest):
                self.newest = created
            if not self.frozen:
                self.since = moment
                self.frozen = not item.get("settled") and not item.get("decline_reason")
        return TransactionsCursor(since=self.since, newest=self.newest)


def _transactions(
    client: ProviderClient, cursors: Cursors, account: dict[str, Any]
) -> Iterator[Page]:
    """An account's transactions from where the last sync got, then its balance.

    The first sync asks from the account's opening: Monzo serves the whole history for five
    minutes after the person connected. After that it refuses anything older than 90 days;
    portal then asks from 89 days back, keeps what it already had, and says what it missed.
    """
    account_id = account["id"]
    stream = f"transactions:{account_id}"
    saved = cursors.get(stream, TransactionsCursor)
    # A second before the cursor, in case Monzo's since leaves out that very moment.
    start = saved.since - timedelta(seconds=1) if saved else _created(account["created"])
    watermark = _Watermark(saved, start)
    marker, clamped, seen = _stamp(start), False, set()
    while True:
        params = {"account_id": account_id, "expand[]": "merchant", "limit": PAGE, "since": marker}
        try:
            body = _listed(client, params)
        except _OutsideWindow:
            floor = _now() - WINDOW
            if clamped:
                raise ProviderError(
                    "Monzo refused transactions even from the last 89 days.",
                    hint="Run portal connect monzo again, then portal sync monzo at once.",
                ) from None
            _warn_window(account, floor, saved)
            marker, clamped = _stamp(floor), True
            watermark.since = max(watermark.since, floor)
            continue
        items = body["transactions"]
        yield Page(stream, items, watermark.see(items))
        if len(items) < PAGE:
            break
        marker = items[-1]["id"]
        if marker in seen:
            raise ProviderError(
                "Monzo's pagination of transactions loops back to a page it already served.",
                hint="Report it to Monzo; portal stopped instead of looping forever.",
            )
        seen.add(marker)
    served = client.get_json("balance", params={"account_id": account_id})
    moment = watermark.newest or account["created"]
    yield Page("balances", [{"account_id": account_id, "as_of": moment, "balance": served}])


def _warn_window(
    account: dict[str, Any], floor: datetime, saved: TransactionsCursor | None
) -> None:
    missed = f"between {saved.since:%d %B %Y} and" if saved else "before"
    log.warning(
        "Monzo serves only the last 90 days of transactions once five minutes have passed"
        " since you connected: transactions of your %s (%s) %s %s could not be fetched."
        " To fetch them, run portal connect monzo and then portal sync monzo within five"
        " minutes (docs/providers/monzo.md).",
        labels.label(labels.ACCOUNT_TYPES, str(account.get("type")), "account"),
        account["id"],
        missed,
        f"{floor:%d %B %Y}",
    )


def _pots(client: ProviderClient, account_id: str) -> Iterator[Page]:
    yield Page("pots", client.get_json("pots", params={"current_account_id": account_id})["pots"])


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """Accounts, then for each account its transactions (from the cursor), balance and pots.

    One request at a time: every account's transactions come from the same ``/transactions``,
    so a Retry-After Monzo sends for it holds for the next account's as much as for this one.
    """
    accounts = client.get_json("accounts")["accounts"]
    yield Page("accounts", accounts)
    usable = [
        a
        for a in accounts
        if isinstance(a, dict)
        and a.get("id")
        and a.get("created")
        and a.get("type", "uk_retail") in WITH_TRANSACTIONS
    ]
    for account in usable:
        yield from _transactions(client, cursors, account)
        if account.get("type", "uk_retail") in WITH_POTS:
            yield from _pots(client, account["id"])


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one Monzo object to the customer record, or reject it naming the rules it breaks."""
    kind, _, account_id = stream.partition(":")
    if kind == "transactions":
        return mapping.NORMALISERS[kind](item, ref, account_id)
    return mapping.NORMALISERS[kind](item, ref)
