"""``Portal``: one user's portal home — store, vault and plugins — and what can be done with it.

The CLI is a thin layer over this object, and tests and plugin authors use it the same way.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from portal.auth.credentials import (
    AskFunction,
    CredentialHelpers,
    api_base,
    gather_answers,
)
from portal.auth.device import ShowCode
from portal.auth.flows import Browser, OAuthHelpers, open_browser
from portal.auth.refresh import TokenKeeper, reconnect_error
from portal.auth.revocation import revoke
from portal.auth.tokens import TokenSet
from portal.auth.vault import Vault, open_vault
from portal.engine.runner import Job, run_all
from portal.engine.sync import NoProgress, SyncProgress, SyncResult, run_sync
from portal.engine.watch import Unanswered, Watch
from portal.errors import (
    ConfigError,
    GrantLapsed,
    NotConnected,
    PortalError,
    QuotaReached,
    UserError,
)
from portal.files import FileStore
from portal.http import KeyedClient, ProviderClient, RetryPolicy, RetryTransport
from portal.limits import Limiter
from portal.plugins import Plugins
from portal.provider import Cursors, Provider
from portal.record.tables import Connection
from portal.store import Store, StoreDestination, home_folder, store_url
from portal.understand import Finding, understand

log = logging.getLogger(__name__)


@dataclass
class Disconnection:
    """What ``Portal.disconnect`` could do at the provider."""

    failures: list[str] = field(default_factory=list)
    """What the provider did not confirm revoking, each in a few words."""
    revoked: bool = False
    """Whether the provider confirmed that portal's access ended."""
    revoke_hint: str = ""
    """For a key the service offers no way to revoke from outside: how the person does it."""


