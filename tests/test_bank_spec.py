"""The bank plugin against what Open Banking v3.1 allows, and the sandbox against its rules.

The rules are the project's own record of the specification (``portal_bank.spec``). Every
response the sandbox serves, in every variant, is checked against them through the real
path (the sandbox on a socket, the real OAuth flow, the plugin's own requests); then each
variant's sync must leave in the store exactly what the variant served, less the items the
specification forbids, each rejected with a reason.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import connect
from portal.app import Portal
from portal.engine.sync import SyncResult
from portal.record import Account, Document, Party, RecurringPayment, State, Transaction
from portal_bank import labels, spec, spec_check, spec_endpoints, spec_rules
from portal_bank.sandbox import API_PATH, BankSandbox
from portal_bank.statements import statements
from portal_bank.variants import FORBIDDEN, VARIANTS

VALID = ("standard", "sparse", "spec-edge")


class Recorder(httpx.BaseTransport):
    """The real transport, noting every answer of the bank's API with its request."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if API_PATH in request.url.path:
            response.read()
            self.seen.append((request, response))
        return response

    def close(self) -> None:
        self.inner.close()


class Synced:
    """One variant's sandbox, and a portal home synced against it once."""

    def __init__(self, bank: BankSandbox, portal: Portal, recorder: Recorder) -> None:
        self.bank, self.portal, self.recorder = bank, portal, recorder
        self.results: list[SyncResult] = []

    def sync(self) -> SyncResult:
        [result] = self.portal.sync()
        self.results.append(result)
        return result

    def rows(self, entity: type) -> list[dict[str, Any]]:
        return list(self.portal.store.rows(entity, "bank"))


@contextmanager
def synced_against(variant: str, home: Path) -> Iterator[Synced]:
    """A sandbox serving ``variant`` and a portal home connected and synced once."""
    recorder = Recorder()
    with (
        BankSandbox(variant=variant) as bank,
        Portal.open(home=home, transport=recorder) as portal,
    ):
        connect(portal, bank)
        synced = Synced(bank, portal, recorder)
        synced.sync()
        yield synced
    recorder.close()


@pytest.fixture(scope="module")
def variant_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Synced]]:
    """One synced run per variant, made when a test first asks for it and then shared."""
    runs: dict[str, Synced] = {}
    with pytest.MonkeyPatch.context() as patch, ExitStack() as stack:
        patch.setenv("PORTAL_VAULT", "file")

        def run(variant: str) -> Synced:
            if variant not in runs:
                home = tmp_path_factory.mktemp(variant)
                runs[variant] = stack.enter_context(synced_against(variant, home))
            return runs[variant]

        yield run


def _path(request: httpx.Request) -> str:
    return request.url.path.split(API_PATH, 1)[1]


def _every_answer(synced: Synced) -> list[tuple[str, Any]]:
    """Every JSON answer: to the plugin's own requests, then to the ones it never makes
    (one account, one statement), asked with the same token."""
    seen = list(synced.recorder.seen)
    bank = synced.bank
    account_id = bank.bank.accounts[0]["AccountId"]
    statement_id = statements(bank.bank, account_id)[0]["StatementId"]
    token = seen[0][0].headers["Authorization"]
    with httpx.Client(headers={"Authorization": token}) as client:
        for path in (
            f"/accounts/{account_id}",
            f"/accounts/{account_id}/statements/{statement_id}",
        ):
            response = client.get(bank.api_base + path)
            seen.append((response.request, response))
    return _json_answers(seen)


def _json_answers(seen: list[tuple[httpx.Request, httpx.Response]]) -> list[tuple[str, Any]]:
    answers = []
    for request, response in seen:
        assert response.status_code == 200, (request.url, response.text)
        if response.headers["Content-Type"].startswith("application/json"):
            answers.append((_path(request), response.json()))
        else:  # the statement's file: a document, not JSON
            assert request.url.path.endswith("/file"), request.url
            assert response.headers["Content-Type"] == "application/pdf"
    return answers


# -- the rules themselves ----------------------------------------------------------------


