"""Credentials other than portal's own OAuth client: what the person types once, and keys.

Many services a person can connect today give them a key instead of an OAuth login (a
personal API key, an access URL obtained by exchanging a one-time setup token), or make
the application sign a JWT with its own private key for every request. A provider says so
in its declaration:

- ``Provider.asks``: what ``portal connect`` asks the person for, each an ``Ask``. The
  answers come from the caller, an environment variable (``PORTAL_<PROVIDER>_<NAME>``),
  ``--stdin`` or a prompt without echo; they are kept in the vault, never shown.
- ``Provider.credential``: a ``KeyCredential`` saying how the kept values authorise each
  API request (an ``httpx.Auth``), for a provider that does not use ``oauth``. An OAuth
  provider whose asks include ``client_id`` (and ``client_secret``) uses the person's own
  OAuth client, as services that let a person register one for themselves require.

``CredentialHelpers`` is what the ``authenticate`` hook receives as ``credentials``: the
answers, a way to tell the person something, portal's HTTP client for the exchanges a
service asks for (claiming a setup token, creating a session), and a loopback redirect for
services that send the person to their bank and back.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from portal.errors import AuthError, UserError

if TYPE_CHECKING:
    from portal.provider import Provider

KeyKind = Literal["api_key", "access_url", "signed_jwt"]
KIND_WORDS: dict[str, str] = {
    "oauth": "OAuth login",
    "api_key": "API key",
    "access_url": "access URL (from a setup token)",
    "signed_jwt": "application key",
}
"""How ``portal providers`` and the docs name each kind of credential."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost")
"""Hosts a registered redirect may name for portal to listen on (127.0.0.1 either way)."""

MAX_ANSWER_CHARS = 64 * 1024
"""The longest answer taken (a PEM private key is a few kilobytes; a key, less)."""


@dataclass(frozen=True)
class Ask:
    """One thing ``portal connect`` asks the person for, kept in the vault.

    ``name`` is its key in the answers (and the vault entry); ``label`` what the prompt
    says; ``secret`` hides it while typed and everywhere after; ``help`` says where the
    person finds it; ``pattern`` (a full match) refuses a mistyped value at once, naming
    the label and never quoting a secret; ``file`` means the person gives a path and portal
    keeps the file's text (a PEM private key).
    """

    name: str
    label: str
    secret: bool = True
    help: str = ""
    pattern: str | None = None
    file: bool = False

    def environment_variable(self, provider: str) -> str:
        """The variable a script sets instead of answering the prompt."""
        return f"PORTAL_{provider.upper()}_{self.name.upper()}"

    def check(self, provider: Provider, value: str) -> str:
        """``value`` stripped, or a UserError naming what is wrong with it (never the value)."""
        value = value.strip()
        if not value:
            raise UserError(
                f"{provider.display_name}'s {self.label} is empty.",
                hint=self.help or f"Run portal connect {provider.name} again and give it.",
            )
        if len(value) > MAX_ANSWER_CHARS:
            raise UserError(
                f"{provider.display_name}'s {self.label} is {len(value):,} characters long,"
                f" more than any {self.label} portal expects.",
                hint=self.help or "Check what you gave.",
            )
        if self.pattern and not re.fullmatch(self.pattern, value):
            said = "" if self.secret else f" ({_quoted(value)})"
            raise UserError(
                f"That does not look like {provider.display_name}'s {self.label}{said}.",
                hint=self.help or "Check what you copied, then connect again.",
            )
        return value


def _quoted(value: str) -> str:
    from portal.shown import shown

    return repr(shown(value[:60]))


@dataclass(frozen=True)
class KeyCredential:
    """How a provider that does not use portal's OAuth client authorises its API requests.

    ``kind`` names it in words (``portal providers``, docs); ``auth`` builds the
    ``httpx.Auth`` for every API request from the values kept in the vault; ``check`` is a
    path (formatted with the non-secret answers) fetched at connect, so a wrong key is said
    then, not at the first sync; ``base_from`` names a value holding the API's base URL
    (SimpleFIN's access URL: its userinfo is dropped, its host must be declared);
    ``revoke_hint`` says how the person revokes the key themselves where the service
    offers no way to do it from outside (shown by ``portal disconnect``); ``urls`` are
    other addresses the service is reached at (where a setup token is claimed), each
    HTTPS: portal contacts only the hosts a provider declares.
    """

    kind: KeyKind
    auth: Callable[[Mapping[str, Any]], httpx.Auth]
    check: str | None = None
    base_from: str | None = None
    revoke_hint: str = ""
    urls: tuple[str, ...] = ()


# -- how kept values authorise a request ---------------------------------------------


class _Basic(httpx.Auth):
    def __init__(self, username: str, password: str) -> None:
        self._header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def __repr__(self) -> str:
        return "Basic(...)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class _Header(httpx.Auth):
    def __init__(self, name: str, value: str) -> None:
        self._name, self._value = name, value

    def __repr__(self) -> str:
        return f"Header({self._name!r}, ...)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._name] = self._value
        yield request


