"""Reading the files people download, with every error naming its line or element.

Importers (``portal.importing``) use these to turn a file into raw items: ``decode`` for
text in the encodings providers really use, ``csv_rows`` for CSV with line numbers, and
``xml_tree`` for XML parsed by defusedxml (no entity expansion, no DTD, no network), each
element knowing its line and its path. Whatever cannot be read raises ``BadFile``, whose
message names the file and where in it the problem is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler, feature_namespaces
from xml.sax.xmlreader import Locator

from portal.errors import UserError


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


def csv_rows(text: str, path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the number of the line it starts on (blank lines are skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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
    """One XML element: its local name, namespace, attributes, text and where it was."""

    tag: str
    namespace: str | None
    attributes: dict[str, str]
    line: int
    parent: XmlNode | None = field(default=None, repr=False)
    children: list[XmlNode] = field(default_factory=list, repr=False)
    text: str = ""

    @property
    def path(self) -> str:
        """Where the element is, e.g. ``feed/entry[3]/content``; an index only where needed."""
        parts = []
        node: XmlNode | None = self
        while node is not None:
            part = node.tag
            if node.parent is not None:
                same = [c for c in node.parent.children if c.tag == node.tag]
                if len(same) > 1:
                    part += f"[{same.index(node) + 1}]"
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
        for child in self.children:
            if child.tag == tag:
                yield child
            yield from child.iter(tag)

    def child_text(self, tag: str) -> str | None:
        """The stripped text of the first child called ``tag``, if there is one."""
        child = self.find(tag)
        return None if child is None else child.text.strip()


class _TreeBuilder(ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.root: XmlNode | None = None
        self._open: list[XmlNode] = []
        self._where: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._where = locator

    def startElementNS(self, name: tuple[str | None, str], qname: Any, attrs: Any) -> None:
        namespace, tag = name
        line = (self._where.getLineNumber() if self._where else None) or 0
        parent = self._open[-1] if self._open else None
        attributes = {local: value for (_, local), value in attrs.items()}
        node = XmlNode(tag, namespace, attributes, line, parent)
        if parent is None:
            self.root = node
        else:
            parent.children.append(node)
        self._open.append(node)

    def endElementNS(self, name: tuple[str | None, str], qname: Any) -> None:
        self._open.pop()

    def characters(self, content: str) -> None:
        if self._open:
            self._open[-1].text += content


def xml_tree(data: bytes, path: Path) -> XmlNode:
    """Parse XML safely (defusedxml: no DTDs, entities or external resources) into nodes.

    A file that is not well-formed raises ``BadFile`` naming the line and column, as the
    parser found it.
    """
    import defusedxml.sax
    from defusedxml import DefusedXmlException

    builder = _TreeBuilder()
    parser = defusedxml.sax.make_parser()
    parser.forbid_dtd = True  # neither OFX 2 nor Green Button has one; entities stay forbidden
    parser.setFeature(feature_namespaces, True)
    parser.setContentHandler(builder)
    try:
        parser.parse(io.BytesIO(data))  # parse, not feed: only parse hands out the locator
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
    return builder.root
