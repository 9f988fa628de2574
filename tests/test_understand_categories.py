"""Spending categories: every transaction's category and the rule that decided it, on the
demo sandboxes' data, the person's rules, and transfers between their own accounts."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from portal.app import Portal
from portal.cli import cli
from portal.demo import demo_home
from portal.importing import import_file
from portal.record.types import UTCDateTime
from portal.store import Store, sqlite_url
from portal.understand import understand
from portal.understand.categories import categorise
from portal.understand.rules import add_rule, remove_rule, rules
from portal.understand.spending import (
    MCC_CODES,
    MCC_RANGES,
    NOT_SPENDING,
    PROVIDER_CODES,
    SPENDING_LABELS,
    Spending,
    label,
    mcc_category,
)
from portal.understand.spent import spending
from portal.view import ViewServer
from portal.view.formats import money
from view_homes import browser

CARD_PAYMENT = "CustomerCardTransactions.POSTransaction"
RULE = re.compile(r"^(person:.+|own-transfer|mcc:\d{4}|provider:.+|portal:.+|none)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with every sandbox connected and synced (the sync ran the step)."""
    home = tmp_path_factory.mktemp("categories") / "home"
    demo_home(home)
    return home


@pytest.fixture
def home(demo: Path, tmp_path: Path) -> Path:
    """A copy of the demo home's store, for a test that changes it."""
    copy = tmp_path / "home"
    copy.mkdir()
    with sqlite3.connect(demo / "portal.db") as source, sqlite3.connect(copy / "portal.db") as to:
        source.backup(to)
    return copy


@pytest.fixture
def store(home: Path) -> Iterator[Store]:
    store = Store(sqlite_url(home / "portal.db"))
    yield store
    store.close()


def rows(store: Store, query: str, **params: object) -> list[Any]:
    with store.engine.connect() as db:
        return list(db.execute(text(query), params))


JOINED = (
    "SELECT t.id, t.provider, t.account_id, t.amount, t.currency, t.booked_at, t.description,"
    " t.merchant_category_code AS mcc, t.category_code AS code, t.state, k.category, k.rule,"
    " k.paired_with, k.decided_at FROM transactions t"
    " LEFT JOIN transaction_categories k ON k.transaction_id = t.id"
)


def test_at_least_95_percent_of_card_debits_get_a_category_that_is_not_a_payment_type(
    demo: Path,
) -> None:
    store = Store(sqlite_url(demo / "portal.db"))
    card = [r for r in rows(store, JOINED) if r.code == CARD_PAYMENT and r.amount < 0]
    store.close()
    assert len(card) > 100
    told = [r for r in card if r.category not in (None, Spending.uncategorised.value)]
    assert len(told) / len(card) >= 0.95
    assert {r.category for r in told} <= set(Spending) - NOT_SPENDING
    assert {r.category for r in told if "Tesco" in r.description.title()} == {"groceries"}


def test_every_transaction_has_one_category_with_the_rule_that_decided_it(demo: Path) -> None:
    store = Store(sqlite_url(demo / "portal.db"))
    found = rows(store, JOINED)
    store.close()
    assert found and all(r.category in set(Spending) and RULE.match(r.rule) for r in found)
    for r in found:
        kind, _, what = r.rule.partition(":")
        if kind == "mcc":  # the code decided, as the table says
            assert (what, Spending(r.category)) == (r.mcc, mcc_category(r.mcc))
        elif kind == "provider":
            assert what == r.code and mcc_category(r.mcc) is None
    salaries = [r for r in found if r.code == "ReceivedCreditTransfers.SalaryPayment"]
    assert salaries and {r.category for r in salaries} == {"income"}


