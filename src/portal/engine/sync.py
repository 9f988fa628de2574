"""One sync of one provider: fetch pages, normalise each raw item, deliver batch by batch.

The stream never holds more than a few pages: one fetched ahead, one being normalised and
validated, and a batch or two on their way to being delivered (committed with its cursor).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import ValidationError

from portal.batch import Batch, RawPayload, RejectedItem
from portal.engine import delivery, prefetch
from portal.engine.delivery import Deliverer, DeliveryFailed
from portal.engine.prefetch import prefetched
from portal.engine.streams import StreamBounds
from portal.engine.watch import Watch
from portal.errors import ConfigError, Interrupted, PortalError, ProviderError, SkippableError
from portal.plugins import Plugins
from portal.provider import Page, Provider
from portal.record.ids import NestedTooDeep, canonical_json, portal_id, raw_digest
from portal.record.model import Entity
from portal.record.tables import TABLES, Connection

log = logging.getLogger(__name__)


class SyncProgress(Protocol):
    """What a sync reports while it runs (the CLI draws it with rich).

    Called from the engine's threads at once (each provider's delivery thread, and the
    threads fetching its streams side by side), so an implementation must be thread-safe.
    """

    def page(self, provider: str, stream: str, records: int, rejected: int, pages: int = 1) -> None:
        """A batch of ``pages`` pages was delivered."""

    def retry(self, provider: str, message: str, wait: float) -> None:
        """A request failed and will be tried again after ``wait`` seconds."""


class NoProgress:
    """Reports nothing."""

    def page(self, provider: str, stream: str, records: int, rejected: int, pages: int = 1) -> None:
        """Ignore the batch."""

    def retry(self, provider: str, message: str, wait: float) -> None:
        """Ignore the retry."""


@dataclass
class StreamCount:
    """Where one stream's raw items went: each became records or a rejection, never nothing."""

    items: int = 0
    """Raw items fetched."""
    normalised: int = 0
    """Items that became one or more records."""
    records: int = 0
    rejected: int = 0
    """Items stored as a Rejection with a reason."""

    @property
    def unaccounted(self) -> int:
        """Items that became neither: always 0, by construction of the Normaliser."""
        return self.items - self.normalised - self.rejected


NORMALISE_FAILED = "normalise failed"
"""How the reason of an item begins when the plugin raised on it something other than a
``SkippableError``: the plugin failed, it did not refuse the item (the conformance suite
counts these as crashes, not as rejections)."""


@dataclass
class SyncResult:
    """What one provider's sync did."""

    provider: str
    items: int = 0
    records: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    pages: int = 0
    retries: int = 0
    seconds: float = 0.0
    error: Exception | None = None
    streams: dict[str, StreamCount] = field(default_factory=dict)
    """Per kind of stream (``transactions``, ``accounts``, ...): where every raw item went."""
    new: dict[str, int] = field(default_factory=dict)
    """Per record category, of the records committed: those the store did not hold...,"""
    changed: dict[str, int] = field(default_factory=dict)
    """...those that changed one it held...,"""
    unchanged: dict[str, int] = field(default_factory=dict)
    """...and those it held exactly as they are. (All three empty where the destination
    cannot tell, as for stores other than SQLite; records never committed are in none.)"""

    @property
    def ok(self) -> bool:
        """Whether the sync finished without an error."""
        return self.error is None


def describe_validation(error: ValidationError) -> str:
    """A one-line reason naming each invalid field."""
    parts = []
    for problem in error.errors():
        where = ".".join(str(p) for p in problem["loc"]) or error.title
        parts.append(f"{error.title}.{where}: {problem['msg']}")
    return "; ".join(parts)


