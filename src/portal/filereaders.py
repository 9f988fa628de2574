"""Reading the files people download, with every error naming its line or element.

Importers (``portal.importing``) use these to turn a file into raw items: ``decode`` and
``open_text`` for text in the encodings providers really use, ``csv_rows`` for CSV with
line numbers, ``xml_events`` and ``xml_tree`` for XML parsed by defusedxml (no entity
expansion, no DTD, no network), each element knowing its line and its path, and
``bounded_decimal`` for numbers. Whatever cannot be read raises ``BadFile``, whose message
names the file and where in it the problem is.

Files are read as streams, a chunk at a time, so an importer can hold one record at a time
rather than the file (``xml_events`` hands out each element as it ends, and the reader may
drop it); nesting is bounded (``MAX_DEPTH``) and so are numbers (``MAX_DIGITS``), so a
hostile file gets a ``BadFile`` naming the element, never a RecursionError or MemoryError.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any
from xml.sax import SAXParseException
from xml.sax.expatreader import ExpatLocator
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import Locator

from portal.errors import UserError

CHUNK = 64 * 1024
"""How much of a file is read at a time."""

MAX_DEPTH = 64
"""The deepest nesting of elements portal reads: OFX and ESPI need fewer than 20 levels,
and a file nested deeper is refused before it costs memory or a RecursionError."""

MAX_DIGITS = 30
"""The most significant digits, and the largest power of ten, a number in a file may have:
more than any amount or reading needs, far fewer than ``1e999999`` or a 10,000-digit
integer, which are refused with a clear error instead of costing memory or time."""


class BadFile(UserError):
    """A file that cannot be imported as it is; the message names the line or element.

    ``locator`` is where in the file the problem is ("line 14", "element OFX/.../DTPOSTED
    (line 41)"), or None for the file as a whole.
    """

    def __init__(
        self, path: Path | str, locator: str | None, problem: str, *, hint: str = ""
    ) -> None:
        name = Path(path).name
        where = f"{name}, {locator}" if locator else name
        super().__init__(
            f"{where}: {problem}",
            hint=hint
            or "Nothing was imported and the store is unchanged. Fix the file, or"
            " download it again, and run portal import again.",
        )
        self.path = Path(path)
        self.locator = locator
        self.problem = problem


def decode(data: bytes, path: Path, encodings: Sequence[str] = ("utf-8-sig", "cp1252")) -> str:
    """The file's text: the first of ``encodings`` that decodes it all (a BOM is dropped).

    UK banks still write Windows-1252 ("£" as byte A3), so it is the fallback after UTF-8.
    When nothing fits, the error names the line with the first byte UTF-8 could not read.
    """
    first: UnicodeDecodeError | None = None
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as error:
            first = first or error
        except LookupError:
            raise BadFile(path, None, f"declares an unknown text encoding {encoding!r}") from None
    assert first is not None
    line = data.count(b"\n", 0, first.start) + 1
    raise BadFile(
        path,
        f"line {line}",
        f"byte {data[first.start]:#04x} is not text in any of {', '.join(encodings)}",
    )


def text_encoding(
    path: Path,
    encodings: Sequence[str] = ("utf-8-sig", "cp1252"),
    opener: Callable[[], IO[bytes]] | None = None,
) -> str:
    """The first of ``encodings`` in which the whole file is text, checked a chunk at a time.

    As ``decode``, but without holding the file: when nothing fits, the error names the
    line of the first byte the first encoding could not read. ``opener`` opens the bytes
    afresh (a member of an archive, ``portal.archives``); by default, the file at ``path``.
    """
    first: tuple[int, int] | None = None  # (line, byte) of the first encoding's failure
    for encoding in encodings:
        try:
            decoder = codecs.getincrementaldecoder(encoding)()
        except LookupError:
            raise BadFile(path, None, f"declares an unknown text encoding {encoding!r}") from None
        lines = 1
        with path.open("rb") if opener is None else opener() as source:
            while True:
                chunk = source.read(CHUNK)
                try:
                    decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as error:
                    if first is None:
                        first = (lines + chunk.count(b"\n", 0, error.start), chunk[error.start])
                    break
                if not chunk:
                    return encoding
                lines += chunk.count(b"\n")
    assert first is not None
    line, byte = first
    raise BadFile(
        path, f"line {line}", f"byte {byte:#04x} is not text in any of {', '.join(encodings)}"
    )


def open_text(
    path: Path,
    encodings: Sequence[str] = ("utf-8-sig", "cp1252"),
    opener: Callable[[], IO[bytes]] | None = None,
) -> IO[str]:
    """The file as a text stream in the first of ``encodings`` that reads it all.

    Line ends are left as they are (``newline=""``), as ``csv`` wants them. ``opener`` as
    for ``text_encoding``: the bytes are then read twice, once to choose the encoding.
    """
    encoding = text_encoding(path, encodings, opener)
    if opener is None:
        return open(path, encoding=encoding, newline="")  # the caller closes it
    return io.TextIOWrapper(opener(), encoding=encoding, newline="")


def bounded_decimal(text: str) -> Decimal:
    """``text`` as an exact decimal, if it is a plain finite number of sensible size.

    Raises ``ValueError`` whose message says what is wrong, to follow the value: ``is not
    an amount``, or that it has more than ``MAX_DIGITS`` digits or powers of ten
    (``1e999999``, a 10,000-digit integer).
    """
    too_big = (
        f"is too large or too precise to be an amount (more than {MAX_DIGITS} digits"
        " or powers of ten)"
    )
    if len(text) > 4 * MAX_DIGITS:  # before Decimal reads a megabyte of digits
        raise ValueError(too_big)
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError("is not an amount") from None
    if not number.is_finite():
        raise ValueError("is not an amount")
    digits, exponent = number.as_tuple()[1:]
    assert isinstance(exponent, int)
    if len(digits) > MAX_DIGITS or abs(exponent) > MAX_DIGITS:
        raise ValueError(too_big)
    return number


def csv_rows(text: str | Iterable[str], path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the number of the line it starts on (blank lines are skipped).

    ``text`` is the file's text, or a text stream (``open_text``) read as it goes.
    """
    lines = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(lines, strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise BadFile(path, f"line {reader.line_num}", f"is not valid CSV ({error})") from None
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


@dataclass(eq=False)  # identity: a node's place in the tree is what tells it apart
class XmlNode:
    """One XML element: its local name, namespace, attributes, text and where it was.

    ``index`` is its place among its parent's children of the same name (1 for the first),
    and ``seen`` counts each name among its own children so far: both stay right when a
    reader drops children it has read (``xml_events``), so paths stay true.
    """

    tag: str
    namespace: str | None
    attributes: dict[str, str]
    line: int
    parent: XmlNode | None = field(default=None, repr=False)
    children: list[XmlNode] = field(default_factory=list, repr=False)
    text: str = ""
    index: int = 1
    seen: dict[str, int] = field(default_factory=dict, repr=False)

    def add(self, child: XmlNode) -> None:
        """Make ``child`` this element's last child."""
        child.parent = self
        child.index = self.seen[child.tag] = self.seen.get(child.tag, 0) + 1
        self.children.append(child)

    def drop(self) -> None:
        """Forget this element once read: its parent no longer holds it."""
        if self.parent is not None and self.parent.children and self.parent.children[-1] is self:
            self.parent.children.pop()
        elif self.parent is not None:
            self.parent.children.remove(self)
        self.children = []

    @property
    def depth(self) -> int:
        """How many elements hold this one (0 for the root)."""
        depth, node = 0, self.parent
        while node is not None:
            depth, node = depth + 1, node.parent
        return depth

    @property
    def path(self) -> str:
        """Where the element is, e.g. ``feed/entry[3]/content``; an index only where needed."""
        parts = []
        node: XmlNode | None = self
        while node is not None:
            part = node.tag
            if node.parent is not None and node.parent.seen.get(node.tag, 1) > 1:
                part += f"[{node.index}]"
            parts.append(part)
            node = node.parent
        return "/".join(reversed(parts))

    @property
    def locator(self) -> str:
        """The element's path and line, for error messages."""
        return f"element {self.path} (line {self.line})"

    def find(self, tag: str) -> XmlNode | None:
        """The first child called ``tag`` (local name), if any."""
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[XmlNode]:
        """Every child called ``tag`` (local name)."""
        return [c for c in self.children if c.tag == tag]

    def iter(self, tag: str) -> Iterator[XmlNode]:
        """Every descendant called ``tag``, in document order."""
        todo = list(reversed(self.children))  # no recursion: depth is the file's to choose
        while todo:
            node = todo.pop()
            if node.tag == tag:
                yield node
            todo.extend(reversed(node.children))

    def child_text(self, tag: str) -> str | None:
        """The stripped text of the first child called ``tag``, if there is one."""
        child = self.find(tag)
        return None if child is None else child.text.strip()


XmlEvent = tuple[str, XmlNode]
"""``("start", node)`` once an element is open (its parent known), ``("end", node)`` once
it is closed (its text and children known)."""


def too_deep(path: Path, node: XmlNode) -> BadFile:
    """The error for an element nested deeper than ``MAX_DEPTH``."""
    return BadFile(
        path,
        f"line {node.line}",
        f"nests elements more than {MAX_DEPTH} deep (at <{node.tag}>), which no statement or"
        " data file needs",
    )


class _TreeBuilder(ContentHandler):
    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.root: XmlNode | None = None
        self.events: list[XmlEvent] = []
        self._open: list[XmlNode] = []
        self._where: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._where = locator

    def startElementNS(self, name: tuple[str | None, str], qname: Any, attrs: Any) -> None:
        namespace, tag = name
        line = (self._where.getLineNumber() if self._where else None) or 0
        attributes = {local: value for (_, local), value in attrs.items()}
        node = XmlNode(tag, namespace, attributes, line)
        if self._open:
            self._open[-1].add(node)
        else:
            self.root = node
        self._open.append(node)
        if len(self._open) > MAX_DEPTH:
            raise too_deep(self.path, node)
        self.events.append(("start", node))

    def endElementNS(self, name: tuple[str | None, str], qname: Any) -> None:
        self.events.append(("end", self._open.pop()))

    def characters(self, content: str) -> None:
        if self._open:
            self._open[-1].text += content


def xml_events(path: Path, source: IO[bytes] | None = None) -> Iterator[XmlEvent]:
    """Parse XML safely (defusedxml: no DTDs, entities or external resources), streaming.

    Reads ``source`` if given (``path`` then only names it in errors), else the file.
    Yields each element as it opens and as it closes; a reader that is done with an element
    may ``drop`` it, so memory holds only what is still open. A file that is not
    well-formed raises ``BadFile`` naming the line and column, as the parser found it.
    """
    import defusedxml.sax
    from defusedxml import DefusedXmlException

    builder = _TreeBuilder(path)
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd = True  # neither OFX 2 nor Green Button has one; entities stay forbidden
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(builder)
    builder.setDocumentLocator(ExpatLocator(parser))  # as parse() would; feed() does not
    try:
        with source or path.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                parser.feed(chunk)
                yield from builder.events
                builder.events.clear()
            parser.close()
            yield from builder.events
    except SAXParseException as error:
        where = f"line {error.getLineNumber()}, column {(error.getColumnNumber() or 0) + 1}"
        raise BadFile(path, where, f"is not well-formed XML ({error.getMessage()})") from None
    except DefusedXmlException as error:
        raise BadFile(
            path,
            None,
            f"declares a DTD or XML entities ({type(error).__name__}), which portal refuses:"
            " they can make a small file expand without end",
        ) from None
    if builder.root is None:
        raise BadFile(path, None, "holds no XML element")


def xml_tree(data: bytes, path: Path) -> XmlNode:
    """The whole of a small XML document as one tree of nodes (see ``xml_events``).

    ``data`` is the document; ``path`` names it in errors.
    """
    root: XmlNode | None = None
    for kind, node in xml_events(path, io.BytesIO(data)):
        if kind == "start" and node.parent is None:
            root = node
    assert root is not None  # xml_events raises BadFile for a document without one
    return root