def test_card_statement_payments_are_own_transfers_paired_one_to_one_and_not_spending(
    demo: Path,
) -> None:
    store = Store(sqlite_url(demo / "portal.db"))
    found = {r.id: r for r in rows(store, JOINED)}
    report = spending(store)
    store.close()
    paid = [r for r in found.values() if r.description == "DEMOBANK CARD PAYMENT"]
    assert paid
    for debit in paid:  # the current account pays the card: the card receives it
        credit = found[debit.paired_with]
        assert (debit.category, credit.category) == ("own_transfer", "own_transfer")
        assert credit.paired_with == debit.id and credit.account_id != debit.account_id
        assert (credit.amount, credit.currency) == (-debit.amount, debit.currency)
        assert credit.description == "PAYMENT RECEIVED - THANK YOU"
    transfers = [r for r in found.values() if r.category == "own_transfer"]
    assert len(transfers) == 2 * len(paid)  # nothing else was taken for one
    # Spending is money out less money back per category, income and transfers left out.
    expected: dict[str, Decimal] = {}
    for r in found.values():
        counted = r.category not in NOT_SPENDING and r.state not in ("pending", "rejected")
        if counted and not (r.category == "uncategorised" and r.amount > 0):
            expected[r.category] = expected.get(r.category, Decimal(0)) - Decimal(str(r.amount))
    assert {s.category: s.spent for s in report.spent} == {
        c: v.quantize(Decimal("0.01")) for c, v in expected.items()
    }
    assert not {"own_transfer", "income"} & {s.category for s in report.spent}


def test_a_resync_with_nothing_new_decides_nothing_and_a_refetched_side_keeps_its_pair(
    store: Store,
) -> None:
    before = {r.id: r for r in rows(store, JOINED)}
    assert [f.summary for f in understand(store, only=["categories"])] == [""]
    debit = next(r for r in before.values() if r.description == "DEMOBANK CARD PAYMENT")
    with store.engine.begin() as db:  # the bank sent this one again, changed
        db.execute(
            text("UPDATE transactions SET fetched_at = :at WHERE id = :id"),
            {"at": "2999-01-01T00:00:00.000000+00:00", "id": debit.id},
        )
    (finding,) = understand(store, only=["categories"])
    assert (
        finding.summary
        == "2 transactions looked at: 2 given a category, 2 between your own accounts"
    )
    after = {r.id: r for r in rows(store, JOINED)}
    assert after[debit.id].paired_with == debit.paired_with
    assert after[debit.paired_with].paired_with == debit.id
    redone = {i for i in after if after[i].decided_at != before[i].decided_at}
    assert redone == {debit.id, debit.paired_with}  # the rest was not read again


def test_a_persons_rule_wins_over_the_merchant_code_now_and_on_later_imports(
    home: Path, tmp_path: Path
) -> None:
    with Portal.open(home=home) as portal:
        store = portal.store
        before = {r.id: r for r in rows(store, JOINED)}
        netflix = {i for i, r in before.items() if "NETFLIX" in r.description.upper()}
        assert netflix and {before[i].category for i in netflix} == {"subscriptions"}

        assert add_rule(store, "netflix*", Spending.entertainment) == len(netflix)
        after = {r.id: r for r in rows(store, JOINED)}
        assert {(after[i].category, after[i].rule) for i in netflix} == {
            ("entertainment", "person:netflix*")
        }
        untouched = set(before) - netflix
        assert all(after[i].decided_at == before[i].decided_at for i in untouched)

        statement = tmp_path / "card.ofx"
        statement.write_text(
            ofx([("CREDITCARD", "5599", [("POS", "20270105", "-10.99", "NETFLIX.COM")])])
        )
        import_file(portal, statement)
        later = rows(store, JOINED + " WHERE t.provider = 'ofx'")
        assert [(r.category, r.rule) for r in later] == [("entertainment", "person:netflix*")]

        assert remove_rule(store, "netflix*") == len(netflix) + 1
        assert remove_rule(store, "netflix*") is None
        again = {r.id: r for r in rows(store, JOINED)}
        assert {again[i].rule for i in netflix} == {"mcc:4899"}
        assert again[later[0].id].category == "uncategorised"  # an OFX card line has no MCC
        assert rules(store) == []


def test_the_more_specific_of_two_matching_rules_wins_whichever_came_first(store: Store) -> None:
    add_rule(store, "NETFLIX*", Spending.entertainment)
    add_rule(store, "N*", Spending.shopping)  # newer, but says less
    found = rows(store, JOINED)
    netflix = [r for r in found if r.description.upper().startswith("NETFLIX")]
    others = [r for r in found if r.description.upper().startswith("N") and r not in netflix]
    assert netflix and {(r.category, r.rule) for r in netflix} == {
        ("entertainment", "person:NETFLIX*")
    }
    assert others and {(r.category, r.rule) for r in others} == {("shopping", "person:N*")}
    remove_rule(store, "NETFLIX*")
    assert {r.rule for r in rows(store, JOINED) if r.id in {n.id for n in netflix}} == {"person:N*"}


