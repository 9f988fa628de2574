"""The view's pages: a small werkzeug WSGI app rendering Jinja2 templates over the store.

Every template is autoescaped, and every value a template prints first passes through
``portal.shown`` (the environment's ``finalize``): provider text can neither become markup
nor hide itself behind control or bidi characters. No template marks provider data
``|safe``. Static assets are files of this package, served by name from a fixed list.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as url_quote
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from portal import localtime
from portal.shown import shown
from portal.store import Store
from portal.view import charts, formats, overview
from portal.view.catalogue import PAGES, Page, Visit
from portal.view.guard import refused
from portal.view.missing import Missing
from portal.view.zone import in_zone

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


def _finalize(value: Any) -> Any:
    # Portal's own markup (a macro's output) is already safe; everything else is text.
    if isinstance(value, Markup) or value is None:
        return "" if value is None else value
    return shown(value)


def environment(zone: ZoneInfo | None = None) -> Environment:
    """The Jinja2 environment of the view: the package's templates, always autoescaped, and
    ``local_time(moment, form)`` showing moments in the person's ``zone``."""
    env = Environment(
        loader=PackageLoader("portal.view", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
    )
    env.globals["local_time"] = functools.partial(overview.local_time, zone=zone)
    env.globals["money"] = formats.money
    env.globals["quantity"] = formats.quantity
    env.globals["bars"] = charts.bars
    env.globals["lines"] = charts.lines
    env.globals["Series"] = charts.Series
    env.globals["record_url"] = record_url
    env.globals["nav_pages"] = [p for p in PAGES if p.in_nav]
    return env


def record_url(category: str, key: str) -> str:
    """The address of one record's page (every field, its provenance, its raw payload):
    ``/record/<category>/<portal id>``, the category being its table (``transactions``)."""
    return f"/record/{url_quote(category, safe='')}/{url_quote(key, safe='')}"


class Pages:
    """The WSGI app answering the view's pages (put behind ``guard.Guard``)."""

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], datetime] | None = None,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.store = store
        self._now = now or (lambda: datetime.now(UTC))
        self.zone = zone or localtime.zone()
        """The person's time zone, every moment on a page is shown in."""
        self._env = environment(self.zone)
        self._assets = {
            item.name: item.read_bytes()
            for item in resources.files("portal.view").joinpath("static").iterdir()
            if item.is_file() and any(item.name.endswith(end) for end in STATIC_TYPES)
        }
        self._pages = {page.name: page for page in PAGES}
        self._routes = Map(
            [Rule(page.rule, endpoint=page.name) for page in PAGES]
            + [Rule("/static/<name>", endpoint="static")]
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            endpoint, arguments = self._routes.bind_to_environ(environ).match()
            if endpoint == "static":
                answer = self._static(request, **arguments)
            else:
                answer = self._show(self._pages[endpoint], request, arguments)
        except Missing as missing:
            answer = self._missing(missing)
        except NotFound:
            answer = refused(404, "there is no such page.", "Start again from the Overview: /")
        except HTTPException as error:
            answer = refused(error.code or 500, shown(error.description or "bad request"))
        except Exception:
            # The page says only that something broke; the details go to the -v log.
            logger.exception("portal view could not answer %s", shown(request.path))
            answer = refused(500, "portal view failed to build this page.", "Run with -v.")
        body: Iterable[bytes] = answer(environ, start_response)
        return body

    def _show(self, page: Page, request: Request, arguments: Mapping[str, Any]) -> Response:
        now = self._now()
        query = {key: request.args[key] for key in request.args}
        html = self.render(page, Visit(self.store, now, query, arguments, self.zone))
        return Response(html, content_type="text/html; charset=utf-8")

    def _missing(self, missing: Missing) -> Response:
        """A 404 page in the view's layout, saying what is not there and what to do."""
        template = self._env.get_template("missing.html")
        html = template.render(
            page="missing", now=self._now(), what=missing.what, hint=missing.hint
        )
        return Response(html, status=404, content_type="text/html; charset=utf-8")

    def render(self, page: Page, visit: Visit) -> str:
        """``page``'s HTML for ``visit``: what its module's ``context`` says, worked out in
        the person's zone (their days and months), laid out by its template."""
        with in_zone(visit.zone or self.zone):
            context = page.context(visit)
        template = self._env.get_template(f"{page.name}.html")
        return template.render(page=page.name, now=visit.now, **context)

    def asset(self, name: str) -> bytes | None:
        """The package's static file ``name`` (``view.css``), or None if there is none."""
        return self._assets.get(name)

    def _static(self, request: Request, name: str) -> Response:
        body = self._assets.get(name)
        if body is None:
            raise NotFound
        kind = next(t for end, t in STATIC_TYPES.items() if name.endswith(end))
        return Response(body, content_type=kind)
