"""``portal view``'s Phone page: each line's calls, messages and data per month with what was
used abroad, where it roamed, and its bills with their charges.

The demo store (the four bundled sandboxes synced through the real OAuth flow), the real
server on a real socket and httpx as the browser. Every figure is checked against the
store's own rows, summed here in Python with Decimals by London month: the demo phone was
taken to Spain in July and to the United States in September.
"""

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from portal.record import Account, Bill, Usage
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from view_homes import assert_guarded, browser, charts_in, synced_home

LONDON = ZoneInfo("Europe/London")
HOSTILE = "<script>alert('owned')</script><b>bold</b>\u202ekcatta"

PLUGIN = f'''
"""Demo Telecom as "sly": the first charge of each of its bills is hostile text."""
import dataclasses
from portal import hookimpl
from portal.record import Bill
from portal_telco import plugin as telco

HOSTILE = {HOSTILE!r}
SLY = dataclasses.replace(telco.PROVIDER, name="sly", display_name="Sly")

@hookimpl
def register_providers(register):
    register(SLY)

@hookimpl
def fetch(client, cursors):
    yield from telco.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    out = []
    for entity in telco.normalise(stream, item, ref):
        if isinstance(entity, Bill) and entity.lines:
            first = {{**entity.lines[0].model_dump(), "description": HOSTILE}}
            lines = [first, *[line.model_dump() for line in entity.lines[1:]]]
            entity = Bill.model_validate({{**entity.model_dump(), "lines": lines}})
        out.append(entity)
    return out
'''


@pytest.fixture(scope="module", autouse=True)
def in_london() -> Iterator[None]:
    """The person lives in London: their months are London's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "Europe/London")
        time.tzset()
        yield
    time.tzset()


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
def usage(store: Store) -> list[Usage]:
    return [Usage.model_validate(row) for row in store.rows(Usage, "telco")]


@pytest.fixture(scope="module")
def names(store: Store) -> dict[str, str]:
    accounts = (Account.model_validate(row) for row in store.rows(Account, "telco"))
    return {account.id: account.name for account in accounts}


def phone(server: ViewServer, query: str = "") -> httpx.Response:
    with browser(server) as client:
        return client.get(server.url + "phone" + query)


def lines_of(page: str) -> dict[str, str]:
    """Each line's section of the page, by its heading."""
    sections = re.findall(r'<section class="phone-line".*?</section>', page, re.S)
    return {re.search(r"<h2[^>]*>(.*?)</h2>", s).group(1): s for s in sections}  # type: ignore[union-attr]


def month_of(use: Usage, zone: ZoneInfo = LONDON) -> str:
    return use.started_at.astimezone(zone).strftime("%b %Y")


# How each kind is shown: calls stored in seconds as minutes, data in MB as GB (every month of
# the demo's mobile data passes a gigabyte), messages as they are.
SHOWN = {
    "call": ("Calls", "minutes", "min", Decimal(60), Decimal("0.1")),
    "message": ("Messages", "messages", "msg", Decimal(1), Decimal(1)),
    "data": ("Mobile data", "GB", "GB", Decimal(1000), Decimal("0.01")),
}


def test_each_lines_calls_messages_and_data_per_month_with_roaming_beside(
    server: ViewServer, usage: list[Usage], names: dict[str, str]
) -> None:
    answer = phone(server)
    assert answer.status_code == 200
    assert_guarded(answer)
    lines = lines_of(answer.text)
    used = {u.account_id for u in usage}
    assert sorted(lines) == sorted(names[account] for account in used) and len(lines) == 2
    for account in used:
        assert_months(lines[names[account]], [u for u in usage if u.account_id == account])


def test_months_are_the_persons_own(
    store: Store, usage: list[Usage], names: dict[str, str]
) -> None:
    there = ZoneInfo("Pacific/Kiritimati")  # UTC+14: a call after 10:00 UTC on the 31st
    moved = [u for u in usage if month_of(u, there) != month_of(u)]  # is in the next month
    assert moved
    with ViewServer(store, zone=there) as far:
        lines = lines_of(phone(far).text)
    for account in {u.account_id for u in usage}:
        mine = [u for u in usage if u.account_id == account]
        assert_months(lines[names[account]], mine, there)


def assert_months(section: str, usage: list[Usage], zone: ZoneInfo = LONDON) -> None:
    """``section`` charts ``usage`` (one line's) per month in ``zone``, at home and abroad."""
    charts = {chart.title.split(" per month")[0]: chart for chart in charts_in(section)}
    kinds = sorted({u.kind for u in usage}, key=list(SHOWN).index)
    assert list(charts) == [SHOWN[kind][0] for kind in kinds]
    for kind in kinds:
        title, unit, short, divisor, step = SHOWN[kind]
        home: dict[str, Decimal] = defaultdict(Decimal)
        abroad: dict[str, Decimal] = defaultdict(Decimal)
        for u in usage:
            if u.kind == kind:
                home[month_of(u, zone)] += 0 if u.roaming else u.quantity
                if u.roaming:
                    abroad[month_of(u, zone)] += u.quantity
        chart = charts[title]
        assert chart.title.endswith(f"({unit})")
        assert chart.values(0) == {
            month: f"{(value / divisor).quantize(step):,} {short}" for month, value in home.items()
        }
        assert chart.values(1) == {
            month: f"{(value / divisor).quantize(step):,} {short}"
            for month, value in abroad.items()
        }
        assert chart.points == len(home) + len(abroad)
        count = sum(1 for u in usage if u.kind == kind)
        assert f"{title}: <strong>{count}</strong>" in section


