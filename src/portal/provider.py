"""What a provider plugin declares: who it is, where it lives, what data it holds, its sandbox."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError

from portal.errors import ConfigError
from portal.record.vocab import Category, Sector
from portal.specvariants import GENERATED, Specification

if TYPE_CHECKING:
    from portal.auth.credentials import Ask, KeyCredential
    from portal.sandbox import Sandbox

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


RESERVED_AUTHORIZATION_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
    }
)
"""Authorization request parameters portal sets itself, for its security checks."""


@dataclass(frozen=True)
class OAuthClient:
    """How portal authenticates with the provider: its OAuth endpoints and portal's client."""

    authorize_url: str
    token_url: str
    client_id: str
    scopes: tuple[str, ...]
    revocation_url: str | None = None
    device_authorization_url: str | None = None
    """RFC 8628 device authorization endpoint, for machines without a browser."""
    issuer: str | None = None
    """The OpenID issuer; with ``jwks_url`` and an ``openid`` scope, ID tokens are validated."""
    jwks_url: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_port: int | None = None
    """A fixed port for the loopback redirect (``http://127.0.0.1:PORT/callback``), for a
    service that matches redirect URIs exactly, so the person registers that one address
    with their own client (Monzo). Without it the listener takes a free port (RFC 8252
    §7.3). An authorization server on 127.0.0.1 (a sandbox) accepts any loopback port, so
    there the listener always takes a free one and runs side by side never collide."""
    authorization_params: Mapping[str, str] = field(default_factory=dict)
    """Extra parameters for the authorization request, as the provider documents them:
    ``{"prompt": "consent", "access_type": "offline"}``. portal's own (state, PKCE, nonce,
    scope, redirect) cannot be replaced."""

    def __post_init__(self) -> None:
        if self.redirect_port is not None and not 1024 <= self.redirect_port <= 65535:
            raise ConfigError(
                f"The redirect port {self.redirect_port} is not one portal can listen on.",
                hint="Use a port from 1024 to 65535 (one the person registers with the service).",
            )
        taken = sorted(set(self.authorization_params) & RESERVED_AUTHORIZATION_PARAMS)
        if taken:
            raise ConfigError(
                f"The authorization parameters {', '.join(taken)} are portal's own.",
                hint="Declare only provider-specific ones, such as prompt or access_type.",
            )

    @property
    def offline(self) -> bool:
        """Whether the declaration asks for offline access (a refresh token)."""
        return (
            "offline_access" in self.scopes
            or self.authorization_params.get("access_type") == "offline"
        )

    @property
    def listen_port(self) -> int:
        """The port the loopback listener takes: ``redirect_port`` for a real service, any
        free one (0) for an authorization server on this machine."""
        if self.redirect_port is None or is_loopback(self.authorize_url):
            return 0
        return self.redirect_port

    @property
    def openid(self) -> bool:
        """Whether portal asks for, and validates, an OpenID Connect ID token."""
        return "openid" in self.scopes and bool(self.issuer and self.jwks_url)


@dataclass(frozen=True)
class InventoryItem:
    """One category of data the provider holds, as its privacy notice would list it."""

    category: Category
    description: str
    fields: tuple[str, ...] = ()


NO_OAUTH = OAuthClient(authorize_url="", token_url="", client_id="", scopes=())
"""The ``oauth`` of a provider whose data only arrives in files (``importer_only``)."""


@dataclass(frozen=True)
class RequestLimits:
    """The load a provider accepts, and what portal accepts from it; the engine enforces all.

    ``concurrent`` is how many requests may be in flight at once, ``per_second`` how many
    may start in any one second (None: no rate limit beyond the concurrency), as the
    provider's API terms state them. The rest bound what a provider (or a plugin) can cost
    portal, whatever it sends: raise one only for a provider known to need it.
    """

    concurrent: int = 4
    per_second: float | None = None
    max_bytes: int = 64 * 1024 * 1024
    """The largest answer body, as received and as decompressed."""
    answer_seconds: float = 120.0
    """How long one answer may take, from sending the request to its body's last byte."""
    max_pages: int = 100_000
    """The most pages one stream may yield in one sync (a pagination that never ends)."""
    stream_seconds: float = 6 * 3600.0
    """How long one stream may go on, from its first page to its last, in one sync."""
    hook_seconds: float = 900.0
    """How long one call into the plugin may take: ``fetch`` producing a page (its requests
    and their retries included, hence well above ``answer_seconds``), ``normalise`` of a
    page's items, ``deliver`` of a batch."""

    def __post_init__(self) -> None:
        if self.concurrent < 1 or (self.per_second is not None and self.per_second <= 0):
            raise ConfigError(
                f"Request limits {self} allow no request at all.",
                hint="Use concurrent >= 1 and a positive per_second (or None).",
            )
        if (
            self.max_bytes < 1
            or self.max_pages < 1
            or not all(s > 0 for s in (self.answer_seconds, self.stream_seconds, self.hook_seconds))
        ):
            raise ConfigError(
                f"Request limits {self} allow no answer at all.",
                hint="Use a positive value for every limit.",
            )


