"""A hostile HTTP server on 127.0.0.1: gzip bombs, huge bodies, answers dribbled byte by byte.

A raw socket server, not a framework, so each answer is exactly the bytes a hostile server
would send; it counts what it managed to send, so tests can say how much a client read.
"""

from __future__ import annotations

import contextlib
import functools
import json
import socket
import textwrap
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.engine.sync import SyncResult
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox

GZIP_BLOCK = 16 * 1024 * 1024
"""Zeros per deflate block of the bomb; each compresses to about 16 kB."""


@functools.cache
def _bomb_parts() -> tuple[bytes, bytes]:
    # After a full flush the compressor starts afresh, so every later block of zeros
    # compresses to the same bytes: the bomb is the first block, then that block repeated.
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(GZIP_BLOCK)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first, block


def gzip_bomb(compressed: int) -> Iterator[bytes]:
    """About ``compressed`` bytes of gzip that expand about a thousandfold (2 MB -> 2 GB)."""
    first, block = _bomb_parts()
    yield first
    for _ in range(compressed // len(block)):
        yield block


COUNTING_PAGES = 50
DRIBBLE_FOR = 10.0
"""Seconds ``/slow-headers`` dribbles before it ends its headers."""
COUNTING_DECLARED = 3


def _counting_page(base: str, path: str) -> bytes:
    # An Open Banking page whose Next link is new each time: no page is ever served twice.
    where, _, query = path.partition("?")
    number = int(query.removeprefix("n=") or 0)
    account = {"AccountId": f"A{number}", "Currency": "GBP", "AccountType": "Personal"}
    # It does end, at page 50, so that a client without a bound fails a test, not hangs it.
    links = {"Next": f"{base}{where}?n={number + 1}"} if number < COUNTING_PAGES else {}
    meta = {"TotalPages": COUNTING_DECLARED}  # which it does not hold to
    return json.dumps({"Data": {"Account": [account]}, "Links": links, "Meta": meta}).encode()


class HostileServer:
    """Serves ``/bomb``, ``/huge``, ``/slow`` (one byte per ``dribble`` seconds, forever),
    ``/slow-headers`` (the same, in a header, for ``DRIBBLE_FOR`` seconds),
    ``.../counting`` (a Next link to one more page, forever) and whatever ``bodies`` holds."""

    def __init__(
        self,
        *,
        bomb_bytes: int = 2 << 20,
        huge_bytes: int = 256 << 20,
        dribble: float = 0.05,
        bodies: Mapping[str, bytes] | None = None,
    ) -> None:
        self.bodies = dict(bodies or {})
        """Whole answers by path (query left out), each served with its length."""
        self.bomb_bytes = bomb_bytes
        self.huge_bytes = huge_bytes
        self.dribble = dribble
        _bomb_parts()  # made now, so that making it is not counted as what a client holds
        self.sent = 0
        """Body bytes sent (accepted by the kernel) for the last request."""
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)  # accept wakes up to see the server stop
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(5)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            path = request.split(b" ", 2)[1].decode()
            self.sent = 0
            with contextlib.suppress(OSError):  # the client hung up: what it read is counted
                self._send(conn, path)

    def _send(self, conn: socket.socket, path: str) -> None:
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        body = self.bodies.get(path.split("?", 1)[0])
        if body is not None:
            conn.sendall(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        elif path.split("?", 1)[0].endswith("/counting"):
            conn.sendall(f"{head}\r\n".encode() + _counting_page(self.url, path))
        elif path.startswith("/bomb"):
            conn.sendall(f"{head}Content-Encoding: gzip\r\n\r\n".encode())
            for part in gzip_bomb(self.bomb_bytes):
                conn.sendall(part)
                self.sent += len(part)
        elif path.startswith("/huge"):
            conn.sendall(f"{head}Content-Length: {self.huge_bytes}\r\n\r\n".encode())
            chunk = b" " * 65536
            while self.sent < self.huge_bytes:
                conn.sendall(chunk)
                self.sent += len(chunk)
        elif path.startswith("/slow-headers"):
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            for _ in range(int(DRIBBLE_FOR / self.dribble)):  # then it ends, not to hang a test
                conn.sendall(b"X")
                self.sent += 1
                time.sleep(self.dribble)
            conn.sendall(b": x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]")
        elif path.startswith("/slow"):
            conn.sendall(f"{head}\r\n".encode())
            while not self._stop.is_set():
                conn.sendall(b" ")
                self.sent += 1
                time.sleep(self.dribble)
        else:
            conn.sendall(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )


PLUGIN = '''
"""The Demo Bank under another name{doc}."""
import dataclasses
import time
from portal import Page, hookimpl
from portal.provider import RequestLimits
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name={name!r}, display_name={display!r}, limits=RequestLimits({limits})
)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
{fetch}

@hookimpl
def normalise(stream, item, ref):
{normalise}
'''


def bank_plugin(
    name: str,
    *,
    limits: str = "",
    fetch: str = "return bank.fetch(client, cursors)",
    normalise: str = "return bank.normalise(stream, item, ref)",
    doc: str = "",
) -> str:
    """The source of a plugin offering the Demo Bank as ``name``, with hooks changed as given.

    ``limits`` are ``RequestLimits`` arguments; ``fetch`` and ``normalise`` are the hooks'
    bodies (``time``, ``Page`` and the bank plugin as ``bank`` are imported).
    """
    return PLUGIN.format(
        name=name,
        display=name.title(),
        limits=limits,
        fetch=textwrap.indent(fetch, "    "),
        normalise=textwrap.indent(normalise, "    "),
        doc=f": {doc}" if doc else "",
    )


@contextlib.contextmanager
def synced_through_hostile(
    folder: Path,
    bank: BankSandbox,
    name: str,
    source: str,
    bodies: Mapping[str, bytes] | None = None,
) -> Iterator[tuple[Portal, SyncResult, HostileServer]]:
    """Plugin ``source`` (offering provider ``name``), synced once with its API on a hostile server.

    The plugin is written to a plugins folder under ``folder``; it connects through
    ``bank``'s real OAuth server, and its API base is a ``HostileServer`` answering
    ``bodies`` (and the server's own paths, such as ``.../counting``) under ``/aisp``.
    """
    plugins = folder / "plugins"
    plugins.mkdir()
    (plugins / f"{name}.py").write_text(source)
    with (
        HostileServer(bodies=bodies) as hostile,
        Portal.open(home=folder / "home", plugins_dir=plugins) as portal,
    ):
        endpoints = {**sandbox_endpoints(bank), "api_base": f"{hostile.url}/aisp"}
        portal.connect(name, browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        [result] = portal.sync()
        yield portal, result, hostile
