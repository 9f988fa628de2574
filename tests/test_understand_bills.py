"""Bills checked against the usage they charge for and the tariff that applied (issue 19.4).

The demo's bills are checked as the sync brings them; a bill altered afterwards (written
through the store's own write path, as a sync would write a provider's correction) is
reported with the difference in words; a bill with no usage in its period cannot be checked
and says why; a run with nothing new checks nothing again.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from portal.batch import Batch
from portal.cli import cli
from portal.demo import demo_home
from portal.record import Bill, Usage
from portal.record.base import READ_FROM_STORE
from portal.record.ids import portal_id
from portal.store import Store, sqlite_url
from portal.understand import understand
from portal.understand.bills import BillsStep
from portal.view import ViewServer
from view_homes import browser

METERED = {"utility"}
RATED = {"telco"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with the four sandboxes synced (the bills step ran after the sync)."""
    home = tmp_path_factory.mktemp("bills") / "home"
    demo_home(home)
    return home


@pytest.fixture
def store(demo: Path, tmp_path: Path) -> Store:
    """A copy of the demo store, for a test that changes it."""
    shutil.copy(demo / "portal.db", tmp_path / "portal.db")
    return Store(sqlite_url(tmp_path / "portal.db"))


def _rows(store: Store, query: str, **params: Any) -> list[Any]:
    with store.engine.connect() as db:
        return list(db.execute(text(query), params).all())


def _check(store: Store, bill_number: str) -> dict[str, Any]:
    with store.engine.connect() as db:
        row = db.execute(
            text(
                "SELECT c.* FROM bill_checks c JOIN bills b ON b.id = c.bill_id"
                " WHERE b.bill_number = :n"
            ),
            {"n": bill_number},
        ).one()
    return dict(row._mapping)


def _bill(store: Store, bill_number: str) -> Bill:
    (row,) = [r for r in store.rows(Bill) if r["bill_number"] == bill_number]
    return Bill.model_validate(row, context={READ_FROM_STORE: True})


def _write(store: Store, *records: Bill | Usage) -> None:
    """Write records as a sync writes a provider's page: one batch through Store.commit."""
    now = datetime.now(UTC)
    for n, record in enumerate(records):
        record.fetched_at = now
        record.raw_id = f"changed-in-test-{now.timestamp()}-{n}"
    first = records[0]
    batch = Batch(
        provider=first.provider,
        connection_id=first.connection_id,
        stream="test",
        fetched_at=now,
        records=list(records),
    )
    store.commit(batch)


def _altered(bill: Bill, line: int, **changes: Any) -> Bill:
    lines = [ln.model_copy(update=changes) if i == line else ln for i, ln in enumerate(bill.lines)]
    return bill.model_copy(update={"lines": lines})


def _first(
    store: Store, provider: str, predicate: Callable[[Bill], bool], *, last: bool = False
) -> Bill:
    bills = sorted(
        (Bill.model_validate(r, context={READ_FROM_STORE: True}) for r in store.rows(Bill)),
        key=lambda b: (b.period_start, b.bill_number),
        reverse=last,
    )
    return next(b for b in bills if b.provider == provider and predicate(b))


def test_on_the_demo_every_utility_and_telco_bill_agrees(store: Store) -> None:
    bills = _rows(
        store, "SELECT id, provider, extra FROM bills WHERE provider IN ('utility', 'telco')"
    )
    checks = {r.bill_id: r for r in _rows(store, "SELECT * FROM bill_checks")}
    assert set(checks) == {b.id for b in bills}  # every one checked (and no card statement)
    assert {checks[b.id].outcome for b in bills} == {"agrees"}, [
        checks[b.id].message for b in bills if checks[b.id].outcome != "agrees"
    ]
    for bill in bills:
        if bill.provider in METERED:
            # The provider's own summary of the period's consumption, beside the readings.
            stated = json.loads(bill.extra)["consumption"]
            assert Decimal(str(checks[bill.id].usage_quantity)) == Decimal(stated["quantity"])
            assert checks[bill.id].unit == stated["unit"]
    # The same from scratch, and the step's line in the sync summary's words.
    (finding,) = understand(store, again=True, only=["bills"])
    assert finding.summary == f"{len(bills)} bills checked: {len(bills)} agree"