class Normaliser:
    """Turns raw items into entities with full provenance, or into rejections."""

    def __init__(self, plugins: Plugins, provider: Provider, connection: Connection) -> None:
        self.provider = provider
        self.connection = connection
        self._hook = _direct(plugins.caller(provider.name, "normalise"))
        self._ref: Callable[[type[Entity], str], str] = _Refs(provider.name)

    def batch(self, page: Page) -> Batch:
        """Normalise a whole page into a batch ready to deliver."""
        fetched_at = datetime.now(UTC)
        batch = Batch(
            provider=self.provider.name,
            connection_id=self.connection.id,
            stream=page.stream,
            fetched_at=fetched_at,
            cursor=page.cursor,
            withdrawn=[
                (category, portal_id(self.provider.name, category, provider_id))
                for category, provider_id in page.withdrawn
            ],
        )
        for item in page.items:
            try:
                payload = canonical_json(item)
            except NestedTooDeep as error:  # nothing downstream could store it
                raise ProviderError(
                    f"{self.provider.display_name} sent an item in {page.stream!r} that"
                    f" portal refuses: {error}.",
                    hint="Nothing from this page was stored; report it to the plugin's authors.",
                ) from None
            raw_id = raw_digest(self.provider.name, page.stream, payload)
            batch.raws.append(RawPayload(raw_id, page.stream, payload))
            try:
                entities = self._normalise(page.stream, item)
            except SkippableError as error:
                batch.rejections.append(RejectedItem(raw_id, page.stream, error.message))
                continue
            except ValidationError as error:
                reason = describe_validation(error)
                batch.rejections.append(RejectedItem(raw_id, page.stream, reason))
                continue
            except PortalError:
                raise  # configuration and provider errors are not about this one item
            except Exception as error:  # a plugin that chokes on one item must not stop the rest
                reason = f"{NORMALISE_FAILED}: {type(error).__name__}: {error}"
                batch.rejections.append(RejectedItem(raw_id, page.stream, reason))
                continue
            for entity in entities:
                self._stamp(entity, raw_id, fetched_at)
                batch.records.append(entity)
        return batch

    def _normalise(self, stream: str, item: Any) -> list[Entity]:
        result: Iterable[Entity] | None = self._hook(
            provider=self.provider, stream=stream, item=item, ref=self._ref
        )
        entities = list(result or ())
        if not entities:
            raise SkippableError(f"normalise produced no record for this {stream!r} item")
        for entity in entities:
            if type(entity) not in TABLES:
                raise SkippableError(
                    f"normalise returned a {type(entity).__name__}, which is not a record entity"
                )
        return entities

    def _stamp(self, entity: Entity, raw_id: str, fetched_at: datetime) -> None:
        # One dict update instead of six validated assignments (a sixth of normalising a
        # record): these values are the engine's own, already of the right types.
        entity.__dict__.update(
            id=portal_id(self.provider.name, entity.category, entity.provider_id),
            provider=self.provider.name,
            connection_id=self.connection.id,
            consent_id=self.connection.consent_id,
            fetched_at=fetched_at,
            raw_id=raw_id,
        )


def _direct(hook: Any) -> Callable[..., Any]:
    """``hook`` itself, or, when one plain implementation answers it, that function.

    ``normalise`` is called once per raw item; pluggy's dispatch (filtering the plugin's
    implementations, checking arguments, the multicall loop) cost as much as a tenth of
    normalising. With a single implementation and no wrappers, calling it is the same.
    """
    impls = hook.get_hookimpls()
    if len(impls) != 1 or impls[0].hookwrapper or impls[0].wrapper:
        return hook  # type: ignore[no-any-return]
    function, names = impls[0].function, impls[0].argnames

    def call(**arguments: Any) -> Any:
        return function(*[arguments[name] for name in names])

    return call


class _Refs:
    """The ``ref`` a plugin calls to point at another record: portal ids, remembered.

    Every transaction names its account; the account's id need not be hashed each time.
    """

    LIMIT = 4096

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.known: dict[tuple[type[Entity], str], str] = {}

    def __call__(self, entity: type[Entity], provider_id: str) -> str:
        key = (entity, provider_id)
        found = self.known.get(key)
        if found is None:
            if len(self.known) >= self.LIMIT:
                self.known.clear()
            found = self.known[key] = portal_id(self.provider, entity.category, provider_id)
        return found


LOOKAHEAD = (prefetch.DEPTH + 1) + 1 + (delivery.DEPTH + 1)
"""Pages the engine may hold beyond the one being delivered: fetched ahead, being
normalised, and waiting to be delivered (each page its own batch when merging is off)."""

MERGE_ITEMS = 1000
"""Consecutive pages of one stream share a transaction up to this many raw items...

(Each transaction's dirty index pages stay in memory until it commits; past 1,000 items
that cost more memory than the fewer commits saved: at a million transactions, 1,000
took 2% longer than 2,000 and 21 MB less at the peak.)"""
MERGE_SECONDS = 0.5
"""...or for this long: fewer, larger commits, each still holding its cursor."""