def test_own_transfers_are_found_between_accounts_at_different_providers(tmp_path: Path) -> None:
    current = tmp_path / "midata.csv"
    current.write_text(
        "Date,Type,Merchant/Description,Debit/Credit,Balance\n"
        "20/03/2026,POS,TESCO STORES,-£23.47,£976.53\n"
        "16/03/2026,FPO,TO NATIONWIDE SAVINGS,-£500.00,£1000.00\n"
        "02/03/2026,FPO,T OYELARAN,-£42.00,£1500.00\n",
        encoding="utf-8",
    )
    savings = tmp_path / "savings.ofx"
    savings.write_text(
        ofx(
            [
                (
                    "SAVINGS",
                    "11223344",
                    [
                        ("XFER", "20260317", "500.00", "From Demo current account"),
                        ("XFER", "20260330", "500.00", "From a friend"),  # a fortnight on
                        ("CREDIT", "20260321", "23.47", "Refund"),  # a card paid the -23.47
                    ],
                )
            ]
        )
    )
    with Portal.open(home=tmp_path / "home") as portal:
        import_file(portal, current, account="current")
        import_file(portal, savings)
        found = {r.description: r for r in rows(portal.store, JOINED)}
        report = spending(portal.store)
    out, into = found["TO NATIONWIDE SAVINGS"], found["From Demo current account"]
    assert (out.category, out.rule, out.paired_with) == ("own_transfer", "own-transfer", into.id)
    assert (into.category, into.paired_with) == ("own_transfer", out.id)
    assert out.account_id != into.account_id
    assert {r.provider for r in (out, into)} == {"midata", "ofx"}
    paired = {d for d, r in found.items() if r.category == "own_transfer"}
    assert paired == {"TO NATIONWIDE SAVINGS", "From Demo current account"}
    assert "own_transfer" not in {s.category for s in report.spent}
    assert sum(s.transactions for s in report.spent) == 2  # Tesco and the friend


def test_the_merchant_code_table_in_sql_agrees_with_mcc_category_for_every_code(
    tmp_path: Path,
) -> None:
    store = Store(sqlite_url(tmp_path / "portal.db"))
    codes = [f"{n:04d}" for n in range(10_000)] + ["541", "54111", "54a1", "5 11", "٥٤١١", ""]
    with store.engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO transactions (id, provider, provider_id, connection_id, raw_id,"
                " account_id, booked_at, amount, currency, description, status, status_label,"
                " state, fetched_at, origin, extra, merchant_category_code) VALUES (:id, 'p',"
                " :id, 'c', 'r', 'a', '2026-01-01T00:00:00.000000+00:00', -1, 'GBP', 'x', 'B',"
                " 'B', 'booked', :at, 'observed', '{}', :mcc)"
            ),
            [{"id": str(i), "mcc": c, "at": UTCDateTime.bind(_now())} for i, c in enumerate(codes)],
        )
        categorise(db, None)
        decided = dict(
            db.execute(text("SELECT transaction_id, category FROM transaction_categories")).all()
        )
    store.close()
    assert len(decided) == len(codes)
    for i, code in enumerate(codes):
        assert decided[str(i)] == (mcc_category(code) or Spending.uncategorised), code
    assert mcc_category("5411") == "groceries" and mcc_category("0001") is None


def test_every_category_has_words_and_every_code_one_category() -> None:
    assert set(SPENDING_LABELS) == set(Spending)
    assert len(set(SPENDING_LABELS.values())) == len(Spending)
    named = [code for codes in MCC_CODES.values() for code in codes]
    assert len(named) == len(set(named)) and all(mcc_category(code) for code in named)
    for first, last, _ in MCC_RANGES:
        assert len(first) == len(last) == 4 and first <= last
    # Only a transfer found on both sides is one between own accounts, never a code.
    assert all(Spending.own_transfer not in pair for pair in PROVIDER_CODES.values())


