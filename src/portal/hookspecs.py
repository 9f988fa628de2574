"""The contract between portal's engine and its plugins: every hook, documented here.

Each spec's docstring says when it is called, what it receives, what it returns, and
what ``None`` means. An implementation may take fewer arguments than its spec names
(pluggy passes only the ones it asks for), so specs can grow without breaking plugins.

Provider hooks (``authenticate``, ``fetch``, ``normalise``) are called only on the plugin
that registered the provider: the engine builds one ``subset_hook_caller`` per provider,
so a plugin never writes "if provider.name != mine: return None". Cross-cutting plugins
that register no provider (auditing, redaction, metrics) see every call and may wrap it
with ``@hookimpl(wrapper=True)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import httpx

    from portal.auth.credentials import CredentialHelpers
    from portal.auth.flows import OAuthHelpers
    from portal.auth.tokens import TokenSet
    from portal.batch import Batch
    from portal.control.changes import Change, ChangeResult
    from portal.importing import Importer
    from portal.provider import Cursors, Page, Provider
    from portal.record.model import Entity

PROJECT = "portal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Declare the provider(s) this plugin offers.

    Called once when the plugin manager is built. Call ``register(Provider(...))`` for each
    provider: its name, display name, sector, endpoints, OAuth client and scopes, its data
    inventory, and a factory for its sandbox (whose ``ground_truth()`` the conformance suite
    checks the store against, exactly; ``portal.variants.SandboxVariants`` declares the
    variants it can serve as well). Return nothing.

    Raises ``ConfigError`` (through ``Provider``) for a declaration that cannot work, such as
    a non-HTTPS endpoint.
    """


@hookspec(firstresult=True)
def authenticate(
    provider: Provider, oauth: OAuthHelpers, credentials: CredentialHelpers
) -> TokenSet | None:
    """Obtain credentials for one customer of ``provider``; the first non-None result wins.

    Called by ``portal connect``, after the person answered what ``provider.asks`` asks
    for. Return a ``TokenSet``: the values the vault keeps for this connection (never
    logged or shown). Raise ``AuthError`` when the provider refuses. The kinds:

    - **OAuth** (``provider.oauth``): ``return oauth.run()`` (authorization code with PKCE
      S256, state and a loopback redirect, or the device flow when asked). portal's own
      implementation does exactly that, so most plugins need not implement this hook.
      Extra authorization parameters the provider documents (``prompt=consent``) go in the
      declaration, ``OAuthClient(authorization_params=...)``. A provider whose asks include
      ``client_id`` (and ``client_secret``) runs with the person's own OAuth client: the
      helpers already use it. A service with a step after the login (approve in an app)
      waits for it here: ``credentials.tell(...)``, then poll with
      ``credentials.client(tokens.values)`` within ``credentials.timeout``.
    - **API key or personal access token** (``provider.credential``, kind ``api_key``):
      portal's implementation returns the answers, after fetching ``credential.check`` if
      declared (a refused key is said at connect, not at the first sync).
    - **Setup token exchanged for an access URL** (kind ``access_url``): claim it with
      ``credentials.client()`` and return ``TokenSet({"access_url": ...})``; a
      ``KeyCredential(base_from="access_url")`` makes that URL the API's base.
    - **Client id and private key, a JWT signed per request** (kind ``signed_jwt``): the
      answers hold the key; ``credentials.client(values)`` signs with the credential's
      ``auth``. Where the person then authorises at their bank through the service,
      ``credentials.redirect(start)`` sends them there and returns the query they came
      back with (``redirect_uri=`` a loopback address the service registered, to listen
      on its port); where the registered address is not one portal can listen on, open
      the service's page with ``credentials.browser(url)`` and ``credentials.ask(Ask(...))``
      the person for the address they were sent to. Keep what the service returned (a
      session id) in the values.

    Put the grant's expiry, if the service states one, in ``values["grant_expires_at"]``
    (seconds since the epoch): ``portal connect`` and ``portal status`` show it.
    """


