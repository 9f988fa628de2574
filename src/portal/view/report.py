"""``portal report``: the single view as one static HTML file, to archive or print.

Every page of ``portal.view.catalogue.PAGES`` in the navigation (and not marked
``in_report=False``) is rendered by the view's own templates and ``context`` functions,
then made a section of one document (``portal.view.sections``): a table of contents, the
navigation pointing at the sections, the style sheets inlined in one ``<style>`` element.

The file can never call home, even opened in a browser that is online: its own
Content-Security-Policy (a ``<meta>``, since a file has no headers) allows no script, no
external origin of any kind, images only as ``data:`` URLs and, as style, only the one
``<style>`` element whose SHA-256 it names. No address in it points outside it.

``--provider`` and ``--since`` narrow the store itself (``portal.view.narrowed``), so
every page, whoever wrote it, shows only what was asked; each page is also told
(``Visit.providers``, ``Visit.since``, ``Visit.in_report``) in case it wants to say so.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from portal.errors import UserError
from portal.private import new_private_file
from portal.store import Store
from portal.view.catalogue import PAGES, Page, Visit
from portal.view.narrowed import narrowed
from portal.view.pages import Pages, environment
from portal.view.sections import Section, inline

REPORT_SHEET = "report.css"
"""The report's own layout and print rules, after every page's sheets."""


@dataclass(frozen=True)
class Part:
    """One page of the view as a section of the report."""

    name: str
    title: str
    body: Markup


def report_pages(pages: Iterable[Page] = PAGES) -> list[Page]:
    """The pages the report holds: those in the navigation that make sense without a server."""
    return [page for page in pages if page.in_nav and page.in_report]


def build(
    store: Store,
    now: datetime,
    *,
    providers: frozenset[str] | None = None,
    since: date | None = None,
    zone: ZoneInfo | None = None,
) -> str:
    """The whole report for ``store`` at ``now``, narrowed to ``providers`` and ``since``,
    its moments, days and months in ``zone`` (default ``localtime.zone()``)."""
    included = report_pages()
    routes = Map([Rule(page.rule, endpoint=page.name) for page in PAGES]).bind("report")
    names = {page.name for page in included}

    def anchor(address: str) -> str | None:
        parts = urlsplit(address)
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            return None
        try:
            endpoint, _ = routes.match(parts.path, method="GET")
        except HTTPException:
            return None
        return f"#{endpoint}" if endpoint in names else None

    with narrowed(store, providers, since) as shown:
        view = Pages(shown, now=lambda: now, zone=zone)
        parts: list[Part] = []
        sheets: list[str] = []
        for page in included:
            query = dict(page.report_query)
            visit = Visit(shown, now, query, {}, view.zone, providers, since, in_report=True)
            section = Section(page.name, anchor, view.asset)
            section.feed(view.render(page, visit))
            section.close()
            parts.append(Part(page.name, page.title, section.body))
            sheets += [name for name in section.sheets if name not in sheets]
    style = _style([*sheets, REPORT_SHEET], view)
    return (
        environment()
        .get_template("report.html")
        .render(
            now=now,
            parts=parts,
            style=style,
            policy=policy(style),
            providers=sorted(providers) if providers else None,
            since=since,
        )
    )


def policy(style: str) -> str:
    """The Content-Security-Policy of a report whose one ``<style>`` element holds ``style``."""
    digest = base64.b64encode(hashlib.sha256(style.encode("utf-8")).digest()).decode("ascii")
    return "; ".join(
        (
            "default-src 'none'",
            f"style-src 'sha256-{digest}'",
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


_URL = re.compile(r"""url\(\s*(?P<quote>['"]?)(?P<address>.*?)(?P=quote)\s*\)""", re.IGNORECASE)


def _style(sheets: list[str], view: Pages) -> Markup:
    texts = []
    for name in sheets:
        body = view.asset(name)
        if body is not None:
            texts.append(f"/* {name} */\n{body.decode('utf-8')}")
    text = "\n".join(texts)

    def local(match: re.Match[str]) -> str:
        address = inline(match["address"], view.asset)
        return f'url("{address}")' if address is not None else "none"

    text = _URL.sub(local, text)
    # The package's own files, never provider text; a closing tag in them would end the
    # element early, so it is refused rather than escaped (escaping would change the CSS).
    if "</" in text:
        raise ValueError("a style sheet of the view contains '</', which cannot be inlined")
    return Markup(text)  # noqa: S704


def write(out: Path, html: str) -> int:
    """Write ``html`` to ``out`` in one step (a new 0600 file, then a rename over ``out``):
    a reader never sees half a report, and a failure leaves ``out`` as it was. Returns the
    number of bytes written."""
    folder_path = out.parent
    if not folder_path.is_dir():
        what = "is not a folder" if folder_path.exists() else "does not exist"
        raise UserError(
            f"Cannot write the report to {out}: {folder_path} {what}.",
            hint="Create the folder first, or give --out a file in a folder that exists.",
        )
    if out.is_dir():
        raise UserError(
            f"Cannot write the report to {out}: it is a folder.",
            hint="Give --out a file name, e.g. --out portal-report.html.",
        )
    data = html.encode("utf-8")
    temporary = f".{out.name}.{secrets.token_hex(8)}.tmp"
    try:
        folder = os.open(folder_path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise _unwritable(out, error) from None
    try:
        try:
            fd = new_private_file(folder, temporary)
        except OSError as error:
            raise _unwritable(out, error) from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, out.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException as error:
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
            if isinstance(error, OSError):  # a full disk, a file in the way: said plainly
                raise _unwritable(out, error) from None
            raise
    finally:
        os.close(folder)
    return len(data)


def _unwritable(out: Path, error: OSError) -> UserError:
    return UserError(
        f"Cannot write the report to {out}: the folder cannot be written ({error.strerror}).",
        hint="Give --out a file in a folder you can write to.",
    )
