"""The SimpleFIN plugin against the protocol's own rules (``portal_simplefin.rules``).

The sandbox serves only documents the rules allow, whatever the query and the variant;
the plugin's mapping copes with everything the rules allow (the protocol's own example
documents in ``tests/data/simplefin/``, optional attributes absent, other currencies, a
custom currency, unknown attributes and error codes, empty lists) and refuses, with a
reason, what they do not.
"""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portal.errors import SkippableError
from portal.record import Account, Balance, Entity, Transaction
from portal_simplefin import mapping, rules
from portal_simplefin.dataset import DemoPerson
from portal_simplefin.fetching import HISTORY_DAYS, WINDOW, Since, start_of, windows
from portal_simplefin.sandbox import SimpleFinSandbox, _as_v1
from portal_simplefin.spec_variants import SPECIFICATION
from portal_simplefin.variants import VARIANTS

DATA = Path(__file__).parent / "data" / "simplefin"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def ref(entity: type[Entity], provider_id: str) -> str:
    return f"{entity.__name__}:{provider_id}"


def normalised(body: dict[str, Any]) -> Iterator[Entity]:
    """Every record the plugin's mapping makes of a document (refusals raise)."""
    for account in body["accounts"]:
        item = {k: v for k, v in account.items() if k != "transactions"}
        yield from mapping.account(item, ref)
        for balance in mapping.balance_items(item):
            yield from mapping.balance(balance, ref)
        for txn in account.get("transactions") or []:
            with_account = {
                **txn,
                "portal_account": account["id"],
                "portal_currency": account["currency"],
            }
            yield from mapping.transaction(with_account, ref)


# -- the rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["v1-account-set.json", "v1-needs-attention.json", "v2-account-set.json",
             "custom-currency-account.json", "bridge-extra-attributes.json"],
)  # fmt: skip
def test_the_protocols_own_examples_obey_the_rules(name: str) -> None:
    assert rules.problems(fixture(name)) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d["accounts"][0].pop("balance-date"), "accounts[0].balance-date is required"),
        (lambda d: d["accounts"][0].update(balance=100.23), "accounts[0].balance is 100.23"),
        (lambda d: d["accounts"][0].update(currency="DOLLARS"), "accounts[0].currency"),
        (lambda d: d["accounts"][0]["transactions"][0].update(amount="1,50"), "amount is '1,50'"),
        (lambda d: d["accounts"][0]["transactions"][0].update(posted="793090572"), "posted"),
        (lambda d: d["accounts"][0].pop("conn_id"), "conn_id is required in 2.0"),
        (lambda d: d.pop("connections"), "no connections"),
        (lambda d: d["errlist"][0].update(code="CON_AUTH"), "errlist[0].code"),
    ],
)
def test_the_rules_refuse_what_the_protocol_does_not_allow(change: Any, problem: str) -> None:
    body = fixture("v2-account-set.json")
    change(body)
    assert any(problem in p for p in rules.problems(body)), rules.problems(body)


# -- the sandbox serves what the rules allow -------------------------------------------


@pytest.mark.parametrize("variant", sorted(set(VARIANTS) - {"faulty"}))
@pytest.mark.parametrize(
    "query",
    [{}, {"balances_only": True}, {"pending": False}, {"start": 0, "end": 1}],
    ids=["all", "balances-only", "no-pending", "empty-range"],
)
def test_the_sandbox_serves_only_what_the_rules_allow(variant: str, query: dict[str, Any]) -> None:
    sandbox = SimpleFinSandbox(variant=variant)
    body = sandbox.document(**query)
    assert rules.problems(body) == []
    if variant != "v1":  # what a 2.0 server answers a client that does not ask for 2.0
        assert rules.problems(_as_v1(sandbox.document(), sandbox.person.connections)) == []
    for step in sandbox.moves:
        sandbox.move_on(step)
        assert rules.problems(sandbox.document(**query)) == []


def test_the_faulty_variant_breaks_the_rules_exactly_once() -> None:
    problems = rules.problems(SimpleFinSandbox(variant="faulty").document())
    assert len(problems) == 1 and "amount" in problems[0] and "not numeric" in problems[0]


def test_the_demo_person_has_three_accounts_one_in_canadian_dollars_and_an_error() -> None:
    body = SimpleFinSandbox().document()
    assert [a["currency"] for a in body["accounts"]] == ["USD", "USD", "CAD"]
    assert [e["code"] for e in body["errlist"]] == ["con.auth"]
    served = sum(len(a["transactions"]) for a in body["accounts"])
    assert 150 <= served <= 400  # a few hundred: the conformance run stays quick
    assert sum(1 for a in body["accounts"] for t in a["transactions"] if t.get("pending")) == 3