@hookspec(firstresult=True)
def revoke(provider: Provider, client: httpx.Client, tokens: TokenSet) -> bool | None:
    """End portal's access at the provider, for ``portal disconnect``.

    Called with the engine's client, authorised with the connection's credentials, before
    the vault forgets them. Return True once the provider confirmed; raise
    ``ProviderError`` naming what it answered when it refused; return None when the
    plugin has nothing to do here. Without an implementation, portal revokes OAuth tokens
    at the declared revocation endpoint (RFC 7009); for a key the service offers no way to
    revoke from outside, the vault forgets it and the person is shown
    ``KeyCredential.revoke_hint`` (where to revoke it themselves).
    """


@hookspec(firstresult=True)
def apply_change(provider: Provider, client: httpx.Client, change: Change) -> ChangeResult | None:
    """Make one change the person asked for at the provider (``portal apply``).

    ``change`` (``portal.control.changes.Change``) names a permission by its key
    (``marketing.email``, ``marketing.sms``, ``marketing.phone``, ``marketing.post``,
    ``profiling``, ``third_party_marketing``, or ``consent``: the withdrawal of the
    data-sharing consent whose provider id is ``change.consent``) and whether the person
    allows it (``change.allow``). ``client`` is the engine's authorised client, as ``fetch``
    receives it (retries, refreshes, declared hosts only).

    Return a ``ChangeResult``: ``Outcome.applied`` once the provider accepted it;
    ``Outcome.already`` when it already was so; ``Outcome.not_supported`` with ``instead``
    (what the person can do: the provider's contact from its processing notice, a settings
    page) when its API cannot make this change; ``Outcome.refused`` with the provider's
    reason in ``detail``. Return None for a change the plugin does not handle: the engine
    answers "not supported" with ``Provider.write_instead``.

    Be idempotent: the engine retries the call after a connection error or a retryable
    answer (as it retries a fetch's requests), and a person may run ``portal apply`` twice.
    The next sync checks that the provider now releases what it said it applied.
    """


@hookspec(firstresult=True)
def fetch(provider: Provider, client: httpx.Client, cursors: Cursors) -> Iterable[Page] | None:
    """Yield the provider's raw data, page by page, each with the cursor it reached.

    Called once per sync. ``client`` is already authorised for this customer, has
    ``provider.api_base`` as its base URL, retries timeouts, connection errors, 5xx and 429
    (honouring Retry-After), refreshes the token before it expires and after a 401 (and on
    ``client.refresh()``, for a provider that says a token is spent in its own way; never
    call the token endpoint yourself, or the rotated refresh token is lost), and only
    reaches the provider's declared hosts. ``client.get_json(url, params=...)`` returns
    decoded JSON or raises a ``ProviderError`` naming the URL. ``cursors.get(stream,
    MyCursor)`` returns where the last sync stopped (None the first time): fetch only what
    is new from there. Name what the provider stopped serving in ``Page(...,
    withdrawn=[(category, provider_id)])``: the store deletes those records with the page.

    ``client.answers`` holds the person's answers to ``provider.asks`` that are not secret
    (the account number their API key reads); secrets stay in the client's authorisation.

    Return a generator (never a materialised list of the whole history): the engine
    normalises and commits each page before asking for the next, so memory stays flat and
    a sync that stops resumes from the last committed page.
    """


