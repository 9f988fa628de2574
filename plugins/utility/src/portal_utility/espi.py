"""Reading ESPI Atom feeds safely and one entry at a time.

A Green Button feed is XML from a third party, so it is parsed with defusedxml: a feed that
declares an entity (the "billion laughs" expansion bomb), refers to an external entity or an
external DTD, or carries a DTD at all, is refused with ``UnsafeFeed`` naming what it tried.
ESPI never needs a DTD, so refusing one costs nothing.

Entries are parsed with ``iterparse`` and each is dropped from the tree once it has been
turned into a plain dict, so a Download My Data file of years of readings is read in
constant memory. Each entry becomes::

    {"id": "urn:uuid:...", "title": ..., "published": ..., "updated": ...,
     "links": [{"rel": "self", "href": ...}, ...],
     "resource": "IntervalBlock", "content": {...}}

where ``content`` is the resource's element as nested dicts of strings (lists for repeated
elements), exactly as released.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml.ElementTree import DefusedXMLParser, iterparse

from portal.filereaders import MAX_DEPTH

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
CUSTOMER = "http://naesb.org/espi/customer"

LISTS = frozenset(
    {
        "IntervalReading",
        "ReadingQuality",
        "costAdditionalDetailLastPeriod",
        "PricingStructures",
        "UsagePoints",
        "notifications",
        "DemandResponseProgram",
        "tariffRiderRefs",
        "futureStatus",
    }
)
"""Elements ESPI allows more than once: always lists, even when a feed has one of them."""


class FeedError(Exception):
    """A feed portal cannot read; ``message`` says what is wrong and where."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsafeFeed(FeedError):
    """A feed that tried an XML attack: an entity, an external reference, a DTD. Never retried."""


class MalformedFeed(FeedError):
    """A feed that is not well-formed XML (cut short, or not XML at all); worth fetching again."""


@dataclass(frozen=True)
class FeedLinks:
    """The links of the feed itself (``next`` for paging), known once the feed is read."""

    links: list[dict[str, str]]

    def get(self, rel: str) -> str | None:
        """The href of the first link with relation ``rel``."""
        return next((link["href"] for link in self.links if link.get("rel") == rel), None)


class _StrictParser(DefusedXMLParser):
    """defusedxml's parser, also refusing external DTDs and any DTD at all, by name."""

    def __init__(self) -> None:
        super().__init__(
            target=TreeBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
        self.parser.StartDoctypeDeclHandler = self._start_doctype
        self.parser.EndDoctypeDeclHandler = self._end_doctype

    def _start_doctype(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if sysid or pubid:
            raise DTDForbidden(name, sysid, pubid)

    def _end_doctype(self) -> None:
        # Reached only when the internal subset declared no entity (those fail first).
        raise DTDForbidden("", None, None)


def entries(
    source: IO[bytes], where: str, feed: list[FeedLinks] | None = None
) -> Iterator[dict[str, Any]]:
    """Each Atom entry of ``source`` (a feed, or a single entry) as a plain dict, in order.

    ``where`` names the source in errors (a URL path, a file name). If ``feed`` is given, the
    feed's own links are appended to it once the whole feed has been read.
    Raises ``UnsafeFeed`` or ``MalformedFeed``.
    """
    stack: list[Element] = []
    feed_links: list[dict[str, str]] = []
    try:
        for event, element in iterparse(source, events=("start", "end"), parser=_StrictParser()):
            if event == "start":
                stack.append(element)
                if len(stack) > MAX_DEPTH:  # before value() recurses into it
                    raise MalformedFeed(
                        f"{where} nests elements more than {MAX_DEPTH} deep (at"
                        f" <{_local(element.tag)}>), which no ESPI feed needs."
                    )
                continue
            stack.pop()
            if element.tag == f"{{{ATOM}}}entry":
                yield from _entries(element, where)
                if stack:  # free the entry: memory stays flat however long the feed
                    stack[-1].remove(element)
                element.clear()
            elif element.tag == f"{{{ATOM}}}link" and len(stack) == 1:
                feed_links.append(dict(element.attrib))
    except EntitiesForbidden as error:
        raise UnsafeFeed(_entity_problem(error, where)) from None
    except DTDForbidden as error:
        raise UnsafeFeed(_dtd_problem(error, where)) from None
    except DefusedXmlException as error:
        raise UnsafeFeed(
            f"{where} refers to an external entity ({error}); portal never follows one."
        ) from None
    except ParseError as error:
        line, column = error.position
        raise MalformedFeed(
            f"{where} is not well-formed XML at line {line}, column {column}"
            f" ({str(error).split(':')[0]})."
        ) from None
    if feed is not None:
        feed.append(FeedLinks(feed_links))


def _entity_problem(error: EntitiesForbidden, where: str) -> str:
    if error.sysid or error.pubid:
        target = error.sysid or error.pubid
        return (
            f"{where} declares the external entity {error.name!r} pointing at {target!r};"
            " portal refuses external entities (they read local files or reach other hosts)."
        )
    return (
        f"{where} declares the entity {error.name!r}; portal refuses entity declarations,"
        " which is how entity-expansion ('billion laughs') attacks work."
    )


def _dtd_problem(error: DTDForbidden, where: str) -> str:
    if error.sysid or error.pubid:
        return (
            f"{where} refers to the external DTD {error.sysid or error.pubid!r};"
            " portal never loads one."
        )
    return f"{where} carries a DTD (<!DOCTYPE ...>), which no ESPI feed has; portal refuses it."


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def value(element: Element) -> Any:
    """An element as nested dicts of strings; repeated and ``LISTS`` elements as lists."""
    children = list(element)
    if not children:
        return (element.text or "").strip()
    out: dict[str, Any] = {}
    for child in children:
        name, item = _local(child.tag), value(child)
        if name in LISTS:
            out.setdefault(name, []).append(item)
        elif name in out:
            previous = out[name]
            out[name] = [*previous, item] if isinstance(previous, list) else [previous, item]
        else:
            out[name] = item
    return out


def _entries(element: Element, where: str) -> Iterator[dict[str, Any]]:
    """An entry as a dict; one per resource where its content holds several of one kind
    (the Green Button Alliance's own sample puts a day's IntervalBlocks in one entry)."""
    entry: dict[str, Any] = {"links": []}
    resources: list[Element] = []
    for child in element:
        name = _local(child.tag)
        if name == "link":
            entry["links"].append(dict(child.attrib))
        elif name == "content":
            resources = list(child)
            kinds = {_local(r.tag) for r in resources}
            if len(kinds) != 1:
                raise MalformedFeed(
                    f"{where}: entry {entry.get('id', '?')} holds {len(resources)} resources"
                    " in its content; ESPI puts one there (or several of one kind)."
                )
        elif not list(child):
            entry[name] = (child.text or "").strip()
    if not resources:
        raise MalformedFeed(f"{where}: entry {entry.get('id', '?')} has no content.")
    for resource in resources:
        content = value(resource)
        yield {
            **entry,
            "resource": _local(resource.tag),
            "content": content if isinstance(content, dict) else {},
        }


def link(entry: dict[str, Any], rel: str, contains: str = "") -> str | None:
    """The href of ``entry``'s first ``rel`` link whose href contains ``contains``."""
    for candidate in entry.get("links", []):
        href = candidate.get("href", "")
        if candidate.get("rel") == rel and contains in href:
            return str(href)
    return None


def resource_id(href: str) -> str:
    """The last segment of a resource URL: the id of a UsagePoint, MeterReading, ..."""
    return urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