def test_the_rules_cite_the_specification_they_were_written_from() -> None:
    assert "OpenBankingUK/read-write-api-specs" in spec.SOURCE
    assert "account-info-openapi" in spec.SOURCE and "v3.1" in spec.SOURCE


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ({"AccountId": "A1"}, "transactions.Amount is required but missing"),
        (
            {"Amount": {"Amount": "-1.00", "Currency": "GBP"}},
            "transactions.Amount.Amount '-1.00' does not match",
        ),
        (
            {"Amount": {"Amount": "1.000001", "Currency": "GBP"}},
            "transactions.Amount.Amount '1.000001' does not match",
        ),
        (
            {"Amount": {"Amount": "1.00\n", "Currency": "GBP"}},
            "transactions.Amount.Amount '1.00\\n' does not match",
        ),
        (
            {"Amount": {"Amount": "1.00", "Currency": "gbp"}},
            "transactions.Amount.Currency 'gbp' does not match",
        ),
        (
            {"Amount": {"Amount": "1.00", "Currency": "QQQ"}},
            "transactions.Amount.Currency 'QQQ' is not an ISO 4217 currency code",
        ),
        ({"CreditDebitIndicator": "Both"}, "transactions.CreditDebitIndicator 'Both' is not one"),
        ({"Status": "Settled"}, "transactions.Status 'Settled' is not one of the spec"),
        (
            {"BookingDateTime": "2025-03-04"},
            "transactions.BookingDateTime '2025-03-04' is not an ISO 8601 date-time with its zone",
        ),
        (
            {"BookingDateTime": "2025-03-04T10:00:00"},
            "'2025-03-04T10:00:00' is not an ISO 8601 date-time with its zone",
        ),
        (
            {"BookingDateTime": "2025-02-30T10:00:00Z"},
            "'2025-02-30T10:00:00Z' is not a date-time that exists",
        ),
        ({"TransactionInformation": "x" * 501}, "is 501 characters long, more than the 500"),
        ({"ProprietaryBankTransactionCode": {}}, "ProprietaryBankTransactionCode.Code is required"),
    ],
)
def test_the_rules_name_what_a_transaction_breaks(item: dict[str, Any], problem: str) -> None:
    valid = {
        "AccountId": "A1",
        "Amount": {"Amount": "1.00", "Currency": "GBP"},
        "CreditDebitIndicator": "Debit",
        "Status": "Booked",
        "BookingDateTime": "2025-03-04T10:00:00+00:00",
    }
    assert spec_check.item_problems("transactions", valid) == []
    broken = {**valid, **item} if "AccountId" not in item else item
    problems = spec_check.item_problems("transactions", broken)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "item",
    [
        {"Amount": {"Amount": "1500", "Currency": "JPY"}},
        {"Amount": {"Amount": "0.12345", "Currency": "EUR"}},
        {"BookingDateTime": "2025-03-04T10:00:00.123Z"},
        {"BankTransactionCode": {"Code": "AnyIsoFamily", "SubCode": "AnySubFamily"}},
        {"ProprietaryBankTransactionCode": {"Code": "ZX9"}},
        {"MerchantDetails": {"MerchantCategoryCode": "999"}},
        {"SupplementaryData": {"Anything": [1, 2]}, "SomethingNew": "kept"},
    ],
)
def test_the_rules_allow_what_the_specification_allows(item: dict[str, Any]) -> None:
    valid = {
        "AccountId": "A1",
        "Amount": {"Amount": "1.00", "Currency": "GBP"},
        "CreditDebitIndicator": "Debit",
        "Status": "Booked",
        "BookingDateTime": "2025-03-04T10:00:00+00:00",
    }
    assert spec_check.item_problems("transactions", {**valid, **item}) == []


def test_an_empty_list_is_data_without_its_array_but_balances_need_one() -> None:
    assert spec_check.response_problems("/accounts/A1/transactions", {"Data": {}}) == []
    assert spec_check.response_problems("/accounts/A1/direct-debits", {"Data": {}}) == []
    assert spec_check.response_problems("/accounts/A1/balances", {"Data": {}}) == [
        "Data.Balance is required but missing"
    ]
    assert spec_check.response_problems("/accounts", {"Links": {"Self": "x", "Up": "y"}}) == [
        "Data is required but missing",
        "Links.Up is not a field the specification allows here",
    ]


# -- the sandbox's answers, checked against the rules ------------------------------------


@pytest.mark.parametrize("variant", VALID)
def test_every_answer_of_a_valid_variant_follows_the_specification(
    variant_runs: Callable[[str], Synced], variant: str
) -> None:
    answers = _every_answer(variant_runs(variant))
    checked = {found[0] for path, _ in answers if (found := spec_check.endpoint(path))}
    assert checked == set(spec_endpoints.ENDPOINTS), "an endpoint the sandbox serves went unchecked"
    assert [
        (p, problem) for p, body in answers for problem in spec_check.response_problems(p, body)
    ] == []


def test_the_sparse_variant_answers_an_empty_list_with_data_and_no_array(
    variant_runs: Callable[[str], Synced],
) -> None:
    answers = _every_answer(variant_runs("sparse"))
    empty = [path for path, body in answers if body["Data"] == {}]
    card = variant_runs("sparse").bank.bank.card_id
    assert f"/accounts/{card}/direct-debits" in empty


