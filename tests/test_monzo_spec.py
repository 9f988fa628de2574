"""Monzo's published rules (portal_monzo.rules) against the sandbox and the plugin.

What the sandbox serves obeys the reference's rules; the reference's own example responses
(tests/data/monzo, each noted with its page) normalise; and the plugin copes with all the
rules allow: optional fields absent, codes it has no words for, other currencies, empty
lists, deleted pots, transactions not settled or declined.
"""

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portal import Cursors
from portal.errors import SkippableError
from portal.record import Account, Balance, Entity, State, Transaction
from portal.record.types import from_minor_units, minor_unit_digits
from portal.specvariants import TAKES_AWAY
from portal_monzo import plugin, rules, spec
from portal_monzo.sandbox import MonzoSandbox

DATA = Path(__file__).parent / "data" / "monzo"
KINDS = {
    "accounts": "account",
    "pots": "pot",
    "balances": "balance",
    "pot_balances": "pot",
    "transactions": "transaction",
}


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def ref(entity: type[Entity], provider_id: str) -> str:
    return f"{entity.__name__}:{provider_id}"


def normalise(stream: str, item: dict[str, Any]) -> list[Entity]:
    return plugin.normalise(stream=stream, item=item, ref=ref)


@pytest.fixture(scope="module")
def served() -> dict[str, list[dict[str, Any]]]:
    return MonzoSandbox(history_days=120).ground_truth()


def one(stream: str, item: dict[str, Any], kind: type[Entity]) -> Any:
    [record] = [r for r in normalise(stream, item) if isinstance(r, kind)]
    return record


def test_everything_the_sandbox_serves_obeys_the_reference(served: dict[str, Any]) -> None:
    broken = [
        (key, item.get("id"), found)
        for key, items in served.items()
        for item in items
        if (found := rules.problems(KINDS[key], item))
    ]
    assert broken == []
    merchants = [t["merchant"] for t in served["transactions"] if isinstance(t["merchant"], dict)]
    assert merchants and all(not rules.problems("merchant", m) for m in merchants)
    codes = {t["category"] for t in served["transactions"]}
    assert codes <= rules.CATEGORIES
    reasons = {t["decline_reason"] for t in served["transactions"] if "decline_reason" in t}
    assert reasons and reasons <= rules.DECLINE_REASONS


def test_the_sandbox_serves_what_the_issue_asks_for(served: dict[str, Any]) -> None:
    txs = served["transactions"]
    assert {a["type"] for a in served["accounts"]} == {"uk_retail", "uk_retail_joint"}
    assert len(served["pots"]) == 2
    assert len(txs) >= 200
    assert {t["local_currency"] for t in txs} >= {"GBP", "EUR", "JPY", "USD"}
    assert any(t["settled"] == "" and "decline_reason" not in t for t in txs)


def test_the_rules_catch_what_the_reference_forbids() -> None:
    [tx] = fixture("transactions.json")["transactions"][:1]
    assert rules.problems("transaction", tx) == []
    assert rules.problems("transaction", {**tx, "amount": -5.1}) == ["amount -5.1 is not valid"]
    assert rules.problems("transaction", {**tx, "created": "22/08/2015"})
    assert rules.problems("transaction", _without(tx, "id")) == ["id is required"]
    assert rules.problems("transaction", {**tx, "local_amount": 5}) == [
        "local_amount comes with its local_currency"
    ]
    assert rules.problems("balance", fixture("balance.json")) == []
    assert rules.problems("error", fixture("error_insufficient_permissions.json")) == []
    assert rules.known_code("transaction", "category", "eating_out")
    assert not rules.known_code("transaction", "category", "category_0000ABC")


