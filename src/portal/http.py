"""The HTTP client the engine hands a plugin: authorised, retrying, limited to declared hosts.

Retries live in a transport (``RetryTransport``), below authentication, so every request a
plugin makes, and every token refresh, gets the same policy without a retry loop in the
plugin. tenacity decides when to try again: timeouts, connection errors, 5xx on idempotent
requests, and 429 on any request, waiting as long as ``Retry-After`` asks (seconds or an
HTTP date) or else backing off exponentially with jitter.
"""

from __future__ import annotations

import contextlib
import email.utils
import functools
import json
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpcore
import httpx
import tenacity

from portal.auth.oauth_client import OAuth2Client
from portal.auth.refresh import TokenKeeper, refresh_margin
from portal.bodies import (
    ACCEPTED_ENCODINGS,
    DeadlineBackend,
    answer_deadline,
    read_body,
    too_slow,
)
from portal.engine.prefetch import interleaved
from portal.errors import AuthError, ProviderError, RetryableError
from portal.files import FileStore, KeptFile, Receiving
from portal.jsonbody import UnusableJSON, decode_json
from portal.limits import Limiter
from portal.provider import Page, Provider, RequestLimits, is_loopback

KEEP = "portal.keep"
"""The request extension that sends a body to a ``portal.files.Receiving`` (``keep_file``)."""
_ENCODING_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up on a request."""

    attempts: int = 6
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _where(request: httpx.Request) -> str:
    # Query strings can carry codes and tokens: errors name the path only.
    return (
        f"{request.method} {request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
    )


def _reason(error: httpx.TransportError) -> str:
    # The operating system's or TLS library's words ("Connection refused", "certificate
    # verify failed"); they never carry the request, so no token can leak through them.
    detail = str(error).strip()
    return f"{type(error).__name__} ({detail})" if detail else type(error).__name__


def _is_tls_failure(error: httpx.TransportError) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


@functools.cache
def verifying_context() -> ssl.SSLContext:
    """The TLS context of every HTTPS request portal makes: httpx's default, made once.

    It verifies certificates and host names against certifi's CA bundle (or
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``, as httpx reads them). Loading the bundle took
    33 ms on the benchmark machine, a quarter of a re-sync with nothing new; one context
    serves every client and thread of the process (an SSLContext may be shared).
    """
    return httpx.create_ssl_context()


class Transport(httpx.BaseTransport):
    """httpx's transport, with TLS set up at the first HTTPS request rather than up front.

    Plain HTTP (which ``RetryTransport`` allows to loopback sandboxes only) goes through a
    transport whose TLS context trusts nothing, so it could never carry HTTPS unverified;
    HTTPS goes through one made on first use with ``verifying_context``.
    """

    def __init__(self) -> None:
        self._plain = _bounded(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT))
        self._tls: httpx.HTTPTransport | None = None
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            return self._plain.handle_request(request)
        with self._lock:
            if self._tls is None:
                self._tls = _bounded(verifying_context())
        return self._tls.handle_request(request)

    def close(self) -> None:
        self._plain.close()
        if self._tls is not None:
            self._tls.close()


def _bounded(context: ssl.SSLContext) -> httpx.HTTPTransport:
    """httpx's transport over sockets bounded by each request's deadline (``bodies``)."""
    transport = httpx.HTTPTransport(verify=context)
    # httpx takes no network backend; its pool is rebuilt with httpx's own defaults and one.
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5)
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=DeadlineBackend(),
    )
    return transport


class RetryTransport(httpx.BaseTransport):
    """Wraps a transport with retries, allowed hosts, HTTPS-only and a response size limit."""

    def __init__(
        self,
        inner: httpx.BaseTransport | None = None,
        *,
        policy: RetryPolicy | None = None,
        allowed_hosts: frozenset[str] | None = None,
        max_bytes: int = RequestLimits.max_bytes,
        answer_seconds: float = RequestLimits.answer_seconds,
        on_retry: Callable[[str, float], None] | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.inner = inner or Transport()
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.allowed_hosts = allowed_hosts
        self.max_bytes = max_bytes
        self.answer_seconds = answer_seconds
        self.on_retry = on_retry
        self.retries = 0
        self._counting = threading.Lock()  # streams fetched side by side retry at once
        # Jitter in proportion to the first wait: tenacity's default of a whole second would
        # swamp a policy of short waits.
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=self.policy.initial_wait,
            max=self.policy.max_wait,
            jitter=self.policy.initial_wait,
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._check_destination(request)
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(RetryableError),
            sleep=self.policy.sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(self._attempt, request)

    def _attempt(self, request: httpx.Request) -> httpx.Response:
        where = _where(request)
        receiving: Receiving | None = request.extensions.get(KEEP)
        # Only what read_body decodes within a bound; httpx would add br and zstd if installed.
        if request.headers.get("Accept-Encoding", "").strip().lower() != "identity":
            request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        started = time.monotonic()
        try:
            with self.limiter.slot() if self.limiter else contextlib.nullcontext():
                started = time.monotonic()
                with answer_deadline(started + self.answer_seconds):
                    response = self.inner.handle_request(request)
                    body = read_body(
                        response,
                        where,
                        max_bytes=self.max_bytes,
                        started=started,
                        seconds=self.answer_seconds,
                        # A file to keep starts afresh at each attempt, and goes to disk.
                        sink=receiving.start() if receiving is not None else None,
                    )
        except httpx.TimeoutException as error:
            if time.monotonic() >= started + self.answer_seconds:  # dribbled, not stalled
                raise too_slow(where, self.answer_seconds) from None
            raise RetryableError(f"{where} timed out ({type(error).__name__}).") from None
        except httpx.TransportError as error:
            failed = f"{where} failed: {_reason(error)}."
            if _is_tls_failure(error):  # a certificate or protocol mismatch does not heal
                raise ProviderError(
                    failed, hint="Check the address: is it HTTPS, and is its certificate valid?"
                ) from None
            if request.method not in IDEMPOTENT and not isinstance(error, httpx.ConnectError):
                raise ProviderError(failed) from None
            raise RetryableError(failed) from None
        # The body is decoded now: the headers that described its encoding no longer apply.
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _ENCODING_HEADERS
        ]
        response = httpx.Response(
            response.status_code,
            headers=headers,
            content=body,
            request=request,
            extensions=response.extensions,
        )
        status = response.status_code
        if status in RETRY_STATUSES and (status == 429 or request.method in IDEMPOTENT):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            if wait is not None and wait > self.policy.max_retry_after:
                raise ProviderError(
                    f"{_where(request)} asked portal to wait {wait:.0f} s before retrying.",
                    hint="The provider is rate limiting; run portal sync again later.",
                )
            raise RetryableError(f"{_where(request)} answered {status}.", retry_after=wait)
        return response

    def note_retry(self, message: str, attempt: int) -> None:
        """Count a retry decided above the transport (a body that did not decode) and wait."""
        wait = min(self.policy.max_wait, self.policy.initial_wait * 2 ** (attempt - 1))
        self._count_retry()
        if self.on_retry is not None:
            self.on_retry(message, wait)
        self.policy.sleep(wait)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableError) and error.retry_after is not None:
            return error.retry_after
        return float(self._backoff(state))

    def _count_retry(self) -> None:
        with self._counting:
            self.retries += 1

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._count_retry()
        if self.on_retry is not None and state.next_action is not None:
            error = state.outcome.exception() if state.outcome else None
            self.on_retry(str(error), state.next_action.sleep)

    def _check_destination(self, request: httpx.Request) -> None:
        url = str(request.url)
        if request.url.scheme != "https" and not (
            request.url.scheme == "http" and is_loopback(url)
        ):
            raise ProviderError(f"Refusing plain HTTP to {_where(request)}: HTTPS is required.")
        host = request.url.netloc.decode()
        if self.allowed_hosts is not None and host not in self.allowed_hosts:
            raise ProviderError(
                f"Refusing to contact {host!r}, which the provider did not declare.",
                hint="Declare every host the plugin uses in its Provider endpoints.",
            )

    def close(self) -> None:
        self.inner.close()


REFRESHES_PER_REQUEST = 2
"""Refreshes one request may make after a 401, each for a different refused token."""


class _Fetching:
    """What every client the engine hands ``fetch`` offers, however it is authorised.

    ``answers`` holds the person's answers to the provider's asks that are not secret
    (the account number a key reads); secrets stay with the client's authorisation.
    """

    provider: Provider
    files: FileStore | None
    answers: Mapping[str, str] = MappingProxyType({})

    def hold_answers(self, values: Mapping[str, Any]) -> None:
        """Keep the answers to the provider's non-secret asks among ``values``, read-only."""
        from portal.auth.credentials import public_answers

        self.answers = MappingProxyType(public_answers(self.provider, values))

    retry_transport: RetryTransport
    get: Callable[..., httpx.Response]

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``url`` and decode its JSON, or raise a ProviderError naming the URL.

        A body that is not valid JSON (cut short by a proxy or a dropped connection) is
        fetched again, within the same bounded number of attempts as any retry.
        """
        return self._fetched_whole(url, params, self._json_of)

    def keep_file(self, url: str, params: Mapping[str, Any] | None = None) -> KeptFile:
        """GET the file at ``url`` and keep it in the portal home; return its digest and size.

        The body streams to disk as it arrives, hashed on the way, within the provider's
        ``max_bytes`` (never whole in memory); a retried attempt starts the file afresh,
        and only a whole file takes its digest as its name (``portal.files``). Put the
        returned ``sha256`` in the ``Document``: that is how the document carries its file.
        Status codes are checked as ``get_json`` checks them.
        """
        files = self._file_store()
        with files.receiving() as receiving:
            response = self._checked(
                self.get(url, params=params or None, extensions={KEEP: receiving})
            )
            kind = response.headers.get("Content-Type", "application/octet-stream")
            return receiving.kept(kind.split(";")[0].strip() or "application/octet-stream")

    def keep_content(self, content: bytes, content_type: str) -> KeptFile:
        """Keep bytes the plugin holds already (a document that is the resource itself)."""
        return self._file_store().keep_content(content, content_type)

    def _file_store(self) -> FileStore:
        if self.files is None:
            raise ProviderError(
                f"{self.provider.display_name}'s client was made without a file store.",
                hint="Make the client through portal.app.Portal, which gives it the home's.",
            )
        return self.files

    def get_parsed(
        self,
        url: str,
        parse: Callable[[bytes], T],
        *,
        params: Mapping[str, Any] | None = None,
        cut_short: tuple[type[Exception], ...] = (ValueError,),
    ) -> T:
        """GET ``url`` and ``parse`` its body (an Atom or XML feed, CSV: anything not JSON).

        A body that ``parse`` refuses with one of ``cut_short`` (a feed cut short by a proxy
        or a dropped connection is not well-formed) is fetched again, within the same bounded
        number of attempts as any retry, then raised as a ProviderError naming the URL: the
        plugin writes no retry loop. Status codes are checked as ``get_json`` checks them;
        anything else ``parse`` raises reaches the caller as it is.
        """

        def read(response: httpx.Response) -> T:
            try:
                return parse(response.content)
            except cut_short as error:
                raise _CutShort(
                    ProviderError(
                        f"{self.provider.display_name} sent a body portal cannot read from"
                        f" {_where(response.request)}"
                        f" ({getattr(error, 'message', None) or error}).",
                        hint="Nothing from it was stored; run portal sync again later.",
                    )
                ) from None

        return self._fetched_whole(url, params, read)

    def _fetched_whole(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        read: Callable[[httpx.Response], T],
    ) -> T:
        """``read`` of the answer to GET ``url``, fetched again while ``read`` finds it cut.

        An empty ``params`` keeps the query ``url`` carries (httpx would drop it: a next
        link's own page number lost, and the first page fetched again and again).
        """
        attempts = self.retry_transport.policy.attempts
        for attempt in range(1, attempts + 1):
            try:
                return read(self._checked(self.get(url, params=params or None)))
            except _CutShort as error:
                if attempt == attempts:
                    raise error.problem from None
                self.retry_transport.note_retry(error.problem.message, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _checked(self, response: httpx.Response) -> httpx.Response:
        where = _where(response.request)
        name = self.provider.display_name
        if response.status_code in (401, 403):
            raise AuthError(
                f"{name} refused access to {where} ({response.status_code}).",
                hint=f"Run portal connect {self.provider.name} again.",
            )
        if response.status_code >= 400:
            raise ProviderError(
                f"{name} answered {response.status_code} to {where}.",
                hint="Try again later; if it persists, report it to the plugin's authors.",
            )
        return response

    def _json_of(self, response: httpx.Response) -> Any:
        where = _where(response.request)
        name = self.provider.display_name
        try:
            return decode_json(response.content)
        except UnusableJSON as error:  # the same body again would be refused again
            raise ProviderError(
                f"{name} sent JSON portal refuses from {where}: {error}.",
                hint="Nothing from it was stored; report it to the plugin's authors.",
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _CutShort(
                ProviderError(
                    f"{name} sent a response that is not valid JSON from {where}"
                    f" ({error.__class__.__name__} at character {getattr(error, 'pos', '?')}).",
                    hint="Nothing from it was stored; run portal sync again later.",
                )
            ) from None


class ProviderClient(_Fetching, OAuth2Client):
    """An httpx client authorised for one customer of one provider.

    It refreshes the access token before it expires and after a 401, through a
    ``TokenKeeper`` (single-flight, rotation persisted). It holds this connection's tokens
    only: never the vault, never another provider's.
    """

    def __init__(
        self,
        provider: Provider,
        keeper: TokenKeeper,
        *,
        transport: RetryTransport | None = None,
        files: FileStore | None = None,
        **kwargs: Any,
    ) -> None:
        self.retry_transport = transport or RetryTransport(
            allowed_hosts=provider.hosts,
            max_bytes=provider.limits.max_bytes,
            answer_seconds=provider.limits.answer_seconds,
        )
        super().__init__(token=keeper.current().as_dict(), transport=self.retry_transport, **kwargs)
        self.provider = provider
        self.files = files
        self._keeper = keeper

    def __repr__(self) -> str:
        return f"ProviderClient({self.provider.name!r})"

    def ensure_active_token(self, token: Any = None) -> bool:
        """Refresh before the access token expires (called by authlib before each request)."""
        current: Any = token if token is not None else self.token
        if current is not None and not current.is_expired(leeway=refresh_margin(current)):
            return True
        self.token = self._keeper.refresh(self, current.get("access_token") if current else None)
        return True

    def refresh(self) -> None:
        """Refresh the access token now, because the provider no longer accepts it.

        For a provider that says so in its own way (a 403 with its own error code, a body
        saying the token expired) where portal cannot see it: a 401 and expiry are handled
        already. The refresh goes through the same keeper as portal's own (one token call
        however many threads or processes ask, the rotated refresh token persisted); never
        call the token endpoint yourself, or the next sync starts from a refresh token the
        provider has already rotated away.
        """
        current: Any = self.token
        self.token = self._keeper.refresh(self, current.get("access_token") if current else None)

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        """Send a request; on a 401 refresh the token and try again, at most twice.

        Once is the rule: a fresh token refused as well means the provider refuses this
        client. The second time is for streams fetched side by side, where the token a
        request was retried with (refreshed by another thread, and used by the others) can
        itself be revoked before the retry lands. A token once refused is not sent again.
        """
        uses_token = (
            not kwargs.get("withhold_token")
            and kwargs.get("auth", httpx.USE_CLIENT_DEFAULT) is httpx.USE_CLIENT_DEFAULT
        )
        current: Any = self.token
        sent = current.get("access_token") if current else None
        response: httpx.Response = super().request(method, url, **kwargs)
        refused: set[str | None] = set()
        while response.status_code == 401 and uses_token:
            if sent in refused or len(refused) == REFRESHES_PER_REQUEST:
                break
            refused.add(sent)
            response.close()
            self.token = self._keeper.refresh(self, sent)
            sent = self.token.get("access_token")
            response = super().request(method, url, **kwargs)
        return response


class KeyedClient(_Fetching, httpx.Client):
    """An httpx client authorised by a key credential: an API key, an access URL, a JWT.

    The provider's ``KeyCredential.auth`` authorises every request with the values the
    vault keeps. A key has no refresh: a 401 is an ``AuthError`` saying the service refused
    it, and ``on_lost`` marks the connection for reconnecting. ``answers`` are the
    connection's answers to the provider's non-secret asks (an account number, a region),
    for ``fetch`` to read; secret answers never appear there.
    """

    def __init__(
        self,
        provider: Provider,
        auth: httpx.Auth,
        *,
        transport: RetryTransport | None = None,
        files: FileStore | None = None,
        on_lost: Callable[[], None] | None = None,
        answers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.retry_transport = transport or RetryTransport(
            allowed_hosts=provider.hosts,
            max_bytes=provider.limits.max_bytes,
            answer_seconds=provider.limits.answer_seconds,
        )
        super().__init__(auth=auth, transport=self.retry_transport, **kwargs)
        self.provider = provider
        self.files = files
        self._on_lost = on_lost
        self.hold_answers(answers or {})  # the non-secret ones: fetch never sees the key

    def __repr__(self) -> str:
        return f"KeyedClient({self.provider.name!r})"

    def refresh(self) -> None:
        """A key cannot be refreshed: the service no longer accepts it."""
        raise self._refused()

    def request(self, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        """Send a request; a 401 means the key is no longer accepted (no retry, no refresh)."""
        response = super().request(method, url, **kwargs)
        if response.status_code == 401:
            response.close()
            raise self._refused()
        return response

    def _refused(self) -> AuthError:
        from portal.auth.credentials import KIND_WORDS

        if self._on_lost is not None:
            self._on_lost()
        credential = self.provider.credential
        words = KIND_WORDS[credential.kind] if credential is not None else "credentials"
        return AuthError(
            f"{self.provider.display_name} no longer accepts the {words} portal holds (401).",
            hint=f"Run portal connect {self.provider.name} again with a valid one; everything"
            " already synced is kept.",
        )


class _CutShort(Exception):
    """A body that did not parse whole; carries the error to raise if retrying does not help."""

    def __init__(self, problem: ProviderError) -> None:
        super().__init__(problem.message)
        self.problem = problem


def follow_links(
    client: ProviderClient,
    url: str,
    *,
    stream: str,
    items: Callable[[Any], list[dict[str, Any]]],
    next_url: Callable[[Any], str | None],
    cursor: Callable[[Any, str | None], Any] = lambda body, nxt: None,
    params: Mapping[str, Any] | None = None,
    declared_pages: Callable[[Any], Any] | None = None,
) -> Iterator[Page]:
    """Pages of a link-paginated collection (Open Banking ``Links.Next``, HAL, JSON:API).

    ``items`` picks the items out of a response body, ``next_url`` the link to the next
    page, ``cursor`` the cursor reached after the page. A link seen before is a loop in the
    provider's pagination and raises a ProviderError instead of looping forever, as does a
    page beyond the count ``declared_pages`` reads from a body (Open Banking's
    ``Meta.TotalPages``), when the provider states one. (The engine bounds every stream's
    pages besides: ``RequestLimits.max_pages``.)
    """
    seen: set[str] = set()
    current: str | None = url
    while current is not None:
        # Compare absolute URLs with their query, so a link back to the first page (often
        # given relative, with its parameters apart) is recognised too.
        absolute = client.base_url.join(current)
        if current == url and params:
            absolute = absolute.copy_merge_params(dict(params))
        key = urlsplit(str(absolute))._replace(fragment="").geturl()
        if key in seen:
            raise ProviderError(
                f"{client.provider.display_name}'s pagination of {stream!r} loops back to a page"
                " it already served.",
                hint="Report it to the provider; portal stopped instead of looping forever.",
            )
        seen.add(key)
        body = client.get_json(current, params=params if current == url else None)
        declared = declared_pages(body) if declared_pages is not None else None
        if type(declared) is int and len(seen) > declared:
            raise ProviderError(
                f"{client.provider.display_name}'s pagination of {stream!r} went past the"
                f" {declared} pages it declared.",
                hint="Report it to the provider; portal stopped instead of following it.",
            )
        nxt = next_url(body)
        yield Page(stream, items(body), cursor(body, nxt))
        current = nxt


def together(client: ProviderClient, sources: Iterable[Iterable[Page]]) -> Iterator[Page]:
    """The pages of several independent streams, fetched side by side.

    Each source is a page generator (say, one per account and resource); up to the
    provider's ``limits.concurrent`` of them run at once, in the order given (put the long
    ones first), and the engine's request limits hold across all of them. Each source's
    pages arrive in its own order, so each stream's cursors are committed after its records
    as ever; pages of different sources interleave. The first error stops the rest, and
    when the sync stops (an error, Ctrl-C) so do they, at their next page, whether or not
    the plugin's code closes what this returns.
    """
    return interleaved(sources, workers=client.provider.limits.concurrent)
