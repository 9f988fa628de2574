"""The Demo Bank customer's life moves on (portal_bank.moves), and portal follows it.

Each step changes what the sandbox serves and states; a home synced after it holds exactly
that: a pending payment withdrawn or booked under a new id is deleted (Page.withdrawn), an
amended one is stored as amended, a lapsed offer is gone, and its raw payload stays.
"""

import sqlite3

import pytest

from bank_truth import _stored, assert_store_matches
from conftest import connect
from portal.app import Portal
from portal.record import Product, Transaction
from portal.sandbox import MOVES
from portal_bank.sandbox import BankSandbox


def pending(bank: BankSandbox, account_id: str | None = None) -> list[dict[str, object]]:
    """The pending payments the bank serves now (on one account, if named)."""
    return [
        t
        for t in bank.ground_truth()["transactions"]
        if t["Status"] == "Pending" and account_id in (None, t["AccountId"])
    ]


def raw_payload_ids(portal: Portal) -> set[str]:
    database = portal.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        return {r[0] for r in db.execute("SELECT id FROM raw_items")}


def test_the_bank_plays_every_step_in_the_order_a_suite_plays_them() -> None:
    assert BankSandbox().moves == MOVES
    assert BankSandbox(transactions=100).moves == ()  # made on demand: nothing pending
    with pytest.raises(ValueError, match="cannot play the step 'retire'"):
        BankSandbox().move_on("retire")


def test_full_page_fills_each_accounts_last_page_exactly() -> None:
    bank = BankSandbox(page_size=100)
    bank.move_on("full_page")
    truth = bank.ground_truth()
    for account in truth["accounts"]:
        mine = [t for t in truth["transactions"] if t["AccountId"] == account["AccountId"]]
        assert len(mine) % 100 == 0 and mine


def test_a_home_synced_after_each_step_holds_exactly_what_is_served(
    portal: Portal, bank: BankSandbox
) -> None:
    bank.move_on("full_page")
    connect(portal, bank)
    [first] = portal.sync()
    assert first.ok, first.error
    assert_store_matches(portal, bank)
    # Played after a sync, it would change what that sync was told it read whole.
    with pytest.raises(ValueError, match="before the first sync"):
        bank.move_on("full_page")
    current = bank.bank.current_id
    [first_pending, *_, last_pending] = pending(bank, current)

    bank.move_on("amend")  # a tip on the latest pending payment
    portal.sync()
    assert pending(bank, current)[-1]["Amount"] != last_pending["Amount"]
    assert_store_matches(portal, bank)  # amounts included

    bank.move_on("withdraw")  # the earliest pending payment's authorisation lapsed
    raws = raw_payload_ids(portal)
    portal.sync()
    assert str(first_pending["TransactionId"]) not in _stored(portal, Transaction)
    assert raws <= raw_payload_ids(portal)  # what it was made from is kept
    assert_store_matches(portal, bank)

    card = pending(bank, bank.bank.card_id)
    bank.move_on("book")  # the card's pending payment books under a new TransactionId
    portal.sync()
    assert not pending(bank)
    assert str(card[0]["TransactionId"]) not in _stored(portal, Transaction)
    assert {r["status"] for r in portal.store.rows(Transaction)} == {"Booked"}
    assert_store_matches(portal, bank)

    bank.move_on("arrive")
    portal.sync()
    assert_store_matches(portal, bank)

    offers = {k for k in _stored(portal, Product) if k.startswith("offer:")}
    assert offers
    bank.move_on("empty")  # the offers lapse: each account lists none
    portal.sync()
    assert not {k for k in _stored(portal, Product) if k.startswith("offer:")}
    assert_store_matches(portal, bank)