def test_a_bill_that_charges_more_than_was_used_says_by_how_much(store: Store) -> None:
    bill = _first(store, "utility", lambda b: any(ln.unit == "kWh" for ln in b.lines))
    line = next(i for i, ln in enumerate(bill.lines) if ln.unit == "kWh")
    used = bill.lines[line].quantity
    assert used is not None
    _write(store, _altered(bill, line, quantity=used + Decimal("14.3")))
    (finding,) = understand(store, only=["bills"])
    assert finding.summary == "1 bill checked: 1 differs (see portal bills --problems)"
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert Decimal(str(check["difference"])) == Decimal("14.3")
    billed = f"{used + Decimal('14.3'):f}".rstrip("0").rstrip(".")
    said = f"{used:f}".rstrip("0").rstrip(".")
    assert (
        f"charges {billed} kWh; your meter readings for that period add up to {said} kWh"
        " (14.3 kWh more billed than used)." in check["message"]
    )
    assert check["message"].startswith(f"Your bill {bill.bill_number} for Electricity supply")


def test_a_bill_whose_total_was_altered_says_what_its_lines_come_to(store: Store) -> None:
    bill = _first(store, "utility", lambda b: True)
    _write(store, bill.model_copy(update={"total": bill.total + Decimal("1.00")}))
    understand(store, only=["bills"])
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert Decimal(str(check["difference"])) == Decimal("1.00")
    assert (
        f"totals £{bill.total + 1:.2f}; its lines at the tariff come to £{bill.total:.2f}"
        " (£1.00 more than they add up to)." in check["message"]
    )


def test_a_line_priced_above_its_tariff_names_the_rate(store: Store) -> None:
    bill = _first(store, "utility", lambda b: any(ln.unit == "kWh" for ln in b.lines))
    line = next(i for i, ln in enumerate(bill.lines) if ln.unit == "kWh")
    amount = bill.lines[line].amount
    altered = _altered(bill, line, amount=amount + Decimal("2.00"))
    _write(store, altered.model_copy(update={"total": bill.total + Decimal("2.00")}))
    understand(store, only=["bills"])
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert Decimal(str(check["difference"])) == Decimal("2.00")
    assert (
        f"charges £{amount + 2:.2f} for “{bill.lines[line].description}”, where" in check["message"]
    )
    assert f"p/kWh comes to £{amount:.2f}." in check["message"]


def test_a_phone_bill_charging_more_than_its_usage_was_rated_at_is_reported(store: Store) -> None:
    bill = _first(store, "telco", lambda b: any(ln.unit == "minute" for ln in b.lines))
    line = next(i for i, ln in enumerate(bill.lines) if ln.unit == "minute")
    rated = sum(
        (ln.amount for ln in bill.lines if not ln.period_start and ln.unit != "item"), Decimal(0)
    )
    altered = _altered(bill, line, amount=bill.lines[line].amount + Decimal("3.00"))
    _write(store, altered.model_copy(update={"total": bill.total + Decimal("3.00")}))
    understand(store, only=["bills"])
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert (
        f"charges £{rated + 3:.2f} for usage beyond the plan;" in check["message"]
        and f"were rated at £{rated:.2f} (£3.00 more billed than rated)." in check["message"]
    )