def test_the_demo_persons_balances_add_up_from_their_transactions() -> None:
    person = DemoPerson()
    for account in person.snapshot()["accounts"]:
        booked = sum(
            (
                Decimal(t["amount"])
                for t in person.transactions[account["id"]]
                if not t.get("pending")
            ),
            Decimal(0),
        )
        opening = next(a for a in person.accounts if a["id"] == account["id"])["opening"]
        assert Decimal(account["balance"]) == opening + booked


def test_the_sandbox_filters_by_range_and_pending_as_the_protocol_says() -> None:
    sandbox = SimpleFinSandbox()
    every = sandbox.document()
    posted = [t["posted"] for a in every["accounts"] for t in a["transactions"] if t["posted"]]
    middle = sorted(posted)[len(posted) // 2]
    after = sandbox.document(start=middle, pending=False)
    before = sandbox.document(end=middle, pending=False)
    got_after = [t["posted"] for a in after["accounts"] for t in a["transactions"]]
    got_before = [t["posted"] for a in before["accounts"] for t in a["transactions"]]
    assert min(got_after) == middle  # on or after start-date
    assert max(got_before) < middle  # before, not on, end-date
    assert len(got_after) + len(got_before) == len(posted)
    assert all("transactions" not in a for a in sandbox.document(balances_only=True)["accounts"])
    one = sandbox.document(accounts=["ACT-5d7e3f19-chequing"])
    assert [a["id"] for a in one["accounts"]] == ["ACT-5d7e3f19-chequing"]


# -- the plugin copes with whatever the rules allow --------------------------------------


def test_a_v2_document_becomes_accounts_balances_and_transactions() -> None:
    records = list(normalised(fixture("v2-account-set.json")))
    account, balance, available, txn = records
    assert isinstance(account, Account) and account.currency == "USD"
    assert account.extra == {
        "conn_id": "CON-21983498-29349823984293842",
        "extra": {"account-open-date": 978360153},
    }
    assert isinstance(balance, Balance) and balance.amount == Decimal("100.23")
    assert balance.as_of == datetime.fromtimestamp(978366153, UTC)
    assert isinstance(available, Balance) and available.balance_type == "available-balance"
    assert isinstance(txn, Transaction) and txn.amount == Decimal("-33293.43")
    assert (txn.status, txn.state) == ("pending", "pending")
    assert txn.extra == {"extra": {"category": "food"}}


def test_a_v1_document_keeps_the_org_and_reads_the_same() -> None:
    account, _, _, txn = normalised(fixture("v1-account-set.json"))
    assert account.extra["org"] == {"domain": "mybank.com", "sfin-url": "https://sfin.mybank.com"}
    assert isinstance(txn, Transaction) and txn.status == "posted" and txn.value_at is None


def test_attributes_the_bridge_adds_are_kept_not_dropped() -> None:
    account, _, available, pending, posted = normalised(fixture("bridge-extra-attributes.json"))
    # Left out, the available balance "is the same as balance" (the protocol).
    assert isinstance(available, Balance) and available.amount == Decimal("10250.00")
    assert account.extra["holdings"][0]["symbol"] == "ACME"
    assert isinstance(pending, Transaction)
    # posted is 0 while pending: dated by when it happened.
    assert pending.booked_at == datetime.fromtimestamp(978360000, UTC) == pending.value_at
    assert pending.extra == {"payee": "My Bank", "memo": "Monthly fee"}
    assert isinstance(posted, Transaction) and posted.extra["payee"] == "ACME CORP"


def test_optional_attributes_absent_still_make_records() -> None:
    body = fixture("v2-account-set.json")
    account = body["accounts"][0]
    for name in ("available-balance", "extra", "transactions"):
        account.pop(name)
    records = list(normalised(body))
    assert [type(r) for r in records] == [Account, Balance, Balance]
    assert records[1].amount == records[2].amount  # type: ignore[attr-defined]


@pytest.mark.parametrize("currency", ["CAD", "EUR", "JPY"])
def test_any_iso_currency_is_kept_as_served(currency: str) -> None:
    body = fixture("v2-account-set.json")
    body["accounts"][0]["currency"] = currency
    assert {getattr(r, "currency", None) for r in normalised(body)} == {currency}


def test_a_custom_currency_keeps_its_account_and_balance_as_points_and_refuses_transactions() -> (
    None
):
    body = fixture("custom-currency-account.json")
    account = body["accounts"][0]
    records = list(normalised({"accounts": [{**account, "transactions": []}]}))
    assert records[0].currency is None  # type: ignore[attr-defined]
    assert records[0].extra["currency"] == "https://www.example.com/flight-miles"
    assert {(b.unit, b.currency) for b in records[1:]} == {("point", None)}  # type: ignore[attr-defined]
    txn = {
        **account["transactions"][0],
        "portal_account": "2930002",
        "portal_currency": account["currency"],
    }
    with pytest.raises(SkippableError, match="custom currency"):
        mapping.transaction(txn, ref)


def test_an_unknown_merchant_category_still_has_words() -> None:
    txn = {"id": "1", "posted": 978300000, "amount": "-1.00", "description": "X", "mcc": "9999",
           "portal_account": "A", "portal_currency": "USD"}  # fmt: skip
    [record] = mapping.transaction(txn, ref)
    assert record.merchant_category_label == "Merchant category 9999 (no label known)"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"amount": -1.5}, "not a numeric string"),
        ({"amount": "1,50"}, "not a numeric string"),
        ({"posted": 0}, "has no date"),
        ({"posted": "yesterday"}, "not a UNIX epoch"),
    ],
)
def test_what_the_rules_do_not_allow_is_refused_with_a_reason(
    change: dict[str, Any], reason: str
) -> None:
    txn = {"id": "1", "posted": 978300000, "amount": "-1.00", "description": "X",
           "portal_account": "A", "portal_currency": "USD", **change}  # fmt: skip
    with pytest.raises(SkippableError, match=reason):
        mapping.transaction(txn, ref)


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ("You must reauthenticate.", "You must reauthenticate."),
        ({"code": "con.auth", "msg": "Authentication failed for My Bank - Jim", "conn_id": "C1"},
         "Authentication failed for My Bank - Jim (The bank connection needs you to sign in again; conn_id C1)"),
        ({"code": "act.newthing", "msg": "Odd", "account_id": "A1"}, "Odd (Account error; account_id A1)"),
        ({"code": "gen.auth", "message": "No credentials provided"},
         "No credentials provided (Authentication error at the SimpleFIN server)"),
    ],
)  # fmt: skip
def test_each_error_is_said_in_words_an_unknown_subcode_by_its_prefix(
    error: Any, said: str
) -> None:
    assert rules.error_words(error) == said