def run_sync(
    plugins: Plugins,
    provider: Provider,
    connection: Connection,
    client: Any,
    cursors: Any,
    progress: SyncProgress,
    stop: threading.Event | None = None,
    *,
    merge: bool = True,
    watch: Watch | None = None,
) -> SyncResult:
    """Fetch, normalise and deliver every page of one provider; errors end up in the result.

    Three things overlap: the next page is fetched (``portal.engine.prefetch``) while this
    one is normalised, while the one before is delivered (``portal.engine.delivery``).
    Consecutive pages of one stream are delivered as one batch, committed with the cursor
    of its last page, up to ``MERGE_ITEMS`` raw items or ``MERGE_SECONDS`` (``merge=False``:
    every page on its own): a crash loses at most that much work, never consistency.

    When ``stop`` is set the sync ends after the page it is on, with an ``Interrupted``
    error: every batch delivered so far stays committed with its cursor. Every call into
    the plugin is timed on ``watch``, bounded by the provider's ``limits.hook_seconds``.
    """
    result = SyncResult(provider.name)
    started = time.monotonic()
    normaliser = Normaliser(plugins, provider, connection)
    pending: _Pending | None = None
    watch = watch or Watch(provider.name)
    within = provider.limits.hook_seconds

    def deliver(batch: Batch) -> None:
        with watch.call("deliver", within):
            plugins.pm.hook.deliver(batch=batch)

    def delivered(batch: Batch, pages: int) -> None:
        for category, (new, changed, rows) in batch.stored.items():
            result.new[category] = result.new.get(category, 0) + new
            result.changed[category] = result.changed.get(category, 0) + changed
            unchanged = rows - new - changed
            result.unchanged[category] = result.unchanged.get(category, 0) + unchanged
        progress.page(
            provider.name, batch.stream, len(batch.records), len(batch.rejections), pages=pages
        )

    deliverer = Deliverer(
        deliver,
        delivered,
        name=f"portal-deliver-{provider.name}",
    )

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            waiting, pending = pending, None
            with watch.call("deliver", within):
                plugins.pm.hook.prepare_delivery(batch=waiting.batch)
            deliverer.submit(waiting.batch, waiting.pages)

    fetched: Generator[Page, None, None] | None = None
    try:
        with watch.call("fetch", within):
            pages = plugins.caller(provider.name, "fetch")(
                provider=provider, client=client, cursors=cursors
            )
        if pages is None:
            raise ConfigError(
                f"The plugin for {provider.name!r} implements no fetch hook.",
                hint="Add a fetch hook implementation to the plugin.",
            )
        fetched = prefetched(watch.each("fetch", within, pages))
        bounds = StreamBounds(provider)
        for page in fetched:
            bounds.check(page)
            if stop is not None and stop.is_set():
                flush()
                deliverer.close()
                raise Interrupted(
                    f"The sync of {provider.display_name} was interrupted.",
                    hint="Everything synced so far is kept; run portal sync to go on.",
                )
            with watch.call("normalise", within):
                batch = normaliser.batch(page)
            del page  # its decoded items, a few MB, are not kept while the next one comes
            _count(result, batch)
            if merge and pending is not None and pending.takes(batch):
                pending.add(batch)
            else:
                flush()
                pending = _Pending(batch)
        flush()
        deliverer.close()
    except Exception as error:  # reported per provider so the other providers' syncs go on
        cause = error.error if isinstance(error, DeliveryFailed) else error
        result.error = cause if isinstance(cause, Exception) else error
        if not deliverer.failed:
            # Fetching or normalising failed: the pages already normalised are still good,
            # and so is every batch waiting to be delivered. Keep them.
            try:
                flush()
                deliverer.close()
            except Exception:
                log.exception("Could not deliver the pages fetched before the error")
    finally:
        if fetched is not None:
            fetched.close()  # its threads, and those of runs nested in it, end with the sync
        deliverer.end()  # after a failed delivery too: its thread is not left waiting
        result.seconds = time.monotonic() - started
    return result


def _count(result: SyncResult, batch: Batch) -> None:
    result.pages += 1
    result.items += batch.items_in
    result.rejected += len(batch.rejections)
    count = result.streams.setdefault(batch.stream.split(":", 1)[0], StreamCount())
    count.items += batch.items_in
    count.rejected += len(batch.rejections)
    count.normalised += batch.items_in - len(batch.rejections)
    count.records += len(batch.records)
    # By entity class first: a category is an enum, slower to read than a class to count.
    kinds: Counter[type[Entity]] = Counter(map(type, batch.records))
    for entity, records in kinds.items():
        name = entity.category.value
        result.records[name] = result.records.get(name, 0) + records


class _Pending:
    """Pages of one stream waiting to be delivered together."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.pages = 1
        self.since = time.monotonic()

    def takes(self, batch: Batch) -> bool:
        """Whether ``batch`` may join: same stream, and the merge is still small and fresh."""
        return (
            batch.stream == self.batch.stream
            and self.batch.items_in + batch.items_in <= MERGE_ITEMS
            and time.monotonic() - self.since < MERGE_SECONDS
        )

    def add(self, batch: Batch) -> None:
        """Join ``batch``: its records after these, and its cursor, which is further on."""
        self.pages += 1
        self.batch = dataclasses.replace(
            self.batch,
            records=self.batch.records + batch.records,
            raws=self.batch.raws + batch.raws,
            rejections=self.batch.rejections + batch.rejections,
            cursor=batch.cursor if batch.cursor is not None else self.batch.cursor,
            withdrawn=self.batch.withdrawn + batch.withdrawn,
        )
