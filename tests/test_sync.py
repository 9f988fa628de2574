"""portal sync through the real path: a sandbox on a socket, real OAuth, a real SQLite file."""

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bank_truth import _snapshot, _stored, assert_store_matches
from conftest import connect
from hostile import bank_plugin, synced_through_hostile
from portal.app import Portal
from portal.batch import Batch
from portal.errors import ProviderError, SkippableError
from portal.hookspecs import hookimpl
from portal.record import Account, Balance, Consent, Party, Transaction
from portal.sandbox import Fault
from portal_bank.sandbox import BankSandbox
from test_together import _new_threads


def test_sync_stores_exactly_what_the_sandbox_served(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    [result] = portal.sync()
    assert result.ok, result.error
    assert result.rejected == 0
    assert result.records["transactions"] >= 1000
    assert result.pages > 10
    assert_store_matches(portal, bank)


def test_every_row_carries_provenance_and_its_raw_payload(
    portal: Portal, bank: BankSandbox
) -> None:
    connection = connect(portal, bank)
    portal.sync()
    database = portal.store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as db:
        raw_ids = {r[0] for r in db.execute("SELECT id FROM raw_items")}
    for entity in (Party, Account, Balance, Transaction, Consent):
        for row in portal.store.rows(entity):
            assert row["provider"] == "bank"
            assert row["connection_id"] == connection.id
            assert row["consent_id"] == connection.consent_id and row["consent_id"]
            assert row["fetched_at"].tzinfo is not None
            assert row["raw_id"] in raw_ids


def test_resync_adds_nothing(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    portal.sync()
    before = _snapshot(portal)
    [again] = portal.sync()
    assert again.ok and again.rejected == 0
    assert _snapshot(portal) == before


def test_resync_fetches_only_what_is_new(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    [first] = portal.sync()
    [second] = portal.sync()
    # Only the tail from each account's cursor (pending items can still change) comes again.
    assert second.records["transactions"] < first.records["transactions"] / 10
    bank.add_activity(25)
    [third] = portal.sync()
    assert third.records["transactions"] < first.records["transactions"] / 10
    assert_store_matches(portal, bank)
    statuses = {row["status"] for row in portal.store.rows(Transaction)}
    assert statuses == {"Booked"}  # the pending items were booked by add_activity and updated


def test_an_expired_token_is_refreshed_and_the_rotation_persisted(
    portal: Portal, bank: BankSandbox
) -> None:
    connection = connect(portal, bank)
    tokens = portal.vault.get(connection.id)
    assert tokens is not None
    from portal.auth.tokens import TokenSet

    portal.vault.put(
        connection.id, TokenSet({**tokens.as_dict(), "expires_at": int(time.time()) - 60})
    )
    [result] = portal.sync()
    assert result.ok, result.error
    assert bank.token_requests.get("refresh_token", 0) == 1
    rotated = portal.vault.get(connection.id)
    assert rotated is not None
    assert rotated.as_dict()["refresh_token"] != tokens.as_dict()["refresh_token"]
    assert rotated.as_dict()["access_token"] != tokens.as_dict()["access_token"]


def test_429_with_retry_after_is_survived(portal: Portal, bank: BankSandbox) -> None:
    connect(portal, bank)
    bank.add_fault(Fault(path="/transactions", status=429, headers={"Retry-After": "1"}, times=2))
    [result] = portal.sync()
    assert result.ok, result.error
    assert result.retries == 2
    assert_store_matches(portal, bank)
    limited = [r for r in bank.requests if r.status == 429]
    assert len(limited) == 2
    for refused in limited:  # each retried only after the wait it was told (streams overlap)
        again = [r for r in bank.requests if r.at > refused.at and r.path == refused.path]
        assert again[0].at - refused.at >= 1.0


def test_malformed_json_is_a_clear_error_and_leaves_the_store_as_it_was(
    portal: Portal, bank: BankSandbox
) -> None:
    connect(portal, bank)
    portal.sync()
    before = _snapshot(portal)
    bank.add_activity(25)
    bank.add_fault(Fault(path="/accounts$", malformed=True, times=99))  # past every retry
    [result] = portal.sync()
    assert isinstance(result.error, ProviderError)
    assert "not valid JSON" in result.error.message and "/accounts" in result.error.message
    assert _snapshot(portal) == before


def test_malformed_json_mid_sync_keeps_earlier_pages_and_the_next_sync_completes(
    portal: Portal, bank: BankSandbox
) -> None:
    connect(portal, bank)
    second_account = bank.ground_truth()["accounts"][1]["AccountId"]
    bank.add_fault(Fault(path=f"/accounts/{second_account}/transactions", malformed=True, times=99))
    [failed] = portal.sync()
    assert isinstance(failed.error, ProviderError)
    stored = _stored(portal, Transaction)
    assert stored and all(row["account_id"] != second_account for row in stored.values())
    assert f"transactions:{second_account}" not in portal.store.cursors(
        portal.store.connections()[0].id
    )
    bank.clear_faults()
    [retry] = portal.sync()
    assert retry.ok, retry.error
    assert_store_matches(portal, bank)


def test_a_store_survives_being_reopened(tmp_path: Path, bank: BankSandbox) -> None:
    with Portal.open(home=tmp_path) as first:
        connect(first, bank)
        first.sync()
        counts = first.store.counts()
    with Portal.open(home=tmp_path) as second:
        assert second.store.counts() == counts
        [again] = second.sync()
        assert again.ok and second.store.counts() == counts


@pytest.mark.parametrize("name", ["nosuch"])
def test_syncing_an_unknown_provider_is_a_user_error(portal: Portal, name: str) -> None:
    from portal.errors import UnknownProvider

    with pytest.raises(UnknownProvider, match=r"installed: .*\bbank\b"):
        portal.sync([name])


class RejectOne:
    """A cross-cutting plugin: wraps every provider's normalise and refuses one item."""

    def __init__(self, transaction_id: str, error: Exception) -> None:
        self.transaction_id = transaction_id
        self.error = error

    @hookimpl(wrapper=True)
    def normalise(self, item: dict[str, Any]) -> Any:
        if item.get("TransactionId") == self.transaction_id:
            raise self.error
        return (yield)


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (SkippableError("amount is missing"), "amount is missing"),
        (KeyError("Amount"), "normalise failed: KeyError: 'Amount'"),
    ],
)
def test_a_rejected_item_is_stored_with_its_reason_and_the_rest_goes_on(
    tmp_path: Path, bank: BankSandbox, error: Exception, reason: str
) -> None:
    victim = bank.ground_truth()["transactions"][10]["TransactionId"]
    with Portal.open(home=tmp_path, extra_plugins=[RejectOne(victim, error)]) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok and result.rejected == 1
        stored = _stored(portal, Transaction)
        assert victim not in stored
        assert len(stored) == len(bank.ground_truth()["transactions"]) - 1
        [rejection] = portal.store.rejections()
        assert rejection["reason"] == reason and rejection["stream"].startswith("transactions:")
        # No silent drop: every raw item in became records or a rejection.
        assert result.items == sum(c.normalised + c.rejected for c in result.streams.values())
        assert result.streams["transactions"].rejected == 1


class SwallowSome:
    """Wraps normalise to return nothing for every 7th transaction, as a careless plugin would."""

    def __init__(self) -> None:
        self.seen = 0

    @hookimpl(wrapper=True)
    def normalise(self, stream: str) -> Any:
        entities = yield
        if stream.startswith("transactions"):
            self.seen += 1
            if self.seen % 7 == 0:
                return []
        return entities


def test_no_item_is_dropped_silently_per_stream_and_status_shows_the_rejections(
    tmp_path: Path, bank: BankSandbox
) -> None:
    from click.testing import CliRunner

    from portal.cli import cli

    swallow = SwallowSome()
    with Portal.open(home=tmp_path, extra_plugins=[swallow]) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok, result.error
        served = len(bank.ground_truth()["transactions"])
        count = result.streams["transactions"]
        assert count.items == served and count.unaccounted == 0
        assert count.rejected == served // 7 and count.normalised == served - served // 7
        assert len(_stored(portal, Transaction)) == count.normalised  # the others all stored
        rejections = portal.store.rejections()
        assert len(rejections) == count.rejected
        assert all("normalise produced no record" in r["reason"] for r in rejections)
        for kind, other in result.streams.items():
            assert other.unaccounted == 0, kind
    shown = CliRunner().invoke(cli, ["--home", str(tmp_path), "status"], catch_exceptions=False)
    assert "normalise produced no record" in shown.output
    assert f"{count.rejected}" in shown.output


class FailAfter:
    """Wraps fetch: the provider fails after three pages of one account's transactions."""

    @hookimpl(wrapper=True)
    def fetch(self) -> Any:
        pages = yield

        def failing() -> Any:
            served = 0
            for page in pages:
                yield page
                served += page.stream.startswith("transactions")
                if served == 3:
                    raise ProviderError("The provider went away.")

        return failing()


def test_pages_fetched_before_an_error_are_kept_though_they_share_a_transaction(
    tmp_path: Path, bank: BankSandbox
) -> None:
    before = set(threading.enumerate())
    with Portal.open(home=tmp_path, extra_plugins=[FailAfter()]) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert isinstance(result.error, ProviderError)
        stored = _stored(portal, Transaction)
        assert len(stored) == result.streams["transactions"].normalised == 300
        # The wrapper never closed the bank's fetch, which its error's traceback still
        # holds; the threads of its ``together`` ended with the sync all the same.
        assert not _new_threads(before, "portal-fetch")


class FailDelivery:
    """A second destination that fails on the third batch of transactions it is given.

    It fails only once the engine has prepared a batch after that one: the normalising
    thread went on while the third was being delivered, on any machine's pace.
    """

    def __init__(self) -> None:
        self.batches: list[str] = []
        self.prepared: list[Batch] = []
        self.delivered: list[Batch] = []
        self.after_failed: list[Batch] = []
        self.more = threading.Condition()

    @hookimpl
    def prepare_delivery(self, batch: Batch) -> None:
        with self.more:
            self.prepared.append(batch)
            self.more.notify_all()

    @hookimpl
    def deliver(self, batch: Batch) -> None:
        self.delivered.append(batch)
        if batch.stream.startswith("transactions"):
            self.batches.append(batch.stream)
            if len(self.batches) == 3:
                with self.more:
                    self.more.wait_for(lambda: self.prepared[-1] is not batch, timeout=10)
                    self.after_failed = self.prepared[self.prepared.index(batch) + 1 :]
                raise OSError("The export disk is full.")


def test_a_failed_delivery_ends_the_sync_and_nothing_after_it_is_committed(
    tmp_path: Path, bank: BankSandbox
) -> None:
    failing = FailDelivery()
    # merge_pages=False: one page, one batch, so "the third batch" is exactly 100 items.
    with Portal.open(home=tmp_path, extra_plugins=[failing], merge_pages=False) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert isinstance(result.error, OSError) and "disk is full" in str(result.error)
        # Deliveries run in a thread of their own while the engine normalises the next
        # pages; those were dropped, never delivered, once a delivery had failed.
        assert len(failing.batches) == 3
        assert failing.after_failed  # normalised and prepared while the third was delivered
        assert not [b for b in failing.after_failed if any(b is d for d in failing.delivered)]
        # The store is called first (pluggy calls the last registered first), so it holds
        # the three pages and nothing fetched after them.
        assert len(_stored(portal, Transaction)) == 300
        # ...and the delivery thread ended with the sync instead of waiting forever.
        assert not [t for t in threading.enumerate() if t.name.startswith("portal-deliver")]
    with Portal.open(home=tmp_path) as portal:
        [again] = portal.sync()
        assert again.ok, again.error
        # No cursor went past its records: the next sync brings exactly the rest.
        assert_store_matches(portal, bank)


class WatchCollector:
    """Notes how the garbage collector is set while batches are delivered."""

    def __init__(self) -> None:
        self.seen: set[tuple[tuple[int, ...], bool]] = set()

    @hookimpl
    def deliver(self, batch: Any) -> None:
        import gc

        self.seen.add((gc.get_threshold(), gc.get_freeze_count() > 0))


def test_a_sync_tunes_the_garbage_collector_and_leaves_it_as_it_found_it(
    tmp_path: Path, bank: BankSandbox
) -> None:
    import gc

    from portal.engine.runner import SYNC_GC_THRESHOLDS

    watch = WatchCollector()
    before = gc.get_threshold()
    with Portal.open(home=tmp_path, extra_plugins=[watch]) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok, result.error
    assert watch.seen == {(SYNC_GC_THRESHOLDS, True)}
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_each_batch_is_prepared_in_the_normalising_thread_before_it_is_delivered(
    tmp_path: Path, bank: BankSandbox
) -> None:
    seen: list[tuple[str, int, str]] = []

    class Watch:
        @hookimpl
        def prepare_delivery(self, batch: Any) -> None:
            seen.append(("prepare", id(batch), threading.current_thread().name))

        @hookimpl
        def deliver(self, batch: Any) -> None:
            seen.append(("deliver", id(batch), threading.current_thread().name))

    with Portal.open(home=tmp_path, extra_plugins=[Watch()]) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok, result.error
        assert portal.store._prepared == {}  # the store took every batch it had prepared
        assert_store_matches(portal, bank)
    prepared = [(batch, thread) for step, batch, thread in seen if step == "prepare"]
    delivered = [(batch, thread) for step, batch, thread in seen if step == "deliver"]
    assert len(prepared) == len(delivered) >= 2
    assert [b for b, _ in prepared] == [b for b, _ in delivered]
    for index, (step, batch, _) in enumerate(seen):  # each one prepared before delivered
        if step == "deliver":
            assert any(s == "prepare" and b == batch for s, b, _ in seen[:index])
    assert {t for _, t in prepared} == {"sync-bank"}
    assert {t for _, t in delivered} == {"portal-deliver-bank"}


ENDLESS_FETCH = """\
from portal.http import follow_links
yield from follow_links(
    client,
    "counting",
    stream="accounts",
    items=lambda body: body["Data"]["Account"],
    next_url=lambda body: body["Links"].get("Next"),
)
"""


def test_a_pagination_that_never_ends_is_stopped_and_what_came_before_is_kept(
    tmp_path: Path, bank: BankSandbox
) -> None:
    # Each page links to a new URL (a counter in the query), so no page is seen twice.
    source = bank_plugin("endless", limits="max_pages=5", fetch=ENDLESS_FETCH)
    with synced_through_hostile(tmp_path, bank, "endless", source) as (portal, result, _):
        assert isinstance(result.error, ProviderError)
        assert result.error.message == (
            "Endless's stream 'accounts' went on past 5 pages; portal stopped it there."
        )
        assert result.pages == 5
        kept = len(_stored(portal, Account)) + len(portal.store.rejections())
        assert kept == 5


def test_a_stream_that_goes_on_too_long_is_stopped_and_what_came_before_is_kept(
    tmp_path: Path, bank: BankSandbox
) -> None:
    # Each page comes in good time, but the stream never ends within its bound.
    slow = "for page in slowly(client):\n    time.sleep(0.2)\n    yield page"
    source = (
        bank_plugin("slowly", limits="stream_seconds=0.5", fetch=slow)
        + "\n\ndef slowly(client):\n"
        + "\n".join("    " + line for line in ENDLESS_FETCH.splitlines())
    )
    with synced_through_hostile(tmp_path, bank, "slowly", source) as (portal, result, _):
        assert isinstance(result.error, ProviderError)
        assert result.error.message == (
            "Slowly's stream 'accounts' went on for more than 0.5 s; portal stopped it there."
        )
        assert 2 <= result.pages < 10
        kept = len(_stored(portal, Account)) + len(portal.store.rejections())
        assert kept == result.pages


def test_a_pagination_past_the_pages_it_declared_is_stopped(
    tmp_path: Path, bank: BankSandbox
) -> None:
    declared = ENDLESS_FETCH.replace(
        "    next_url=",
        '    declared_pages=lambda body: body["Meta"]["TotalPages"],\n    next_url=',
    )
    source = bank_plugin("overrun", fetch=declared)
    with synced_through_hostile(tmp_path, bank, "overrun", source) as (_, result, _):
        pass
    assert isinstance(result.error, ProviderError)
    assert result.error.message == (
        "Overrun's pagination of 'accounts' went past the 3 pages it declared."
    )
    assert result.pages == 3


@pytest.mark.parametrize(
    ("depth", "extra", "refused"),
    [
        (200, b"", False),
        (255, b"", True),  # orjson writes it: the bound costs nothing
        (600, b', "Amount": 1.5', True),  # a float: json.dumps writes it, orjson checks it
        (1000, b', "Amount": 1.5', True),  # past json.dumps's own recursion
    ],
)
def test_an_item_nested_too_deep_for_the_store_is_a_clear_error(
    tmp_path: Path, bank: BankSandbox, depth: int, extra: bytes, refused: bool
) -> None:
    # The body decodes (orjson takes 1,024 levels), but the store's JSON writers stop at 254.
    item = b'{"AccountId": "A1"' + extra + b', "Nested": ' + b"[" * depth + b"]" * depth + b"}"
    body = b'{"Data": {"Account": [' + item + b"]}}"
    fetch = 'yield Page("accounts", client.get_json("accounts")["Data"]["Account"])'
    source = bank_plugin("deep", fetch=fetch)
    bodies = {"/aisp/accounts": body}
    with synced_through_hostile(tmp_path, bank, "deep", source, bodies) as (_, result, _):
        pass
    if not refused:
        assert result.ok, result.error
        return
    assert isinstance(result.error, ProviderError)
    assert result.error.message == (
        "Deep sent an item in 'accounts' that portal refuses: it is nested more than 254"
        " levels deep."
    )


def test_an_amount_the_store_could_not_keep_exactly_is_rejected_naming_the_field(
    tmp_path: Path, bank: BankSandbox
) -> None:
    # 18 significant digits, as Open Banking allows (13 and 5 decimals): a SQLite REAL would
    # round it, so it is refused, not rounded.
    [victim, *_] = bank.bank.ledger[next(iter(bank.bank.ledger))][10:]
    victim["Amount"]["Amount"] = "1234567890123.45678"
    with Portal.open(home=tmp_path) as portal:
        connect(portal, bank)
        [result] = portal.sync()
        assert result.ok and result.rejected == 1
        assert victim["TransactionId"] not in _stored(portal, Transaction)
        [rejection] = portal.store.rejections()
        assert "amount" in rejection["reason"] and "1234567890123.45678" in rejection["reason"]
        assert "significant digits" in rejection["reason"]
