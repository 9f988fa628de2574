"""Links across providers: on the demo, where the sandboxes' customer is one person, every
bill is linked to the bank debit that paid it and every Demo Mart order to its card payment,
and nothing else is linked; on small stores written through the real write path, equal bills
make no false link and a payment synced later finds its bill; ``portal show`` and the view's
record page show each link from both sides."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from portal.batch import Batch, RawPayload
from portal.cli import cli
from portal.record import Account, Bill, Entity, Purchase, Transaction
from portal.record.ids import canonical_json, portal_id, raw_digest
from portal.record.model import AccountIdentifier
from portal.store import Store, sqlite_url
from portal.understand import understand
from portal.understand.links import RULES
from portal.view import ViewServer
from portal.view.pages import record_url
from portal_bank import one_person
from portal_bank.arrangements import direct_debits
from portal_bank.customer import LONDON
from portal_bank.dataset import DemoBank
from portal_retailer.dataset import DemoRetailer
from view_homes import browser

SEED = 2026
"""The seed every demo sandbox runs with."""

Pair = tuple[str, str, str, str, str]
"""(rule, from table, from id, to table, to id)."""


@pytest.fixture(scope="module")
def store(demo_home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(demo_home / "portal.db"), read_only=True)
    yield store
    store.close()


def _links(store: Store) -> set[Pair]:
    with store.engine.connect() as db:
        rows = db.execute(text("SELECT rule, from_table, from_id, to_table, to_id FROM links"))
        return {tuple(r) for r in rows}  # type: ignore[misc]


def _ids(store: Store, query: str) -> dict[tuple[str, ...], str]:
    with store.engine.connect() as db:
        return {tuple(r[1:]): r[0] for r in db.execute(text(query))}


def _seeded(store: Store) -> set[Pair]:
    """The links the demo data was made to hold, worked out from the sandboxes' datasets
    (the bank's ledger, the billers' bills, the shop's orders), for the records the store
    holds (a biller's bills published after its sandbox's clock are not there)."""
    bank = DemoBank(SEED)
    ledger = [t for items in bank.ledger.values() for t in items]
    bills = _ids(store, "SELECT id, provider, bill_number FROM bills")
    payments = _ids(store, "SELECT id, provider_id FROM transactions WHERE provider = 'bank'")
    purchases = _ids(store, "SELECT id, order_number FROM purchases")
    billers = {one_person.ENERGY: "utility", one_person.TELECOM: "telco"}
    expected: set[Pair] = set()
    for c in one_person.collections(SEED):
        [paid] = [
            t
            for t in ledger
            if t.get("TransactionReference") == c.reference
            and datetime.fromisoformat(t["BookingDateTime"]).date() == c.day
            and Decimal(t["Amount"]["Amount"]) * 100 == c.pence
        ]
        bill = bills.get((billers[c.payee], c.bill))
        if bill is not None:
            payment = payments[(paid["TransactionId"],)]
            expected.add(("bill-paid-by-debit", "bills", bill, "transactions", payment))
    for p in one_person.card_payments(SEED):
        [paid] = [
            t
            for t in ledger
            if t.get("MerchantDetails", {}).get("MerchantName") == one_person.MART
            and datetime.fromisoformat(t["BookingDateTime"]) == p.when
            and Decimal(t["Amount"]["Amount"]) * 100 == p.pence
        ]
        rule = "refund-to-card" if p.refund else "order-paid-by-card"
        payment = payments[(paid["TransactionId"],)]
        expected.add((rule, "purchases", purchases[(p.order,)], "transactions", payment))
    for back in DemoRetailer(SEED).returns:
        original = purchases[(back["order_number"],)]
        expected.add(("return-of-purchase", "purchases", purchases[(back["number"],)], "purchases", original))  # fmt: skip
    for refund in ledger:  # the bank's own card refunds carry their payment's reference
        if (
            refund["ProprietaryBankTransactionCode"]["Code"] == "REF"
            and "TransactionReference" in refund
        ):
            [paid] = [
                t
                for t in ledger
                if t["ProprietaryBankTransactionCode"]["Code"] == "POS"
                and t.get("TransactionReference") == refund["TransactionReference"]
                and t["AccountId"] == refund["AccountId"]
            ]
            expected.add(("refund-of-card-payment", "transactions", payments[(refund["TransactionId"],)], "transactions", payments[(paid["TransactionId"],)]))  # fmt: skip
    mandates = _ids(store, "SELECT id, reference FROM recurring_payments")
    numbers = _ids(
        store,
        "SELECT a.id, json_extract(i.value, '$.identification') FROM accounts a,"
        " json_each(a.identifiers) i WHERE a.provider != 'bank'",
    )
    for _, reference in one_person.mandates(SEED):
        expected.add(("mandate-pays-account", "recurring_payments", mandates[(reference,)], "accounts", numbers[(reference,)]))  # fmt: skip
    return expected


def test_every_seeded_link_is_found_and_no_other(store: Store) -> None:
    expected = _seeded(store)
    found = _links(store)
    assert found - expected == set()  # no false link
    assert expected - found == set()  # every seeded link
    rules = {rule for rule, *_ in expected}
    assert rules == set(RULES)  # the demo exercises every rule
    with store.engine.connect() as db:
        bills = db.execute(text("SELECT count(*) FROM bills WHERE provider != 'bank'")).scalar()
        levels = db.execute(text("SELECT DISTINCT confidence FROM links")).scalars().all()
    # Every energy and phone bill is paid but the telco's last, due after the bank's cut-off.
    assert bills == 1 + sum(1 for rule, *_ in expected if rule == "bill-paid-by-debit")
    assert levels == ["high"]  # each payment names the account or the shop


def test_the_bank_pays_each_bill_its_exact_total_on_or_after_it_falls_due(store: Store) -> None:
    with store.engine.connect() as db:
        rows = db.execute(
            text(
                "SELECT b.total, t.amount, b.issued_on, b.due_on, t.booked_at FROM links l"
                " JOIN bills b ON b.id = l.from_id JOIN transactions t ON t.id = l.to_id"
                " WHERE l.rule = 'bill-paid-by-debit'"
            )
        ).all()
    assert rows
    for total, amount, issued, due, booked in rows:
        assert Decimal(str(amount)) == -Decimal(str(total))
        paid = datetime.fromisoformat(booked).astimezone(LONDON).date()
        falls_due = (
            date.fromisoformat(due)
            if due
            else date.fromordinal(
                date.fromisoformat(issued).toordinal() + one_person.UTILITY_DUE_DAYS
            )
        )
        assert falls_due <= paid <= date.fromordinal(falls_due.toordinal() + 3)


# -- small stores through the real write path ------------------------------------------


def _commit(store: Store, provider: str, stream: str, records: list[Entity]) -> None:
    """Store ``records`` as a sync of ``provider`` would: stamped, each with its payload."""
    now = datetime.now(UTC)
    raws = []
    for record in records:
        payload = canonical_json({"id": record.provider_id})
        raw_id = raw_digest(provider, stream, payload)
        raws.append(RawPayload(raw_id, stream, payload))
        record.__dict__.update(
            id=portal_id(provider, record.category, record.provider_id),
            provider=provider,
            connection_id=f"c-{provider}",
            fetched_at=now,
            raw_id=raw_id,
        )
    store.commit(Batch(provider, f"c-{provider}", stream, now, records, raws))


def _supply(number: str) -> Account:
    identifier = AccountIdentifier(scheme="account_number", scheme_label="Account number",
                                   identification=number)  # fmt: skip
    return Account(provider_id=number, name=f"Customer account {number}",
                   account_type="customer_account", account_type_label="Customer account",
                   identifiers=[identifier])  # fmt: skip


def _bill(number: str, issued: date, total: str, account: str = "A-1") -> Bill:
    return Bill(provider_id=number, account_id=account, bill_number=number, issued_on=issued,
                due_on=None, period_start=issued, period_end=issued, total=Decimal(total),
                currency="GBP", status="issued", status_label="Issued")  # fmt: skip


def _debit(key: str, on: date, amount: str, reference: str | None) -> Transaction:
    return Transaction(provider_id=key, account_id="current",
                       booked_at=datetime(on.year, on.month, on.day, tzinfo=UTC),
                       amount=-Decimal(amount), currency="GBP", status="Booked",
                       status_label="Booked", description=f"DEBIT {reference or ''}".strip(),
                       reference=reference, counterparty="SOME ENERGY LTD")  # fmt: skip


def _store(tmp_path: Path) -> Store:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    store.writable()
    return store


def _by_provider_id(store: Store, table: str) -> dict[str, str]:
    with store.engine.connect() as db:
        return dict(db.execute(text(f"SELECT provider_id, id FROM {table}")).all())  # noqa: S608


def test_two_bills_of_one_amount_in_one_window_make_no_false_link(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _commit(store, "energy", "accounts", [_supply("A-7700123")])
    _commit(store, "energy", "bills", [
        _bill("E-1", date(2026, 1, 18), "100.00"),
        _bill("G-1", date(2026, 1, 18), "100.00"),  # the same amount: which debit paid which?
        _bill("E-2", date(2026, 2, 18), "64.10"),
        _bill("E-3", date(2026, 3, 18), "55.00"),
        _bill("G-3", date(2026, 3, 18), "55.00"),  # one payment, two bills it could be for
    ])  # fmt: skip
    _commit(store, "bank", "transactions", [
        _debit("t1", date(2026, 2, 2), "100.00", "A-7700123"),
        _debit("t2", date(2026, 2, 2), "100.00", "A-7700123"),
        _debit("t3", date(2026, 3, 4), "64.10", "A-7700123"),
        _debit("t4", date(2026, 4, 2), "55.00", "A-7700123"),
    ])  # fmt: skip
    [finding] = understand(store, only=["links"])
    bills, payments = _by_provider_id(store, "bills"), _by_provider_id(store, "transactions")
    assert _links(store) == {
        ("bill-paid-by-debit", "bills", bills["E-2"], "transactions", payments["t3"])
    }
    assert finding.summary == "1 link (1 by bill-paid-by-debit)"
    assert any("E-1" in w and "none is linked" in w for w in finding.warnings)
    assert any("E-3" in w and "none is linked" in w for w in finding.warnings)
    store.close()


def test_a_payment_that_names_the_account_wins_over_one_that_only_agrees_in_amount(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    _commit(store, "energy", "accounts", [_supply("A-7700123")])
    _commit(store, "energy", "bills", [_bill("E-1", date(2026, 1, 18), "100.00")])
    _commit(store, "bank", "transactions", [
        _debit("gym", date(2026, 2, 2), "100.00", "PUREGYM 5521987"),
        _debit("energy", date(2026, 2, 3), "100.00", "A-7700123"),
        _debit("same-day-elsewhere", date(2026, 1, 10), "100.00", None),  # before the bill
    ])  # fmt: skip
    understand(store, only=["links"])
    bills, payments = _by_provider_id(store, "bills"), _by_provider_id(store, "transactions")
    with store.engine.connect() as db:
        rows = db.execute(text("SELECT from_id, to_id, confidence FROM links")).all()
    assert [tuple(r) for r in rows] == [(bills["E-1"], payments["energy"], "high")]
    store.close()


def test_amount_and_date_alone_link_with_medium_confidence_and_a_later_payment_is_found(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    _commit(store, "energy", "bills", [_bill("E-1", date(2026, 1, 18), "71.35")])
    assert understand(store, only=["links"])[0].summary == ""  # not paid yet
    # The next sync brings the payment, with no reference: the step reads only it, and
    # looks back for the bill it may have paid.
    _commit(store, "bank", "transactions", [_debit("t1", date(2026, 2, 2), "71.35", None)])
    [finding] = understand(store, only=["links"])
    assert finding.summary == "1 link (1 by bill-paid-by-debit)"
    with store.engine.connect() as db:
        assert db.execute(text("SELECT confidence FROM links")).scalars().all() == ["medium"]
    # A debit at the biller itself (its own statement payment) is never a bill's payment.
    _commit(store, "energy", "bills", [_bill("E-2", date(2026, 2, 18), "12.00")])
    _commit(store, "energy", "transactions", [_debit("own", date(2026, 3, 1), "12.00", None)])
    assert understand(store, only=["links"])[0].summary == ""
    store.close()


def _order(number: str, at: datetime, total: str, original: str | None = None) -> Purchase:
    kind = "return" if original else "order"
    return Purchase(provider_id=number, kind=kind, kind_label=kind.title(), order_number=number,
                    purchased_at=at, channel="online", channel_label="Online", status="done",
                    status_label="Done", total=Decimal(total), currency="GBP",
                    original_order_number=original)  # fmt: skip


def _card(key: str, at: datetime, amount: str, merchant: str) -> Transaction:
    return Transaction(provider_id=key, account_id="card", booked_at=at, amount=Decimal(amount),
                       currency="GBP", status="Booked", status_label="Booked",
                       description=merchant.upper(), merchant_name=merchant)  # fmt: skip


def test_orders_find_card_payments_synced_later_and_twins_stay_unlinked(tmp_path: Path) -> None:
    store = _store(tmp_path)
    shop = Account(provider_id="m1", name="Corner Shop Rewards", account_type="loyalty",
                   account_type_label="Loyalty scheme")  # fmt: skip
    _commit(store, "shop", "accounts", [shop])
    noon = datetime(2026, 3, 2, 12, tzinfo=UTC)
    _commit(store, "shop", "purchases", [
        _order("O-1", noon, "23.40"),
        _order("O-2", noon.replace(hour=15), "9.99"),  # two orders of one amount on one day,
        _order("O-3", noon.replace(hour=17), "9.99"),  # one card payment: which was it?
        _order("R-1", noon.replace(day=5), "-23.40", original="O-1"),
    ])  # fmt: skip
    understand(store, only=["links"])
    purchases = _by_provider_id(store, "purchases")
    assert _links(store) == {
        ("return-of-purchase", "purchases", purchases["R-1"], "purchases", purchases["O-1"])
    }
    _commit(store, "bank", "transactions", [
        _card("c1", noon.replace(hour=23), "-23.40", "Corner Shop"),  # the evening, still a day
        _card("c2", noon.replace(hour=18), "-9.99", "Corner Shop"),
        _card("c3", noon.replace(day=5, hour=10), "23.40", "Corner Shop"),  # the refund
        _card("c4", noon.replace(day=9), "-23.40", "Corner Shop"),  # too late for O-1
    ])  # fmt: skip
    [finding] = understand(store, only=["links"])
    payments = _by_provider_id(store, "transactions")
    assert _links(store) == {
        ("return-of-purchase", "purchases", purchases["R-1"], "purchases", purchases["O-1"]),
        ("order-paid-by-card", "purchases", purchases["O-1"], "transactions", payments["c1"]),
        ("refund-to-card", "purchases", purchases["R-1"], "transactions", payments["c3"]),
    }
    assert any("O-2" in w and "none is linked" in w for w in finding.warnings)
    with store.engine.connect() as db:
        levels = set(db.execute(text("SELECT confidence FROM links")).scalars())
    assert levels == {"high"}  # "Corner Shop" is the name the shop's account starts with
    store.close()


def test_working_it_all_out_again_finds_the_same_links(demo_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "again"
    shutil.copytree(demo_home, home)
    store = Store(sqlite_url(home / "portal.db"))
    before = _links(store)
    [finding] = understand(store, again=True, only=["links"])
    assert _links(store) == before
    assert finding.summary.startswith(f"{len(before)} links (")
    assert understand(store, only=["links"])[0].summary == ""  # nothing new since
    store.close()


def test_many_refunds_find_their_payments_in_one_pass_as_few_do_one_by_one(
    demo_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal.understand import link_refunds

    home = tmp_path / "many"
    shutil.copytree(demo_home, home)
    store = Store(sqlite_url(home / "portal.db"))
    one_by_one = {link for link in _links(store) if link[0] == "refund-of-card-payment"}
    assert one_by_one  # the demo's card refunds, each found its payment
    monkeypatch.setattr(link_refunds, "FEW", 0)  # as if there were many: the one pass
    understand(store, again=True, only=["links"])
    assert {link for link in _links(store) if link[0] == "refund-of-card-payment"} == one_by_one
    store.close()


# -- both sides ------------------------------------------------------------------------


def _one_bill_link(store: Store) -> tuple[str, str]:
    with store.engine.connect() as db:
        row = db.execute(
            text(
                "SELECT l.from_id, l.to_id FROM links l JOIN bills b ON b.id = l.from_id"
                " WHERE l.rule = 'bill-paid-by-debit' AND b.provider = 'utility'"
                " ORDER BY b.issued_on, b.bill_number LIMIT 1"
            )
        ).one()
    return row[0], row[1]


def test_portal_show_prints_a_bill_and_its_payment_from_both_sides(
    demo_home: Path, store: Store, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    bill, payment = _one_bill_link(store)
    runner = CliRunner()
    shown = runner.invoke(cli, ["--home", str(home), "--tz", "Europe/London", "show", bill])
    assert shown.exit_code == 0, shown.output
    with store.engine.connect() as db:
        number, total, booked = db.execute(
            text("SELECT b.bill_number, b.total, t.booked_at FROM bills b, transactions t"
                 " WHERE b.id = :b AND t.id = :t"), {"b": bill, "t": payment}
        ).one()  # fmt: skip
    day = datetime.fromisoformat(booked).astimezone(LONDON)
    pounds = f"£{Decimal(str(total)):.2f}"
    assert f"Bill number: {number}" in shown.output
    assert (
        f"Paid by: bank debit of {pounds} on {day.day} {day:%b %Y} to Demo Energy"
        " (rule: bill-paid-by-debit, high)"
    ) in shown.output
    assert f"portal show {payment}" in shown.output
    back = runner.invoke(cli, ["--home", str(home), "--tz", "Europe/London", "show", payment])
    assert back.exit_code == 0, back.output
    assert f"Pays the bill: utility bill {number} of {pounds}" in back.output
    assert f"Amount: -{pounds}" in back.output
    missing = runner.invoke(cli, ["--home", str(home), "show", "no-such-id"])
    assert missing.exit_code != 0
    assert "no record with the id no-such-id" in missing.output


def test_the_record_pages_show_the_link_from_both_sides(store: Store) -> None:
    bill, payment = _one_bill_link(store)
    with ViewServer(store) as server, browser(server) as client:
        client.base_url = httpx.URL(server.url)
        bill_page = client.get(record_url("bills", bill))
        payment_page = client.get(record_url("transactions", payment))
        unlinked = client.get(record_url("accounts", _an_unlinked_account(store)))
    assert bill_page.status_code == payment_page.status_code == 200
    assert "Linked records" in bill_page.text
    assert f'href="{record_url("transactions", payment)}"' in bill_page.text
    assert "Paid by:" in bill_page.text and "to Demo Energy" in bill_page.text
    assert f'href="{record_url("bills", bill)}"' in payment_page.text
    assert "Pays the bill:" in payment_page.text
    assert "bill-paid-by-debit" in payment_page.text
    assert "found no record at another provider" in unlinked.text


def _an_unlinked_account(store: Store) -> str:
    with store.engine.connect() as db:
        return str(
            db.execute(
                text("SELECT id FROM accounts WHERE id NOT IN (SELECT to_id FROM links) LIMIT 1")
            ).scalar_one()
        )


def test_the_bank_alone_pays_its_stand_in_billers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bank plugin stays installable on its own: without the other demo plugins its
    customer pays the stand-ins it paid before, and no Demo Energy, Telecom or Mart."""
    with_them = DemoBank(SEED)
    installed = {d["Name"] for d in direct_debits(with_them, with_them.current_id)}
    for plugin in ("utility", "telco", "retailer"):
        monkeypatch.setitem(sys.modules, f"portal_{plugin}.dataset", None)  # not installed
    one_person.collections.cache_clear()
    one_person.card_payments.cache_clear()
    try:
        bank = DemoBank(7)
        payees = {t.get("CreditorAccount", {}).get("Name") for t in bank.ledger[bank.current_id]}
        merchants = {
            t.get("MerchantDetails", {}).get("MerchantName") for t in bank.ledger[bank.card_id]
        }
        mandates = {d["Name"] for d in direct_debits(bank, bank.current_id)}
    finally:
        one_person.collections.cache_clear()
        one_person.card_payments.cache_clear()
    stand_ins = {payee for _, payee, *_ in one_person.STAND_INS}
    assert stand_ins <= payees and stand_ins <= mandates
    billers = {one_person.ENERGY, one_person.TELECOM}
    assert not billers & (payees | mandates)
    assert one_person.MART not in merchants
    assert billers <= installed and not stand_ins & installed