def test_the_references_example_objects_normalise() -> None:
    [acc] = fixture("accounts.json")["accounts"]
    account = one("accounts", acc, Account)
    assert (account.account_type, account.name) == ("account", "Monzo account")
    assert account.identifiers == []
    assert account.extra == {"description": "Peter Pan's Account"}
    [pot] = fixture("pots.json")["pots"]
    saved = one("pots", pot, Balance)
    assert saved.amount == Decimal("1337.00") and saved.balance_type == "pot"
    first, _ = fixture("transactions.json")["transactions"]
    tx = one("transactions:acc_00009237aqC8c5umZmrRdh", first, Transaction)
    assert tx.account_id == "Account:acc_00009237aqC8c5umZmrRdh"
    assert (tx.amount, tx.currency, tx.state) == (Decimal("-5.10"), "GBP", State.booked)
    assert tx.merchant_name is None and tx.extra["merchant"] == "merch_00008zIcpbAKe8shBxXUtl"
    assert tx.extra["notes"] == "Salmon sandwich 🍞"
    expanded = fixture("transaction_expanded.json")["transaction"]
    tx = one("transactions:acc_00009237aqC8c5umZmrRdh", expanded, Transaction)
    assert tx.merchant_name == "The De Beauvoir Deli Co."
    assert tx.category_code is None and tx.merchant_category_code is None
    assert tx.extra["merchant"]["address"]["postcode"] == "N1 3JD"
    balance = one(
        "balances",
        {
            "account_id": "acc_1",
            "as_of": "2015-11-13T12:17:42Z",
            "balance": fixture("balance.json"),
        },
        Balance,
    )
    assert (balance.amount, balance.extra) == (
        Decimal("50.00"),
        {"total_balance": 6000, "spend_today": 0},
    )


OPTIONAL = {
    kind: [name for name, rule in fields.items() if not rule.required]
    for kind, fields in rules.RULES.items()
}


@pytest.mark.parametrize("key", ["accounts", "pots", "transactions"])
def test_every_optional_field_may_be_absent(served: dict[str, Any], key: str) -> None:
    for item in served[key][:40]:
        sparse = _without(item, *OPTIONAL[KINDS[key]])
        assert normalise(f"{key}:acc_0000A7bDemoCurrent1", sparse)


def test_codes_without_words_still_arrive_labelled(served: dict[str, Any]) -> None:
    declined = next(t for t in served["transactions"] if "decline_reason" in t)
    odd = {**declined, "category": "category_0000AbCdEf", "decline_reason": "CARD_LOST"}
    odd["metadata"] = {**odd["metadata"], "mcc": "9999"}
    tx = one("transactions:x", odd, Transaction)
    assert tx.state == State.rejected
    assert tx.status_label == "Decline reason CARD_LOST (no label known)"
    assert tx.category_label == "Category category_0000AbCdEf (no label known)"
    assert tx.merchant_category_label == "Merchant category 9999 (no label known)"


def test_other_currencies_keep_their_minor_units(served: dict[str, Any]) -> None:
    [yen] = [t for t in served["transactions"] if t["local_currency"] == "JPY"]
    tx = one("transactions:x", yen, Transaction)
    assert tx.currency == "GBP" and tx.amount == Decimal(yen["amount"]) / 100
    assert tx.extra["local_currency"] == "JPY" and tx.extra["local_amount"] == yen["local_amount"]
    in_yen = one("transactions:x", {**yen, "currency": "JPY", "amount": -8000}, Transaction)
    assert (in_yen.amount, in_yen.currency) == (Decimal("-8000"), "JPY")
    dinar = one("transactions:x", {**yen, "currency": "KWD", "amount": -1234}, Transaction)
    assert dinar.amount == Decimal("-1.234")


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_unit_digits("GBP"), minor_unit_digits("jpy"), minor_unit_digits("BHD")) == (
        2,
        0,
        3,
    )
    assert from_minor_units(-510, "GBP") == Decimal("-5.10")
    assert str(from_minor_units(-510, "GBP")) == "-5.10"
    assert from_minor_units(1500, "JPY") == Decimal(1500)
    with pytest.raises(ValueError, match="whole number"):
        from_minor_units(5.1, "GBP")  # type: ignore[arg-type]


def test_pending_declined_and_deleted(served: dict[str, Any]) -> None:
    pending = next(
        t for t in served["transactions"] if t["settled"] == "" and "decline_reason" not in t
    )
    tx = one("transactions:x", pending, Transaction)
    assert (tx.status, tx.state, tx.value_at) == ("pending", State.pending, None)
    assert one("transactions:x", {**pending, "settled": None}, Transaction).state == State.pending
    pot = one("pots", {**served["pots"][0], "deleted": True}, Account)
    assert (pot.status, pot.state) == ("deleted", State.closed)
    closed = one("accounts", {**served["accounts"][0], "closed": True}, Account)
    assert closed.state == State.closed


def test_an_item_breaking_the_rules_is_rejected_naming_them(served: dict[str, Any]) -> None:
    item = copy.deepcopy(served["transactions"][0])
    item["amount"] = "-5.10"
    with pytest.raises(SkippableError, match=r"amount '-5\.10' is not valid"):
        normalise("transactions:x", item)
    with pytest.raises(SkippableError, match="created is required"):
        normalise("transactions:x", _without(served["transactions"][0], "created"))
    with pytest.raises(SkippableError, match="balance is required"):
        normalise("pots", _without(served["pots"][0], "balance"))