@dataclass(frozen=True)
class Quota:
    """How many syncs a service allows a connection in a window, as its terms state it.

    Aggregators bound how often an application may read an account without the person
    present (PSD2 allows four a day); the engine counts the syncs it started for the
    connection and refuses one more with a sentence saying when the next is possible.
    ``why`` cites the rule (shown with the refusal and in ``portal providers``).
    """

    syncs: int
    hours: float = 24.0
    why: str = ""

    def __post_init__(self) -> None:
        if self.syncs < 1 or not self.hours > 0:
            raise ConfigError(
                f"The quota {self} allows no sync at all.",
                hint="Use syncs >= 1 and a positive number of hours.",
            )

    @property
    def window(self) -> str:
        """The window in words: "a day", "an hour", "every 6 hours"."""
        if self.hours == 24:
            return "a day"
        if self.hours == 1:
            return "an hour"
        return f"every {self.hours:g} hours"


@dataclass(frozen=True)
class Provider:
    """A provider's declaration, registered through the ``register_providers`` hook.

    ``sandbox`` builds (but does not start) the provider's sandbox, if it ships one; its
    ``ground_truth()`` states what it serves, which ``portal conformance`` holds the store to
    exactly (the contract: ``portal.sandbox.Sandbox.ground_truth``). Called with no
    argument it builds the usual sandbox; a sandbox that can also serve the same data in
    other shapes its specification allows (or with planted violations) declares them by
    wrapping its factory in ``portal.variants.SandboxVariants``, which the suite then
    builds with ``sandbox(variant=name)`` for ``test_variant[name]``.
    A provider whose data only arrives in files people download (OFX, midata CSV) sets
    ``importer_only=True`` and declares no ``api_base`` or ``oauth``; its records come
    through ``portal import`` (see the ``register_importers`` hook).
    """

    name: str
    display_name: str
    sector: Sector
    api_base: str = ""
    oauth: OAuthClient = NO_OAUTH
    inventory: tuple[InventoryItem, ...] = ()
    sandbox: Callable[[], Sandbox] | None = None
    description: str = ""
    sandbox_only: bool = False
    """True for a provider that exists only as its sandbox (a demo or a plugin in development)."""
    importer_only: bool = False
    """True for a provider with no API: its data arrives only through ``portal import``."""
    limits: RequestLimits = field(default_factory=RequestLimits)
    """How hard portal may use the provider's API; the engine enforces it."""
    timezone: str = "UTC"
    """The IANA zone of the provider's calendar (bill periods, statement months), e.g.
    ``Europe/London``: a period "1 to 31 March" there starts at 00:00 local time."""
    specification: Specification | None = None
    """The API's published specification, able to generate the answers it allows
    (``portal.specvariants``); the conformance suite serves those to the plugin."""
    asks: tuple[Ask, ...] = ()
    """What ``portal connect`` asks the person for (an API key, an account number, their
    own OAuth client's id and secret), kept in the vault (``portal.auth.credentials``)."""
    credential: KeyCredential | None = None
    """For a service that authorises requests with a key, an access URL or a signed JWT
    instead of portal's OAuth client: how (``portal.auth.credentials.KeyCredential``)."""
    quota: Quota | None = None
    """How many syncs the service allows a connection in a window; the engine enforces it."""
    writes: tuple[str, ...] = ()
    """The changes its ``apply_change`` hook can make, by key (``portal.control.changes``:
    ``marketing.email``, ``profiling``, ``consent``...); the conformance suite checks each.
    Any other change is answered "not supported" with ``write_instead``."""
    write_instead: str = ""
    """What a person can do for a change portal cannot make here (the provider's data
    protection contact, the settings page that holds it)."""
    jurisdiction: str = ""
    """ISO 3166-1 alpha-2 code of the country whose law its release is made under (``GB``
    for UK Open Banking), for consent receipts."""
    policy_url: str = ""
    """Its privacy notice's address, for consent receipts."""

    def __post_init__(self) -> None:
        if self.specification is not None:
            _check_specification(self.name, self.specification)
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise ConfigError(
                f"Provider name {self.name!r} must be a lower-case identifier.",
                hint="Use a short name such as 'bank' or 'acme_energy'.",
            )
        try:
            ZoneInfo(self.timezone)
        except (ValueError, ZoneInfoNotFoundError):
            raise ConfigError(
                f"Provider {self.name!r} declares the time zone {self.timezone!r}, which is"
                " not an IANA zone.",
                hint="Use a name such as 'Europe/London' or 'America/New_York'.",
            ) from None
        if unknown := [w for w in self.writes if w not in _WRITABLE]:
            raise ConfigError(
                f"Provider {self.name!r} declares writes portal has no change for: {unknown}.",
                hint=f"Declare keys of portal.control.changes: {', '.join(_WRITABLE)}.",
            )
        if self.importer_only:
            if self.api_base or self.oauth != NO_OAUTH or self.sandbox is not None:
                raise ConfigError(
                    f"Provider {self.name!r} is importer_only but declares an API or a sandbox.",
                    hint="Drop importer_only, or drop api_base, oauth and sandbox.",
                )
            return
        self._check_credentials()
        for url in self.urls():
            require_https(url, self.name)

    def _check_credentials(self) -> None:
        names = [a.name for a in self.asks]
        if len(set(names)) != len(names) or not all(n.isidentifier() for n in names):
            raise ConfigError(
                f"Provider {self.name!r} asks for {', '.join(names)}: each ask needs a name of"
                " its own, an identifier.",
                hint="Name asks like api_key or account_number.",
            )
        if self.credential is not None and self.oauth != NO_OAUTH:
            raise ConfigError(
                f"Provider {self.name!r} declares both oauth and a key credential.",
                hint="Declare oauth for an OAuth login, credential for a key: one of them.",
            )
        if not self.api_base or (self.oauth == NO_OAUTH and self.credential is None):
            raise ConfigError(
                f"Provider {self.name!r} declares no api_base, or neither oauth nor credential.",
                hint="Declare api_base and how portal is authorised (oauth, or credential for"
                " a key), or set importer_only=True for data that comes in files.",
            )
        if self.oauth != NO_OAUTH and not self.oauth.client_id and "client_id" not in names:
            raise ConfigError(
                f"Provider {self.name!r} declares an OAuth client with no client_id and does not"
                " ask the person for theirs.",
                hint="Declare client_id, or add Ask('client_id', ...) to asks.",
            )

    @property
    def own_client(self) -> bool:
        """Whether the person brings their own OAuth client (its id is one of the asks)."""
        return any(a.name == "client_id" for a in self.asks)

    def for_connection(self, values: Mapping[str, Any]) -> Provider:
        """The declaration as one connection uses it: the person's own OAuth client, if any."""
        if not self.own_client or "client_id" not in values:
            return self
        oauth = dataclasses.replace(
            self.oauth,
            client_id=str(values["client_id"]),
            client_secret=values.get("client_secret") or self.oauth.client_secret,
        )
        return dataclasses.replace(self, oauth=oauth)

    @property
    def kind(self) -> str:
        """How a person connects: "oauth", a key kind, or "files" (``importer_only``)."""
        if self.importer_only:
            return "files"
        return self.credential.kind if self.credential is not None else "oauth"

    def urls(self) -> Iterator[str]:
        """Every endpoint the provider declares (none for an importer-only provider)."""
        if self.importer_only:
            return
        yield self.api_base
        if self.credential is not None:
            yield from self.credential.urls
            return
        yield self.oauth.authorize_url
        yield self.oauth.token_url
        for optional in (
            self.oauth.issuer,
            self.oauth.revocation_url,
            self.oauth.device_authorization_url,
            self.oauth.jwks_url,
        ):
            if optional:
                yield optional

    @property
    def hosts(self) -> frozenset[str]:
        """The hosts portal may contact for this provider (egress is limited to these)."""
        return frozenset(urlsplit(url).netloc for url in self.urls())

    @property
    def categories(self) -> tuple[Category, ...]:
        """The data categories in the declared inventory."""
        return tuple(item.category for item in self.inventory)

    def with_endpoints(self, endpoints: Mapping[str, str]) -> Provider:
        """A copy pointed at other endpoints (a sandbox's), keys as ``sandbox_endpoints`` gives."""
        oauth_keys = set(OAUTH_URL_FIELDS)
        urls: dict[str, Any] = {k: v for k, v in endpoints.items() if k in oauth_keys}
        # A key credential's sandbox still runs an authorization server: not this provider's.
        oauth = (
            self.oauth if self.credential is not None else dataclasses.replace(self.oauth, **urls)
        )
        return dataclasses.replace(
            self, api_base=endpoints.get("api_base", self.api_base), oauth=oauth
        )


