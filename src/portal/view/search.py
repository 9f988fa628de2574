"""What the Search page says: the records whose words match what the person typed,
grouped by category, each linking to its record.

Read from the store's full-text index (``portal.search``): counts per category and one page
of hits come from FTS5 queries, never from reading the rows. Without a category chosen the
page shows the first few hits of each category and how many more there are; with one
(``?in=transactions``) it pages through all of them, ``PAGE_SIZE`` at a time, most recently
stored first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from portal.record import CATEGORY_LABELS, Category
from portal.search import Hit, search

if TYPE_CHECKING:
    from portal.view.catalogue import Visit

PAGE_SIZE = 50
"""Hits on one page of a category."""
PREVIEW = 5
"""Hits of each category shown before one is chosen."""


@dataclass(frozen=True)
class Group:
    """The hits of one category, as the page lists them."""

    category: Category
    label: str
    count: int
    hits: list[Hit]
    url: str
    """The page listing every hit of this category."""


@dataclass(frozen=True)
class Paging:
    """Where a page of one category's hits stands: showing 51 to 100 of 1,521."""

    first: int
    last: int
    total: int
    previous: str | None
    next: str | None


def _url(words: str, category: Category | None = None, page: int = 1) -> str:
    query: dict[str, str | int] = {"q": words}
    if category is not None:
        query["in"] = category.value
    if page > 1:
        query["page"] = page
    return "/search?" + urlencode(query)


def _category(name: str | None) -> Category | None:
    try:
        return Category(name) if name else None
    except ValueError:
        return None  # an unknown category: search them all


def _page_number(text: str | None) -> int:
    return int(text) if text and text.isdigit() and 0 < int(text) < 1_000_000 else 1


def context(visit: Visit) -> dict[str, Any]:
    """The Search page's template context."""
    words = visit.query.get("q", "").strip()[:200]
    chosen = _category(visit.query.get("in"))
    page = _page_number(visit.query.get("page"))
    if chosen is None:
        found = search(visit.store.engine, words, list(CATEGORY_LABELS), limit=PREVIEW)
    else:
        offset = (page - 1) * PAGE_SIZE
        found = search(visit.store.engine, words, [chosen], limit=PAGE_SIZE, offset=offset)
    groups = [
        Group(
            category=category,
            label=CATEGORY_LABELS[category],
            count=count,
            hits=[h for h in found.hits if h.category is category],
            url=_url(words, category),
        )
        for category, count in found.counts.items()
        if chosen in (None, category)
    ]
    paging = None
    if chosen is not None and groups:
        total = groups[0].count
        first = (page - 1) * PAGE_SIZE + 1
        last = min(total, page * PAGE_SIZE)
        paging = Paging(
            first=first,
            last=last,
            total=total,
            previous=_url(words, chosen, page - 1) if page > 1 else None,
            next=_url(words, chosen, page + 1) if last < total else None,
        )
    return {
        "words": words,
        "available": found.available,
        "total": found.total,
        "chosen": chosen,
        "chosen_label": CATEGORY_LABELS[chosen] if chosen else None,
        "groups": groups,
        "paging": paging,
        "everywhere": _url(words),
        "page_size": PAGE_SIZE,
    }