@hookspec(firstresult=True)
def normalise(
    provider: Provider, stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> Iterable[Entity] | None:
    """Turn one raw item of ``stream`` into customer-record entities.

    Called once per raw item, in the order fetched. Return the entities (``Transaction``,
    ``Account``, ...) built from it, with ``provider_id`` set and fields the record has no
    column for kept in ``extra``; the engine fills in the rest of the provenance. Use
    ``ref(Account, provider_account_id)`` for the portal id of a parent entity.

    Raise ``SkippableError(reason)`` for an item that cannot be normalised: it is stored as a
    Rejection with that reason and the sync goes on. A pydantic ``ValidationError`` (a float
    amount, a naive timestamp) is treated the same way. Returning nothing or None also
    becomes a Rejection: the engine never drops an item silently.
    """


@hookspec
def deliver(batch: Batch) -> None:
    """Receive one validated batch: the records, raw payloads and rejections of one page.

    Called for every page of every sync, on every destination plugin (the store is one,
    registered by default). A destination that keeps state must commit ``batch.cursor``
    atomically with the batch's records.
    """


@hookspec
def prepare_delivery(batch: Batch) -> None:
    """Optional: get ready to deliver ``batch``, before ``deliver`` is called with it.

    Called once per batch, in the thread that normalises the sync's pages, while the batch
    before it is still being delivered (``deliver`` runs in a thread of its own). A
    destination with Python work to do before it writes (the store turns records into
    rows) can do it here and keep the result, tied to this batch, for its ``deliver``: the
    work then overlaps with the delivery before instead of waiting behind it. Write nothing
    here: a batch counts as delivered only once ``deliver`` returns, and a batch that was
    prepared may still never be delivered (when an earlier delivery failed). A destination
    that does not implement it is simply called in ``deliver`` with every batch.
    """


@hookspec
def register_importers(register: Callable[[Importer], None]) -> None:
    """Declare the file importer(s) this plugin offers, for ``portal import FILE``.

    Called when ``portal import`` runs (never during a sync). Call
    ``register(Importer(...))`` for each kind of file people already download from
    providers (an OFX statement, a midata CSV, a Green Button XML). Return nothing.

    An ``Importer`` (``portal.importing``) has:

    - ``name``, ``display_name``: the name for ``portal import FILE --as NAME``, and words;
    - ``provider``: a ``Provider`` this same plugin declares through ``register_providers``;
      its ``normalise`` hook turns the raw items into records exactly as after a fetch. A
      provider with no API declares ``Provider(..., importer_only=True)`` and no endpoints;
    - ``sniff(head, filename) -> bool``: whether the file is of this kind, from its first
      bytes (``head``, up to ``portal.importing.HEAD_BYTES``). Decide by content, not by the
      name's extension: people rename files;
    - ``read(path) -> Iterator[Page]``: the file's raw items as pages, like ``fetch``'s. Yield
      ``FilePage(stream, items, locators=...)`` so that an item's error names where it was
      ("line 14", "element feed/entry[3]/content/IntervalBlock"). ``read`` may also take
      ``account``: the name the user gave with ``--account`` (None if not given), for files
      that do not say which account they are for. Raise ``BadFile(path, locator, message)``
      for what cannot be read (a bad date, a broken element);
    - ``extensions``, ``description``: what the file is usually called and where to get it,
      for error messages and help;
    - ``sniff_archive(names) -> bool`` (optional): whether a ZIP archive whose members have
      these names is of this kind ("Request your data" exports come as ZIPs). ``read`` then
      gets the ZIP's own path and opens it with ``portal.archives.Archive``, which refuses
      hostile archives (too many members, names that climb out, encrypted members, members
      that expand too far, too much read in all) and streams each member; wrap a member's
      reading in ``portal.archives.member_errors`` so that an error names the member and
      its line. An importer without ``sniff_archive`` is never offered a ZIP.

    ``portal.importing`` has helpers for readers: ``decode`` (UTF-8 or Windows-1252, BOM
    dropped, an undecodable byte's line named), ``csv_rows`` (each record with its line),
    ``xml_tree`` (defusedxml: no DTDs or entities; each element with its line and path) and
    ``portal.filereaders.xml_events``, which streams a large XML file element by element so
    that memory holds only what is still open. Read as a stream: a file of any size must
    import in memory bounded by its largest item, not by the file. Something in the file
    that no record keeps is yielded as a ``FileNote(where, text)`` among the pages, and
    ``portal import`` lists it, rather than dropping it silently.

    The file is read page by page and normalised, and everything is committed in one
    transaction: a bad item (an error in ``read``, or a rejection by ``normalise``) raises a
    ``BadFile`` naming its line or element, and nothing already stored changes. Give items
    stable ``provider_id`` values (the file's own ids, or a digest of the item's fields), so
    importing the same file, or an overlapping one, again adds nothing, and a changed item is
    reported as changed (``portal import --history``, ``--undo ID``).
    """