def _without(item: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in names}


class _Listing:
    """Answers ``get_json`` from a table of paths, recording what was asked."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        self.asked.append(path)
        return self.answers[path]


def test_accounts_monzo_lists_no_transactions_for_are_kept_and_asked_nothing_more() -> None:
    prepaid = {"id": "acc_0000prepaid", "created": "2016-01-01T00:00:00Z", "type": "uk_prepaid",
               "description": "Prepaid card"}  # fmt: skip
    client = _Listing({"accounts": {"accounts": [prepaid]}})
    pages = list(plugin.fetch(client=client, cursors=Cursors({})))  # type: ignore[arg-type]
    assert [(p.stream, len(p.items)) for p in pages] == [("accounts", 1)]
    assert client.asked == ["accounts"]
    assert one("accounts", prepaid, Account).account_type_label == "Prepaid account"


class _Paging(_Listing):
    """``_Listing``, with transactions served 100 to a page after ``since`` (a time or an id)."""

    def __init__(self, answers: dict[str, Any], transactions: list[dict[str, Any]]) -> None:
        super().__init__(answers)
        self.transactions = transactions
        self.since: list[str] = []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        if path != "transactions":
            return super().get_json(path, params)
        since = (params or {})["since"]
        self.since.append(since)
        ids = [t["id"] for t in self.transactions]
        start = ids.index(since) + 1 if since in ids else 0
        return {"transactions": self.transactions[start : start + 100]}


def _current(served: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in served["accounts"] if a["type"] == "uk_retail")


def test_empty_lists_and_exactly_full_pages(served: dict[str, Any]) -> None:
    account = _current(served)
    answers = {
        "accounts": {"accounts": [account]},
        "balance": {"balance": 0, "total_balance": 0, "currency": "GBP", "spend_today": 0},
        "pots": {"pots": []},
    }
    # No transactions at all: one empty page, and the balance stands since the opening.
    empty = _Paging(answers, [])
    pages = list(plugin.fetch(client=empty, cursors=Cursors({})))  # type: ignore[arg-type]
    assert [(p.stream.split(":")[0], len(p.items)) for p in pages] == [
        ("accounts", 1), ("transactions", 0), ("balances", 1), ("pots", 0)
    ]  # fmt: skip
    assert pages[2].items[0]["as_of"] == account["created"]
    # Exactly two full pages: a third request, after the last id, finds nothing more.
    txs = [t for t in served["transactions"] if t["account_id"] == account["id"]][:200]
    assert len(txs) == 200
    full = _Paging(answers, txs)
    pages = list(plugin.fetch(client=full, cursors=Cursors({})))  # type: ignore[arg-type]
    assert [len(p.items) for p in pages if p.stream.startswith("transactions")] == [100, 100, 0]
    assert full.since[1:] == [txs[99]["id"], txs[199]["id"]]
    assert pages[-2].items[0]["as_of"] == max(t["created"] for t in txs)


@pytest.mark.parametrize("variant", spec.SPECIFICATION.variants)
def test_every_generated_answer_obeys_the_rules_and_normalises(
    served: dict[str, Any], variant: str
) -> None:
    answers = {
        "/accounts": {"accounts": served["accounts"]},
        "/pots": {"pots": served["pots"]},
        "/transactions": {"transactions": served["transactions"]},
        "/balance": served["balances"][0],
    }
    changed = 0
    for path, body in answers.items():
        raw = json.dumps(body).encode()
        varied = spec.SPECIFICATION.vary(variant, path, "application/json", raw)
        assert varied is not None
        assert spec.SPECIFICATION.problems(path, "application/json", varied.body) == []
        changed += varied.changes
        stream = {"/accounts": "accounts", "/pots": "pots"}.get(path, "transactions:acc_1")
        for item in varied.items if path != "/balance" else []:
            try:
                assert normalise(stream, item)
            except SkippableError:
                assert variant in TAKES_AWAY
    assert changed > 0


def test_a_generated_answer_breaking_the_rules_is_caught() -> None:
    body = json.dumps({"transactions": [{"id": "tx_1", "amount": 1.5}]}).encode()
    found = spec.SPECIFICATION.problems("/transactions", "application/json", body)
    assert "transactions[0]: amount 1.5 is not valid" in found
    assert spec.SPECIFICATION.problems("/accounts", "application/json", b"{}") == [
        "the answer to /accounts holds no accounts list"
    ]
