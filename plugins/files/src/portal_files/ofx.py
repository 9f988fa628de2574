"""Reading an OFX or QFX file into a tree of elements, each knowing its line and path.

OFX 1.x is SGML: a ``KEY:VALUE`` header, then tags where an element holding a value
(``<TRNAMT>-3.50``) may leave out its end tag and only aggregates must close. OFX 2.x is
XML behind an ``<?OFX ...?>`` processing instruction, parsed here by defusedxml. QFX is OFX
with Intuit's extra elements (``INTU.BID``). Both become ``portal.importing.XmlNode`` trees,
so the statement reader does not care which it came from.

Why not ofxtools: it reads both versions with regular expressions, keeps no line numbers
(an error cannot say where), and validates into its own models; portal needs the raw
values as released and errors that name the element.
"""

from __future__ import annotations

import re
from pathlib import Path

from portal.importing import BadFile, XmlNode, decode, xml_tree

_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9.]*)>|<!--.*?-->|([^<]+)|(<)", re.S)
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&apos;": "'", "&nbsp;": " "}
_CHARSETS = {"1252": "cp1252", "ISO-8859-1": "latin-1", "8859-1": "latin-1", "UTF-8": "utf-8"}


def sniff(head: bytes, filename: str) -> bool:
    """An OFX or QFX file, by its header: ``OFXHEADER:`` (1.x) or ``<?OFX`` (2.x)."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.upper().startswith(b"OFXHEADER:"):
        return True
    return start.startswith(b"<?xml") and b"<?OFX" in head.upper()


def parse(data: bytes, path: Path) -> XmlNode:
    """The file's ``OFX`` element, from either version; a broken file raises ``BadFile``."""
    start = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.upper().startswith(b"OFXHEADER:"):
        return _parse_sgml(data, path)
    root = xml_tree(data, path)
    if root.tag != "OFX":
        raise BadFile(path, root.locator, "the root element should be OFX")
    return root


def _header(text: str, path: Path) -> tuple[dict[str, str], int]:
    """The ``KEY:VALUE`` header of OFX 1.x, and the offset where the SGML body starts."""
    body = text.find("<")
    if body < 0:
        raise BadFile(path, None, "has an OFX header but no <OFX> element")
    header: dict[str, str] = {}
    for number, line in enumerate(text[:body].splitlines(), 1):
        line = line.strip().lstrip("\ufeff")
        if not line:
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise BadFile(path, f"line {number}", f"header line {line!r} is not KEY:VALUE")
        header[key.strip().upper()] = value.strip()
    if header.get("DATA", "OFXSGML").upper() != "OFXSGML":
        raise BadFile(path, None, f"says DATA:{header['DATA']}; portal reads OFXSGML")
    return header, body


def _encoding(data: bytes, path: Path) -> str:
    head = data[:2048].decode("ascii", errors="replace")
    found = dict(re.findall(r"^\s*(ENCODING|CHARSET):\s*(\S+)", head, re.M))
    if found.get("ENCODING", "").upper() == "UTF-8":
        return decode(data, path, ("utf-8-sig",))
    charset = _CHARSETS.get(found.get("CHARSET", "").upper())
    return decode(data, path, ("utf-8-sig", charset or "cp1252"))


def _unescape(text: str) -> str:
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return text


def _parse_sgml(data: bytes, path: Path) -> XmlNode:
    text = _encoding(data, path)
    _, body = _header(text, path)
    line = text.count("\n", 0, body) + 1
    stack: list[XmlNode] = []
    root: XmlNode | None = None
    for match in _TOKEN.finditer(text, body):
        closing, tag, content, stray = match.groups()
        here = line
        line += match.group(0).count("\n")
        if stray:
            if ">" not in text[match.start() :]:
                raise BadFile(
                    path, f"line {here}", "ends inside a tag: the download looks cut short"
                )
            raise BadFile(path, f"line {here}", "has a '<' that does not start a tag")
        if content is not None:
            value = content.strip()
            if value:
                if not stack or stack[-1].children:
                    where = f"after <{stack[-1].tag}>" if stack else "outside <OFX>"
                    raise BadFile(path, f"line {here}", f"has text {value[:40]!r} {where}")
                stack[-1].text += _unescape(value)
            continue
        if tag is None:  # a comment
            continue
        tag = tag.upper()
        if not closing:
            if stack and stack[-1].text:  # a value element without its end tag ends here
                stack.pop()
            parent = stack[-1] if stack else None
            if parent is None and root is not None:
                raise BadFile(path, f"line {here}", f"has <{tag}> after </OFX>")
            node = XmlNode(tag, None, {}, here, parent)
            if parent is None:
                root = node
            else:
                parent.children.append(node)
            stack.append(node)
            continue
        _close(stack, tag, here, path)
    if stack and stack[-1].text:
        stack.pop()
    if stack:
        open_ = stack[-1]
        raise BadFile(
            path, open_.locator, f"<{open_.tag}> is never closed (the file ends too early)"
        )
    if root is None or root.tag != "OFX":
        raise BadFile(path, None, "has no <OFX> element")
    return root


def _close(stack: list[XmlNode], tag: str, line: int, path: Path) -> None:
    """Close ``tag``: value elements left open on the way are ended; aggregates are not."""
    if not any(node.tag == tag for node in stack):
        raise BadFile(path, f"line {line}", f"</{tag}> closes an element that is not open")
    while stack:
        node = stack.pop()
        if node.tag == tag:
            return
        if node.children or not node.text:
            raise BadFile(
                path,
                node.locator,
                f"<{node.tag}> is not closed before </{tag}> on line {line}",
            )