def test_the_forbidden_variant_breaks_the_rules_in_its_planted_items_only(
    variant_runs: Callable[[str], Synced],
) -> None:
    synced = variant_runs("forbidden")
    problems = [
        (str(request.url), problem)
        for request, response in synced.recorder.seen
        if response.headers["Content-Type"].startswith("application/json")
        for problem in spec_check.response_problems(_path(request), response.json())
    ]
    # Each problem names its item: Data.Transaction[12].Amount... -> (page, Transaction[12]).
    broken = {(url, problem.split(".")[1].split(" ")[0]) for url, problem in problems}
    truth = synced.bank.planted_truth()
    planted = [i for key in ("transactions", "documents") for i in truth[key] if FORBIDDEN in i]
    assert len(broken) == len(planted) > 0, problems


# -- what each variant's sync stores -------------------------------------------------------


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _signed(item: dict[str, Any]) -> Decimal:
    amount = Decimal(item["Amount"]["Amount"])
    return amount if item["CreditDebitIndicator"] == "Credit" else -amount


def _stored_transactions(synced: Synced) -> Counter[tuple[Any, ...]]:
    accounts = {a["id"]: a["provider_id"] for a in synced.rows(Account)}
    return Counter(
        (accounts[t["account_id"]], t["booked_at"], t["amount"], t["currency"], t["status"])
        for t in synced.rows(Transaction)
    )


