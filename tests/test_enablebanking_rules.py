"""Enable Banking's written-down rules, the JWT, and the plugin on every shape the rules allow.

The fixtures in tests/data/enablebanking are the reference's own examples (its README says
which); the sandbox's data is checked against the same rules.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from portal.errors import AuthError, SkippableError
from portal.record import Account, Balance, Category, State, Transaction
from portal_enablebanking import dataset, mapping, rules, signing

DATA = Path(__file__).parent / "data" / "enablebanking"
KEY = "WwpbImFjY291bnQiLCJpYmFuIl1dCg.hash"


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def ref(_kind: Any, provider_id: str) -> str:
    return f"portal:{provider_id}"


def one_transaction(item: dict[str, Any]) -> Transaction:
    [record] = mapping.transaction(f"transactions:{KEY}", item, ref)
    assert isinstance(record, Transaction)
    return record


def one_balance(item: dict[str, Any]) -> Balance:
    [record] = mapping.balance(f"balances:{KEY}", item, ref)
    assert isinstance(record, Balance)
    return record


def one_account(item: dict[str, Any]) -> Account:
    [record] = mapping.account(item, ref)
    assert isinstance(record, Account)
    return record


# -- the rules, and what obeys them -------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "name"),
    [
        ("HalTransactions", "transactions.json"),
        ("HalBalances", "balances.json"),
        ("AccountResource", "account.json"),
        ("ErrorResponse", "error.json"),
        ("StartAuthorizationResponse", None),
    ],
)
def test_the_references_own_examples_obey_the_written_down_rules(
    schema: str, name: str | None
) -> None:
    value = fixture(name) if name else fixture("start-authorization.json")["response"]
    if schema == "StartAuthorizationResponse":
        value = {**value, "authorization_id": "8a8b9c3d-4e5f-6789-abcd-ef0123456789"}
    assert rules.check(schema, value) == []


def test_the_rules_name_each_way_an_answer_breaks_them() -> None:
    broken = {
        "transactions": [
            {"transaction_amount": {"currency": "euro", "amount": "1,50"}, "status": "DONE"}
        ]
    }
    assert rules.check("HalTransactions", broken) == [
        "HalTransactions.transactions[0].transaction_amount.currency 'euro' is not a valid currency",
        "HalTransactions.transactions[0].transaction_amount.amount '1,50' is not a valid amount",
        "HalTransactions.transactions[0].credit_debit_indicator is required but missing",
        "HalTransactions.transactions[0].status 'DONE' is not one of its codes",
    ]


def test_everything_in_the_demo_obeys_the_rules() -> None:
    data = dataset.dataset()
    for account in data["accounts"]:
        assert rules.check("AccountResource", {**account, "uid": dataset.uid_of(account)}) == []
    for key in data["histories"]:
        assert rules.check("HalBalances", {"balances": data["balances"][key]}) == []
        assert rules.check("HalTransactions", {"transactions": data["transactions"][key]}) == []


def test_every_code_list_gives_each_code_words() -> None:
    for table in (rules.CASH_ACCOUNT_TYPES, rules.BALANCE_TYPES, rules.TRANSACTION_STATUSES):
        assert all(words and words != code for code, words in table.items())
    # Matched by meaning: the reference lists its descriptions in another order.
    assert rules.CASH_ACCOUNT_TYPES["CARD"] == "Card account"
    assert rules.USAGES["PRIV"] == "Private personal account"


# -- the plugin on the reference's examples -------------------------------------------------


def test_the_references_transactions_normalise_signed_from_the_account_holders_side() -> None:
    debit, credit = (one_transaction(t) for t in fixture("transactions.json")["transactions"])
    # The example sends a debit as "-49.90": the indicator decides the sign, not the string.
    assert (debit.amount, credit.amount) == (Decimal("-49.90"), Decimal("2450.00"))
    assert debit.provider_id == f"{KEY}:240412-000017"
    assert debit.booked_at == datetime(2026, 4, 12, tzinfo=UTC)
    assert debit.counterparty == "K-Market Tapiola" and credit.counterparty == "Acme Oy"
    assert (debit.category_code, debit.category_label) == ("PMNT-CCRD", "Card purchase")
    assert debit.merchant_category_label == "Grocery stores and supermarkets"
    assert debit.state is State.booked and debit.status_label == "Booked"
    assert debit.extra["credit_debit_indicator"] == "DBIT"
    assert debit.extra["entry_reference"] == "240412-000017"
    assert debit.extra["creditor"] == {"name": "K-Market Tapiola"}


def test_the_references_balance_holds_at_the_end_of_its_reference_date() -> None:
    [item] = fixture("balances.json")["balances"]
    record = one_balance(item)
    assert record.as_of == datetime(2020, 1, 4, tzinfo=UTC)
    assert (record.amount, record.currency) == (Decimal("1.23"), "EUR")
    assert record.balance_type_label == "Closing booked balance"
    assert record.account_id == f"portal:{KEY}"


def test_an_account_is_known_by_its_identification_hash_not_its_session_uid() -> None:
    record = one_account(fixture("account.json"))
    assert record.provider_id == fixture("account.json")["identification_hash"]
    assert "uid" not in record.extra
    assert record.name == "Current account in EUR"  # no details, no product
    assert [(i.scheme, i.identification) for i in record.identifiers] == [
        ("IBAN", "FI8821291587733472"),
        ("BBAN", "12345678"),
    ]


# -- everything else the rules allow ---------------------------------------------------------

MINIMAL = {
    "transaction_amount": {"currency": "JPY", "amount": "1500"},
    "credit_debit_indicator": "CRDT",
    "status": "PDNG",
    "value_date": "2026-11-20",
}


def test_a_transaction_with_only_its_required_fields_and_a_date() -> None:
    record = one_transaction(MINIMAL)
    assert (record.amount, record.currency) == (Decimal("1500"), "JPY")
    assert record.booked_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert record.description == "Credit (money in)"
    assert record.state is State.pending
    assert record.provider_id.startswith(f"{KEY}:derived:")


def test_a_derived_id_ignores_transaction_id_which_the_api_may_change() -> None:
    first = one_transaction({**MINIMAL, "transaction_id": "a"}).provider_id
    assert one_transaction({**MINIMAL, "transaction_id": "b"}).provider_id == first
    assert one_transaction({**MINIMAL, "value_date": "2026-11-21"}).provider_id != first


def test_unknown_codes_are_kept_with_a_label_saying_so() -> None:
    record = one_transaction(
        {**MINIMAL, "status": "NEWC", "merchant_category_code": "0001",
         "bank_transaction_code": {"code": "XXXX"}}
    )  # fmt: skip
    assert (record.status, record.state) == ("NEWC", State.unknown)
    assert record.status_label == "NEWC (no label known)"
    assert record.merchant_category_label == "0001 (no label known)"
    assert record.category_label == "XXXX (no label known)"
    account = one_account({**fixture("account.json"), "cash_account_type": "MOMA"})
    assert account.account_type_label == "MOMA (no label known)"


def test_a_transaction_without_a_direction_or_a_date_is_rejected_with_the_reason() -> None:
    with pytest.raises(SkippableError, match="neither CRDT nor DBIT"):
        one_transaction({**MINIMAL, "credit_debit_indicator": "BOTH"})
    undated = {k: v for k, v in MINIMAL.items() if k != "value_date"}
    with pytest.raises(SkippableError, match="cannot be placed in time"):
        one_transaction(undated)


def test_a_balance_without_any_moment_is_rejected_with_the_reason() -> None:
    item = {
        "name": "x",
        "balance_amount": {"currency": "SEK", "amount": "-3"},
        "balance_type": "XPCD",
    }
    with pytest.raises(SkippableError, match="cannot be placed in time"):
        mapping.balance(f"balances:{KEY}", item, ref)


def test_a_running_balance_in_another_currency_is_kept_whole_not_mapped() -> None:
    after = {"currency": "USD", "amount": "10.00"}
    record = one_transaction({**MINIMAL, "balance_after_transaction": after})
    assert record.balance_after is None and record.extra["balance_after_transaction"] == after


# -- the JWT ---------------------------------------------------------------------------------

APP = "cf589be3-3755-465b-a8df-a90a16a31403"


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_the_jwt_is_what_the_reference_asks_for(key: rsa.RSAPrivateKey) -> None:
    token = signing.make_jwt(APP, key, now=1_800_000_000)
    head, body, _ = token.split(".")
    assert json.loads(signing.unb64url(head)) == {"typ": "JWT", "alg": "RS256", "kid": APP}
    assert json.loads(signing.unb64url(body)) == {
        "iss": "enablebanking.com",
        "aud": "api.enablebanking.com",
        "iat": 1_800_000_000,
        "exp": 1_800_000_000 + signing.TTL,
    }
    claims = signing.verify_jwt(token, {APP: key.public_key()}, now=1_800_000_100)
    assert claims["aud"] == "api.enablebanking.com"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("signature", "signature does not match"),
        ("kid", "No application"),
        ("expired", "expired"),
        ("too_long", "lifetime is longer"),
    ],
)
def test_the_sandbox_refuses_a_jwt_the_api_would(
    key: rsa.RSAPrivateKey, change: str, reason: str
) -> None:
    now = 1_800_000_000
    keys = {APP: key.public_key()}
    token = signing.make_jwt(APP, key, now=now, ttl=100_000 if change == "too_long" else 3600)
    if change == "signature":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    if change == "kid":
        token = signing.make_jwt("another-app", key, now=now)
    moment = now + 7200 if change == "expired" else now + 1
    with pytest.raises(signing.Refused, match=reason):
        signing.verify_jwt(token, keys, now=moment)


def test_each_request_gets_a_fresh_jwt_and_no_repr_shows_the_key(key: rsa.RSAPrivateKey) -> None:
    ticks = iter([1_800_000_000, 1_800_000_001])
    auth = signing.SignedJWT(APP, pem(key), clock=lambda: next(ticks))
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200)

    with httpx.Client(auth=auth, transport=httpx.MockTransport(answer)) as client:
        client.get("https://api.enablebanking.com/application")
        client.get("https://api.enablebanking.com/application")
    assert len(set(seen)) == 2 and all(s.startswith("Bearer ey") for s in seen)
    assert "PRIVATE" not in repr(auth) and APP in repr(auth)


def test_a_key_that_is_not_one_is_refused_without_quoting_it() -> None:
    secret = "-----BEGIN PRIVATE KEY-----\nnot-really-a-key-but-secret\n-----END PRIVATE KEY-----\n"
    with pytest.raises(AuthError) as refused:
        signing.load_private_key(secret)
    assert "not-really" not in str(refused.value) + str(refused.value.hint)


# -- fetch on the pages the reference allows ---------------------------------------------


class PagedClient:
    """``get_json`` over answers given per query (httpx's MockTransport), for fetch alone."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.asked: list[dict[str, str]] = []

        def answer(request: httpx.Request) -> httpx.Response:
            query = dict(request.url.params)
            self.asked.append(query)
            return httpx.Response(200, json=answers[query.get("continuation_key", "first")])

        self._http = httpx.Client(
            base_url="https://api.enablebanking.com", transport=httpx.MockTransport(answer)
        )

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        return self._http.get(url, params=params).json()


def booked(n: int, day: str = "2026-11-20") -> dict[str, Any]:
    return {**MINIMAL, "status": "BOOK", "booking_date": day, "entry_reference": f"e{n}"}


def pages_of(client: PagedClient, saved: dict[str, Any] | None = None) -> list[Any]:
    from portal.provider import Cursors
    from portal_enablebanking.plugin import _transactions

    cursors = Cursors({f"transactions:{KEY}": saved} if saved else {})
    return list(_transactions(client, cursors, "uid-1", KEY))


def test_an_empty_list_is_one_empty_page_and_no_cursor() -> None:
    client = PagedClient({"first": {"transactions": [], "continuation_key": None}})
    [page] = pages_of(client)
    assert (list(page.items), page.cursor, list(page.withdrawn)) == ([], None, [])
    assert client.asked == [{"strategy": "longest"}]


def test_pages_follow_the_continuation_key_and_only_the_last_carries_the_cursor() -> None:
    client = PagedClient({
        "first": {"transactions": [booked(1, "2026-11-01")], "continuation_key": "k2"},
        "k2": {"transactions": [booked(2, "2026-11-03"), MINIMAL], "continuation_key": "k3"},
        # An exactly full last page, then the end, said with an empty string.
        "k3": {"transactions": [booked(3, "2026-11-02")], "continuation_key": ""},
    })  # fmt: skip
    pages = pages_of(client)
    assert [len(p.items) for p in pages] == [1, 2, 1]
    assert [p.cursor for p in pages[:-1]] == [None, None]
    cursor = pages[-1].cursor
    assert cursor.date_from == "2026-11-03" and cursor.oldest_pending == "2026-11-20"
    assert cursor.pending == [one_transaction(MINIMAL).provider_id]
    assert client.asked[1:] == [{"continuation_key": "k2"}, {"continuation_key": "k3"}]


def test_a_resync_asks_from_its_day_and_withdraws_pending_payments_no_longer_served() -> None:
    gone = one_transaction(MINIMAL).provider_id
    saved = {"date_from": "2026-11-19", "pending": [gone], "oldest_pending": "2026-11-18"}
    client = PagedClient({"first": {"transactions": [booked(9, "2026-11-21")]}})
    [page] = pages_of(client, saved)
    assert client.asked == [{"date_from": "2026-11-18"}]
    assert list(page.withdrawn) == [(Category.transactions, gone)]
    assert page.cursor.date_from == "2026-11-21" and page.cursor.pending == []


def test_a_balance_with_its_last_change_is_as_of_that_moment() -> None:
    item = {
        "name": "Available balance",
        "balance_amount": {"currency": "SEK", "amount": "-3.50"},
        "balance_type": "ITAV",
        "last_change_date_time": "2026-11-27T18:00:00+02:00",
        "reference_date": "2026-11-26",
    }
    record = one_balance(item)
    assert record.as_of == datetime(2026, 11, 27, 16, tzinfo=UTC)
    assert (
        record.amount == Decimal("-3.50")
        and record.balance_type_label == "Interim available balance"
    )