def test_roaming_is_listed_by_country_and_month_with_its_charges(
    server: ViewServer, usage: list[Usage], names: dict[str, str]
) -> None:
    abroad = [u for u in usage if u.roaming]
    assert {u.country for u in abroad} == {"ES", "US"}
    [mobile] = {u.account_id for u in abroad}
    section = lines_of(phone(server).text)[names[mobile]]
    rows = re.findall(r'<tr class="roaming-use">(.*?)</tr>', section, re.S)
    groups: dict[tuple[str, str, str], list[Usage]] = defaultdict(list)
    for u in abroad:
        groups[(month_of(u), u.country or "", u.kind)].append(u)
    assert len(rows) == len(groups)
    country = {"ES": "Spain (ES)", "US": "United States (US)"}
    for (month, code, kind), uses in groups.items():
        title = SHOWN[kind][0]
        [row] = [
            r for r in rows if f"<td>{month}</td><td>{country[code]}</td><td>{title}</td>" in r
        ]
        assert f'<td class="number">{len(uses)}</td>' in row
        charged = sum((u.charge or Decimal(0) for u in uses), Decimal(0))
        assert f"£{charged.quantize(Decimal('0.01')):,}" in row
    others = [name for account, name in names.items() if account != mobile]
    for name in others:
        if name in lines_of(phone(server).text):
            assert "Nothing was used abroad" in lines_of(phone(server).text)[name]


def test_each_bill_lists_its_charges(server: ViewServer, store: Store) -> None:
    page = phone(server).text
    bills = [Bill.model_validate(r) for r in store.rows(Bill, "telco")]
    articles = re.findall(r'<article class="bill".*?</article>', page, re.S)
    assert f"Showing 1\u2013{len(bills)} of {len(bills)} bills" in page  # an en dash
    assert len(articles) == len(bills) == 11
    starts = [re.search(r": (\d{4}-\d\d-\d\d) to", a).group(1) for a in articles]  # type: ignore[union-attr]
    assert starts == sorted(starts, reverse=True)  # newest first
    for bill in bills:
        [article] = [a for a in articles if f'href="/record/bills/{bill.id}"' in a]
        assert f"£{bill.total.quantize(Decimal('0.01')):,}" in article
        assert f"<dd>{bill.status_label}</dd>" in article
        rows = re.findall(r'<tr class="line">(.*?)</tr>', article, re.S)
        assert len(rows) == len(bill.lines)
        for line, row in zip(bill.lines, rows, strict=True):
            assert f"<td>{line.description}</td>" in row
            amount = f"{abs(line.amount).quantize(Decimal('0.01')):,}"
            assert (f"-£{amount}" if line.amount < 0 else f"£{amount}") in row


def test_a_range_of_days_narrows_every_chart(server: ViewServer, usage: list[Usage]) -> None:
    section = next(
        s for s in lines_of(phone(server, "?from=2026-07-01&to=2026-07-31").text).values()
        if "Used abroad" in s
    )  # fmt: skip
    for chart in charts_in(section):
        assert set(chart.values(0)) == {"Jul 2026"}
    assert "Sep 2026" not in section and "United States" not in section
    answer = phone(server, "?to=2026-13-01")
    assert (
        answer.status_code == 400 and "The last day (to='2026-13-01') is not a date" in answer.text
    )


def test_an_empty_store_says_what_would_fill_it(tmp_path: Path) -> None:
    Store(sqlite_url(tmp_path / "portal.db")).close()
    store = Store(sqlite_url(tmp_path / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as server:
            answer = phone(server)
    finally:
        store.close()
    assert answer.status_code == 200
    assert "No phone data yet: connect your phone company" in answer.text


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from portal_telco.sandbox import TelcoSandbox

    home, results = synced_home(
        tmp_path_factory.mktemp("phone"), "sly", PLUGIN, base="telco", sandbox=TelcoSandbox
    )
    assert all(result.ok for result in results.values()), results
    return home


def test_hostile_provider_text_in_a_bill_line_is_shown_as_text(hostile_home: Path) -> None:
    store = Store(sqlite_url(hostile_home / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as server:
            pages = [phone(server).text, phone(server, "?page=2").text]
    finally:
        store.close()
    for text in pages:
        assert "<script" not in text and "<b>bold" not in text and "\u202e" not in text
    lines = re.findall(r'<tr class="line">(.*?)</tr>', "".join(pages), re.S)
    hostile = [row for row in lines if "&lt;script&gt;alert(" in row]
    assert len(hostile) == 11 and all("\\u202e" in row for row in hostile)  # sly's 11 bills