@dataclass
class Portal:
    """A portal home: the store, the token vault and the loaded plugins."""

    home: Path
    store: Store
    vault: Vault
    plugins: Plugins
    transport: httpx.BaseTransport | None = None
    retry_policy: RetryPolicy | None = None
    merge_pages: bool = True
    """Deliver consecutive pages of a stream together (fewer commits); the conformance
    suite turns it off to see each page a plugin yields as its own batch."""
    quotas: bool = True
    """Enforce the quotas providers declare (``Provider.quota``); the conformance suite
    turns it off where it syncs one sandbox many times, and checks the quota on its own."""
    understood: list[Finding] = field(default_factory=list, init=False, repr=False)
    """What the understanding layer did after the last sync (``portal.understand``)."""
    unheld: list[str] = field(default_factory=list, init=False, repr=False)
    """After the last sync: each change a provider said it applied (``portal apply``) but
    does not release (``portal.control.apply.verify``), in a sentence."""
    _limiters: dict[str, Limiter] = field(default_factory=dict, init=False, repr=False)
    _limiters_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def open(
        cls,
        *,
        home: Path | None = None,
        db: str | None = None,
        plugins_dir: Path | None = None,
        extra_plugins: Iterable[object] = (),
        **options: Any,
    ) -> Portal:
        """Open (creating if need be) a portal home and load the plugins.

        ``home`` defaults to ``$PORTAL_HOME`` or the user data directory; ``db`` to
        ``$PORTAL_DB`` or ``portal.db`` in the home; ``plugins_dir`` to ``$PORTAL_PLUGINS_DIR``.
        """
        home = home_folder(home)
        if plugins_dir is None and os.environ.get("PORTAL_PLUGINS_DIR"):
            plugins_dir = Path(os.environ["PORTAL_PLUGINS_DIR"])
        home.mkdir(mode=0o700, parents=True, exist_ok=True)  # a life's records: owner only
        store = Store(store_url(home, db))
        plugins = Plugins.load(
            plugins_dir=plugins_dir, extra=[*extra_plugins, StoreDestination(store)]
        )
        vault = options.pop("vault", None) or open_vault(home)
        return cls(home=home, store=store, vault=vault, plugins=plugins, **options)

    def close(self) -> None:
        """Release the store."""
        self.store.close()

    def __enter__(self) -> Portal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connect -----------------------------------------------------------------------

    def connect(
        self,
        name: str,
        *,
        browser: Browser = open_browser,
        endpoints: Mapping[str, str] | None = None,
        timeout: float = 300.0,
        device: bool = False,
        show_code: ShowCode | None = None,
        warn: Callable[[str], None] | None = None,
        answers: Mapping[str, str] | None = None,
        ask: AskFunction | None = None,
        tell: Callable[[str], None] | None = None,
        renew: bool = False,
    ) -> Connection:
        """Run the provider's authenticate hook and keep the tokens in the vault.

        ``renew`` re-consents an existing connection (its grant lapsing or lapsed): the same
        connection, its endpoints unless others are given, and everything synced are kept;
        a provider not connected yet is an error.

        What the provider asks for (``Provider.asks``: an API key, the person's own OAuth
        client) is taken from ``answers``, else its environment variable, else ``ask``
        (a prompt); the answers are kept in the vault with what ``authenticate`` returns.
        ``tell`` (default: the log) says to the person what a service needs of them now.

        ``device`` asks for the device authorization grant (a code to approve on another
        device) instead of a browser on this machine. Tokens the vault cannot keep are
        revoked before the error is raised; the grant a new connect replaces is revoked
        once the new tokens are stored. ``warn`` (default: the log) is told what the person
        should know, such as a provider that gave no refresh token despite offline access.
        """
        warn = warn or log.warning
        self.store.writable()  # before the person approves anything
        if renew:
            renewed = self.store.connection(name)
            if renewed is None:
                declared = self.plugins.provider(name)
                raise NotConnected(
                    f"{declared.display_name} is not connected, so there is nothing to renew.",
                    hint=f"Connect it with: portal connect {name}",
                )
            endpoints = endpoints or renewed.endpoints or None
        provider = self._provider(name, endpoints)
        given = gather_answers(provider, answers, ask=ask)
        provider = provider.for_connection(given)
        credentials = CredentialHelpers(
            provider,
            given,
            tell=tell or log.warning,
            browser=browser,
            transport=self._transport(provider),
            timeout=timeout,
            prompt=ask,
        )
        oauth = OAuthHelpers(
            provider,
            browser=browser,
            timeout=timeout,
            transport=self._transport(provider),
            flow="device" if device else "browser",
        )
        if show_code is not None:
            oauth.show_code = show_code
        issued: TokenSet | None = self.plugins.caller(name, "authenticate")(
            provider=provider, oauth=oauth, credentials=credentials
        )
        if issued is None:
            raise ConfigError(f"No plugin could authenticate {name!r}.")
        tokens = TokenSet({**given, **issued.as_dict()}) if given else issued
        existing = self.store.connection(name)
        replaced = self.vault.get(existing.id) if existing else None
        expires = tokens.grant_expires_at
        connection = Connection(
            id=existing.id if existing else str(uuid.uuid4()),
            provider=name,
            status="connected",
            scopes=" ".join(tokens.scopes),
            consent_id=tokens.consent_id,
            endpoints=dict(endpoints or {}),
            connected_at=datetime.now(UTC),
            grant_expires_at=None if expires is None else datetime.fromtimestamp(expires, UTC),
            last_sync_at=existing.last_sync_at if existing else None,
            last_sync_status=existing.last_sync_status if existing else None,
        )
        self._keep(provider, connection.id, tokens)
        self.store.save_connection(connection)
        self._receipt_for_grant(provider, connection)
        if replaced is not None and tokens.refresh_token:
            # Only a connect that brought its own refresh token is surely a grant of its own:
            # where a server hands back the same grant (and no new refresh token), revoking
            # the old tokens would revoke the new ones with them (RFC 7009 §2.1).
            self._revoke_replaced(provider, replaced, tokens, warn)
        if provider.oauth.offline and tokens.refresh_token is None:
            warn(_no_refresh_token(provider, tokens))
        return connection

    def _receipt_for_grant(self, provider: Provider, connection: Connection) -> None:
        """Keep the consent receipt of the grant just obtained (``portal receipts``)."""
        from portal.control import receipts

        grant = receipts.for_grant(
            provider,
            receipts.principal(self.home),
            connection.scopes,
            connection.grant_expires_at,
        )
        receipts.keep(self.store.engine, grant)

    def _keep(self, provider: Provider, connection_id: str, tokens: TokenSet) -> None:
        """Store the tokens, or revoke them at the provider and say why they could not be."""
        try:
            self.vault.put(connection_id, tokens)
        except Exception as error:
            # Tokens portal does not hold must not stay valid at the provider.
            self._revoke(provider, tokens)
            if isinstance(error, PortalError):
                raise
            raise ConfigError(
                f"portal could not store the tokens for {provider.display_name} in its vault"
                f" ({type(error).__name__}); they were revoked at the provider.",
                hint="Check the vault (PORTAL_VAULT, the keyring, or the space and permissions"
                " of the portal home), then run portal connect again.",
            ) from error

    def _revoke_replaced(
        self, provider: Provider, old: TokenSet, new: TokenSet, warn: Callable[[str], None]
    ) -> None:
        """Revoke the grant a new connect replaced (its tokens only, never the new ones)."""
        kept = {new.access_token, new.refresh_token}
        stale = TokenSet(
            {
                kind: value
                for kind, value in (
                    ("refresh_token", old.refresh_token),
                    ("access_token", old.access_token),
                )
                if value and value not in kept
            }
        )
        failures = self._revoke(provider, stale)
        if failures:
            warn(
                f"{provider.display_name} did not confirm revoking the access this connect"
                f" replaced ({'; '.join(failures)}); revoke it in the provider's settings."
            )

    def _revoke(self, provider: Provider, tokens: TokenSet) -> list[str]:
        # A few quick tries: whatever the provider says, the caller goes on.
        quick = RetryPolicy(attempts=3, initial_wait=0.2, max_wait=1.0)
        transport = self._transport(provider, policy=self.retry_policy or quick)
        with OAuthHelpers(provider, transport=transport)._client("") as client:
            return revoke(client, provider, tokens)

    def _provider(self, name: str, endpoints: Mapping[str, str] | None) -> Provider:
        provider = self.plugins.provider(name)
        _refuse_importer_only(provider)
        if endpoints:
            return provider.with_endpoints(endpoints)
        if provider.sandbox_only:
            raise UserError(
                f"{provider.display_name} exists only as a sandbox, so there is no real login.",
                hint=f"Run portal sync --demo, or start portal sandbox {name} and pass its URL"
                f" to portal connect {name} --sandbox URL.",
            )
        return provider

    def disconnect(self, name: str, *, delete_data: bool = False) -> Disconnection:
        """Revoke portal's access at the provider and forget its credentials; optionally its
        records.

        The plugin's ``revoke`` hook goes first; without one, OAuth tokens are revoked at
        the declared endpoint (RFC 7009), and a key the service offers no way to revoke is
        only forgotten (``Disconnection.revoke_hint`` says how the person revokes it). The
        credentials are deleted here even if the provider cannot be reached; what could
        not be revoked is in ``Disconnection.failures``, so the person can be told.
        """
        self.store.writable()
        connection = self.store.connection(name)
        if connection is None:
            provider = self.plugins.provider(name)
            raise NotConnected(
                f"{provider.display_name} is not connected.",
                hint="portal status lists connections.",
            )
        provider = self.plugins.provider(name)
        provider = (
            provider.with_endpoints(connection.endpoints) if connection.endpoints else provider
        )
        tokens = self.vault.get(connection.id)
        result = Disconnection()
        if tokens is not None:
            provider = provider.for_connection(tokens.values)
            result = self._revoke_connection(provider, connection, tokens)
        # The credentials are deleted here whatever the provider says, and the person is
        # told to check the provider's settings if it did not confirm.
        self.vault.delete(connection.id)
        self.store.delete_connection(connection, delete_data=delete_data)
        return result

    def _revoke_connection(
        self, provider: Provider, connection: Connection, tokens: TokenSet
    ) -> Disconnection:
        """The plugin's revoke hook, else portal's own: RFC 7009, or the key's hint."""
        caller = self.plugins.caller(provider.name, "revoke")
        if caller.get_hookimpls():
            try:
                with self._client_for(provider, connection, NoProgress(), tokens) as client:
                    done = caller(provider=provider, client=client, tokens=tokens)
            except PortalError as error:
                return Disconnection(failures=[error.message])
            if done:
                return Disconnection(revoked=True)
        if provider.credential is not None:
            return Disconnection(revoke_hint=provider.credential.revoke_hint)
        failures = self._revoke(provider, tokens)
        return Disconnection(failures=failures, revoked=not failures)

    # -- sync --------------------------------------------------------------------------

    def sync(
        self, names: Iterable[str] | None = None, *, progress: SyncProgress | None = None
    ) -> list[SyncResult]:
        """Sync the named providers (default: every connected one), all at once.

        Each provider syncs in its own thread (``portal.engine.runner``); a Ctrl-C stops
        them all after their current page and is raised again.
        """
        self.store.writable()
        shown: SyncProgress = progress or NoProgress()
        connections = {c.provider: c for c in self.store.connections()}
        wanted = list(names) if names else sorted(connections)
        jobs: dict[str, Job] = {}
        for name in wanted:
            provider = self.plugins.provider(name)
            _refuse_importer_only(provider)
            if name not in connections:
                raise NotConnected(
                    f"{provider.display_name} is not connected yet.",
                    hint=f"Run portal connect {name} first.",
                )
            jobs[name] = functools.partial(self._sync_one, provider, connections[name], shown)
        started = datetime.now(UTC)
        try:
            results = run_all(jobs)
        except KeyboardInterrupt:
            # A sync that stopped after its page recorded its interruption itself; one
            # still waiting on the network when the grace period ended did not. (If the
            # store cannot say so now, the interruption is still what the person hears.)
            with contextlib.suppress(PortalError):
                for connection in self.store.connections():
                    last = connection.last_sync_at
                    if connection.provider in jobs and (last is None or last < started):
                        self.store.record_sync(connection, INTERRUPTED)
            raise
        for result in results:
            if isinstance(result.error, Unanswered):  # its thread, left behind, cannot say so
                with contextlib.suppress(PortalError):
                    self.store.record_sync(connections[result.provider], str(result.error))
        # What the records mean together, worked out on what this sync brought (a failed
        # sync's committed batches included): never raises, so the sync's outcome stands.
        self.understood = understand(self.store)
        self.unheld = self._verify_changes([r.provider for r in results if r.ok])
        return results

    def _verify_changes(self, providers: list[str]) -> list[str]:
        """The changes ``portal apply`` asked of ``providers`` checked against what they now
        release; never raises, so the sync's outcome stands."""
        from portal.control.apply import verify

        try:
            return verify(self, providers)
        except PortalError as error:
            log.warning("Checking the changes asked of providers failed: %s", error)
            return []

    def client(
        self, name: str, progress: SyncProgress | None = None
    ) -> ProviderClient | KeyedClient:
        """An authorised client for a connected provider, as ``fetch`` receives it."""
        connection = self.store.connection(name)
        provider = self.plugins.provider(name)
        if connection is None:
            raise NotConnected(
                f"{provider.display_name} is not connected yet.",
                hint=f"Run portal connect {name} first.",
            )
        return self._client_for(provider, connection, progress or NoProgress())

    def _client_for(
        self,
        provider: Provider,
        connection: Connection,
        progress: SyncProgress,
        tokens: TokenSet | None = None,
    ) -> ProviderClient | KeyedClient:
        if connection.endpoints:
            provider = provider.with_endpoints(connection.endpoints)
        tokens = tokens or self.vault.get(connection.id)
        if provider.credential is not None:
            return self._keyed_client(provider, connection, tokens, progress)
        provider = provider.for_connection(tokens.values if tokens else {})
        keeper = TokenKeeper(
            self.vault,
            connection.id,
            provider,
            provider.oauth.scopes,
            on_lost=lambda: self.store.set_status(connection, "needs_reconnect"),
        )
        # No tokens is an AuthError here, before a client exists: raised from inside its
        # constructor it left authlib's half-made client to fail again when collected.
        keeper.current()
        client = self._client(provider, keeper, progress)
        client.hold_answers(tokens.values if tokens else {})
        return client

    def _sync_one(
        self,
        provider: Provider,
        connection: Connection,
        progress: SyncProgress,
        stop: threading.Event | None = None,
        watch: Watch | None = None,
    ) -> SyncResult:
        try:
            _require_running_sandbox(provider, connection)
            _require_grant(provider, connection)
            if self.quotas:
                self._take_quota(provider)
            client = self._client_for(provider, connection, progress)
        except PortalError as error:  # recorded below, like any other failed sync
            result = SyncResult(provider.name, error=error)
        else:
            with client:
                cursors = Cursors(self.store.cursors(connection.id))
                result = run_sync(
                    self.plugins,
                    client.provider,
                    connection,
                    client,
                    cursors,
                    progress,
                    stop,
                    merge=self.merge_pages,
                    watch=watch,
                )
                result.retries = client.retry_transport.retries
        if watch is not None and watch.abandoned:
            # The runner already reported (and recorded) this sync as hung; a late end must
            # not overwrite that with "ok".
            return result
        try:
            self.store.record_sync(connection, "ok" if result.ok else str(result.error))
        except PortalError as error:  # the store itself failing: still report what was done
            log.warning("Could not record how the sync of %s went: %s", provider.name, error)
            result.error = result.error or error
        return result

    def _take_quota(self, provider: Provider) -> None:
        """Count this sync against the provider's declared quota, or say when the next fits."""
        if provider.quota is None:
            return
        next_at = self.store.take_sync_slot(provider.name, provider.quota)
        if next_at is None:
            return
        from portal.localtime import local

        when = local(next_at)
        today = local(datetime.now(UTC)).date()
        at = f"{when:%H:%M}" if when.date() == today else f"{when:%Y-%m-%d %H:%M}"
        quota = provider.quota
        why = f" ({quota.why})" if quota.why else ""
        raise QuotaReached(
            f"{provider.display_name} allows {quota.syncs} sync{'s' if quota.syncs != 1 else ''}"
            f" {quota.window} for this account; the next is possible at {at}{why}.",
            hint="Everything already synced is kept; run portal sync again then.",
        )

    def _transport(
        self,
        provider: Provider,
        progress: SyncProgress | None = None,
        *,
        policy: RetryPolicy | None = None,
    ) -> RetryTransport:
        def on_retry(message: str, wait: float) -> None:
            if progress is not None:
                progress.retry(provider.name, message, wait)
            else:  # connect and disconnect have no progress display: say why it is slow
                log.warning("%s Retrying in %.1f s.", message, wait)

        return RetryTransport(
            self.transport,
            policy=policy or self.retry_policy,
            allowed_hosts=provider.hosts,
            max_bytes=provider.limits.max_bytes,
            answer_seconds=provider.limits.answer_seconds,
            on_retry=on_retry,
            limiter=self._limiter(provider),
        )

    def _limiter(self, provider: Provider) -> Limiter:
        # One per provider for this Portal, so its limits hold across every client of it.
        with self._limiters_lock:
            if provider.name not in self._limiters:
                self._limiters[provider.name] = Limiter(provider.limits)
            return self._limiters[provider.name]

    def _keyed_client(
        self,
        provider: Provider,
        connection: Connection,
        tokens: TokenSet | None,
        progress: SyncProgress,
    ) -> KeyedClient:
        assert provider.credential is not None
        if tokens is None:
            raise reconnect_error(provider, "portal holds no key for it")
        values = tokens.values
        return KeyedClient(
            provider,
            provider.credential.auth(values),
            base_url=api_base(provider, values),
            transport=self._transport(provider, progress),
            files=FileStore(self.home),
            timeout=httpx.Timeout(30.0, connect=10.0),
            on_lost=lambda: self.store.set_status(connection, "needs_reconnect"),
            answers=values,
        )

    def _client(
        self, provider: Provider, keeper: TokenKeeper, progress: SyncProgress
    ) -> ProviderClient:
        transport = self._transport(provider, progress)
        client = ProviderClient(
            provider,
            keeper,
            client_id=provider.oauth.client_id,
            client_secret=provider.oauth.client_secret,
            token_endpoint=provider.oauth.token_url,
            base_url=provider.api_base,
            transport=transport,
            files=FileStore(self.home),
            timeout=httpx.Timeout(30.0, connect=10.0),
        )
        return client


