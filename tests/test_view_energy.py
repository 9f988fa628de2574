"""``portal view``'s Energy page: each meter's use per local day and per reading of one day,
estimated readings counted and marked, the tariffs, and each bill with its lines and the
readings of its period.

The demo store (the four bundled sandboxes synced through the real OAuth flow), the real
server on a real socket and httpx as the browser. Every figure the page shows is checked
against the store's own rows, summed here in Python with Decimals by London day: the demo
meters' days span both clock changes (26 October 2025, 29 March 2026).
"""

import re
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from portal.record import Bill, Product, Usage
from portal.store import Store, sqlite_url
from portal.view import ViewServer
from view_homes import assert_guarded, browser, charts_in, synced_home

LONDON = ZoneInfo("Europe/London")
MILLI = Decimal("0.001")
HOSTILE = "<script>alert('owned')</script><b>bold</b>\u202ekcatta"

PLUGIN = f'''
"""Demo Energy as "sly": its first tariff's name and each bill's first line are hostile."""
import dataclasses
from portal import hookimpl
from portal.record import Bill, Product
from portal_utility import plugin as utility

HOSTILE = {HOSTILE!r}
SLY = dataclasses.replace(utility.PROVIDER, name="sly", display_name="Sly")

@hookimpl
def register_providers(register):
    register(SLY)

@hookimpl
def fetch(client, cursors):
    yield from utility.fetch(client, cursors)

@hookimpl
def normalise(stream, item, ref):
    out = []
    for entity in utility.normalise(stream, item, ref):
        if isinstance(entity, Product):
            entity = Product.model_validate({{**entity.model_dump(), "name": HOSTILE}})
        if isinstance(entity, Bill) and entity.lines:
            first = {{**entity.lines[0].model_dump(), "description": HOSTILE}}
            lines = [first, *[line.model_dump() for line in entity.lines[1:]]]
            entity = Bill.model_validate({{**entity.model_dump(), "lines": lines}})
        out.append(entity)
    return out
'''


@pytest.fixture(scope="module", autouse=True)
def in_london() -> Iterator[None]:
    """The person lives in London: their days are London's, with its clock changes."""
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
def readings(store: Store) -> list[Usage]:
    return [Usage.model_validate(row) for row in store.rows(Usage, "utility")]


def energy(server: ViewServer, query: str = "") -> httpx.Response:
    with browser(server) as client:
        return client.get(server.url + "energy" + query)


def meters_of(page: str) -> dict[str, str]:
    """Each meter's section of the page, by its heading."""
    sections = re.findall(r'<section class="meter".*?</section>', page, re.S)
    return {re.search(r"<h2[^>]*>(.*?)</h2>", s).group(1): s for s in sections}  # type: ignore[union-attr]


def by_day(readings: list[Usage], unit: str) -> dict[date, list[Usage]]:
    days: dict[date, list[Usage]] = defaultdict(list)
    for reading in readings:
        if reading.unit == unit:
            days[reading.started_at.astimezone(LONDON).date()].append(reading)
    return days


def estimated(reading: Usage) -> bool:
    # Independently of the page's code list: the words the provider gave the quality.
    return (reading.quality_label or "").startswith("Estimated")


def shown(value: Decimal, unit: str) -> str:
    """A value as a chart's mark shows it: to the Wh or the litre."""
    return f"{value.quantize(MILLI):,} {unit}"


def said(value: Decimal, unit: str) -> str:
    """A value as the page's text says it (Babel drops trailing zeros)."""
    return f"{value.quantize(MILLI).normalize():,f} {unit}"


@pytest.mark.parametrize(
    ("first", "last"),
    [(date(2026, 3, 20), date(2026, 4, 10)), (date(2025, 10, 20), date(2025, 11, 2))],
    ids=["across the spring change", "across the autumn change"],
)
def test_each_meter_shows_its_use_per_local_day_as_the_store_sums_it(
    server: ViewServer, readings: list[Usage], first: date, last: date
) -> None:
    answer = energy(server, f"?from={first}&to={last}")
    assert answer.status_code == 200
    assert_guarded(answer)
    meters = meters_of(answer.text)
    assert list(meters) == [
        "Electricity used: Electricity supply 1900018742138",
        "Gas used: Gas supply 7405213906",
    ]
    for heading, unit in zip(meters, ("kWh", "m3"), strict=True):
        days = by_day(readings, unit)
        wanted = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        expected = {
            d.isoformat(): shown(sum((r.quantity for r in days[d]), Decimal(0)), unit)
            for d in wanted
        }
        daily = charts_in(meters[heading])[0]
        assert daily.values(0) == expected
        assert daily.points == len(wanted) + sum(1 for d in wanted if any(map(estimated, days[d])))
        total = sum((r.quantity for d in wanted for r in days[d]), Decimal(0)).quantize(MILLI)
        assert f"<strong>{said(total, unit)}</strong> used" in meters[heading]
    # Never a kWh added to a cubic metre: each chart names its own unit.
    electricity, gas = (charts_in(s)[0] for s in meters.values())
    assert electricity.title.endswith("(kWh)") and gas.title.endswith("(m3)")