OAUTH_URL_FIELDS = (
    "authorize_url",
    "token_url",
    "revocation_url",
    "device_authorization_url",
    "issuer",
    "jwks_url",
)


_WRITABLE = (
    "marketing.email",
    "marketing.sms",
    "marketing.phone",
    "marketing.post",
    "profiling",
    "third_party_marketing",
    "consent",
)
"""``portal.control.changes``' keys, restated so declaring a provider imports nothing more
(a test holds the two equal)."""


def sandbox_endpoints(sandbox: Sandbox) -> dict[str, str]:
    """The endpoints of a running sandbox, in the shape ``Provider.with_endpoints`` takes."""
    endpoints = {"api_base": getattr(sandbox, "api_base", sandbox.base_url)}
    for name in OAUTH_URL_FIELDS:
        value = getattr(sandbox, name, None)
        if value:
            endpoints[name] = value
    return endpoints


def _check_specification(provider: str, spec: Any) -> None:
    if not isinstance(spec, Specification):
        raise ConfigError(
            f"Provider {provider!r} declares a specification ({type(spec).__name__}) without"
            " source, variants, vary and problems.",
            hint="Follow the protocol portal.specvariants.Specification.",
        )
    unknown = sorted(set(spec.variants) - set(GENERATED))
    if unknown:
        raise ConfigError(
            f"Provider {provider!r} declares specification variants {', '.join(unknown)},"
            " which portal cannot generate.",
            hint=f"Name some of {', '.join(GENERATED)} (portal.specvariants.GENERATED).",
        )