def _no_refresh_token(provider: Provider, tokens: TokenSet) -> str:
    """The warning for a connect that asked for offline access and got no refresh token."""
    expires_at = tokens.expires_at
    when = ""
    if expires_at is not None:
        minutes = max(1, round((expires_at - time.time()) / 60))
        when = f" in {minutes} minute{'' if minutes == 1 else 's'}"
    return (
        f"{provider.display_name} gave no refresh token: portal will need you to connect"
        f" again when the access expires{when}."
    )


INTERRUPTED = "interrupted before it finished (everything committed so far is kept)"
"""The last sync's outcome for a provider whose sync a Ctrl-C or SIGTERM abandoned."""


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def _require_grant(provider: Provider, connection: Connection) -> None:
    """Refuse, before any request, a sync on a grant that has reached its end."""
    ends = connection.grant_expires_at
    if ends is None or ends > datetime.now(UTC):
        return
    raise GrantLapsed(
        f"{provider.display_name}'s grant to portal ended on {ends:%Y-%m-%d} (UTC), so"
        " nothing can be fetched until you renew it; everything already synced is kept.",
        hint=f"Renew it with: portal connect {provider.name} --renew",
    )


def _require_running_sandbox(provider: Provider, connection: Connection) -> None:
    """Say at once that a sandbox this connection points at is gone, rather than retry.

    A connection made by ``portal sync --demo`` or ``connect --sandbox`` points at a server
    on this machine that lived only as long as the command that started it: a refused
    connection there is final, not worth the retries a provider's network deserves.
    """
    base = connection.endpoints.get("api_base")
    if not base:
        return
    url = httpx.URL(base)
    if url.host not in LOOPBACK:
        return
    try:
        socket.create_connection((url.host, url.port or 80), timeout=2).close()
    except ConnectionRefusedError:
        raise UserError(
            f"The demo sandbox for {provider.name} is not running (nothing answers at"
            f" {url.scheme}://{url.netloc.decode()}).",
            hint="Run portal sync --demo, or connect the real provider with"
            f" portal connect {provider.name}.",
        ) from None
    except OSError:
        pass  # anything else is the sync's to find out and report


def _refuse_importer_only(provider: Provider) -> None:
    """A provider whose data comes in files has nothing to connect to or sync from."""
    if provider.importer_only:
        raise UserError(
            f"{provider.display_name} has no API to connect to: its data comes in files.",
            hint="Download the file from the provider, then run portal import FILE.",
        )
