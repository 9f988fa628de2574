"""Independent streams fetched side by side: each in its order, within the limits, stopped cleanly."""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bank_truth import assert_store_matches
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.batch import Batch
from portal.engine.prefetch import interleaved
from portal.hookspecs import hookimpl
from portal.provider import Page, sandbox_endpoints
from portal.sandbox import Chaos
from portal_bank.sandbox import BankSandbox


class Sources:
    """Page generators that note when they run, how many run at once, and when they close."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.closed: list[str] = []

    def source(
        self, name: str, pages: int, *, fail_at: int | None = None, pause: float = 0.01
    ) -> Iterator[Page]:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            for number in range(pages):
                time.sleep(pause)
                if number == fail_at:
                    raise RuntimeError(f"{name} broke at page {number}")
                yield Page(name, [{"n": number}])
        finally:
            with self.lock:
                self.running -= 1
                self.closed.append(name)


def test_every_source_arrives_whole_and_in_its_own_order() -> None:
    sources = Sources()
    names = [f"s{n}" for n in range(6)]
    pages = list(interleaved([sources.source(n, 5) for n in names], workers=3))
    for name in names:
        assert [p.items[0]["n"] for p in pages if p.stream == name] == list(range(5))
    assert sources.most == 3  # side by side, and never more than the workers
    assert sorted(sources.closed) == names
    streams = [p.stream for p in pages]
    assert streams != sorted(streams, key=names.index)  # really interleaved, not one by one


def test_one_worker_runs_the_sources_one_after_another() -> None:
    sources = Sources()
    pages = list(interleaved([sources.source(n, 3) for n in ("a", "b")], workers=1))
    assert [(p.stream, p.items[0]["n"]) for p in pages] == [
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("b", 1),
        ("b", 2),
    ]
    assert sources.most == 1


def test_a_failing_source_raises_after_its_pages_and_stops_the_others() -> None:
    sources = Sources()
    got: list[Page] = []
    with pytest.raises(RuntimeError, match="bad broke at page 2"):
        for page in interleaved(
            [sources.source("bad", 5, fail_at=2), sources.source("long", 1000)], workers=2
        ):
            got.append(page)
    assert [p.items[0]["n"] for p in got if p.stream == "bad"] == [0, 1]
    assert len([p for p in got if p.stream == "long"]) < 1000
    assert sorted(sources.closed) == ["bad", "long"]  # both closed, in their own threads


def _new_threads(before: set[threading.Thread], prefix: str) -> list[str]:
    return [t.name for t in set(threading.enumerate()) - before if t.name.startswith(prefix)]


def test_a_consumer_that_stops_early_closes_every_source() -> None:
    before = set(threading.enumerate())  # another test's threads are not this one's to judge
    sources = Sources()
    pages = interleaved([sources.source(n, 1000) for n in ("a", "b", "c")], workers=2)
    for _, _page in zip(range(4), pages, strict=False):
        pass
    pages.close()
    assert sorted(sources.closed) == ["a", "b"]  # "c" never started
    assert not _new_threads(before, "portal-fetch-")


def test_a_run_nested_in_another_ends_with_it_though_nothing_closed_it() -> None:
    """A fetch wrapper that raises mid-way leaves the plugin's ``together`` suspended."""
    before = set(threading.enumerate())
    sources = Sources()

    def wrapper() -> Iterator[Page]:
        inner = interleaved([sources.source(n, 1000) for n in ("a", "b")], workers=2, name="in")
        for number, page in enumerate(inner):
            yield page
            if number == 3:
                raise RuntimeError("the wrapper gave up")  # and never closes ``inner``

    held: list[BaseException] = []
    with pytest.raises(RuntimeError, match="gave up") as raised:
        for _page in interleaved([wrapper()], workers=1, name="out"):
            pass
    held.append(raised.value)  # its traceback keeps ``inner`` alive, suspended
    assert sorted(sources.closed) == ["a", "b"]  # closed in their own threads...
    assert not _new_threads(before, "in-")  # ...which ended before the outer run returned
    assert not _new_threads(before, "out")


def test_a_consumer_that_stops_early_stops_the_runs_nested_in_it() -> None:
    """The outer run's producer is waiting on the inner run when the consumer goes away."""
    before = set(threading.enumerate())
    sources = Sources()

    def wrapper() -> Iterator[Page]:
        # Slow pages: the outer producer waits on this run's queue most of the time.
        slow = [sources.source(n, 1000, pause=0.05) for n in ("a", "b")]
        yield from interleaved(slow, workers=2, name="in")

    pages = interleaved([wrapper()], workers=1, name="out")
    for _, _page in zip(range(3), pages, strict=False):
        pass
    pages.close()
    assert not _new_threads(before, "out")  # it was not left waiting for pages never sent
    assert not _new_threads(before, "in-")
    assert sorted(sources.closed) == ["a", "b"]


class Deliveries:
    """A destination that notes each batch's stream and the cursor it carries."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []

    @hookimpl
    def deliver(self, batch: Batch) -> None:
        # Transactions' cursors have a "since"; the resources' (WholeCursor) have none.
        since = None if batch.cursor is None else batch.cursor.model_dump(mode="json").get("since")
        self.seen.append((batch.stream, since))


def test_the_bank_fetches_its_streams_side_by_side_within_its_limits(tmp_path: Path) -> None:
    deliveries = Deliveries()
    # Every answer takes 50 ms, so requests that can overlap do.
    with BankSandbox(page_size=100, transactions=600) as bank:
        bank.set_chaos(Chaos(rate=1.0, kinds=("slow",), slow_seconds=0.05))
        with Portal.open(home=tmp_path, extra_plugins=[deliveries]) as portal:
            portal.connect("bank", browser=auto_approve_browser, endpoints=sandbox_endpoints(bank))
            [result] = portal.sync(["bank"])
            assert result.ok, result.error
            assert_store_matches(portal, bank)
            limit = portal.plugins.provider("bank").limits.concurrent
        assert 1 < bank.max_in_flight <= limit
    # The two accounts' transactions interleave, and each one's pages still come in order.
    streams = [s for s, _ in deliveries.seen if s.startswith("transactions:")]
    assert len(set(streams)) == 2
    assert streams != sorted(streams), "the accounts' transactions did not interleave"
    for stream in set(streams):
        marks = [since for s, since in deliveries.seen if s == stream and since is not None]
        assert len(marks) > 1 and marks == sorted(marks), stream
