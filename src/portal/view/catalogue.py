"""The view's pages, in the order the navigation shows them.

Each page is a module of its own that says what the page shows (``context``) and a template
of the same name that lays it out. Adding a page is one line here: the routes, the
navigation, the static report (``portal report``) and the browser tests all read this list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from portal.store import Store
from portal.view import overview, permissions, record, search

Context = Callable[["Visit"], Mapping[str, Any]]


@dataclass(frozen=True)
class Visit:
    """What a page is asked for: the store, the moment, the query and the route's arguments."""

    store: Store
    now: datetime
    query: Mapping[str, str]
    """The query string's parameters (first value of each): filters, sort, page number."""
    arguments: Mapping[str, Any]
    """The route's own parts (``/record/<table>/<key>``)."""


@dataclass(frozen=True)
class Page:
    """One page of the view: its route, its name in the navigation, and what it shows."""

    name: str
    """The endpoint, and the template ``<name>.html``."""
    rule: str
    """The werkzeug route, e.g. ``/money`` or ``/record/<table>/<key>``."""
    title: str
    """Its name in the navigation and the report's table of contents."""
    context: Context
    in_nav: bool = True
    """False for pages reached from others (a record), which the report also leaves out."""


PAGES: tuple[Page, ...] = (
    Page("overview", "/", "Overview", overview.context),
    Page("permissions", "/permissions", "Permissions", permissions.context),
    Page("search", "/search", "Search", search.context),
    Page("record", "/record/<table>/<key>", "A record", record.context, in_nav=False),
)
