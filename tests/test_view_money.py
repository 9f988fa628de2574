"""``portal view``'s Money page: accounts and their balances, balances over time, money in and
out per month, and every transaction searched, filtered, sorted and paged.

Through the real server on a real socket over the demo store (the four sandboxes synced
through the real OAuth flow); what the page says is checked against the store's own rows
(``Store.rows``), filtered, sorted and summed here in Python with exact Decimals.
"""

import html
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

import search_truth
from portal.record import Account, Balance, Category, State, Transaction
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from portal.view.formats import money
from portal.view.transactions import PAGE_SIZE
from view_homes import assert_guarded, browser, synced_home


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


@pytest.fixture(scope="module")
def server(store: Store) -> Iterator[ViewServer]:
    with ViewServer(store) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: ViewServer) -> Iterator[httpx.Client]:
    with browser(server) as client:
        yield client


@pytest.fixture(scope="module")
def stored(store: Store) -> list[Transaction]:
    return [Transaction.model_validate(row) for row in store.rows(Transaction)]


Get = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def get(server: ViewServer, client: httpx.Client) -> Get:
    def get(**query: str) -> httpx.Response:
        answer = client.get(server.url + "money", params=query)
        assert_guarded(answer)
        return answer

    return get


def listed(page: str) -> list[tuple[str, Decimal]]:
    """The (portal id, amount) of each transaction row of ``page``, in order."""
    found = re.findall(
        r'<tr class="transaction[^"]*" data-id="([^"]+)" data-amount="([^"]+)"', page
    )
    return [(key, Decimal(amount)) for key, amount in found]


def caption(page: str) -> tuple[int, int, int]:
    """(first, last, total) of "Showing 51-100 of 1,521 transactions" (an en dash)."""
    found = re.search(r"Showing ([\d,]+)\u2013([\d,]+) of ([\d,]+) transaction", page)
    assert found, "no 'Showing a-b of n' caption"
    first, last, total = (int(part.replace(",", "")) for part in found.groups())
    return first, last, total


def every_page(get: Get, **query: str) -> list[tuple[str, Decimal]]:
    """The rows of every page of the list for ``query``, first to last."""
    rows: list[tuple[str, Decimal]] = []
    number = 1
    while True:
        page = get(**query, page=str(number)).text
        if "No transactions match" in page:
            return rows
        first, last, total = caption(page)
        assert first == len(rows) + 1 and last == first + len(listed(page)) - 1
        rows.extend(listed(page))
        if last == total:
            return rows
        number += 1


def local_day(row: Transaction) -> date:
    return row.booked_at.astimezone().date()


def test_the_list_sorts_by_amount_as_numbers_both_ways(get: Get, stored: list[Transaction]) -> None:
    up = sorted(stored, key=lambda r: (r.amount, r.id))
    assert len({r.amount for r in stored}) > 100  # enough amounts that text order would differ
    for order, expected in (("asc", up), ("desc", up[::-1])):
        page = get(sort="amount", order=order).text
        assert listed(page) == [(r.id, r.amount) for r in expected[:PAGE_SIZE]]
        last = (len(stored) - 1) // PAGE_SIZE + 1
        tail = listed(get(sort="amount", order=order, page=str(last)).text)
        assert tail == [(r.id, r.amount) for r in expected[(last - 1) * PAGE_SIZE :]]


def test_the_list_sorts_by_booking_time_both_ways(get: Get, stored: list[Transaction]) -> None:
    newest = sorted(stored, key=lambda r: (r.booked_at, r.id), reverse=True)
    assert [k for k, _ in listed(get().text)] == [r.id for r in newest[:PAGE_SIZE]]
    oldest = newest[::-1]
    assert [k for k, _ in listed(get(sort="date", order="asc").text)] == [
        r.id for r in oldest[:PAGE_SIZE]
    ]


