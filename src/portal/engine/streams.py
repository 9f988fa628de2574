"""The bounds on one stream of a sync: how many pages, and for how long.

Every loop detector (``follow_links`` refusing a link seen before, TM Forum offsets
refusing a page served twice) misses a pagination that changes its URL each time (a
counter in the query), and a provider can keep a stream going for ever by answering
each page just within its deadline. The engine bounds every stream of every plugin,
whatever helper it paginates with: ``RequestLimits.max_pages`` pages, and
``RequestLimits.stream_seconds`` from its first page to its last.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from portal.errors import ProviderError
from portal.provider import Page, Provider


class StreamBounds:
    """Counts each stream's pages and times it from its first page; raises past a bound."""

    def __init__(self, provider: Provider, *, clock: Callable[[], float] = time.monotonic):
        self.provider = provider
        self._clock = clock
        self._streams: dict[str, list[float]] = {}  # stream: [pages, first page's arrival]

    def check(self, page: Page) -> None:
        """Count ``page``; raise a ProviderError if its stream has gone past a bound."""
        now = self._clock()
        seen = self._streams.get(page.stream)
        if seen is None:
            seen = self._streams[page.stream] = [0, now]
        seen[0] += 1
        limits = self.provider.limits
        if seen[0] > limits.max_pages:
            raise ProviderError(
                f"{self.provider.display_name}'s stream {page.stream!r} went on past"
                f" {limits.max_pages} pages; portal stopped it there.",
                hint=_hint("max_pages"),
            )
        if now - seen[1] > limits.stream_seconds:
            raise ProviderError(
                f"{self.provider.display_name}'s stream {page.stream!r} went on for more than"
                f" {limits.stream_seconds:g} s; portal stopped it there.",
                hint=_hint("stream_seconds"),
            )


def _hint(limit: str) -> str:
    return (
        f"Everything before was kept. If the provider really has that much, raise {limit}"
        " in the plugin's RequestLimits; otherwise report it to the provider."
    )