# -- windows -----------------------------------------------------------------------------


def test_the_first_sync_asks_for_a_year_in_windows_of_the_bridges_longest_range() -> None:
    clock = datetime(2026, 12, 7, 12, tzinfo=UTC)
    spans = list(windows(start_of(None, clock), clock))
    assert spans[0][0] == clock - timedelta(days=HISTORY_DAYS)
    assert all(end - begin == WINDOW for begin, end in spans[:-1] if end)
    assert spans[-1][1] is None and clock - spans[-1][0] < WINDOW
    assert len(spans) == 5


def test_a_resync_asks_from_the_cursor_less_the_overlap_or_the_oldest_pending() -> None:
    clock = datetime(2026, 12, 7, 12, tzinfo=UTC)
    saved = Since(since=clock - timedelta(days=1))
    assert start_of(saved, clock) == clock - timedelta(days=15)
    assert len(list(windows(start_of(saved, clock), clock))) == 1
    old = int((clock - timedelta(days=40)).timestamp())
    assert start_of(Since(since=clock, pending={"A/1": old}), clock) == clock - timedelta(days=40)


# -- the generated variants --------------------------------------------------------------


@pytest.mark.parametrize("variant", SPECIFICATION.variants)
@pytest.mark.parametrize("shape", ["standard", "v1"])
def test_every_generated_variant_obeys_the_rules_and_changes_something(
    variant: str, shape: str
) -> None:
    body = json.dumps(SimpleFinSandbox(variant=shape).document()).encode()
    varied = SPECIFICATION.vary(variant, "/accounts", "application/json", body)
    assert varied is not None and varied.changes > 0
    assert SPECIFICATION.problems("/accounts", "application/json", varied.body) == []
    served = json.loads(body)
    assert len(varied.items) == len(served["accounts"]) + sum(
        len(a["transactions"]) for a in served["accounts"]
    )


def test_unknown_codes_are_read_by_their_prefix_and_mcc_said_as_unknown() -> None:
    body = json.dumps(SimpleFinSandbox().document()).encode()
    varied = SPECIFICATION.vary("unknown_codes", "/accounts", "application/json", body)
    assert varied is not None
    document = json.loads(varied.body)
    [error] = document["errlist"]
    assert rules.error_words(error).endswith("(Connection error; conn_id CON-0b93d4e1-maple)")
    records = list(normalised(document))
    labels = {r.merchant_category_label for r in records if isinstance(r, Transaction)}
    assert "Merchant category 0001 (no label known)" in labels
