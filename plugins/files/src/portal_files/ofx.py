"""Reading an OFX or QFX file as a stream of elements, each knowing its line and path.

OFX 1.x is SGML: a ``KEY:VALUE`` header, then tags where an element holding a value
(``<TRNAMT>-3.50``) may leave out its end tag. Real banks also leave aggregates unclosed
(``<STMTTRN>`` after ``<STMTTRN>``), write no end tags at all, end lines with CRLF, and
write Latin-1 or Windows-1252 (``CHARSET:1252``); values may hold character references
(``&amp;``, ``&#38;``). What other OFX readers accept is read here the same way: an
element is closed by the end tag of anything holding it, and an aggregate OFX places
elsewhere (``<STMTTRN>`` belongs in ``<BANKTRANLIST>``) closes what it cannot be inside.
OFX 2.x is XML behind an ``<?OFX ...?>`` processing instruction, parsed by defusedxml. QFX
is OFX with Intuit's extra elements (``INTU.BID``). Both become a stream of
``portal.importing.XmlNode`` events, so the statement reader does not care which it came
from, and a reader that drops what it has read holds one transaction at a time.

Why not ofxtools: it reads both versions with regular expressions over the whole file,
keeps no line numbers (an error cannot say where), and validates into its own models;
portal needs the raw values as released and errors that name the element.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

from portal.filereaders import CHUNK, MAX_DEPTH, XmlEvent, open_text, too_deep, xml_events
from portal.importing import BadFile, XmlNode

_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9._]*)>|<!--.*?-->|([^<]+)|(<)", re.S)
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "latin-1", "8859-1": "latin-1", "UTF-8": "utf-8"}

_STATEMENT = frozenset({"STMTRS", "CCSTMTRS"})
PARENTS: dict[str, frozenset[str]] = {
    "SIGNONMSGSRSV1": frozenset({"OFX"}),
    "BANKMSGSRSV1": frozenset({"OFX"}),
    "CREDITCARDMSGSRSV1": frozenset({"OFX"}),
    "INVSTMTMSGSRSV1": frozenset({"OFX"}),
    "SONRS": frozenset({"SIGNONMSGSRSV1"}),
    "STMTTRNRS": frozenset({"BANKMSGSRSV1"}),
    "CCSTMTTRNRS": frozenset({"CREDITCARDMSGSRSV1"}),
    "STMTRS": frozenset({"STMTTRNRS"}),
    "CCSTMTRS": frozenset({"CCSTMTTRNRS"}),
    "BANKACCTFROM": _STATEMENT,
    "CCACCTFROM": _STATEMENT,
    "BANKTRANLIST": _STATEMENT,
    "LEDGERBAL": _STATEMENT,
    "AVAILBAL": _STATEMENT,
    "BALLIST": _STATEMENT,
    "STMTTRN": frozenset({"BANKTRANLIST"}),
}
"""Where OFX 1.x places its banking aggregates (OFX 1.0.2 §§ 2.5, 11.4): an aggregate opening
where it cannot be closes the unclosed ones in the way, as SGML's DTD would."""

AGGREGATES = frozenset(
    {*PARENTS, "OFX", "STATUS", "FI", "PAYEE", "CURRENCY", "ORIGCURRENCY", "BAL"}
    | {"BANKACCTTO", "CCACCTTO", "INVSTMTRS", "INVSTMTTRNRS", "LOANSTMTRS"}
)
"""Elements that hold other elements: any other element left empty is an empty value."""


