"""test_values: every stored value is compared with what the sandbox states it served.

Through the real harness (the Demo Bank sandbox on a socket, the real OAuth flow, a real
SQLite store) for the rule as a whole; the comparison's edge cases (a moment in another
zone, decimals, text cut or folded, sets, ``extra``) on the comparison itself. The broken
variants that only this check catches are in ``conformance/tests/broken`` (the self-test).
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portal.record import Transaction
from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check
from portal_conformance.rules.values import compare, differs, matched


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with Harness("bank", tmp_path_factory.mktemp("values")) as harness:
        yield harness


def _restated(bank: Harness, monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Make the main run's sandbox state ``change(its own statement)`` from now on."""
    sandbox = bank.main.sandbox
    stated = sandbox.expected_records()
    monkeypatch.setattr(sandbox, "expected_records", lambda: change(stated))
    bank.__dict__.get("_cache", {}).pop("expected_records", None)


@pytest.fixture(autouse=True)
def _fresh_statement(bank: Harness) -> Iterator[None]:
    yield
    bank.__dict__.get("_cache", {}).pop("expected_records", None)


def _values(bank: Harness, category: str) -> str:
    with pytest.raises(CheckFailed) as failed:
        run_check(bank, "values", category)
    return str(failed.value)


def test_the_demo_bank_delivers_every_value_it_serves_in_every_category(bank: Harness) -> None:
    categories = [c.value for c in bank.provider.categories]
    assert len(categories) == 11
    for category in categories:
        run_check(bank, "values", category)


def test_the_statement_follows_what_is_served_after_a_new_day_at_the_bank(
    tmp_path: Path,
) -> None:
    with Harness("bank", tmp_path) as harness:
        run = harness.main
        before = len(run.sandbox.expected_records()["transactions"])
        run.sandbox.add_activity(25)  # pending items book, 25 new card payments
        harness.sync(run)
        after = run.sandbox.expected_records()["transactions"]
        assert len(after) == before + 25
        assert {t["status"] for t in after.values()} == {"Booked"}
        harness.__dict__.pop("_rows", None)
        harness.__dict__.pop("_cache", None)
        run_check(harness, "values", "transactions")


def test_an_account_the_bank_disables_is_suspended_as_iso_20022_defines_it(
    tmp_path: Path,
) -> None:
    # Disabled: "cannot be used, temporarily or permanently"; Deleted is the end of it.
    with Harness("bank", tmp_path) as harness:
        run = harness.main
        card = run.sandbox.bank.accounts[1]
        card["Status"] = "Disabled"
        harness.sync(run)
        harness.__dict__.pop("_rows", None)
        harness.__dict__.pop("_cache", None)
        run_check(harness, "values", "accounts")
        [stored] = [a for a in harness.rows(harness.entity("accounts")) if a["status"] != "Enabled"]
        assert (stored["provider_id"], stored["state"]) == (card["AccountId"], "suspended")


