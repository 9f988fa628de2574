"""Recurring payments: found in the history (card subscriptions too), declared mandates given
the amount they collect, changes of amount, inconsistent dates warned about once, and a
re-run with nothing new that works nothing out again."""

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import event, select, text

from portal.app import Portal
from portal.auth.vault import FileStorage, Vault
from portal.batch import Batch, RawPayload
from portal.cli import cli
from portal.demo import demo_home, demo_sync
from portal.record import Category, RecurringPayment, State, Transaction
from portal.record.ids import portal_id
from portal.store import Store, sqlite_url
from portal.understand import understand
from portal.understand.cadence import Payment, add_months, cadence_of, series_of
from portal.understand.recurring_list import recurring_payments
from portal.understand.tables import RecurringChange, RecurringMember, RecurringSeries

LONDON = ZoneInfo("Europe/London")
FETCHED = "2026-01-01T00:00:00+00:00"
RECURRING_TABLES = ("recurring_series", "recurring_members", "recurring_changes")


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo home (the four sandboxes synced), its days in London, the customer's zone."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_TZ", "Europe/London")
        patch.setenv("PORTAL_VAULT", "file")
        home = tmp_path_factory.mktemp("recurring") / "home"
        demo_home(home)
        yield home


def _series(home: Path) -> dict[str, dict[str, Any]]:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    try:
        with store.engine.connect() as db:
            table = RecurringSeries.__table__  # type: ignore[attr-defined]
            return {row.payee: row._asdict() for row in db.execute(select(table))}
    finally:
        store.close()