def sniff(head: bytes, filename: str) -> bool:
    """An OFX or QFX file, by its header: ``OFXHEADER:`` (1.x) or ``<?OFX`` (2.x)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.upper().startswith(b"OFXHEADER:"):
        return True
    return start.startswith(b"<?xml") and b"<?OFX" in head.upper()


def events(path: Path) -> Iterator[XmlEvent]:
    """The file's elements as they open and close, from either version.

    A reader may ``drop`` an element once it has read it; a broken file raises ``BadFile``.
    """
    with path.open("rb") as source:
        head = source.read(CHUNK)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").upper().startswith(b"OFXHEADER:"):
        yield from _sgml_events(path, head)
        return
    for kind, node in xml_events(path):
        if kind == "start" and node.parent is None and node.tag != "OFX":
            raise BadFile(path, node.locator, "the root element should be OFX")
        yield kind, node


def _header(text: str, path: Path) -> None:
    """Check the ``KEY:VALUE`` header of OFX 1.x (``text`` is what comes before ``<``)."""
    header: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise BadFile(path, f"line {number}", f"header line {line!r} is not KEY:VALUE")
        header[key.strip().upper()] = value.strip()
    if header.get("DATA", "OFXSGML").upper() != "OFXSGML":
        raise BadFile(path, None, f"says DATA:{header['DATA']}; portal reads OFXSGML")


def _encodings(head: bytes) -> tuple[str, ...]:
    text = head[:2048].decode("ascii", errors="replace")
    found = dict(re.findall(r"^\s*(ENCODING|CHARSET):\s*(\S+)", text, re.M))
    if found.get("ENCODING", "").upper() == "UTF-8":
        return ("utf-8-sig",)
    charset = _CHARSETS.get(found.get("CHARSET", "").upper())
    return ("utf-8-sig", charset or "cp1252")


def _chunks(path: Path, head: bytes) -> Iterator[tuple[str, bool]]:
    """The SGML body in pieces that end before a ``<`` (never inside a tag), and whether last."""
    with open_text(path, _encodings(head)) as text:
        buffer = ""
        while True:
            chunk = text.read(CHUNK)
            buffer += chunk
            if not chunk:
                yield buffer, True
                return
            cut = buffer.rfind("<")
            comment = buffer.rfind("<!--")
            if comment >= 0 and "-->" not in buffer[comment:]:
                cut = comment
            if cut > 0:
                yield buffer[:cut], False
                buffer = buffer[cut:]


class _Sgml:
    """The open elements of an SGML body, closed as OFX 1.x's rules (and real banks) imply."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.stack: list[XmlNode] = []
        self.root: XmlNode | None = None
        self.out: list[XmlEvent] = []
        self.emptied: set[str] = set()  # tags ended as empty values, whose end tag may follow

    def _end(self) -> None:
        self.out.append(("end", self.stack.pop()))

    def _end_values(self) -> None:
        # A value element (one with text, or an empty one OFX says holds no elements) ends
        # where the next tag starts, whether or not it has an end tag.
        top = self.stack[-1] if self.stack else None
        if top is not None and not top.seen and (top.text or top.tag not in AGGREGATES):
            if not top.text:
                self.emptied.add(top.tag)
            self._end()

    def start(self, tag: str, line: int) -> None:
        self._end_values()
        allowed = PARENTS.get(tag)
        if allowed and any(node.tag in allowed for node in self.stack):
            while self.stack[-1].tag not in allowed:  # an unclosed aggregate in the way
                self._end()
        parent = self.stack[-1] if self.stack else None
        if parent is None and self.root is not None:
            raise BadFile(self.path, f"line {line}", f"has <{tag}> after </OFX>")
        node = XmlNode(tag, None, {}, line)
        if parent is None:
            self.root = node
        else:
            parent.add(node)
        self.stack.append(node)
        if len(self.stack) > MAX_DEPTH:
            raise too_deep(self.path, node)
        self.out.append(("start", node))

    def close(self, tag: str, line: int) -> None:
        if not any(node.tag == tag for node in self.stack):
            if tag in self.emptied:  # an element of its own that OFX does not know, kept flat
                return
            raise BadFile(self.path, f"line {line}", f"</{tag}> closes an element that is not open")
        while self.stack[-1].tag != tag:  # what it holds and left open ends with it
            self._end()
        self._end()

    def text(self, value: str, line: int) -> None:
        top = self.stack[-1] if self.stack else None
        if top is None or top.seen:
            where = f"after <{top.tag}>" if top else "outside <OFX>"
            raise BadFile(self.path, f"line {line}", f"has text {value[:40]!r} {where}")
        top.text += html.unescape(value)  # &amp; &lt; &#38; &#x26; ... as SGML means them

    def finish(self) -> None:
        self._end_values()
        if self.stack:
            open_ = self.stack[-1]
            raise BadFile(
                self.path, open_.locator, f"<{open_.tag}> is never closed (the file ends too early)"
            )
        if self.root is None or self.root.tag != "OFX":
            raise BadFile(self.path, None, "has no <OFX> element")


def _sgml_events(path: Path, head: bytes) -> Iterator[XmlEvent]:
    body = _Sgml(path)
    line = 1
    in_header = True
    for text, last in _chunks(path, head):
        start = 0
        if in_header:
            start = text.find("<")
            if start < 0:
                if last:
                    raise BadFile(path, None, "has an OFX header but no <OFX> element")
                continue  # pragma: no cover - a header longer than a chunk
            _header(text[:start], path)
            line += text.count("\n", 0, start)
            in_header = False
        for match in _TOKEN.finditer(text, start):
            closing, tag, content, stray = match.groups()
            here = line
            line += match.group(0).count("\n")
            if stray:
                if last and ">" not in text[match.start() :]:
                    raise BadFile(
                        path, f"line {here}", "ends inside a tag: the download looks cut short"
                    )
                raise BadFile(path, f"line {here}", "has a '<' that does not start a tag")
            if content is not None:
                if content.strip():
                    body.text(content.strip(), here)
            elif tag is not None:
                (body.close if closing else body.start)(tag.upper(), here)
            yield from body.out
            body.out.clear()
    body.finish()
    yield from body.out
