"""Answer bodies are read within a size limit and a deadline, against a hostile server."""

import gzip
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from hostile import HostileServer
from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.errors import AuthError, ProviderError
from portal.http import RetryPolicy, RetryTransport
from portal.provider import sandbox_endpoints
from portal_bank.sandbox import BankSandbox

LIMIT = 1024 * 1024
SLACK = 512 * 1024
"""What reading may cost beyond the limit: a network chunk, a decompression step."""


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


def _client(**limits: float) -> httpx.Client:
    transport = RetryTransport(
        policy=RetryPolicy(attempts=2, initial_wait=0.01, sleep=lambda _: None),
        max_bytes=LIMIT,
        **limits,  # type: ignore[arg-type]
    )
    return httpx.Client(transport=transport)


def _peak_growth(request: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        with pytest.raises(ProviderError) as caught:
            request()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert f"more than the {LIMIT} bytes allowed" in caught.value.message
    return peak - before


def test_a_gzip_bomb_costs_the_limit_not_its_expansion(hostile: HostileServer) -> None:
    # 2 MB of gzip that expands to 2 GB; the limit is 1 MB.
    with _client() as client:
        growth = _peak_growth(lambda: client.get(f"{hostile.url}/bomb?token=secret"))
    assert growth < LIMIT + SLACK


def test_a_huge_body_is_not_read_past_the_limit(hostile: HostileServer) -> None:
    with _client() as client:
        growth = _peak_growth(lambda: client.get(f"{hostile.url}/huge"))
    assert growth < LIMIT + SLACK
    # What the server got rid of: what the client read, plus the kernel's socket buffers.
    assert hostile.sent < LIMIT + 16 * 1024 * 1024 < hostile.huge_bytes


def test_the_limit_error_names_the_url_without_its_query(hostile: HostileServer) -> None:
    with _client() as client, pytest.raises(ProviderError) as caught:
        client.get(f"{hostile.url}/bomb?token=secret")
    assert caught.value.message == (
        f"GET {hostile.url}/bomb answered more than the {LIMIT} bytes allowed."
    )


def test_a_dribbled_answer_ends_at_its_deadline(hostile: HostileServer) -> None:
    started = time.monotonic()
    with _client(answer_seconds=0.5) as client, pytest.raises(ProviderError) as caught:
        client.get(f"{hostile.url}/slow")
    assert time.monotonic() - started < 3  # not retried: the answer was coming, too slowly
    assert caught.value.message == (
        f"GET {hostile.url}/slow sent its answer too slowly: more than 0.5 s for one answer."
    )
    assert hostile.sent >= 5  # it was sending all along: no per-read timeout would trip


def test_dribbled_headers_end_at_the_deadline_too(hostile: HostileServer) -> None:
    started = time.monotonic()
    with _client(answer_seconds=0.5) as client, pytest.raises(ProviderError) as caught:
        client.get(f"{hostile.url}/slow-headers")
    assert time.monotonic() - started < 3
    assert caught.value.message == (
        f"GET {hostile.url}/slow-headers sent its answer too slowly:"
        " more than 0.5 s for one answer."
    )


def test_compressed_answers_within_the_limit_decode_as_before() -> None:
    body = b'{"Data": []}' * 1000
    encoded = {"gzip": gzip.compress(body), "deflate": gzip.zlib.compress(body)}  # type: ignore[attr-defined]
    for encoding, content in encoded.items():

        def answer(
            request: httpx.Request, content: bytes = content, encoding: str = encoding
        ) -> httpx.Response:
            assert request.headers["Accept-Encoding"] == "gzip, deflate"
            return httpx.Response(200, headers={"Content-Encoding": encoding}, content=content)

        transport = RetryTransport(httpx.MockTransport(answer))
        with httpx.Client(transport=transport) as client:
            response = client.get("https://api.example/x")
        assert response.content == body
        assert "Content-Encoding" not in response.headers


def test_token_requests_are_read_within_the_same_limit(
    tmp_path: Path, bank: BankSandbox, hostile: HostileServer
) -> None:
    # authlib's token request goes through the engine's transport: a bomb for an answer
    # costs the limit (64 MB by default), not the 2 GB it expands to.
    endpoints = {**sandbox_endpoints(bank), "token_url": f"{hostile.url}/bomb"}
    tracemalloc.start()
    try:
        with Portal.open(home=tmp_path / "home") as portal, pytest.raises(AuthError) as caught:
            before = tracemalloc.get_traced_memory()[0]
            portal.connect("bank", browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        growth = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert growth < 64 * 1024 * 1024 + 16 * 1024 * 1024  # the flow itself: a few MB
    refused = f"POST {hostile.url}/bomb answered more than the {64 * 1024 * 1024} bytes allowed"
    assert refused in caught.value.message