def _contents(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    try:
        with store.engine.connect() as db:
            return {
                name: sorted(tuple(r) for r in db.execute(text(f"SELECT * FROM {name}")))  # noqa: S608
                for name in RECURRING_TABLES
            }
    finally:
        store.close()


# -- on the demo -----------------------------------------------------------------------


@pytest.mark.parametrize("merchant", ["Netflix", "Spotify"])
def test_card_subscriptions_are_found_with_amount_and_next_date(home: Path, merchant: str) -> None:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with store.engine.connect() as db:
        paid = db.execute(
            text(
                "SELECT booked_at, amount FROM transactions WHERE merchant_name = :m"
                " ORDER BY booked_at"
            ),
            {"m": merchant},
        ).all()
    store.close()
    days = [datetime.fromisoformat(at).astimezone(LONDON).date() for at, _ in paid]
    found = _series(home)[merchant]
    assert (found["kind"], found["cadence"], found["declared_id"]) == (
        "card_subscription",
        "monthly",
        None,
    )
    assert found["payments"] == len(paid) >= 12
    assert found["amount"] == -Decimal(repr(paid[-1][1]))
    assert found["cost_per_year"] == found["amount"] * 12
    assert (found["first_seen"], found["last_seen"]) == (days[0], days[-1])
    assert found["next_expected"] == add_months(days[-1], 1, days[-1].day)
    assert found["status"] == "active"


def test_every_declared_direct_debit_gets_the_amount_it_last_collected(home: Path) -> None:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with store.engine.connect() as db:
        mandates = db.execute(
            text(
                "SELECT id, payee, reference, extra FROM recurring_payments WHERE kind = 'direct_debit'"
            )
        ).all()
        listed = {entry.declared_id: entry for entry in recurring_payments(db)}
        assert len(mandates) == 8  # Demo Telecom's two billing accounts: two mandates
        for id_, payee, reference, extra in mandates:
            [(last,)] = db.execute(
                text(
                    "SELECT amount FROM transactions WHERE reference = :r"
                    " ORDER BY booked_at DESC LIMIT 1"
                ),
                {"r": reference},
            ).all()
            entry = listed[id_]
            assert entry.kind == "direct_debit" and entry.payee == payee
            assert entry.amount == -Decimal(repr(last)), payee
            assert entry.amount == Decimal(json.loads(extra)["PreviousPaymentAmount"]["Amount"])
            assert entry.cadence == "monthly" and entry.payments > 1
    store.close()


def test_a_cancelled_direct_debit_lapsed_and_is_listed_as_cancelled(home: Path) -> None:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with store.engine.connect() as db:
        [(cancelled,)] = db.execute(
            text("SELECT payee FROM recurring_payments WHERE state = 'cancelled'")
        ).all()
        listed = {entry.payee: entry for entry in recurring_payments(db)}
    store.close()
    assert _series(home)[cancelled]["status"] == "lapsed"  # the history runs on without it
    assert listed[cancelled].status == "cancelled" and listed[cancelled].next_on is None
    assert {e.status for p, e in listed.items() if p != cancelled} == {"active"}


def test_shopping_often_is_not_a_subscription(home: Path) -> None:
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with store.engine.connect() as db:
        (tesco,) = db.execute(
            text("SELECT count(*) FROM transactions WHERE merchant_name = 'Tesco'")
        ).one()
        declared = db.execute(
            text(
                "SELECT count(*) FROM recurring_payments"
                " WHERE kind IN ('direct_debit', 'standing_order')"
            )
        ).scalar_one()
    store.close()
    assert tesco >= 24  # paid more often than monthly, at irregular days and amounts
    found = _series(home)
    assert "Tesco" not in found
    undeclared = {payee for payee, row in found.items() if row["declared_id"] is None}
    assert undeclared == {"Netflix", "Spotify"}  # nothing else in the demo recurs
    store = Store(sqlite_url(home / "portal.db"), read_only=True)
    with store.engine.connect() as db:
        matched = db.execute(
            text("SELECT count(DISTINCT declared_id) FROM recurring_series")
        ).scalar_one()
    store.close()
    assert matched == declared  # every mandate found its payments, its own series each


def test_portal_recurring_lists_declared_and_found_with_a_total(home: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(cli, ["--home", str(home), "recurring", "--json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    kinds = {e["payee"]: e["kind"] for e in document["recurring_payments"]}
    assert kinds["Netflix"] == kinds["Spotify"] == "card_subscription"
    assert sum(1 for e in document["recurring_payments"] if e["kind"] == "direct_debit") == 8
    assert all(e["amount"] for e in document["recurring_payments"])
    active = [e for e in document["recurring_payments"] if e["status"] == "active"]
    total = sum(Decimal(e["cost_per_year"]) for e in active)
    assert Decimal(document["cost_per_year"]["GBP"]) == total
    table = runner.invoke(cli, ["--home", str(home), "recurring"], env={"COLUMNS": "200"})
    assert table.exit_code == 0, table.output
    assert "Card subscription" in table.output and "£10.99" in table.output
    assert f"Total a year, active payments: £{total:,.2f}" in table.output


def test_a_resync_with_nothing_new_works_nothing_out_again(home: Path) -> None:
    before = _contents(home)
    statements: list[str] = []
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_TZ", "Europe/London")
        with Portal.open(home=home, vault=vault) as portal:
            event.listen(portal.store.engine, "before_cursor_execute", _noting(statements))
            results = demo_sync(portal)
            assert all(result.ok for result in results)
            [finding] = [f for f in portal.understood if f.step == "recurring"]
    assert finding.summary == "" and finding.warnings == [] and not finding.failed
    assert _contents(home) == before
    touched = [s for s in statements if "recurring_series" in s or "recurring_members" in s]
    assert not any(s.lstrip().upper().startswith(("INSERT", "DELETE", "UPDATE")) for s in touched)


def _noting(statements: list[str]) -> Any:
    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    return note


# -- on a store of our own, through the store's write path -----------------------------


class Ledger:
    """A store and a way to write bank records into it, as a sync does."""

    def __init__(self, url: str) -> None:
        self.store = Store(url)
        self.n = 0

    def pay(
        self,
        payee: str,
        payments: list[tuple[date, str]],
        *,
        card: bool = True,
        when: str,
        reference: str | None = None,
    ) -> None:
        """Book ``payments`` (day, amount out) to ``payee`` on the account, fetched at ``when``."""
        records = []
        for day, amount in payments:
            self.n += 1
            t = Transaction(
                provider_id=f"t{self.n}",
                account_id="acc",
                booked_at=datetime.combine(day, time(9), tzinfo=LONDON),
                amount=-Decimal(amount),
                currency="GBP",
                status="Booked",
                status_label="Booked",
                state=State.booked,
                description=f"{payee.upper()} REF {self.n:06d}",
                counterparty=payee if card else None,
                merchant_name=payee if card else None,
                reference=reference,
            )
            records.append(t)
        self._commit("transactions", records, when)

    def declare(self, mandate: RecurringPayment, when: str) -> None:
        """Store a mandate the bank declares."""
        self._commit("standing_orders", [mandate], when)

    def withdraw(self, provider_ids: list[str], when: str) -> None:
        """The bank no longer serves these transactions: deleted, as a sync deletes them."""
        gone = [(Category.transactions, portal_id("bank", "transactions", p)) for p in provider_ids]
        at = datetime.fromisoformat(when)
        self.store.commit(Batch("bank", "c1", "transactions", at, [], [], [], None, gone))

    def _commit(self, stream: str, records: list[Any], when: str) -> None:
        at = datetime.fromisoformat(when)
        raws = []
        for record in records:
            record.id = portal_id("bank", stream, record.provider_id)
            record.provider, record.connection_id = "bank", "c1"
            record.raw_id, record.fetched_at = f"raw-{record.provider_id}", at
            raws.append(RawPayload(record.raw_id, stream, "{}"))
        self.store.commit(Batch("bank", "c1", stream, at, records, raws, [], None))


def _months(first: date, count: int) -> list[date]:
    return [add_months(first, i) for i in range(count)]


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ledger]:
    monkeypatch.setenv("PORTAL_TZ", "Europe/London")
    made = Ledger(sqlite_url(tmp_path / "portal.db"))
    yield made
    made.store.close()


def _rows(store: Store, model: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as db:
        table = model.__table__
        return [row._asdict() for row in db.execute(select(table))]


def test_a_price_rise_is_the_same_subscription_with_a_change_on_its_day(ledger: Ledger) -> None:
    days = _months(date(2025, 1, 14), 12)
    ledger.pay("StreamCo", [(d, "9.99") for d in days[:7]], when="2026-01-01T00:00:00+00:00")
    ledger.pay("StreamCo", [(d, "10.99") for d in days[7:]], when="2026-01-01T00:00:00+00:00")
    [finding] = understand(ledger.store, only=["recurring"])
    assert finding.summary.startswith("1 recurring payment worked out")
    [series] = _rows(ledger.store, RecurringSeries)
    assert (series["payee"], series["cadence"], series["payments"]) == ("StreamCo", "monthly", 12)
    assert (series["amount"], series["cost_per_year"]) == (Decimal("10.99"), Decimal("131.88"))
    assert series["next_expected"] == date(2026, 1, 14)
    [change] = _rows(ledger.store, RecurringChange)
    assert (change["changed_on"], change["from_amount"], change["to_amount"]) == (
        days[7],
        Decimal("9.99"),
        Decimal("10.99"),
    )
    assert len(_rows(ledger.store, RecurringMember)) == 12


def test_a_new_payment_works_out_only_its_own_payee_again(ledger: Ledger) -> None:
    days = _months(date(2025, 1, 3), 6)
    ledger.pay("StreamCo", [(d, "9.99") for d in days], when="2026-01-01T00:00:00+00:00")
    ledger.pay("GymCo", [(d, "30") for d in days], when="2026-01-01T00:00:00+00:00")
    assert understand(ledger.store, only=["recurring"])[0].summary.startswith(
        "2 recurring payments"
    )
    gym_before = next(r for r in _rows(ledger.store, RecurringSeries) if r["payee"] == "GymCo")
    assert (
        understand(ledger.store, only=["recurring"])[0].summary == ""
    )  # nothing new: nothing worked out
    ledger.pay("StreamCo", [(date(2025, 7, 3), "9.99")], when="2099-01-01T00:00:00+00:00")
    assert understand(ledger.store, only=["recurring"])[0].summary.startswith(
        "1 recurring payment worked out"
    )
    after = {r["payee"]: r for r in _rows(ledger.store, RecurringSeries)}
    assert after["StreamCo"]["payments"] == 7
    assert after["StreamCo"]["last_seen"] == date(2025, 7, 3)
    assert after["GymCo"] == gym_before


def test_payments_withdrawn_from_the_store_leave_their_series(ledger: Ledger) -> None:
    days = _months(date(2025, 1, 3), 6)
    ledger.pay("StreamCo", [(d, "9.99") for d in days], when=FETCHED)  # t1 to t6
    understand(ledger.store, only=["recurring"])
    # A deletion moves no mark: the series is found holding payments no longer there.
    ledger.withdraw(["t5", "t6"], when="2099-01-01T00:00:00+00:00")
    assert understand(ledger.store, only=["recurring"])[0].summary.startswith(
        "1 recurring payment worked out"
    )
    [series] = _rows(ledger.store, RecurringSeries)
    assert (series["payments"], series["last_seen"]) == (4, days[3])
    assert len(_rows(ledger.store, RecurringMember)) == 4
    ledger.withdraw(["t2", "t3", "t4"], when="2099-01-01T00:00:00+00:00")
    understand(ledger.store, only=["recurring"])
    assert _rows(ledger.store, RecurringSeries) == _rows(ledger.store, RecurringMember) == []


def test_regular_days_at_changing_amounts_or_one_amount_at_odd_days_do_not_recur(
    ledger: Ledger,
) -> None:
    weeks = [date(2025, 1, 4) + timedelta(weeks=i) for i in range(20)]
    ledger.pay(
        "Grocer",
        [(d, f"{20 + i * 1.37:.2f}") for i, d in enumerate(weeks)],
        when="2026-01-01T00:00:00+00:00",
    )
    odd = [date(2025, 1, 1) + timedelta(days=d) for d in (0, 5, 17, 20, 44, 51, 90, 93, 120)]
    ledger.pay("Cafe", [(d, "3.20") for d in odd], when="2026-01-01T00:00:00+00:00")
    # The same price every two or three months: each gap is whole months, but a habit
    # needs three gaps in four to be a single period.
    barber, day = [], date(2025, 1, 10)
    for months in (2, 3, 1, 2, 3, 2, 3):
        barber.append(day)
        day = add_months(day, months)
    ledger.pay("Barber", [(d, "18") for d in barber], when="2026-01-01T00:00:00+00:00")
    understand(ledger.store, only=["recurring"])
    assert _rows(ledger.store, RecurringSeries) == []


def test_payments_naming_no_payee_are_grouped_by_description_without_references(
    ledger: Ledger,
) -> None:
    days = _months(date(2025, 2, 20), 8)
    ledger.pay("Local Paper", [(d, "4.50") for d in days], card=False, when=FETCHED)
    understand(ledger.store, only=["recurring"])
    [series] = _rows(ledger.store, RecurringSeries)
    assert (series["kind"], series["payee_key"], series["payments"]) == (
        "detected",
        "local paper ref",
        8,
    )
    assert series["payee"] == f"LOCAL PAPER REF {ledger.n:06d}"  # as the latest names it


def test_a_weekly_box_a_day_or_two_early_or_late_is_weekly_on_the_first_run(
    ledger: Ledger,
) -> None:
    days, day = [], date(2025, 3, 3)
    for gap in (5, 9, 7, 6, 8, 7):
        days.append(day)
        day += timedelta(days=gap)
    amounts = ["21.00"] * 4 + ["22.50"] * 2
    ledger.pay("Veg Box", list(zip(days, amounts, strict=True)), when=FETCHED)
    understand(ledger.store, only=["recurring"])
    [series] = _rows(ledger.store, RecurringSeries)
    assert (series["cadence"], series["amount"]) == ("weekly", Decimal("22.50"))
    assert series["cost_per_year"] == Decimal("22.50") * 52
    assert series["next_expected"] == days[-1] + timedelta(days=7)


def _standing_order(last: date, next_: date) -> RecurringPayment:
    return RecurringPayment(
        provider_id="standing-order:SO-1",
        account_id="acc",
        kind="standing_order",
        kind_label="Standing order",
        payee="A LANDLORD",
        reference="RENT",
        amount=Decimal(500),
        currency="GBP",
        status="Active",
        status_label="Active",
        state=State.active,
        first_payment_on=date(2025, 1, 1),
        next_payment_on=next_,
        last_payment_on=last,
    )


def test_a_standing_order_paid_last_after_its_next_payment_is_warned_about_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.declare(
        _standing_order(date(2026, 10, 1), date(2026, 9, 1)), "2026-01-01T00:00:00+00:00"
    )
    ledger.pay(
        "A LANDLORD",
        [(d, "500") for d in _months(date(2025, 1, 1), 6)],
        card=False,
        when="2026-01-01T00:00:00+00:00",
    )
    [first] = understand(ledger.store, only=["recurring"])
    assert first.warnings == [
        "Standing order to A LANDLORD: bank says its last payment was 1 Oct 2026, after its"
        " next one, 1 Sep 2026; kept as released"
    ]
    assert understand(ledger.store, only=["recurring"])[0].warnings == []  # nothing new: said once
    assert (
        len(understand(ledger.store, again=True, only=["recurring"])[0].warnings) == 1
    )  # asked again
    [series] = _rows(ledger.store, RecurringSeries)
    assert series["kind"] == "standing_order" and series["declared_id"] is not None
    ledger.store.close()
    shown = CliRunner().invoke(cli, ["--home", str(tmp_path), "recurring"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "A LANDLORD (!)" in shown.output
    assert "after its next one, 2026-09-01" in shown.output


def test_a_direct_debit_whose_payments_name_no_payee_is_matched_by_its_name(
    ledger: Ledger,
) -> None:
    # Payments described "LAMBETH COUNCIL REF 000001" and so on, as a bank that names no
    # counterparty releases them; the last collected at a new amount.
    days = _months(date(2025, 4, 1), 5)
    amounts = ["150"] * 4 + ["156"]
    ledger.pay("Lambeth Council", list(zip(days, amounts, strict=True)), card=False, when=FETCHED)
    mandate = _standing_order(date(2025, 8, 1), date(2025, 9, 1))
    mandate.kind, mandate.kind_label, mandate.payee = (
        "direct_debit",
        "Direct debit",
        "Lambeth Council",
    )
    mandate.amount = mandate.currency = mandate.next_payment_on = None
    ledger.declare(mandate, FETCHED)
    understand(ledger.store, only=["recurring"])
    with ledger.store.engine.connect() as db:
        [entry] = recurring_payments(db)
    assert (entry.kind, entry.payee, entry.payments) == ("direct_debit", "Lambeth Council", 5)
    assert (entry.amount, entry.currency) == (Decimal(156), "GBP")
    assert [(c.on, c.before, c.after) for c in entry.changes] == [
        (days[-1], Decimal(150), Decimal(156))
    ]


def test_two_mandates_to_one_payee_each_get_the_payments_of_their_reference(
    ledger: Ledger,
) -> None:
    # Two billing accounts at one phone company, each paid by its own direct debit.
    days = _months(date(2026, 1, 12), 6)
    ledger.pay("Demo Telecom", [(d, "30.29") for d in days], when=FETCHED, reference="BA-1")
    ledger.pay("Demo Telecom", [(d, "78.80") for d in days], when=FETCHED, reference="BA 2")
    for number, reference in ((1, "BA-1"), (2, "ba-2")):
        mandate = _standing_order(date(2026, 6, 12), date(2026, 7, 12))
        mandate.provider_id = f"direct-debit:DD-{number}"
        mandate.kind, mandate.kind_label = "direct_debit", "Direct debit"
        mandate.payee, mandate.reference = "Demo Telecom", reference
        mandate.amount = mandate.currency = None
        ledger.declare(mandate, FETCHED)
    understand(ledger.store, only=["recurring"])
    with ledger.store.engine.connect() as db:
        entries = recurring_payments(db)
    assert sorted((e.payee, e.amount, e.payments, e.cadence) for e in entries) == [
        ("Demo Telecom", Decimal("30.29"), 6, "monthly"),
        ("Demo Telecom", Decimal("78.80"), 6, "monthly"),
    ]
    assert len({e.declared_id for e in entries}) == 2


def test_portal_recurring_on_a_store_never_worked_out_says_how_to_find_more(
    ledger: Ledger, tmp_path: Path
) -> None:
    ledger.pay("StreamCo", [(d, "9.99") for d in _months(date(2025, 1, 3), 6)], when=FETCHED)
    ledger.declare(_standing_order(date(2026, 9, 1), date(2026, 10, 1)), FETCHED)
    ledger.store.close()  # as an earlier portal left it: synced, never worked out
    home = ["--home", str(tmp_path)]
    before = CliRunner().invoke(cli, [*home, "recurring"], env={"COLUMNS": "200"})
    assert before.exit_code == 0, before.output
    assert "A LANDLORD" in before.output and "StreamCo" not in before.output
    assert "portal understand --again" in before.output
    assert CliRunner().invoke(cli, [*home, "understand", "--again"]).exit_code == 0
    after = CliRunner().invoke(cli, [*home, "recurring"], env={"COLUMNS": "200"})
    assert "StreamCo" in after.output and "portal understand" not in after.output


def test_a_consistent_standing_order_raises_no_warning(ledger: Ledger) -> None:
    ledger.declare(
        _standing_order(date(2026, 9, 1), date(2026, 10, 1)), "2026-01-01T00:00:00+00:00"
    )
    assert understand(ledger.store, only=["recurring"])[0].warnings == []


# -- the cadence rules, on their own -----------------------------------------------------


def _paid(days: list[date], amount: str = "10") -> list[Payment]:
    return [Payment(d, Decimal(amount), f"t{i}") for i, d in enumerate(days)]


def test_council_tax_paid_ten_months_a_year_is_monthly() -> None:
    days = [d for d in _months(date(2024, 4, 1), 24) if d.month not in (2, 3)]
    cadence = cadence_of(days)
    assert cadence is not None and cadence.name == "monthly"


@pytest.mark.parametrize(
    ("step", "count", "name"),
    [
        (timedelta(weeks=1), 6, "weekly"),
        (3, 5, "quarterly"),
        (12, 2, "yearly"),
    ],
)
def test_each_cadence_is_recognised(step: Any, count: int, name: str) -> None:
    start = date(2024, 2, 10)
    if isinstance(step, timedelta):
        days = [start + step * i for i in range(count)]
    else:
        days = [add_months(start, step * i) for i in range(count)]
    found = series_of(_paid(days))
    assert found is not None and found.cadence is not None and found.cadence.name == name


def test_too_few_payments_are_no_habit() -> None:
    assert series_of(_paid(_months(date(2025, 1, 5), 2))) is None
    assert series_of(_paid(_months(date(2025, 1, 5), 2)), declared=True) is not None


def test_recurring_payments_are_found_on_postgresql_too(
    postgres: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pg

    monkeypatch.setenv("PORTAL_TZ", "Europe/London")
    with pg.database(postgres, "portal_recurring") as url:
        ledger = Ledger(url)
        try:
            days = _months(date(2025, 1, 14), 8)
            ledger.pay("StreamCo", [(d, "9.99") for d in days[:5]], when=FETCHED)
            ledger.pay("StreamCo", [(d, "10.99") for d in days[5:]], when=FETCHED)
            ledger.declare(_standing_order(date(2026, 10, 1), date(2026, 9, 1)), FETCHED)
            [finding] = understand(ledger.store, only=["recurring"])
            assert not finding.failed, finding.summary
            assert len(finding.warnings) == 1
            [series] = _rows(ledger.store, RecurringSeries)
            assert (series["cadence"], series["amount"]) == ("monthly", Decimal("10.99"))
            [change] = _rows(ledger.store, RecurringChange)
            assert change["changed_on"] == days[5]
            ledger.pay(
                "StreamCo", [(add_months(days[-1], 1), "10.99")], when="2099-01-01T00:00:00+00:00"
            )
            assert understand(ledger.store, only=["recurring"])[0].summary.startswith(
                "1 recurring payment worked"
            )
            with ledger.store.engine.connect() as db:
                assert [e.payments for e in recurring_payments(db) if e.series_id] == [9]
        finally:
            ledger.store.close()
