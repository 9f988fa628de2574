"""The engine's HTTP client: retries, Retry-After, HTTPS only, declared hosts (respx)."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest
import respx

from hostile import bank_plugin, synced_through_hostile
from portal.errors import ProviderError
from portal.http import RetryPolicy, RetryTransport, parse_retry_after
from portal_bank.sandbox import BankSandbox

URL = "https://api.example/accounts"


def _client(sleeps: list[float], **kwargs: object) -> httpx.Client:
    policy = RetryPolicy(attempts=4, initial_wait=0.01, max_wait=0.05, sleep=sleeps.append)
    return httpx.Client(transport=RetryTransport(policy=policy, **kwargs))  # type: ignore[arg-type]


def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("soon") is None


@respx.mock
def test_429_waits_as_long_as_retry_after_says() -> None:
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    sleeps: list[float] = []
    assert _client(sleeps).get(URL).json() == {"ok": True}
    assert sleeps == [3.0]


@respx.mock
def test_5xx_and_connection_errors_are_retried_with_backoff() -> None:
    respx.get(URL).mock(
        side_effect=[
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json=[]),
        ]
    )
    sleeps: list[float] = []
    assert _client(sleeps).get(URL).status_code == 200
    assert len(sleeps) == 3 and all(0 < s <= 0.05 for s in sleeps)


@respx.mock
def test_retries_are_bounded() -> None:
    route = respx.get(URL).mock(return_value=httpx.Response(500))
    sleeps: list[float] = []
    with pytest.raises(ProviderError, match="answered 500"):
        _client(sleeps).get(URL)
    assert route.call_count == 4


@respx.mock
def test_a_post_is_not_retried_after_a_5xx() -> None:
    route = respx.post(URL).mock(return_value=httpx.Response(502))
    assert _client([]).post(URL).status_code == 502
    assert route.call_count == 1


@respx.mock
def test_an_absurd_retry_after_is_an_error_not_a_hang() -> None:
    respx.get(URL).mock(return_value=httpx.Response(429, headers={"Retry-After": "86400"}))
    with pytest.raises(ProviderError, match="wait 86400 s"):
        _client([]).get(URL)


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(ProviderError, match="HTTPS is required"):
        _client([]).get("http://api.example/accounts")


@respx.mock
def test_only_declared_hosts_are_contacted() -> None:
    respx.get(URL).mock(return_value=httpx.Response(200))
    client = _client([], allowed_hosts=frozenset({"api.example"}))
    assert client.get(URL).status_code == 200
    with pytest.raises(ProviderError, match="did not declare"):
        client.get("https://tracker.example/pixel")


@respx.mock
def test_an_oversized_response_is_refused() -> None:
    respx.get(URL).mock(return_value=httpx.Response(200, content=b"x" * 2048))
    with pytest.raises(ProviderError, match="more than the 1024 bytes allowed"):
        _client([], max_bytes=1024).get(URL)


def test_a_next_link_back_to_the_first_page_is_a_loop() -> None:
    import pytest

    from portal.errors import ProviderError
    from portal.http import follow_links

    pages = {
        "https://api.example/items?since=1": {
            "items": [1],
            "next": "https://api.example/items?page=2",
        },
        "https://api.example/items?page=2": {
            "items": [2],
            "next": "https://api.example/items?since=1",
        },
    }

    class Client:
        base_url = httpx.URL("https://api.example/")
        provider = type("P", (), {"display_name": "Example"})()

        def get_json(self, url: str, params: dict[str, str] | None = None) -> object:
            return pages[str(self.base_url.join(url).copy_merge_params(params or {}))]

    walk = follow_links(
        Client(),  # type: ignore[arg-type]
        "items",
        stream="items",
        params={"since": "1"},
        items=lambda body: body["items"],
        next_url=lambda body: body["next"],
    )
    assert [page.items for page in (next(walk), next(walk))] == [[1], [2]]
    with pytest.raises(ProviderError, match="loops back"):
        next(walk)


def test_json_bodies_decode_exactly_as_json_loads_decodes_them() -> None:
    import json
    import random

    from portal.jsonbody import LONG_DIGITS, decode_json

    rng = random.Random(4)
    floats = [rng.uniform(-1e6, 1e6) for _ in range(300)]
    floats += [rng.random() * 10 ** rng.randint(-300, 300) for _ in range(300)]
    texts = [repr(f) for f in floats]
    texts += [
        f"{rng.randint(1, 9)}.{rng.randint(0, 10**17)}e{rng.randint(-320, 308)}" for _ in range(300)
    ]
    bodies = [
        f"[{', '.join(texts)}]".encode(),
        b'{"a": 1, "a": 2, "b": [true, false, null], "c": "caf\\u00e9 \xc3\xa9", "d": -0.0}',
        b'{"max": 18446744073709551615, "min": -9223372036854775808, "id": "12345678901234567"}',
        # Beyond 64 bits, which orjson would turn into floats: json.loads keeps them exact.
        b'{"big": 18446744073709551616, "low": -9223372036854775809}',
        b'{"huge": 123456789012345678901234567890, "note": "no digits run long here"}',
        # Bodies orjson refuses and json.loads takes.
        b'"\\ud800"',
        b'\xef\xbb\xbf{"bom": true}',
        '{"utf16": "é"}'.encode("utf-16"),
    ]
    for body in bodies:
        expected = json.loads(body)
        decoded = decode_json(body)
        assert json.dumps(decoded) == json.dumps(expected), body[:60]
        assert repr(decoded) == repr(expected), body[:60]
    assert decode_json(bodies[3]) == {"big": 2**64, "low": -(2**63) - 1}
    assert type(decode_json(bodies[3])["big"]) is int
    assert len("9223372036854775809") == LONG_DIGITS

    # Not JSON: the error is json.loads's own, position and all.
    for broken in (b'{"a": [1, 2', b"", b'{"a": tru}', b"\xff\xfe\xfa"):
        with pytest.raises(ValueError) as raised:
            decode_json(broken)
        with pytest.raises(ValueError) as direct:
            json.loads(broken)
        assert type(raised.value) is type(direct.value)
        assert str(raised.value) == str(direct.value)


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "it is nested more than 1024 levels deep"),
        (b'{"Data": {"Account": [' * 600 + b"]}}" * 600, "it is nested more than 1024 levels deep"),
        (b'{"Data": {"Amount": 1e999999}}', "it holds a number too large for any value"),
        (b'{"Data": {"Amount": -1e400}}', "it holds a number too large for any value"),
        (b'{"Data": {"Id": ' + b"7" * 10_000 + b"}}", "it holds an integer with too many digits"),
        (b'{"Data": {"Amount": NaN}}', "it holds NaN, which is not a number"),
    ],
)
def test_absurd_json_ends_the_sync_with_an_error_naming_the_url(
    tmp_path: Path, bank: BankSandbox, body: bytes, refused: str
) -> None:
    source, bodies = bank_plugin("odd"), {"/aisp/accounts": body}
    with synced_through_hostile(tmp_path, bank, "odd", source, bodies) as (_, result, hostile):
        pass
    assert isinstance(result.error, ProviderError)
    assert result.error.message == (
        f"Odd sent JSON portal refuses from GET {hostile.url}/aisp/accounts: {refused}."
    )


def test_an_empty_params_mapping_keeps_the_query_of_a_next_link() -> None:
    """httpx drops a URL's own query when given params={}; a plugin following a next link
    with the params it started with, emptied, would fetch page 1 forever."""
    import respx

    from portal.auth.credentials import KeyCredential, bearer
    from portal.http import KeyedClient
    from portal.provider import Provider as _Provider
    from portal.record.vocab import Sector as _Sector

    provider = _Provider(
        name="paged",
        display_name="Paged",
        sector=_Sector.bank,
        api_base="https://api.paged.example/v1",
        credential=KeyCredential(kind="api_key", auth=bearer("key")),
    )
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get("https://api.paged.example/v1/items").respond(json={"ok": True})
        with KeyedClient(
            provider, bearer("key")({"key": "k"}), base_url=provider.api_base
        ) as client:
            client.get_json("https://api.paged.example/v1/items?page=2&since=x", params={})
        assert route.calls.last.request.url.params["page"] == "2"