def test_portal_categories_prints_spending_and_rules_in_plain_words(home: Path) -> None:
    runner = CliRunner()
    portal = ["--home", str(home)]
    shown = runner.invoke(cli, [*portal, "categories"])
    assert shown.exit_code == 0, shown.output
    store = Store(sqlite_url(home / "portal.db"))
    report = spending(store)
    store.close()
    groceries = next(s for s in report.spent if s.category == "groceries")
    assert re.search(
        rf"{label('groceries')}\s*│\s*{re.escape(money(groceries.spent, 'GBP'))}", shown.output
    )
    assert "Between your own accounts" not in shown.output and "Income over" in shown.output

    hostile = "EVIL\x1b]8;;http://x\x07*"
    made = runner.invoke(cli, [*portal, "categories", "rule", hostile, "Eating and drinking out"])
    assert made.exit_code == 0, made.output
    assert "\x1b" not in made.output and "\\x1b" in made.output
    listed = runner.invoke(cli, [*portal, "categories", "rules"])
    assert "\\x1b" in listed.output and "Eating and drinking out" in listed.output
    refused = runner.invoke(cli, [*portal, "categories", "rule", "X*", "nonsense"])
    assert refused.exit_code != 0 and "groceries, eating_out" in refused.output
    gone = runner.invoke(cli, [*portal, "categories", "unrule", hostile])
    assert gone.exit_code == 0 and "0 transactions" in gone.output
    assert runner.invoke(cli, [*portal, "categories", "unrule", hostile]).exit_code != 0


def test_the_money_pages_list_shows_each_transactions_category(demo: Path) -> None:
    store = Store(sqlite_url(demo / "portal.db"), read_only=True)
    try:
        decided = {r.id: r.category for r in rows(store, JOINED)}
        with ViewServer(store) as server, browser(server) as client:
            query = {"sort": "amount", "order": "asc"}  # the rent, then the card payments
            page = client.get(server.url + "money", params=query).text
    finally:
        store.close()
    listed = re.findall(
        r'<tr class="transaction[^"]*" data-id="([^"]+)"[^>]*>(.*?)</tr>', page, re.S
    )
    assert len(listed) > 10
    for key, body in listed:
        cells = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)
        assert cells[4] == label(decided[key])
    assert {decided[key] for key, _ in listed} >= {"housing", "own_transfer"}


def _now() -> object:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def ofx(accounts: list[tuple[str, str, list[tuple[str, str, str, str]]]]) -> str:
    """An OFX 2.2 download with these (type, number, [(TRNTYPE, YYYYMMDD, amount, name)])."""
    statements = []
    for kind, number, lines in accounts:
        entries = "".join(
            f"<STMTTRN><TRNTYPE>{t}</TRNTYPE><DTPOSTED>{day}120000[0:GMT]</DTPOSTED>"
            f"<TRNAMT>{amount}</TRNAMT><FITID>{number}-{i}</FITID><NAME>{name}</NAME></STMTTRN>"
            for i, (t, day, amount, name) in enumerate(lines)
        )
        first, last = min(d for _, d, _, _ in lines), max(d for _, d, _, _ in lines)
        if kind == "CREDITCARD":
            statements.append(
                f"<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE>"
                f"<SEVERITY>INFO</SEVERITY></STATUS><CCSTMTRS><CURDEF>GBP</CURDEF><CCACCTFROM>"
                f"<ACCTID>{number}</ACCTID></CCACCTFROM><BANKTRANLIST><DTSTART>{first}</DTSTART>"
                f"<DTEND>{last}</DTEND>{entries}</BANKTRANLIST><LEDGERBAL><BALAMT>0</BALAMT>"
                f"<DTASOF>{last}</DTASOF></LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1>"
            )
        else:
            statements.append(
                f"<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE>"
                f"<SEVERITY>INFO</SEVERITY></STATUS><STMTRS><CURDEF>GBP</CURDEF><BANKACCTFROM>"
                f"<BANKID>070116</BANKID><ACCTID>{number}</ACCTID><ACCTTYPE>{kind}</ACCTTYPE>"
                f"</BANKACCTFROM><BANKTRANLIST><DTSTART>{first}</DTSTART><DTEND>{last}</DTEND>"
                f"{entries}</BANKTRANLIST><LEDGERBAL><BALAMT>0</BALAMT><DTASOF>{last}</DTASOF>"
                f"</LEDGERBAL></STMTRS></STMTTRNRS></BANKMSGSRSV1>"
            )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE"'
        ' NEWFILEUID="NONE"?>\n<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE>'
        "<SEVERITY>INFO</SEVERITY></STATUS><DTSERVER>20270106120000[0:GMT]</DTSERVER>"
        "<LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>" + "".join(statements) + "</OFX>"
    )
