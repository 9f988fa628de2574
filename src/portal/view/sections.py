"""One page of the view, as rendered, turned into a section of the static report.

The page is rendered by the view's own templates (so the report says exactly what the
view says); this takes the content of its ``<main>`` and makes it stand alone in a file:

- a link to a page of the report becomes a link to its section (``/money?account=x`` →
  ``#money``); a link to anything else (a record's page, the next page of a list, another
  site) keeps its text and loses its address: nothing in the file points outside it;
- the package's own files a page refers to (``/static/...``) become ``data:`` URLs;
- forms, scripts, styles, frames and embedded objects are left out (the report runs no
  script, and has no server to ask), as are inline ``style`` and ``on...`` attributes;
- every ``id`` is prefixed with the page's name (and every reference to one with it), so
  two pages' ids cannot collide in one document;
- the style sheets the page links are collected, to be inlined once for the whole report.

It re-emits the page's markup as it was written except where it changes something, so
the escaping the templates did stays as it is; values it writes itself are escaped again.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urlsplit

from markupsafe import Markup, escape

URL_ATTRIBUTES = frozenset(
    {
        "href",
        "xlink:href",
        "src",
        "srcset",
        "poster",
        "action",
        "formaction",
        "data",
        "cite",
        "background",
        "ping",
        "longdesc",
        "manifest",
        "codebase",
        "archive",
        "classid",
        "usemap",
        "itemtype",
        "profile",
    }
)
"""Attributes whose value is an address: each is kept only if it points inside the file."""

ID_REFERENCES = frozenset(
    {"aria-labelledby", "aria-describedby", "aria-controls", "aria-owns", "for", "headers"}
)
"""Attributes naming ids (space-separated), prefixed as the ids are."""

LEFT_OUT = frozenset(
    {"form", "script", "noscript", "style", "template", "iframe", "frame", "object", "embed"}
)
"""Elements left out with everything in them."""

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
"""Elements that have no end tag (an ``<input>`` closes nothing)."""

DROPPED = frozenset({"link", "meta", "base"})
"""Elements left out of a section's body (they belong to a document's head)."""

STATIC = "/static/"

Anchor = Callable[[str], str | None]
"""For an address a page links to, the in-document anchor it becomes (``#money``), or None."""
Asset = Callable[[str], bytes | None]
"""For a file name under ``/static/``, its bytes, or None."""


class Section(HTMLParser):
    """Feed it one rendered page; then ``body`` is its section and ``sheets`` its style
    sheets (file names under ``/static/``, in the order linked)."""

    def __init__(self, prefix: str, anchor: Anchor, asset: Asset) -> None:
        super().__init__(convert_charrefs=False)
        self.prefix = prefix
        self.sheets: list[str] = []
        self._anchor = anchor
        self._asset = asset
        self._out: list[str] = []
        self._in_main = False
        self._left_out: list[str] = []  # the open elements being left out

    @property
    def body(self) -> Markup:
        """The content of the page's ``<main>``, standing alone."""
        # Every piece is the template's own (escaped) markup, or escaped here.
        return Markup("".join(self._out))  # noqa: S704

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if tag == "link" and not self._in_main:
            self._sheet(dict(attrs))
            return
        if tag == "main":
            self._in_main = True
            return
        if not self._in_main:
            return
        if self._left_out or tag in LEFT_OUT:
            if not closed and tag not in VOID:
                self._left_out.append(tag)
            return
        if tag in DROPPED:
            return
        kept = self._attributes(attrs)
        if kept == attrs:
            self._out.append(self.get_starttag_text() or "")
            return
        written = "".join(
            f" {name}" if value is None else f' {name}="{escape(value)}"' for name, value in kept
        )
        self._out.append(f"<{tag}{written}{' /' if closed else ''}>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "main":
            self._in_main = False
        elif not self._in_main:
            return
        elif self._left_out:
            if tag == self._left_out[-1]:
                self._left_out.pop()
        elif tag not in DROPPED:
            self._out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self._in_main and not self._left_out:
            self._out.append(data)

    def handle_entityref(self, name: str) -> None:
        self.handle_data(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self.handle_data(f"&#{name};")

    # Comments, declarations and processing instructions are left out (handled by nothing).

    def _sheet(self, attrs: dict[str, str | None]) -> None:
        href = attrs.get("href") or ""
        if "stylesheet" in (attrs.get("rel") or "").split() and href.startswith(STATIC):
            name = href.removeprefix(STATIC)
            if name not in self.sheets:
                self.sheets.append(name)

    def _attributes(self, attrs: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        kept: list[tuple[str, str | None]] = []
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                continue  # the report's policy refuses them anyway: say nothing that breaks
            if name == "id" and value:
                kept.append((name, f"{self.prefix}-{value}"))
            elif name in ID_REFERENCES and value:
                kept.append((name, " ".join(f"{self.prefix}-{v}" for v in value.split())))
            elif name in URL_ATTRIBUTES:
                address = self._address(name, value or "")
                if address is not None:
                    kept.append((name, address))
            else:
                kept.append((name, value))
        return kept

    def _address(self, name: str, value: str) -> str | None:
        value = value.strip()
        if value.startswith("#"):
            return f"#{self.prefix}-{value[1:]}" if len(value) > 1 else f"#{self.prefix}"
        if name in ("href", "xlink:href") and not _is_resource(value):
            return self._anchor(value)
        if name == "src":
            return inline(value, self._asset)
        return None


def _is_resource(value: str) -> bool:
    return value.startswith(STATIC) or value.startswith("data:")


def inline(address: str, asset: Asset) -> str | None:
    """``address`` as a ``data:`` URL when it is a ``data:`` URL already or names a file of
    the package (``/static/...``); None for anything else."""
    if address.startswith("data:"):
        return address
    parts = urlsplit(address)
    if parts.scheme or parts.netloc or not parts.path.startswith(STATIC):
        return None
    name = parts.path.removeprefix(STATIC)
    body = asset(name)
    if body is None:
        return None
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"data:{kind};base64,{base64.b64encode(body).decode('ascii')}"