def test_a_bill_with_no_usage_in_its_period_cannot_be_checked(store: Store) -> None:
    # The latest bill a year on: its tariff still applies (it has no end), its usage is not in.
    bill = _first(store, "utility", lambda b: any(ln.unit == "kWh" for ln in b.lines), last=True)
    later = timedelta(days=365)
    provider_id = f"{bill.provider_id}-later"
    moved = bill.model_copy(
        update={
            "id": portal_id(bill.provider, "bills", provider_id),
            "provider_id": provider_id,
            "bill_number": f"{bill.bill_number}-later",
            "period_start": bill.period_start + later,
            "period_end": bill.period_end + later,
            "lines": [
                ln.model_copy(update={"period_start": None, "period_end": None})
                for ln in bill.lines
            ],
        }
    )
    _write(store, moved)
    (finding,) = understand(store, only=["bills"])
    assert finding.summary == "1 bill checked: 1 cannot be checked (see portal bills)"
    check = _check(store, moved.bill_number)
    assert check["outcome"] == "cannot_check"
    start, end = moved.period_start, moved.period_end
    assert check["message"].endswith(
        f"cannot be checked: no usage in kWh was released for {start.day} {start:%b}"
        f"\u2013{end.day} {end:%b %Y}."
    )


def test_a_rerun_with_nothing_new_checks_nothing_again(store: Store) -> None:
    before = _rows(store, "SELECT bill_id, checked_at FROM bill_checks ORDER BY bill_id")
    (finding,) = understand(store, only=["bills"])
    assert finding.summary == ""
    assert _rows(store, "SELECT bill_id, checked_at FROM bill_checks ORDER BY bill_id") == before


def test_a_reading_fetched_late_rechecks_only_the_bill_of_its_period(store: Store) -> None:
    bill = _first(store, "utility", lambda b: any(ln.unit == "kWh" for ln in b.lines))
    (reading,) = [
        Usage.model_validate(r, context={READ_FROM_STORE: True})
        for r in store.rows(Usage, "utility")
        if r["account_id"] == bill.account_id
        and r["started_at"].date() == bill.period_start
        and r["started_at"].hour == 12
        and r["started_at"].minute == 0
    ]
    provider_id = f"{reading.provider_id}-late"
    late = reading.model_copy(
        update={
            "id": portal_id("utility", "usage", provider_id),
            "provider_id": provider_id,
            "started_at": reading.started_at + timedelta(minutes=10),
            "quantity": Decimal("1.5"),
        }
    )
    _write(store, late)
    (finding,) = understand(store, only=["bills"])
    assert finding.summary == "1 bill checked: 1 differs (see portal bills --problems)"
    check = _check(store, bill.bill_number)
    assert Decimal(str(check["difference"])) == Decimal("-1.5")
    assert "(1.5 kWh less billed than used)." in check["message"]


def test_portal_bills_lists_each_check_and_problems_only_those_that_differ(
    store: Store, tmp_path: Path
) -> None:
    bill = _first(store, "utility", lambda b: True)
    _write(store, bill.model_copy(update={"total": bill.total + Decimal("1.00")}))
    url = sqlite_url(tmp_path / "portal.db")
    home = ["--home", str(tmp_path / "home"), "--db", url]
    runner = CliRunner()
    every = runner.invoke(cli, [*home, "bills"])
    assert every.exit_code == 0, every.output
    checked = _rows(store, "SELECT count(*) FROM bill_checks")[0][0]
    assert len(every.output.splitlines()) == checked
    problems = runner.invoke(cli, [*home, "bills", "--problems"])
    assert problems.exit_code == 0, problems.output
    (line,) = problems.output.splitlines()
    assert line.startswith(f"utility: DIFFERS: Your bill {bill.bill_number} ")
    telco = runner.invoke(cli, [*home, "bills", "--provider", "telco"])
    assert telco.exit_code == 0 and all(
        ln.startswith("telco: ") for ln in telco.output.splitlines()
    )
    unknown = runner.invoke(cli, [*home, "bills", "--provider", "nosuch"])
    assert unknown.exit_code == 3 and "No provider called 'nosuch'" in unknown.output


def test_gas_billed_by_volume_must_convert_at_a_calorific_value_the_network_delivers(
    store: Store,
) -> None:
    bill = _first(store, "utility", lambda b: any(ln.unit == "m3" for ln in b.lines))
    line = next(i for i, ln in enumerate(bill.lines) if ln.unit == "m3")
    amount = bill.lines[line].amount
    # A fifth more for the same volume: a calorific value near 47 MJ/m3, which no gas has.
    more = (amount / 5).quantize(Decimal("0.01"))
    altered = _altered(bill, line, amount=amount + more)
    _write(store, altered.model_copy(update={"total": bill.total + more}))
    understand(store, only=["bills"])
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert "at the highest calorific value the gas network delivers (43.0 MJ/m3" in check["message"]
    assert Decimal(str(check["billed_amount"])) == amount + more
    assert Decimal(str(check["expected_amount"])) < amount + more


