"""Enable Banking: a person's own accounts at EU and UK banks, through an application of theirs.

The person registers an application in Enable Banking's control panel (activated in
restricted mode by linking their own accounts), and gives portal its id and private key;
portal signs a JWT with it for every request (``signing``). Connecting sends them to their
bank through Enable Banking (``POST /auth``), and the code the bank sends back opens a
session (``POST /sessions``) valid until the date the bank agreed to: its id and that date
are kept in the vault with the answers. A sync reads the session's accounts, each one's
details, balances and transactions (``fetch``); ``portal disconnect`` closes the session
(``DELETE /sessions/{id}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from pydantic import Field

from portal import Cursor, Cursors, InventoryItem, Page, Provider, SkippableError, hookimpl
from portal.record import Category, Entity, Sector
from portal.variants import SandboxVariants
from portal_enablebanking import mapping, variants
from portal_enablebanking.authorising import (  # the hooks authenticate and revoke too
    ASKS,
    CREDENTIAL,
    QUOTA,
    authenticate,
    revoke,
    session_of,
)

if TYPE_CHECKING:
    from portal.http import KeyedClient
    from portal.sandbox import Sandbox

API = "https://api.enablebanking.com"


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_enablebanking.sandbox import EnableBankingSandbox

    return EnableBankingSandbox(variant=variant)


PROVIDER = Provider(
    name="enablebanking",
    display_name="Enable Banking",
    sector=Sector.bank,
    description="Your own accounts at EU and UK banks through Enable Banking: account"
    " details, balances, and booked and pending transactions.",
    api_base=API,
    asks=ASKS,
    credential=CREDENTIAL,
    quota=QUOTA,
    inventory=(
        InventoryItem(
            Category.accounts, "Each account you authorised: its number, type and currency."
        ),
        InventoryItem(Category.balances, "Each account's booked and available balances."),
        InventoryItem(Category.transactions, "Each account's transactions, booked and pending."),
    ),
    sandbox=SandboxVariants(_sandbox, *variants.VARIANTS.values()),
)


PORTAL_CONFORMANCE = {
    "enablebanking": {
        "unsupported": {
            "declaration.scopes": "Enable Banking has no OAuth scopes: every request is"
            " signed with the application's key, and the session grants what the person"
            " authorised at their bank.",
            "permissions": "An Enable Banking session grants every account's balances and"
            " transactions at once; portal asks for both.",
            "changes.empty": "A bank never takes back an account's booked history, and"
            " Enable Banking serves every booked transaction of the window asked for.",
        },
        "ignored_fields": {
            "accounts": {
                "uid": "The account's handle within one session, valid only while that"
                " session is authorised; the account is known by its identification_hash.",
            },
        },
        # Each re-sync reads the session once; for each account its details, its balances
        # and its transactions from the newest booking day seen (a page of 50).
        "resync_budget": {"per_sync": 1, "per_account": 3, "items_per_request": 50},
    }
}
"""What the conformance suite needs to know about Enable Banking."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Enable Banking."""
    register(PROVIDER)


__all__ = ["PROVIDER", "authenticate", "fetch", "normalise", "register_providers", "revoke"]


class Since(Cursor):
    """Where an account's transactions stopped: the newest booking day stored, and the ids
    of the pending ones then (looked for again, and withdrawn when no longer served)."""

    date_from: str
    pending: list[str] = Field(default_factory=list)
    oldest_pending: str | None = None


@hookimpl
def fetch(client: KeyedClient, cursors: Cursors) -> Iterator[Page]:
    """The session's accounts with their details, balances and new transactions."""
    accounts = session_of(client)
    details = [client.get_json(f"accounts/{uid}/details") for uid in accounts]
    yield Page("accounts", details)
    for uid, account in zip(accounts, details, strict=True):
        key = account["identification_hash"]
        balances = client.get_json(f"accounts/{uid}/balances")["balances"]
        yield Page(f"balances:{key}", balances)
        yield from _transactions(client, cursors, uid, key)


def _transactions(client: Any, cursors: Cursors, uid: str, key: str) -> Iterator[Page]:
    stream = f"transactions:{key}"
    saved = cursors.get(stream, Since)
    params: dict[str, str] = {"strategy": "longest"}
    if saved is not None:
        # The API includes date_from's own day: a day's late arrivals are read again, and
        # the pending ones seen last time are looked for again from their own day.
        params = {"date_from": min(filter(None, (saved.date_from, saved.oldest_pending)))}
    newest = saved.date_from if saved else None
    seen: set[str] = set()
    pending: dict[str, str | None] = {}
    body = client.get_json(f"accounts/{uid}/transactions", params=params)
    while True:
        items = body["transactions"]
        for item in items:
            ident = mapping.transaction_id(key, item)
            seen.add(ident)
            if item.get("status") == "BOOK" and item.get("booking_date"):
                newest = max(filter(None, (newest, item["booking_date"])))
            elif item.get("status") != "BOOK":
                pending[ident] = item.get("transaction_date") or item.get("value_date")
        following = body.get("continuation_key")
        if not following:
            break
        # Not the last page: committed without a cursor, so a sync stopped here reads the
        # whole window again (the continuation key is valid in this session only).
        yield Page(stream, items)
        body = client.get_json(
            f"accounts/{uid}/transactions", params={"continuation_key": following}
        )
    gone = [(Category.transactions, i) for i in (saved.pending if saved else []) if i not in seen]
    cursor = None
    if newest is not None:
        oldest = min((d for d in pending.values() if d), default=None)
        cursor = Since(date_from=newest, pending=sorted(pending), oldest_pending=oldest)
    yield Page(stream, items, cursor, withdrawn=gone)


NORMALISERS: dict[str, Callable[[str, dict[str, Any], Any], list[Entity]]] = {
    "accounts": lambda stream, item, ref: mapping.account(item, ref),
    "balances": mapping.balance,
    "transactions": mapping.transaction,
}


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> Iterable[Entity]:
    """One raw item of ``stream`` to record entities."""
    kind = stream.split(":", 1)[0]
    try:
        return NORMALISERS[kind](stream, item, ref)
    except (KeyError, TypeError) as missing:
        # A required field missing is a rejection naming it, never a crash of the sync.
        raise SkippableError(
            f"An Enable Banking item of {kind} lacks a field the reference requires, or has"
            f" one of the wrong type ({missing})."
        ) from None
