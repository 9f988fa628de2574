"""``portal view``'s Permissions page: every consent and marketing permission the store
holds, in one table, with where it stands in portal's words beside the provider's own.

A real store (the Demo Bank synced through the real OAuth flow, and "sly", the same bank
one of whose marketing purposes is hostile text and whose access consent is pending), the real
server on a real socket, and httpx as the browser.
"""

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from portal.record import Consent, Standing, State
from portal.record.vocab import STANDINGS, standing_of
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.guard import SECURITY_HEADERS
from view_homes import synced_home

# Markup and a bidi override: a record's text refuses control characters, not these.
HOSTILE = "<script>alert('owned')</script><b>bold</b>\u202ekcatta"

PLUGIN = f'''
"""The Demo Bank as "sly": one marketing purpose is hostile text, and its access consent
reads as awaiting approval."""
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

HOSTILE = {HOSTILE!r}
SLY = dataclasses.replace(bank.PROVIDER, name="sly", display_name="Sly")

@hookimpl
def register_providers(register):
    register(SLY)

@hookimpl
def fetch(client, cursors):
    yield from bank.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    if stream == "marketing" and item.get("PreferenceId") == "MP-001":
        item = {{**item, "Purpose": HOSTILE}}
    if stream == "consents":  # its access consent as if still waiting for approval
        item = {{**item, "Status": "AwaitingAuthorisation"}}
    return bank.normalise(stream, item, ref)
'''


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home whose store holds the Demo Bank and "sly", both synced."""
    home, results = synced_home(tmp_path_factory.mktemp("permissions"), "sly", PLUGIN)
    assert all(result.ok for result in results.values()), results
    return home


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    yield store
    store.close()


def page_of(store: Store, now: datetime | None = None) -> httpx.Response:
    """The Permissions page as the person's browser gets it, on the day ``now`` if given."""
    clock = None if now is None else (lambda: now)
    with ViewServer(store, now=clock) as server, httpx.Client(timeout=10) as client:
        assert client.get(server.login_url).status_code == 303
        return client.get(server.url + "permissions")


def rows_of(page: str) -> list[str]:
    return re.findall(r'<tr class="permission">(.*?)</tr>', page, re.S)


def cells(row: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]


def bank_consents(store: Store, provider: str = "bank") -> list[Consent]:
    return [Consent.model_validate(r) for r in store.rows(Consent, provider)]


def test_every_stored_consent_is_one_row_and_the_page_is_linked_from_every_page(
    store: Store,
) -> None:
    answer = page_of(store)
    assert answer.status_code == 200
    stored = sum(1 for _ in store.rows(Consent))
    assert stored == 12  # the access consent and five marketing preferences, twice
    assert len(rows_of(answer.text)) == stored
    assert f"{stored} permissions across your providers" in answer.text
    assert '<a href="/permissions" aria-current="page">Permissions</a>' in answer.text


def test_each_row_says_where_it_stands_beside_the_providers_own_words(store: Store) -> None:
    rows = [cells(r) for r in rows_of(page_of(store).text)]
    bank = [r for r in rows if r[0] == "bank"]
    by_words = {(r[5], r[4], r[2]): r[1] for r in bank}  # (purpose, channel, their words)
    assert by_words[("Product news and offers", "Email", "Opted in")] == "on"
    assert by_words[("Product news and offers", "Text message", "Opted out")] == "off"
    assert by_words[("Offers from our partners", "Post", "Withdrawn")] == "withdrawn"
    [access] = [r for r in bank if r[3] == "Account information access (Open Banking)"]
    assert access[1] == "on" and access[2] == "Authorised"
    assert "<code>ReadTransactionsDetail</code>" in access[6]
    [consent] = [c for c in bank_consents(store) if c.kind == "data_access"]
    assert consent.granted_at is not None and consent.expires_at is not None
    local = consent.expires_at.astimezone().strftime("%Y-%m-%d")
    assert access[8] == local and access[7] == consent.granted_at.astimezone().strftime("%Y-%m-%d")


def test_what_needs_attention_comes_first_and_says_why(store: Store) -> None:
    [consent] = [c for c in bank_consents(store) if c.kind == "data_access"]
    assert consent.expires_at is not None
    rows = [
        cells(r) for r in rows_of(page_of(store, now=consent.expires_at - timedelta(days=3)).text)
    ]
    access = "Account information access (Open Banking)"
    assert rows[0][0] == "bank" and rows[0][3] == access
    assert rows[0][1].startswith("on") and "Ends in 3 days." in rows[0][1]
    assert rows[1][0] == "sly" and rows[1][3] == access and rows[1][2] == "Awaiting your approval"
    assert rows[1][1].startswith("pending") and "Waiting for you" in rows[1][1]
    assert not any('class="attention"' in r[1] for r in rows[2:])
    later = [
        cells(r) for r in rows_of(page_of(store, now=consent.expires_at - timedelta(days=30)).text)
    ]
    assert "Waiting for you" in later[0][1]  # pending, whatever the day
    assert not any("Ends in" in r[1] for r in later)
    gone = [
        cells(r) for r in rows_of(page_of(store, now=consent.expires_at + timedelta(days=1)).text)
    ]
    [ended] = [r for r in gone if r[0] == "bank" and r[3] == access]
    assert ended[1] == "expired" and ended[2] == "Authorised"  # its end date has passed


def test_hostile_provider_text_is_shown_as_text_never_as_markup(store: Store) -> None:
    page = page_of(store).text
    assert "&lt;script&gt;alert(" in page  # sly's purpose, as the provider wrote it
    assert "<script" not in page and "<b>bold" not in page
    assert "\u202e" not in page and "\\u202e" in page  # the bidi override shown, not obeyed
    [hostile] = [cells(r) for r in rows_of(page) if "&lt;script&gt;" in r]
    assert hostile[0] == "sly" and hostile[1] == "on" and hostile[2] == "Opted in"


def test_the_page_is_refused_without_the_secret_and_carries_the_security_headers(
    store: Store,
) -> None:
    with ViewServer(store) as server:
        refused = httpx.get(server.url + "permissions", timeout=10)
        with httpx.Client(timeout=10) as client:
            client.get(server.login_url)
            shown = client.get(server.url + "permissions")
    assert refused.status_code == 403 and "Permissions" not in refused.text
    assert shown.status_code == 200
    for answer in (refused, shown):
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (name, answer.status_code)


def test_each_state_a_consent_takes_has_a_standing_a_person_reads() -> None:
    assert standing_of(State.active) is Standing.on
    assert standing_of(State.declined) is Standing.off
    assert standing_of(State.withdrawn) is Standing.withdrawn
    assert standing_of(State.expired) is Standing.expired
    assert standing_of(State.pending) is Standing.pending
    assert standing_of(State.unknown) is None and standing_of(None) is None
    assert set(STANDINGS.values()) == set(Standing)


def test_dates_are_shown_in_the_machines_time_zone(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    [consent] = [c for c in bank_consents(store) if c.kind == "data_access"]
    assert consent.expires_at is not None
    there = consent.expires_at.astimezone(ZoneInfo("Pacific/Kiritimati")).strftime("%Y-%m-%d")
    assert there != consent.expires_at.astimezone(UTC).strftime("%Y-%m-%d")  # the bank's 20:00
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: already the next day there
    time.tzset()
    try:
        page = page_of(store).text
    finally:
        monkeypatch.undo()
        time.tzset()
    [access] = [cells(r) for r in rows_of(page) if r.count("Open Banking") and "bank</th>" in r]
    assert access[8] == there