def test_pages_cover_every_transaction_exactly_once(get: Get, stored: list[Transaction]) -> None:
    second = get(page="2").text
    assert caption(second) == (PAGE_SIZE + 1, 2 * PAGE_SIZE, len(stored))
    assert f"Showing 51\u2013100 of {len(stored):,} transactions" in second
    assert 'rel="prev" href="?sort=date&amp;order=desc"' in second
    assert 'rel="next" href="?sort=date&amp;order=desc&amp;page=3"' in second
    rows = every_page(get, sort="amount", order="desc")
    assert len(rows) == len(stored) == len({key for key, _ in rows})
    assert {key for key, _ in rows} == {r.id for r in stored}


def _filters(
    stored: list[Transaction], accounts: dict[str, str], store: Store
) -> list[tuple[dict[str, str], Callable[[Transaction], bool]]]:
    known = search_truth.words(store)

    def holding(typed: str) -> set[str]:
        """The transactions whose words hold what was typed, as Search finds them (each
        word the start of a word, case and accents aside), worked out from the rows."""
        found = search_truth.expected(store, typed, known)
        return {key for category, key in found if category is Category.transactions}

    amazon, card_4821, uber = holding("amazon"), holding("CARD 4821"), holding("uber")

    card = next(key for key, name in accounts.items() if name == "Rewards Mastercard")
    middle = sorted(local_day(r) for r in stored)[len(stored) // 2]
    return [
        ({"account": card}, lambda r: r.account_id == card),
        ({"since": middle.isoformat()}, lambda r: local_day(r) >= middle),
        ({"until": middle.isoformat()}, lambda r: local_day(r) <= middle),
        (
            {"since": middle.isoformat(), "until": (middle + timedelta(days=20)).isoformat()},
            lambda r: middle <= local_day(r) <= middle + timedelta(days=20),
        ),
        (
            {"low": "-82.40", "high": "-8.62"},
            lambda r: Decimal("-82.40") <= r.amount <= Decimal("-8.62"),
        ),
        ({"low": "100"}, lambda r: r.amount >= 100),
        ({"high": "-500"}, lambda r: r.amount <= -500),
        ({"counterparty": "Waitrose"}, lambda r: (r.counterparty or r.merchant_name) == "Waitrose"),
        ({"q": "amazon"}, lambda r: r.id in amazon),
        ({"q": "CARD 4821"}, lambda r: r.id in card_4821),
        (
            {"account": card, "q": "uber", "high": "-20"},
            lambda r: r.account_id == card and r.id in uber and r.amount <= -20,
        ),
    ]


def test_every_filter_narrows_to_exactly_the_matching_transactions(
    get: Get, store: Store, stored: list[Transaction]
) -> None:
    accounts = {row["id"]: row["name"] for row in store.rows(Account)}
    for query, wanted in _filters(stored, accounts, store):
        expected = sorted((r for r in stored if wanted(r)), key=lambda r: (r.booked_at, r.id))
        assert 0 < len(expected) < len(stored), query  # each filter really narrows
        rows = every_page(get, **query, order="asc")
        assert [key for key, _ in rows] == [r.id for r in expected], query


def test_each_row_links_to_its_record_shows_its_currency_and_marks_pending_ones(
    get: Get, stored: list[Transaction]
) -> None:
    page = get().text
    pending = {r.id for r in stored if r.state is State.pending}
    assert pending and {r.id for r in stored[:0]} == set()
    rows = re.findall(r'<tr class="transaction( pending)?" data-id="([^"]+)"(.*?)</tr>', page, re.S)
    by_id = {r.id: r for r in stored}
    for marked, key, body in rows:
        assert f'href="/record/transactions/{key}"' in body
        row = by_id[key]
        assert html.escape(money(row.amount, row.currency), quote=False) in body
        assert row.booked_at.astimezone().strftime("%Y-%m-%d %H:%M") in body
        assert bool(marked) == (key in pending) == ('<span class="tag">pending</span>' in body)
    assert pending <= {key for _, key, _ in rows}  # the newest: all on the first page


def test_monthly_money_in_and_out_equal_the_exact_sums_of_the_transactions(
    get: Get, stored: list[Transaction]
) -> None:
    assert_monthly_sums(get().text, stored)


def assert_monthly_sums(page: str, stored: list[Transaction]) -> None:
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for row in stored:
        if row.state in (State.pending, State.rejected):
            continue  # money that has not moved
        month = row.booked_at.astimezone().strftime("%Y-%m")
        sums[(row.currency, month)][0 if row.amount > 0 else 1] += abs(row.amount)
    shown = re.findall(
        r'<tr class="month" data-month="([^"]+)" data-currency="([^"]+)">.*?'
        r'money-in">([^<]*)</td>.*?money-out">([^<]*)</td>',
        page,
        re.S,
    )
    assert len(shown) == len(sums) > 20
    for month, currency, money_in, money_out in shown:
        got = sums[(currency, month)]
        assert html.unescape(money_in) == money(got[0], currency), month
        assert html.unescape(money_out) == money(got[1], currency), month
    assert 'data-points="' + str(2 * len(sums)) + '"' in page  # a bar in and a bar out a month


def test_months_are_the_persons_own_in_their_time_zone(
    store: Store, stored: list[Transaction], monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = ZoneInfo("America/St_Johns")  # UTC-3:30, and -2:30 in summer
    moved = [r for r in stored if r.state is not State.pending]
    straddle = [
        r
        for r in moved
        if r.booked_at.astimezone(zone).strftime("%m") != r.booked_at.strftime("%m")
    ]
    assert straddle  # some transactions fall in another month there than in UTC
    # The view of a person whose zone is St John's (the expected sums, computed with
    # astimezone(), follow TZ).
    monkeypatch.setenv("TZ", "America/St_Johns")
    time.tzset()
    try:
        with ViewServer(store, zone=zone) as there, browser(there) as client:
            page = client.get(there.url + "money").text
        assert_monthly_sums(page, stored)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_accounts_are_listed_first_with_their_latest_balances(get: Get, store: Store) -> None:
    page = get().text
    section = page[: page.index("Balances over time")]
    balances = [Balance.model_validate(row) for row in store.rows(Balance)]
    money_accounts = {b.account_id for b in balances if b.currency}
    accounts = {
        row["id"]: row["name"] for row in store.rows(Account) if row["id"] in money_accounts
    }
    assert len(accounts) == 2
    for key, name in accounts.items():
        mine = [b for b in balances if b.account_id == key]
        latest = max(b.as_of for b in mine)
        assert f'<a href="/record/accounts/{key}">{name}</a>' in section
        for b in mine:
            text = f"{b.balance_type_label}: <strong>{html.escape(money(b.amount, b.currency))}</strong>"
            assert (text in section) == (b.as_of == latest), b.balance_type


def test_balances_over_time_draw_the_providers_balance_at_the_end_of_each_day(
    get: Get, store: Store, stored: list[Transaction]
) -> None:
    page = get().text
    days = {(r.account_id, local_day(r)) for r in stored if r.balance_after is not None}
    chart = page[page.index("Balances over time") : page.index("Money in and out per month")]
    assert f'data-points="{len(days)}"' in chart
    [card] = [row["id"] for row in store.rows(Account) if row["name"] == "Rewards Mastercard"]
    ends: dict[date, Transaction] = {}
    for row in sorted(stored, key=lambda r: (r.booked_at, r.id)):
        if row.account_id == card and row.balance_after is not None:
            ends[local_day(row)] = row  # the day's last transaction wins
    assert len(ends) < 400  # few enough that every point is drawn with its title
    for row in ends.values():
        assert row.balance_after is not None
        moment = row.booked_at.astimezone().strftime("%Y-%m-%d %H:%M")
        assert f"{moment}: {row.balance_after:,} GBP</title>" in chart


def test_bad_filter_values_are_named_on_the_page_and_left_out(
    get: Get, stored: list[Transaction]
) -> None:
    answer = get(since="2026-13-40", low="abc", high="12")
    assert answer.status_code == 200
    problems = answer.text[answer.text.index('class="problems"') :]
    assert "From date: &#39;2026-13-40&#39; is not a date between the years" in problems
    assert "Amount from: &#39;abc&#39; is not an amount" in problems
    assert "To date" not in problems.split("</div>")[0]
    # The readable filter still applies; the two bad ones are left out.
    assert caption(answer.text)[2] == sum(1 for r in stored if r.amount <= 12)
    assert 'value="2026-13-40"' not in answer.text
    far = get(until="9999-12-31", high="1e999999", low="NaN")
    assert far.status_code == 200
    assert "To date: &#39;9999-12-31&#39; is not a date between" in far.text
    assert "Amount from: &#39;NaN&#39; is not an amount" in far.text
    assert caption(far.text)[2] == len(stored)  # 1e999999 is an amount, above every one


HOSTILE = "<script>alert('owned')</script><b>bold</b>\u202ekcatta"

PLUGIN = f'''
"""The Demo Bank as "sly": one transaction's description is hostile text, and no
transaction states the balance after it."""
import dataclasses
from portal import hookimpl
from portal_bank import plugin as bank

SLY = dataclasses.replace(bank.PROVIDER, name="sly", display_name="Sly")

@hookimpl
def register_providers(register):
    register(SLY)

@hookimpl
def fetch(client, cursors):
    yield from bank.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    found = bank.normalise(stream, item, ref)
    if stream.partition(":")[0] == "transactions":
        found = [t.model_copy(update={{"balance_after": None}}) for t in found]
        if found and "NETFLIX" in found[0].description:
            found[0] = found[0].model_copy(update={{"description": {HOSTILE!r}}})
    return found
'''


@pytest.fixture(scope="module")
def sly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A store holding the Demo Bank and "sly", both synced through the real OAuth flow."""
    home, results = synced_home(tmp_path_factory.mktemp("money"), "sly", PLUGIN)
    assert all(result.ok for result in results.values()), results
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    yield store
    store.close()


def money_page(store: Store, **query: str) -> str:
    with ViewServer(store) as server, browser(server) as client:
        answer = client.get(server.url + "money", params=query)
    assert answer.status_code == 200
    return answer.text


def test_hostile_provider_text_in_a_description_is_shown_as_text(sly: Store) -> None:
    planted = [
        t
        for t in map(Transaction.model_validate, sly.rows(Transaction, "sly"))
        if t.description == HOSTILE
    ]
    assert planted
    page = money_page(sly, q="<script>")
    assert caption(page)[2] == len(planted)
    assert "&lt;script&gt;alert(" in page
    assert "<script" not in page and "<b>bold" not in page
    assert "\u202e" not in page and "\\u202e" in page


def test_without_a_balance_after_each_transaction_the_chart_draws_the_snapshots_and_says_so(
    sly: Store,
) -> None:
    page = money_page(sly)
    chart = page[page.index("Balances over time") : page.index("Money in and out per month")]
    accounts = {row["id"]: row["name"] for row in sly.rows(Account, "sly")}
    balances = [Balance.model_validate(row) for row in sly.rows(Balance, "sly")]
    drawn = 0
    for key, name in accounts.items():
        kinds = Counter(b.balance_type for b in balances if b.account_id == key)
        most = max(kinds.values())
        drawn += most
        many = "snapshot" if most == 1 else "snapshots"
        assert f"{name} (sly): {most} balance {many} (" in chart  # two banks: named apart
        assert f"{name} (bank): the balance after the last transaction of every day" in chart
    days = {
        (t.account_id, local_day(t))
        for t in map(Transaction.model_validate, sly.rows(Transaction, "bank"))
        if t.balance_after is not None
    }
    assert f'data-points="{len(days) + drawn}"' in chart


def test_an_empty_store_says_what_would_fill_the_page(tmp_path: Path) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    try:
        page = money_page(store)
    finally:
        store.close()
    assert "No bank or card accounts yet: connect your bank with" in page
    assert "No balances yet" in page and "No transactions yet" in page
    assert "No transactions match" in page and 'data-points="' not in page