def _value(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if not isinstance(value, str) or not value:
        raise AuthError(
            f"portal holds no {name} for this connection.",
            hint="Run portal connect again.",
        )
    return value


def basic(username: str, password: str | None = None) -> Callable[[Mapping[str, Any]], httpx.Auth]:
    """HTTP Basic with the value ``username`` as user name (and ``password``'s, or empty)."""

    def build(values: Mapping[str, Any]) -> httpx.Auth:
        secret = _value(values, password) if password else ""
        return _Basic(_value(values, username), secret)

    return build


def bearer(name: str) -> Callable[[Mapping[str, Any]], httpx.Auth]:
    """``Authorization: Bearer <value of name>``."""
    return header("Authorization", name, prefix="Bearer ")


def header(
    header_name: str, name: str, *, prefix: str = ""
) -> Callable[[Mapping[str, Any]], httpx.Auth]:
    """The value ``name`` in the header ``header_name`` (e.g. ``X-Api-Key``)."""

    def build(values: Mapping[str, Any]) -> httpx.Auth:
        return _Header(header_name, prefix + _value(values, name))

    return build


def basic_in_url(name: str) -> Callable[[Mapping[str, Any]], httpx.Auth]:
    """HTTP Basic from the user name and password inside the URL kept as ``name``."""

    def build(values: Mapping[str, Any]) -> httpx.Auth:
        parts = urlsplit(_value(values, name))
        if parts.username is None:
            raise AuthError(
                f"The {name} portal holds carries no credentials.",
                hint="Run portal connect again.",
            )
        from urllib.parse import unquote

        return _Basic(unquote(parts.username), unquote(parts.password or ""))

    return build


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` removed: safe to show, log and use as a base."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# -- the answers ---------------------------------------------------------------------


AskFunction = Callable[["Ask"], str]
"""Asks the person for one answer (the CLI prompts, without echo for a secret)."""


def gather_answers(
    provider: Provider,
    given: Mapping[str, str] | None = None,
    *,
    ask: AskFunction | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every answer the provider asks for: given, else from the environment, else asked.

    A file ask given through the environment or a prompt is a path, read here (its text is
    the answer); a given answer is the text itself. An answer that cannot be had is a
    UserError naming every variable that would have given it.
    """
    environ = os.environ if environ is None else environ
    given = dict(given or {})
    answers: dict[str, str] = {}
    missing: list[Ask] = []
    for item in provider.asks:
        if item.name in given:
            answers[item.name] = item.check(provider, given[item.name])
            continue
        variable = item.environment_variable(provider.name)
        if environ.get(variable):
            raw = environ[variable]
        elif ask is not None:
            raw = ask(item)
        else:
            missing.append(item)
            continue
        if item.file:
            raw = _read_answer_file(provider, item, raw)
        answers[item.name] = item.check(provider, raw)
    if missing:
        names = ", ".join(f"{m.label} ({m.environment_variable(provider.name)})" for m in missing)
        raise UserError(
            f"{provider.display_name} needs {names}, and portal cannot ask here.",
            hint="Set those environment variables, pass them on standard input with --stdin"
            " (one NAME=VALUE per line), or run portal connect in a terminal.",
        )
    unknown = sorted(set(given) - {a.name for a in provider.asks})
    if unknown:
        raise UserError(
            f"{provider.display_name} does not ask for {', '.join(unknown)}.",
            hint=f"It asks for: {', '.join(a.name for a in provider.asks) or 'nothing'}.",
        )
    return answers


def _read_answer_file(provider: Provider, item: Ask, path_text: str) -> str:
    path = Path(path_text.strip()).expanduser()
    try:
        if path.stat().st_size > MAX_ANSWER_CHARS:
            raise UserError(
                f"{str(path)!r}, given as {provider.display_name}'s {item.label}, is larger"
                f" than {MAX_ANSWER_CHARS // 1024} KiB.",
                hint=item.help or "Give the file the service gave you.",
            )
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(
            f"portal cannot read {str(path)!r}, given as {provider.display_name}'s"
            f" {item.label} ({type(error).__name__}).",
            hint=item.help or "Give the path of the file the service gave you.",
        ) from None


def public_answers(provider: Provider, values: Mapping[str, Any]) -> dict[str, str]:
    """The answers that are not secret (an account number), for ``fetch``: ``client.answers``."""
    return {a.name: str(values[a.name]) for a in provider.asks if not a.secret and a.name in values}


def read_stdin_answers(text: str) -> dict[str, str]:
    """``NAME=VALUE`` lines (blank lines and ``#`` comments skipped), for ``--stdin``."""
    answers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, sep, value = stripped.partition("=")
        if not sep or not name.strip().isidentifier():
            raise UserError(
                f"Line {number} of standard input is not NAME=VALUE.",
                hint="Give one answer per line, e.g. api_key=... (the names portal connect"
                " asks for).",
            )
        answers[name.strip().lower()] = value.strip()
    return answers


# -- what the authenticate hook receives ---------------------------------------------


@dataclass
class CredentialHelpers:
    """What an ``authenticate`` implementation has besides ``oauth``: the answers and tools.

    ``answers`` are the person's answers to ``Provider.asks``; ``tell`` says something to
    them; ``browser`` shows (and opens) an address; ``client`` is portal's HTTP client for
    the provider (retries, its declared hosts only, size limits), authorised by the
    provider's ``KeyCredential`` when given the values to use; ``redirect`` sends the
    person somewhere and waits for the service to send them back to portal; ``ask`` asks
    them for one more thing during the exchange (what their browser shows after a service
    sent them to an address portal cannot listen on).
    """

    provider: Provider
    answers: Mapping[str, str] = field(repr=False)
    tell: Callable[[str], None]
    browser: Callable[[str], None]
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    timeout: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    prompt: AskFunction | None = field(default=None, repr=False)
    """How the person is asked (the CLI's prompt); None where nobody can be asked."""

    def ask(self, item: Ask) -> str:
        """The person's answer to ``item``, asked now (checked as an ``Ask`` is, never kept).

        A UserError where there is nobody to ask (a script without a terminal).
        """
        if self.prompt is None:
            raise UserError(
                f"Connecting {self.provider.display_name} needs you to give the {item.label},"
                " and portal cannot ask here.",
                hint=f"Run portal connect {self.provider.name} in a terminal.",
            )
        return item.check(self.provider, self.prompt(item))

    def client(
        self, values: Mapping[str, Any] | None = None, *, base_url: str | None = None
    ) -> httpx.Client:
        """An httpx client through portal's transport, for the provider's declared hosts.

        With ``values``, every request is authorised as a sync's would be: by the
        provider's ``KeyCredential.auth``, or with ``values["access_token"]`` as a Bearer
        token for an OAuth provider.
        """
        auth: httpx.Auth | None = None
        if values is not None:
            credential = self.provider.credential
            if credential is not None:
                auth = credential.auth(values)
            else:
                auth = bearer("access_token")(values)
        return httpx.Client(
            base_url=base_url or api_base(self.provider, values or {}),
            auth=auth,
            transport=self.transport,
            timeout=httpx.Timeout(30.0, connect=10.0),
        )

    def redirect(
        self, start: Callable[[str, str], str], *, redirect_uri: str | None = None
    ) -> dict[str, str]:
        """Send the person to the service and wait for it to send them back to portal.

        ``start(redirect_uri, state)`` returns the address to send the person to (after
        whatever call to the service makes it); portal listens on the loopback redirect,
        checks ``state`` and returns the query the service came back with. An ``error`` in
        it is an AuthError in the service's own words. ``redirect_uri`` is a loopback
        address registered with the service (``http://127.0.0.1:8765/callback``): portal
        listens on its port (a free one if it names none) and path.
        """
        from portal.auth.flows import CALLBACK_PATH, LoopbackListener

        state = secrets.token_urlsafe(32)
        path, port = CALLBACK_PATH, 0
        if redirect_uri is not None:
            parts = urlsplit(redirect_uri)
            if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
                raise UserError(
                    f"{redirect_uri!r} is not a loopback address portal can listen on.",
                    hint="Give an address such as http://127.0.0.1:8765/callback.",
                )
            path, port = parts.path or "/", parts.port or 0
        listener = LoopbackListener(path, state=state, port=port)  # a taken port: AuthError
        back = listener.redirect_uri
        if redirect_uri is not None:  # as registered, with the port listened on
            back = f"http://{urlsplit(redirect_uri).hostname}:{urlsplit(back).port}{path}"
        with listener:
            url = start(back, state)
            self.browser(url)
            answer = listener.wait(self.timeout)
        if answer.get("state") != state:
            raise AuthError(
                f"{self.provider.display_name} came back without the state portal sent,"
                " so portal ignored the answer.",
                hint=f"Run portal connect {self.provider.name} again.",
            )
        if "error" in answer:
            from portal.shown import shown

            said = shown(answer.get("error_description") or answer["error"])[:200]
            raise AuthError(
                f"{self.provider.display_name} did not grant access: {said}.",
                hint=f"Run portal connect {self.provider.name} again to retry.",
            )
        return answer


def api_base(provider: Provider, values: Mapping[str, Any]) -> str:
    """The API's base URL for a connection: the declared one, or the one a value holds."""
    credential = provider.credential
    if credential is None or credential.base_from is None or credential.base_from not in values:
        return provider.api_base
    base = without_userinfo(str(values[credential.base_from]))
    host = urlsplit(base).netloc
    if host not in provider.hosts:
        raise AuthError(
            f"{provider.display_name} gave an address on {host!r}, which is not one of the"
            " hosts its plugin declares, so portal will not send it your credentials.",
            hint="Report it to the plugin's authors.",
        )
    return base.rstrip("/")
