"""The view's pages, in the order the navigation shows them.

Each page is a module of its own that says what the page shows (``context``) and a template
of the same name that lays it out. Adding a page is one line here: the routes, the
navigation, the static report (``portal report``) and the browser tests all read this list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.store import Store
from portal.view import (
    about,
    datause,
    energy,
    money,
    overview,
    permissions,
    phone,
    record,
    search,
    shopping,
)

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
    zone: ZoneInfo | None = None
    """The person's time zone (days and months are theirs); None: ``localtime.zone()``."""
    providers: frozenset[str] | None = None
    """The providers the person narrowed to (``portal report --provider``), None for all.
    The store a page reads is already narrowed (``portal.view.narrowed``): a page need not
    filter, only say so if it likes."""
    since: date | None = None
    """The first day the person narrowed to (``portal report --since``), None for all time;
    dated records before it are already left out of the store a page reads."""
    in_report: bool = False
    """True when the page is a section of the static report: no link, form or next page
    can be followed there, so a list shows its whole static cut (see ``Page.report_query``)."""


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
    in_report: bool = True
    """False for a page that means nothing without a server to ask (Search): the static
    report (``portal report``) leaves it out."""
    report_query: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)
    """The query the report renders the page with: its static cut of a list that the view
    filters and pages through (e.g. ``{"per_page": "500"}``); empty, the page's defaults."""


PAGES: tuple[Page, ...] = (
    Page("overview", "/", "Overview", overview.context),
    Page("money", "/money", "Money", money.context),
    Page("energy", "/energy", "Energy", energy.context),
    Page("phone", "/phone", "Phone", phone.context),
    Page("shopping", "/shopping", "Shopping", shopping.context),
    Page("about", "/about", "About me", about.context),
    Page("datause", "/data-use", "What they do with my data", datause.context),
    Page("permissions", "/permissions", "Permissions", permissions.context),
    Page("search", "/search", "Search", search.context, in_report=False),
    Page("record", "/record/<table>/<key>", "A record", record.context, in_nav=False),
)
