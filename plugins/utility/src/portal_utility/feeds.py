"""Writing ESPI Atom feeds: the sandbox's side of ``portal_utility.espi``.

A resource is held as nested dicts of strings (lists for repeated elements); this module
writes it as the element of that name in the ESPI (or ESPI customer) namespace, inside an
Atom entry, inside a feed. Text is escaped, so a name such as "Siobhán" or "A&B" is served
as clean UTF-8 XML. Strings are joined rather than built as a tree, which keeps a feed of
thousands of readings quick to write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from portal_utility.espi import ATOM, CUSTOMER, ESPI

_ID_NAMESPACE = uuid.UUID("5d0c1f64-3a8e-4f57-9b0e-6c2f8e5a7d13")


@dataclass
class Entry:
    """One Atom entry holding one ESPI resource."""

    resource: str
    content: Mapping[str, Any]
    self_url: str
    title: str = ""
    published: str = ""
    updated: str = ""
    up: str | None = None
    related: list[str] = field(default_factory=list)
    namespace: str = ESPI

    @property
    def id(self) -> str:
        """A stable ``urn:uuid`` for the resource, derived from its URL path."""
        path = self.self_url.split("/espi/", 1)[-1]
        return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, path)}"


def element(name: str, content: Any) -> str:
    """``content`` as the XML of element ``name`` (a list repeats the element)."""
    if isinstance(content, list):
        return "".join(element(name, item) for item in content)
    if isinstance(content, Mapping):
        inner = "".join(element(key, value) for key, value in content.items())
        return f"<{name}>{inner}</{name}>"
    return f"<{name}>{escape(str(content))}</{name}>"


def entry_xml(entry: Entry, *, standalone: bool = False) -> str:
    """An Atom entry; ``standalone`` adds the XML declaration and the Atom namespace."""
    links = [("self", entry.self_url)]
    if entry.up:
        links.append(("up", entry.up))
    links += [("related", href) for href in entry.related]
    head = f"<entry xmlns={quoteattr(ATOM)}>" if standalone else "<entry>"
    body = (
        head
        + f"<id>{entry.id}</id>"
        + "".join(f"<link rel={quoteattr(rel)} href={quoteattr(href)}/>" for rel, href in links)
        + f"<title>{escape(entry.title)}</title>"
        + f"<content><{entry.resource} xmlns={quoteattr(entry.namespace)}>"
        + "".join(element(key, value) for key, value in entry.content.items())
        + f"</{entry.resource}></content>"
        + f"<published>{entry.published}</published><updated>{entry.updated}</updated>"
        + "</entry>"
    )
    return _DECLARATION + body if standalone else body


def feed_xml(
    title: str, self_url: str, updated: str, entries: Iterable[Entry], next_url: str | None = None
) -> str:
    """An Atom feed of ``entries``, with a ``next`` link when there is another page."""
    links = f"<link rel='self' href={quoteattr(self_url)}/>"
    if next_url:
        links += f"<link rel='next' href={quoteattr(next_url)}/>"
    feed_id = f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, self_url.split('/espi/', 1)[-1])}"
    return (
        _DECLARATION
        + f"<feed xmlns={quoteattr(ATOM)} xmlns:espi={quoteattr(ESPI)}"
        + f" xmlns:cust={quoteattr(CUSTOMER)}>"
        + f"<id>{feed_id}</id><title>{escape(title)}</title><updated>{updated}</updated>"
        + links
        + "".join(entry_xml(entry) for entry in entries)
        + "</feed>"
    )


_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


HOSTILE = {
    "entities": '<?xml version="1.0"?>\n<!DOCTYPE feed [\n <!ENTITY lol "lol">\n'
    ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol3;</title></feed>',
    "external": '<?xml version="1.0"?>\n<!DOCTYPE feed [\n'
    ' <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>',
}
"""Feeds an attacker (or a compromised proxy) might serve: a billion-laughs bomb and an XXE."""