def test_a_bill_whose_days_are_in_an_unknown_zone_cannot_be_checked(store: Store) -> None:
    # As if Demo Energy declared no zone (UTC, the default): its supply points say their
    # local time is not UTC, so which readings fall in a billing day is not known.
    with store.engine.begin() as db:
        finding = BillsStep(zones={"utility": "UTC"}).run(db, None)
    utility = _rows(store, "SELECT count(*) FROM bills WHERE provider = 'utility'")[0][0]
    telco = _rows(store, "SELECT count(*) FROM bills WHERE provider = 'telco'")[0][0]
    assert finding.summary.startswith(f"{utility + telco} bills checked: {telco} agree,")
    said = _rows(
        store,
        "SELECT c.message FROM bill_checks c JOIN bills b ON b.id = c.bill_id"
        " WHERE b.provider = 'utility' AND c.outcome = 'cannot_check'",
    )
    assert len(said) == utility
    assert all("does not say in which time zone its billing days begin" in m for (m,) in said)


def test_the_energy_and_phone_pages_show_each_bills_check_beside_it(store: Store) -> None:
    bill = _first(store, "utility", lambda b: any(ln.unit == "kWh" for ln in b.lines), last=True)
    _write(store, bill.model_copy(update={"total": bill.total + Decimal("1.00")}))
    understand(store, only=["bills"])
    expected = {
        r.bill_id: (r.outcome, r.message) for r in _rows(store, "SELECT * FROM bill_checks")
    }
    reading = Store(store.url, read_only=True)
    try:
        with ViewServer(reading) as server, browser(server) as client:
            pages = [client.get(server.url + name).text for name in ("energy", "phone")]
    finally:
        reading.close()
    articles = re.findall(r'<article class="bill".*?</article>', "".join(pages), re.S)
    assert articles
    words = {"agrees": "Agrees with its usage and tariff.", "differs": "Differs from"}
    shown = 0
    for article in articles:
        (bill_id,) = re.findall(r'href="/record/bills/([^"]+)"', article)
        outcome, message = expected[bill_id]
        assert f'<dd class="check {outcome}"><strong>{words[outcome]}' in article
        assert html.escape(message, quote=True) in article
        shown += outcome == "differs"
    assert shown == 1  # the altered bill, newest of the energy bills, on the first page


def test_a_call_just_after_midnight_in_london_is_on_the_bill_of_that_london_day(
    store: Store,
) -> None:
    # 00:30 on the first day of a summer billing period in London is 23:30 UTC the day
    # before: the call belongs to the period that starts that day, not to the one before.
    bill = _first(
        store, "telco", lambda b: b.period_start.month in (6, 7, 8) and b.period_start.day > 1
    )
    call = next(
        Usage.model_validate(r, context={READ_FROM_STORE: True})
        for r in store.rows(Usage, "telco")
        if r["account_id"] == bill.account_id and r["kind"] == "call"
    )
    london = datetime.combine(bill.period_start, datetime.min.time(), ZoneInfo("Europe/London"))
    provider_id = f"{call.provider_id}-midnight"
    late = call.model_copy(
        update={
            "id": portal_id("telco", "usage", provider_id),
            "provider_id": provider_id,
            "started_at": (london + timedelta(minutes=30)).astimezone(UTC),
            "charge": Decimal("2.00"),
            "currency": "GBP",
        }
    )
    _write(store, late)
    (finding,) = understand(store, only=["bills"])
    assert finding.summary == "2 bills checked: 1 agrees, 1 differs (see portal bills --problems)"
    check = _check(store, bill.bill_number)
    assert check["outcome"] == "differs"
    assert "(£2.00 less billed than rated)." in check["message"]