def _served_transactions(truth: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    return Counter(
        (
            t["AccountId"],
            _instant(t["BookingDateTime"]),
            _signed(t),
            t["Amount"]["Currency"],
            t["Status"],
        )
        for t in truth
        if FORBIDDEN not in t
    )


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_variant_syncs_to_exactly_what_it_served(
    variant_runs: Callable[[str], Synced], variant: str
) -> None:
    synced = variant_runs(variant)
    result = synced.results[0]
    assert result.ok, result.error
    bank = synced.bank
    truth = bank.planted_truth()
    counts = synced.portal.store.counts()["bank"]
    rejected = bank.truth_rejections
    for key, items in truth.items():
        category = bank.truth_categories.get(key) or key
        if key in ("consents", "marketing_preferences"):
            continue  # one table: checked together below
        assert counts.get(category, 0) == len(items) - rejected.get(category, 0), category
    assert counts["consents"] == len(truth["consents"]) + len(truth["marketing_preferences"])
    assert _stored_transactions(synced) == _served_transactions(truth["transactions"])
    # Rejected: only what the specification forbids (a statement is one item, though it
    # counts as a document and a bill).
    expected = rejected.get("transactions", 0) + rejected.get("documents", 0)
    assert len(synced.portal.store.rejections("bank")) == result.rejected == expected


EXPECTED_REASONS = {
    "a signed amount": "is not an amount as Open Banking writes them",
    "six decimals": "is not an amount as Open Banking writes them",
    "a currency outside ISO 4217": "'QQQ' is not an ISO 4217 currency code",
    "an unknown CreditDebitIndicator": "CreditDebitIndicator 'Both' is neither Credit nor Debit",
    "an unknown Status": "Status 'Settled' is not a transaction status of Open Banking",
    "no BookingDateTime": "transactions.BookingDateTime is required but missing",
    "a date for BookingDateTime": "is not an ISO 8601 date-time with its zone",
    "no EndDateTime": "statements.EndDateTime is required but missing",
}


def test_what_the_specification_forbids_is_rejected_saying_what(
    variant_runs: Callable[[str], Synced],
) -> None:
    synced = variant_runs("forbidden")
    truth = synced.bank.planted_truth()
    planted = Counter(
        i[FORBIDDEN] for key in ("transactions", "documents") for i in truth[key] if FORBIDDEN in i
    )
    assert set(planted) == set(EXPECTED_REASONS)
    reasons = Counter(r["reason"] for r in synced.portal.store.rejections("bank"))
    for what, n in planted.items():
        assert sum(k for r, k in reasons.items() if EXPECTED_REASONS[what] in r) >= n, what
    assert not [r for r in reasons if "KeyError" in r or "normalise failed" in r]


# -- items without ids, and the less common forms --------------------------------------------


def test_items_without_ids_keep_their_derived_ids_across_syncs(tmp_path: Path) -> None:
    """Twins stay two, a re-sync adds nothing, and pending items booked later keep their id."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        with synced_against("sparse", tmp_path / "home") as synced:
            first = {t["provider_id"]: t for t in synced.rows(Transaction)}
            served = synced.bank.ground_truth()["transactions"]
            twins = [
                t
                for t, n in Counter(json.dumps(t, sort_keys=True) for t in served).items()
                if n > 1
            ]
            assert twins, "the sparse variant serves identical transactions"
            assert len(first) == len(served)
            assert all(i.startswith("derived:") for i in first)
            pending = {i for i, t in first.items() if t["status"] == "Pending"}
            assert pending

            again = synced.sync()
            assert again.ok, again.error
            assert {t["provider_id"] for t in synced.rows(Transaction)} == set(first)

            synced.bank.add_activity(30)
            later = synced.sync()
            assert later.ok, later.error
            now = {t["provider_id"]: t for t in synced.rows(Transaction)}
            served = synced.bank.ground_truth()["transactions"]
            # 30 payments added, each served twice when the variant makes it a twin.
            newest = max(t["booked_at"] for t in first.values())
            added = Counter(
                json.dumps(t, sort_keys=True)
                for t in served
                if datetime.fromisoformat(t["BookingDateTime"]) > newest
            )
            assert len(added) == 30
            assert len(now) == len(served) == len(first) + sum(added.values())
            assert {now[i]["status"] for i in pending} == {"Booked"}
            assert synced.portal.store.rejections("bank") == []


def test_the_sparse_variant_is_stored_as_the_specification_allows(
    variant_runs: Callable[[str], Synced],
) -> None:
    synced = variant_runs("sparse")
    [party] = synced.rows(Party)
    truth = synced.bank.ground_truth()
    assert "Name" not in truth["party"][0]
    assert party["full_name"] == truth["party"][0]["FullLegalName"]
    # A statement without StatementId has no file to fetch: its own JSON is the document.
    documents = synced.rows(Document)
    assert {d["content_type"] for d in documents} == {"application/json"}
    digests = {
        hashlib.sha256(
            json.dumps(s, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        for s in truth["documents"]
    }
    assert {d["digest"] for d in documents} == digests
    payments = synced.rows(RecurringPayment)
    assert {p["status_label"] for p in payments if p["kind"] != "scheduled_payment"} == {
        "Not stated by the bank"
    }
    # Two standing orders with nothing left to tell them apart are still two.
    assert len({p["provider_id"] for p in payments}) == len(truth["recurring_payments"])
    accounts = synced.rows(Account)
    assert {a["opened_on"] for a in accounts} == {None}
    assert {a["name"] for a in accounts} == {"Current account", "Credit card"}


def test_the_spec_edge_variant_keeps_every_currency_code_and_field(
    variant_runs: Callable[[str], Synced],
) -> None:
    synced = variant_runs("spec-edge")
    rows = synced.rows(Transaction)
    currencies = Counter(t["currency"] for t in rows)
    assert {"GBP", "EUR", "USD", "JPY"} <= set(currencies)
    yen = [t for t in rows if t["currency"] == "JPY"]
    assert all(t["amount"] == t["amount"].to_integral_value() for t in yen)
    unknown = [t for t in rows if t["category_code"] == "ExtendedFamilyX.NotAvailable"]
    assert unknown
    assert {t["category_label"] for t in unknown} == {
        "Transaction code ExtendedFamilyX.NotAvailable (no label known)"
    }
    assert {t["merchant_category_label"] for t in rows if t["merchant_category_code"] == "999"} == {
        "Merchant category 999 (no label known)"
    }
    assert all(t["extra"]["TransactionMutability"] in ("Immutable", "Mutable") for t in rows)
    assert any("SupplementaryData" in t["extra"] for t in rows)
    card = next(a for a in synced.rows(Account) if a["account_type"] == "CreditCard")
    assert (card["status"], card["status_label"], card["state"]) == (
        "Pending",
        "Change awaiting the bank's approval",
        State.pending,
    )
    current = next(a for a in synced.rows(Account) if a["account_type"] == "CurrentAccount")
    assert current["opened_on"] == date(2016, 9, 12)
    assert "UK.DemoBank.CustomerNumber" in {i["scheme"] for i in current["identifiers"]}


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("NotKnown", "How often is not known"),
        ("EvryDay", "Every day"),
        ("EvryWorkgDay", "Every working day"),
        ("IntrvlDay:14", "Every 14 days"),
        ("IntrvlWkDay:02:03", "Every 2 weeks on Wednesday"),
        ("WkInMnthDay:02:05", "On the Friday of week 2 of each month"),
        ("IntrvlMnthDay:01:-01", "Every month on the last day"),
        ("QtrDay:ENGLISH", "Every quarter (english quarter days)"),
    ],
)
def test_every_frequency_the_specification_allows_has_words(code: str, words: str) -> None:
    assert spec_rules.FREQUENCY_PATTERN.fullmatch(code)
    assert labels.frequency_label(code) == words
