"""Reading an answer's body within a size limit and a deadline, whatever the provider sends.

httpx reads a whole body before anyone can look at its length, and decompresses each chunk
the network delivers in one go: a 1 GB page costs 1 GB, and 64 kB of gzip can expand to
64 MB at once (a "gzip bomb" of 2 MB expands to 2 GB). Its timeouts are per read, so a
server that sends one byte a second answers forever. ``read_body`` reads chunk by chunk
instead, decompresses with a bound on each step's output, and stops as soon as the bytes
received or decoded pass the limit, or the answer takes longer than its deadline: memory
stays within the limit plus one network chunk, and time within the deadline plus one read.

The deadline holds before the body too: ``DeadlineBackend`` is the network layer under
portal's transport, and shortens every connect, write and read to the time left before
the deadline ``answer_deadline`` set for the request this thread is making, so a server
that dribbles its headers is stopped as well.
"""

from __future__ import annotations

import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore
import httpx

from portal.errors import ProviderError

ACCEPTED_ENCODINGS = "gzip, deflate"
"""What portal asks for: the encodings ``read_body`` decodes within a bound. (httpx would
add br and zstd when their libraries are installed; their decoders take no output bound.)"""

STEP = 64 * 1024
"""The most one decompression step yields (zlib builds its output twice over, briefly)."""

_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


class _Inflate:
    """zlib decompression that never yields more than it is asked for at one step."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._wbits = _WBITS[encoding]
        self._inflater = zlib.decompressobj(self._wbits)
        self._started = False

    def feed(self, data: bytes, room: int, take: Callable[[bytes], int]) -> None:
        """Decode ``data``, handing output to ``take`` (which returns the room left)."""
        while data and room > 0:
            try:
                out = self._inflater.decompress(data, min(room, STEP))
            except zlib.error:
                if self.encoding == "deflate" and not self._started:
                    # Some servers send raw deflate without its zlib header (as httpx allows).
                    self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise
            self._started = True
            room = take(out)
            data = self._inflater.unconsumed_tail

    def finish(self, take: Callable[[bytes], int]) -> None:
        """Hand over what the decompressor still holds (at most its window)."""
        take(self._inflater.flush())


def read_body(
    response: httpx.Response,
    where: str,
    *,
    max_bytes: int,
    started: float,
    seconds: float,
    sink: Callable[[bytes], None] | None = None,
) -> bytes:
    """The decoded body of ``response``, read within ``max_bytes`` and ``seconds``.

    With ``sink``, each decoded chunk is handed to it as it arrives instead (a file kept
    to disk, never whole in memory) and the body returned is empty.

    ``started`` is the ``time.monotonic()`` at which the request was sent; ``where`` names
    the request (no query string) in the errors. Raises ProviderError when the body, as
    received or as decoded, is larger than ``max_bytes``, or is still arriving ``seconds``
    after the request was sent; the connection is closed then, so nothing more is read.
    """
    if response.is_stream_consumed:  # made in memory (a mock transport), decoded already
        if len(response.content) > max_bytes:
            raise _too_large(where, max_bytes)
        if sink is not None:
            sink(response.content)
            return b""
        return response.content
    encoding = response.headers.get("Content-Encoding", "").strip().lower()
    if "," in encoding:
        raise ProviderError(
            f"{where} answered with several content encodings ({encoding}).",
            hint="portal reads gzip or deflate bodies; report it to the plugin's authors.",
        )
    inflate = _Inflate(encoding) if encoding in _WBITS else None
    chunks: list[bytes] = []
    decoded = 0

    def take(out: bytes) -> int:
        nonlocal decoded
        decoded += len(out)
        if decoded > max_bytes:
            raise _too_large(where, max_bytes)
        if out:
            (chunks.append if sink is None else sink)(out)
        return max_bytes - decoded + 1

    received = 0
    deadline = started + seconds
    try:
        for raw in response.iter_raw():
            received += len(raw)
            if received > max_bytes:
                raise _too_large(where, max_bytes)
            if inflate is None:
                take(raw)
            else:
                inflate.feed(raw, max_bytes - decoded + 1, take)
            if time.monotonic() > deadline:
                raise too_slow(where, seconds)
        if inflate is not None:
            inflate.finish(take)
    except zlib.error as error:
        raise ProviderError(
            f"{where} answered a {encoding} body that does not decompress ({error}).",
            hint="Try again later; if it persists, report it to the plugin's authors.",
        ) from None
    finally:
        response.close()
    return b"".join(chunks)


def _too_large(where: str, max_bytes: int) -> ProviderError:
    return ProviderError(
        f"{where} answered more than the {max_bytes} bytes allowed.",
        hint="Nothing from this answer was stored; if the provider's pages are this large,"
        " raise max_bytes in the plugin's RequestLimits.",
    )


def too_slow(where: str, seconds: float) -> ProviderError:
    """The error of an answer still arriving ``seconds`` after its request was sent."""
    return ProviderError(
        f"{where} sent its answer too slowly: more than {seconds:g} s for one answer.",
        hint="Try again later; if it persists, the provider is overloaded or hostile.",
    )


_deadline = threading.local()
"""The ``time.monotonic()`` by which this thread's request must have been answered."""


@contextmanager
def answer_deadline(at: float) -> Iterator[None]:
    """Bound every network operation of this thread's request by ``at`` (monotonic)."""
    _deadline.at = at
    try:
        yield
    finally:
        _deadline.at = None


def _within(timeout: float | None) -> float | None:
    at: float | None = getattr(_deadline, "at", None)
    if at is None:
        return timeout
    left = at - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the answer's deadline passed")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _within(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _within(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self._inner.start_tls(ssl_context, server_hostname, _within(timeout))
        return _DeadlineStream(tls)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's sockets, each operation bounded by the thread's ``answer_deadline``."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _within(timeout), local_address, socket_options
        )
        return _DeadlineStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, _within(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