def test_a_half_hour_starting_at_23_30_utc_in_summer_belongs_to_the_next_local_day(
    server: ViewServer, readings: list[Usage]
) -> None:
    late = next(
        r for r in readings if r.started_at == datetime.fromisoformat("2026-04-01T23:30:00+00:00")
    )
    page = meters_of(energy(server, "?from=2026-04-01&to=2026-04-02&day=2026-04-02").text)
    electricity = next(iter(page.values()))
    daily, each = charts_in(electricity)
    assert each.values(0)["00:30"] == shown(late.quantity, "kWh")  # 00:30 in London, 2 April
    days = by_day(readings, "kWh")
    assert late in days[date(2026, 4, 2)]
    assert daily.values(0)["2026-04-02"] == shown(
        sum((r.quantity for r in days[date(2026, 4, 2)]), Decimal(0)), "kWh"
    )
    utc_day = [r for r in readings if r.unit == "kWh" and r.started_at.date() == date(2026, 4, 2)]
    assert daily.values(0)["2026-04-02"] != shown(
        sum((r.quantity for r in utc_day), Decimal(0)), "kWh"
    )


@pytest.mark.parametrize(
    ("day", "count", "hours"),
    [("2026-04-16", 48, 24), ("2026-03-29", 46, 23), ("2025-10-26", 50, 25)],
    ids=["an ordinary day", "spring forward", "autumn back"],
)
def test_a_days_readings_are_its_half_hours_46_or_50_when_the_clocks_change(
    server: ViewServer, readings: list[Usage], day: str, count: int, hours: int
) -> None:
    electricity = next(iter(meters_of(energy(server, f"?day={day}").text).values()))
    each = charts_in(electricity)[1]
    stored = by_day(readings, "kWh")[date.fromisoformat(day)]
    assert len(stored) == count
    assert each.points == count and len(each.values(0)) == count
    assert each.title == f"Electricity used, each reading on {day} (kWh)"
    assert list(each.values(0).values()) == [
        shown(r.quantity, "kWh") for r in sorted(stored, key=lambda r: r.started_at)
    ]
    if hours != 24:
        assert f"it had {hours} hours" in electricity
        labels = list(each.values(0))
        assert labels[0] == ("00:00 GMT" if hours == 23 else "00:00 BST")
        assert ("01:00 BST" in labels and "01:00 GMT" in labels) == (hours == 25)
    else:
        assert "it had" not in electricity and next(iter(each.values(0))) == "00:00"


def test_the_latest_day_with_readings_is_shown_when_no_day_is_chosen(
    server: ViewServer, readings: list[Usage]
) -> None:
    latest = max(r.started_at for r in readings if r.unit == "kWh").astimezone(LONDON).date()
    electricity = next(iter(meters_of(energy(server).text).values()))
    assert f"<h3>Each reading on {latest}</h3>" in electricity
    daily = charts_in(electricity)[0]
    assert list(daily.values(0))[-1] == latest.isoformat()
    assert next(iter(daily.values(0))) == (latest - timedelta(days=89)).isoformat()


def test_estimated_readings_are_counted_and_marked(
    server: ViewServer, readings: list[Usage]
) -> None:
    page = meters_of(energy(server, "?from=2025-11-01&to=2026-02-28&day=2025-11-19").text)
    for section, unit in zip(page.values(), ("kWh", "m3"), strict=True):
        days = {
            d: rs for d, rs in by_day(readings, unit).items()
            if date(2025, 11, 1) <= d <= date(2026, 2, 28)
        }  # fmt: skip
        guessed = {d: [r for r in rs if estimated(r)] for d, rs in days.items()}
        count = sum(len(rs) for rs in guessed.values())
        assert count  # the demo meters each have estimated readings in these months
        assert f'<span class="estimated">{count} reading{"" if count == 1 else "s"} w' in section
        daily = charts_in(section)[0]
        assert daily.values(1) == {
            d.isoformat(): shown(sum((r.quantity for r in rs), Decimal(0)), unit)
            for d, rs in sorted(guessed.items()) if rs
        }  # fmt: skip
    electricity = next(iter(page.values()))
    on_the_day = [r for r in by_day(readings, "kWh")[date(2025, 11, 19)] if estimated(r)]
    each = charts_in(electricity)[1]
    assert len(each.values(1)) == len(on_the_day) == 12
    assert each.points == 48 + 12
    assert "12 of these readings were estimated" in electricity
    assert electricity.count('<tr class="reading estimated">') == 12
    assert "Estimated by linear interpolation" in electricity


