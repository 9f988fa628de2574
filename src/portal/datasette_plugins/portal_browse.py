"""portal's Datasette plugin, loaded only by ``portal browse`` (``--plugins-dir``).

- **Labels for references.** The store declares no SQL foreign keys (rows of one provider
  may arrive before the account they belong to), so Datasette cannot label an
  ``account_id`` by itself. Where portal's metadata says a column holds the portal id of
  another table's record (``portal_references``), the cell shows that record's
  ``label_column`` (an account's name) as a link to it, with the id beside it.
- **Only the address it serves at.** Datasette answers any Host header; this refuses every
  request whose Host is not the exact ``127.0.0.1:PORT`` it listens on, so a web page that
  points its own name at 127.0.0.1 (DNS rebinding) cannot read the store through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from datasette import hookimpl as _hookimpl
from datasette.utils import escape_sqlite
from markupsafe import Markup

hookimpl: Callable[[Callable[..., Any]], Callable[..., Any]] = _hookimpl  # no stubs
Scope = MutableMapping[str, Any]
ASGI = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Any]

REFUSED = (
    b"portal browse refused this request: this address is not the one it serves at.\n"
    b"Open the address portal browse printed.\n"
)


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    """A referencing cell as its record's label, linked; None for every other cell."""
    if not table or not isinstance(value, str) or not value:
        return None
    target = (datasette.table_metadata(database, table).get("portal_references") or {}).get(column)
    label = datasette.table_metadata(database, target).get("label_column") if target else None
    if not target or not label:
        return None

    async def labelled() -> Markup | None:
        sql = f"select {escape_sqlite(label)} from {escape_sqlite(target)} where id = ? limit 1"  # noqa: S608 - names from portal's metadata
        row = (await datasette.get_database(database).execute(sql, [value])).first()
        if row is None or row[0] is None:
            return None
        href = datasette.urls.row(database, target, value)
        return Markup('<a href="{}">{}</a> <small>{}</small>').format(href, row[0], value)

    return labelled()


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGI], ASGI]:
    """Refuse any HTTP request whose Host header is not the address Datasette listens on."""

    def wrap(app: ASGI) -> ASGI:
        async def guarded(scope: Scope, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                host, port = scope.get("server") or ("", 0)
                asked = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
                if asked != f"{host}:{port}":
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                        }
                    )
                    await send({"type": "http.response.body", "body": REFUSED})
                    return
            await app(scope, receive, send)

        return guarded

    return wrap