def is_loopback(url: str) -> bool:
    """Whether the URL points at this machine (the only place plain HTTP is allowed)."""
    return (urlsplit(url).hostname or "") in LOOPBACK_HOSTS


def require_https(url: str, provider: str) -> None:
    """Refuse any endpoint that is not HTTPS, except loopback (RFC 8252 §8.3)."""
    scheme = urlsplit(url).scheme
    if scheme != "https" and not (scheme == "http" and is_loopback(url)):
        raise ConfigError(
            f"Provider {provider!r} declares {url!r}, which is not HTTPS.",
            hint="Every provider endpoint must use https:// (plain http only on 127.0.0.1).",
        )


class Cursor(BaseModel):
    """How far a stream has got. Plugins subclass it with typed fields.

    The engine stores it as JSON in the same transaction as the page that reached it,
    and hands it back on the next sync through ``Cursors.get``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")


C = TypeVar("C", bound=Cursor)


@dataclass(frozen=True)
class Page:
    """One page of raw items from one stream, and the cursor reached after it.

    ``withdrawn`` names items the provider has stopped serving (a pending payment it
    dropped, an offer that lapsed), each as its record's category and the provider's id
    of that record (the ``provider_id`` normalise gave it). The store deletes those
    records in the same transaction as the page and its cursor: nothing withdrawn is
    still presented as current, and the raw payloads they came from stay in the store.
    """

    stream: str
    items: Sequence[Mapping[str, Any]]
    cursor: Cursor | None = None
    withdrawn: Sequence[tuple[Category, str]] = ()


class Cursors:
    """The cursors committed by earlier syncs of one connection, by stream."""

    def __init__(self, saved: Mapping[str, Mapping[str, Any]]) -> None:
        self._saved = dict(saved)

    def get(self, stream: str, kind: type[C]) -> C | None:
        """The cursor saved for ``stream``, as ``kind``; None on a first sync."""
        value = self._saved.get(stream)
        if value is None:
            return None
        try:
            return kind.model_validate(value)
        except ValidationError as error:
            raise ConfigError(
                f"The saved cursor of stream {stream!r} does not fit {kind.__name__}: {error}",
                hint="The plugin changed its cursor type; run portal sync --full to start over.",
            ) from None

    def __contains__(self, stream: str) -> bool:
        return stream in self._saved

    def __len__(self) -> int:
        return len(self._saved)