def test_tariffs_show_their_dates_and_rates(server: ViewServer, store: Store) -> None:
    page = energy(server).text
    rows = re.findall(r'<tr class="tariff">(.*?)</tr>', page, re.S)
    tariffs = [Product.model_validate(r) for r in store.rows(Product, "utility")]
    assert len(rows) == len(tariffs) == 4
    for tariff in tariffs:
        [row] = [r for r in rows if f">{tariff.name}</a>" in r]
        assert f'href="/record/products/{tariff.id}"' in row
        assert f"<td>{tariff.valid_from}</td>" in row
        assert f"<td>{tariff.valid_to or 'still in force'}</td>" in row
        for price in tariff.prices:
            assert f"{price.label}: £{price.amount.normalize():f}" in row


def test_each_bill_lists_its_lines_and_the_readings_of_its_period(
    server: ViewServer, store: Store, readings: list[Usage]
) -> None:
    page = energy(server).text
    bills = sorted(
        (Bill.model_validate(r) for r in store.rows(Bill, "utility")),
        key=lambda b: b.period_start, reverse=True,
    )  # fmt: skip
    articles = re.findall(r'<article class="bill".*?</article>', page, re.S)
    assert f"Showing 1\u2013{len(bills)} of {len(bills)} bills" in page  # an en dash
    assert len(articles) == len(bills) == 12
    for bill in bills:
        [article] = [a for a in articles if f'href="/record/bills/{bill.id}"' in a]
        lines = re.findall(r'<tr class="line">(.*?)</tr>', article, re.S)
        assert len(lines) == len(bill.lines)
        for line, row in zip(bill.lines, lines, strict=True):
            assert f"<td>{line.description}</td>" in row
            assert f"£{line.amount.quantize(Decimal('0.01')):,}" in row
        mine = [
            r for r in readings
            if r.account_id == bill.account_id
            and bill.period_start <= r.started_at.astimezone(LONDON).date() <= bill.period_end
        ]  # fmt: skip
        total = sum((r.quantity for r in mine), Decimal(0)).quantize(MILLI)
        assert f"<strong>{len(mine):,}</strong> readings" in article
        assert f"<strong>{said(total, mine[0].unit)}</strong> in all" in article
        guessed = sum(1 for r in mine if estimated(r))
        assert (f"{guessed} estimated</span>" in article) == bool(guessed)
        used = [line.quantity for line in bill.lines if line.category_label == "Energy used"]
        assert sum(q or 0 for q in used) == total  # the bill reconciles with its readings


def test_a_date_that_cannot_be_read_is_refused_naming_it(server: ViewServer) -> None:
    for query, words in [
        ("?from=yesterday", "from='yesterday'"),
        ("?day=2026-02-30", "day='2026-02-30'"),
        ("?from=2026-04-10&to=2026-04-01", "comes after the last"),
        ("?from=2024-01-01&to=2026-04-01", "choose a shorter range"),
        ("?page=0", "page='0'"),
        ("?page=9", "there is only 1 page of bills"),
    ]:
        answer = energy(server, query)
        assert answer.status_code == 400, query
        assert words in answer.text, answer.text
        assert_guarded(answer)


def test_an_empty_store_says_what_would_fill_it(tmp_path: Path) -> None:
    Store(sqlite_url(tmp_path / "portal.db")).close()
    store = Store(sqlite_url(tmp_path / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as server:
            answer = energy(server)
    finally:
        store.close()
    assert answer.status_code == 200
    assert "No energy data yet: connect your supplier" in answer.text
    assert "<svg" not in answer.text


@pytest.fixture(scope="module")
def hostile_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from portal_utility.sandbox import UtilitySandbox

    home, results = synced_home(
        tmp_path_factory.mktemp("energy"), "sly", PLUGIN, base="utility", sandbox=UtilitySandbox
    )
    assert all(result.ok for result in results.values()), results
    return home


def test_hostile_provider_text_in_a_tariff_name_or_bill_line_is_shown_as_text(
    hostile_home: Path,
) -> None:
    store = Store(sqlite_url(hostile_home / "portal.db"), read_only=True)
    try:
        with ViewServer(store) as server:
            page = energy(server, "?page=2").text
            first = energy(server).text
    finally:
        store.close()
    for text in (first, page):
        assert "<script" not in text and "<b>bold" not in text
        assert "\u202e" not in text
    assert first.count("&lt;script&gt;alert(") >= 1 and "\\u202e" in first
    tariffs = re.findall(r'<tr class="tariff">(.*?)</tr>', first, re.S)
    assert sum("&lt;script&gt;" in row for row in tariffs) == 4  # sly's four tariffs
    lines = re.findall(r'<tr class="line">(.*?)</tr>', first + page, re.S)
    assert sum("&lt;script&gt;" in row for row in lines) == 12  # sly's bills' first lines