def test_a_sandbox_that_states_nothing_for_a_category_fails_saying_what_to_implement(
    bank: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    _restated(bank, monkeypatch, lambda stated: {**stated, "payees": {}})
    message = _values(bank, "payees")
    assert "states no expected values for 'payees'" in message
    assert "Implement expected_records()" in message
    run_check(bank, "values", "accounts")  # the other categories are still compared


def test_a_record_of_an_item_the_sandbox_does_not_serve_fails_naming_it_as_the_bank_does(
    bank: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = bank.rows(Transaction)[0]["provider_id"]

    def without(stated: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in stated["transactions"].items() if k != gone}
        return {**stated, "transactions": rest}

    _restated(bank, monkeypatch, without)
    message = _values(bank, "transactions")
    assert "1 stored transactions records are of no item the sandbox serves" in message
    assert f"TransactionId={gone}" in message


def test_a_field_the_record_fills_but_the_sandbox_does_not_state_fails_naming_the_field(
    bank: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unstated(stated: dict[str, Any]) -> dict[str, Any]:
        party = {
            k: {f: v for f, v in e.items() if f != "mobile"} for k, e in stated["party"].items()
        }
        return {**stated, "party": party}

    _restated(bank, monkeypatch, unstated)
    message = _values(bank, "party")
    assert "fill fields the sandbox states nothing about" in message
    assert "mobile (e.g. PartyId=PTY-7Q2K9X" in message


def test_a_field_the_record_does_not_have_fails_as_the_sandbox_s_mistake(
    bank: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def misspelt(stated: dict[str, Any]) -> dict[str, Any]:
        party = {k: {**e, "mobile_phone": e["mobile"]} for k, e in stated["party"].items()}
        return {**stated, "party": party}

    _restated(bank, monkeypatch, misspelt)
    message = _values(bank, "party")
    assert "The sandbox states fields Party does not have: mobile_phone." in message
    assert "where: BankSandbox.expected_records()" in message


def test_several_wrong_values_show_the_first_few_and_how_many(
    bank: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    def doubled(stated: dict[str, Any]) -> dict[str, Any]:
        moved = {k: {**e, "amount": e["amount"] * 2} for k, e in stated["transactions"].items()}
        return {**stated, "transactions": moved}

    _restated(bank, monkeypatch, doubled)
    message = _values(bank, "transactions")
    served = len(bank.rows(Transaction))
    assert f"{served} values of transactions differ" in message
    assert f"(and {served - 5} more)" in message
    assert "amount served as" in message and "(another number)" in message
    assert "where: transactions.amount of provider 'bank'" in message


# -- the comparison itself -------------------------------------------------------------


def test_a_moment_is_the_same_instant_and_stored_in_utc() -> None:
    served = datetime(2026, 3, 29, 1, 40, tzinfo=UTC)
    paris = served.astimezone(timezone(timedelta(hours=2)))
    assert differs(served, served) is None
    assert differs(served, paris) == "the same instant, but not stored in UTC"
    assert differs(served, served + timedelta(hours=1)) == "another instant"
    assert differs(served, served.replace(tzinfo=None)) == "not an aware date-time"
    assert differs(served, "2026-03-29T01:40:00+00:00") is None  # as JSON keeps it nested


def test_decimals_are_compared_as_exact_numbers() -> None:
    assert differs(Decimal("1.10"), Decimal("1.1")) is None  # the same amount
    assert differs(Decimal("1.10"), Decimal("1.100001")) == "another number"
    assert differs(Decimal("-1.10"), Decimal("1.10")) == "another number"  # the sign counts
    assert differs(Decimal("0.1"), 0.1) == "another number"  # a float is never exact


def test_text_is_compared_exactly_and_says_how_it_differs() -> None:
    served = "Zoë's 30th at Café Señor Pérez"
    assert differs(served, served) is None
    assert differs(served, served[:10]) == "cut to 10 of 30 characters"
    assert differs(served, "Zoe's 30th at Cafe Senor Perez") == "folded to ASCII"
    assert differs(served, "ZoÃ«'s 30th") == "other text"
    assert differs("+44-2079460123", "+44-7700900123") == "other text"


def test_a_set_names_what_was_not_served_and_what_was_left_out() -> None:
    granted = frozenset({"ReadAccountsDetail", "ReadBalances"})
    assert differs(granted, ["ReadBalances", "ReadAccountsDetail"]) is None  # order is free
    assert differs(granted, ["ReadBalances", "ReadAccountsDetail", "ReadPAN"]) == (
        "not served: 'ReadPAN'"
    )
    assert differs(granted, ["ReadBalances"]) == "left out: 'ReadAccountsDetail'"
    assert differs(["a", "b"], ["b", "a"]) == "[0]: other text"  # a list keeps its order


def test_empty_is_stated_as_none_and_a_value_where_none_is_stated_fails() -> None:
    assert differs(None, None) is None and differs(None, []) is None
    assert differs(frozenset(), []) is None
    assert differs(None, "+44-7700900123") == "stated empty"
    assert differs("+44-7700900123", None) == "missing"


def test_nested_models_are_compared_field_by_field() -> None:
    served = {"kind": "Residential", "lines": ["Flat 3", "27 Elmwood Road"], "town": "London"}
    assert differs(served, {**served, "postcode": None}) is None
    assert differs(served, {**served, "lines": ["Flat 3"]}) == ".lines: another list"
    assert differs(served, {**served, "country": "GB"}) == ".country: not stated"


def test_every_filled_field_and_extra_key_must_be_stated_labels_beside_codes_aside() -> None:
    delivered = {
        "id": "portal's own",
        "provider_id": "T1",
        "raw_id": "digest",
        "description": "CO-OP LONDON",
        "reference": None,
        "extra": {
            "ProprietaryBankTransactionCode": {"Code": "POS", "Issuer": "DemoBank"},
            "CreditorAccount": {"SchemeName": "UK.OBIE.IBAN", "SchemeName_label": "IBAN"},
        },
    }
    code = {"Code": "POS", "Issuer": "DemoBank"}
    unstated, wrong = compare(
        {"description": "CO-OP LONDON", "extra.ProprietaryBankTransactionCode": code}, delivered
    )
    assert unstated == ["extra.CreditorAccount"] and wrong == []
    stated = {
        "description": "CO-OP LONDON",
        "extra.ProprietaryBankTransactionCode": code,
        "extra.CreditorAccount": {"SchemeName": "UK.OBIE.IBAN"},
    }
    assert compare(stated, delivered) == ([], [])
    unstated, wrong = compare({"extra": {}, "description": "CO-OP"}, delivered)
    assert unstated == [] and [w[0] for w in wrong] == ["extra", "description"]


def test_a_stored_id_answers_its_statement_alone_or_behind_the_plugin_s_namespace() -> None:
    stated = {"881d-202411": {}, "DD-0001": {}, "A:ClosingBooked:2026-09-30T23:59:00+01:00": {}}
    assert matched("statement:881d-202411", stated) == "881d-202411"
    assert matched("A:ClosingBooked:2026-09-30T23:59:00+01:00", stated) == (
        "A:ClosingBooked:2026-09-30T23:59:00+01:00"
    )
    assert matched("direct-debit:DD-00011", stated) is None  # not the same id
    assert matched("x:1", {"1": {}, "x:1": {}}) == "x:1"  # the same id first
    assert matched("a:b:1", {"b:1": {}, "1": {}}) is None  # two statements fit: neither
