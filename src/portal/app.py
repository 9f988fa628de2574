"""``Portal``: one user's portal home — store, vault and plugins — and what can be done with it.

The CLI is a thin layer over this object, and tests and plugin authors use it the same way.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from portal.auth.device import ShowCode
from portal.auth.flows import Browser, OAuthHelpers, open_browser, revoke
from portal.auth.refresh import TokenKeeper
from portal.auth.tokens import TokenSet
from portal.auth.vault import Vault, open_vault
from portal.engine.runner import Job, run_all
from portal.engine.sync import NoProgress, SyncProgress, SyncResult, run_sync
from portal.engine.watch import Unanswered, Watch
from portal.errors import AuthError, ConfigError, NotConnected, UserError
from portal.http import ProviderClient, RetryPolicy, RetryTransport
from portal.limits import Limiter
from portal.plugins import Plugins
from portal.provider import Cursors, Provider
from portal.record.tables import Connection
from portal.store import Store, StoreDestination, default_home, sqlite_url

log = logging.getLogger(__name__)


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
        home = home or Path(os.environ.get("PORTAL_HOME") or default_home())
        if plugins_dir is None and os.environ.get("PORTAL_PLUGINS_DIR"):
            plugins_dir = Path(os.environ["PORTAL_PLUGINS_DIR"])
        home.mkdir(mode=0o700, parents=True, exist_ok=True)  # a life's records: owner only
        store = Store(db or os.environ.get("PORTAL_DB") or sqlite_url(home / "portal.db"))
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
    ) -> Connection:
        """Run the provider's authenticate hook and keep the tokens in the vault.

        ``device`` asks for the device authorization grant (a code to approve on another
        device) instead of a browser on this machine.
        """
        provider = self._provider(name, endpoints)
        oauth = OAuthHelpers(
            provider,
            browser=browser,
            timeout=timeout,
            transport=self._transport(provider),
            flow="device" if device else "browser",
        )
        if show_code is not None:
            oauth.show_code = show_code
        tokens: TokenSet | None = self.plugins.caller(name, "authenticate")(
            provider=provider, oauth=oauth
        )
        if tokens is None:
            raise ConfigError(f"No plugin could authenticate {name!r}.")
        existing = self.store.connection(name)
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
        self.vault.put(connection.id, tokens)
        self.store.save_connection(connection)
        return connection

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

    def disconnect(self, name: str, *, delete_data: bool = False) -> list[str]:
        """Revoke the provider's tokens (RFC 7009) and forget them; optionally its records.

        The tokens are deleted here even if the provider cannot be reached; what could not
        be revoked at the provider is returned, so the user can be told.
        """
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
        failures: list[str] = []
        if tokens is not None:
            # A few quick tries: the tokens are deleted here whatever the provider says, and
            # the user is told to check the provider's settings if it did not confirm.
            quick = RetryPolicy(attempts=3, initial_wait=0.2, max_wait=1.0)
            transport = self._transport(provider, policy=self.retry_policy or quick)
            with OAuthHelpers(provider, transport=transport)._client("") as client:
                failures = revoke(client, provider, tokens)
        self.vault.delete(connection.id)
        self.store.delete_connection(connection, delete_data=delete_data)
        return failures

    # -- sync --------------------------------------------------------------------------

    def sync(
        self, names: Iterable[str] | None = None, *, progress: SyncProgress | None = None
    ) -> list[SyncResult]:
        """Sync the named providers (default: every connected one), all at once.

        Each provider syncs in its own thread (``portal.engine.runner``); a Ctrl-C stops
        them all after their current page and is raised again.
        """
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
        results = run_all(jobs)
        for result in results:
            if isinstance(result.error, Unanswered):  # its thread, left behind, cannot say so
                self.store.record_sync(connections[result.provider], str(result.error))
        return results

    def client(self, name: str, progress: SyncProgress | None = None) -> ProviderClient:
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
        self, provider: Provider, connection: Connection, progress: SyncProgress
    ) -> ProviderClient:
        if connection.endpoints:
            provider = provider.with_endpoints(connection.endpoints)
        keeper = TokenKeeper(
            self.vault,
            connection.id,
            provider,
            provider.oauth.scopes,
            on_lost=lambda: self.store.set_status(connection, "needs_reconnect"),
        )
        return self._client(provider, keeper, progress)

    def _sync_one(
        self,
        provider: Provider,
        connection: Connection,
        progress: SyncProgress,
        stop: threading.Event | None = None,
        watch: Watch | None = None,
    ) -> SyncResult:
        try:
            client = self._client_for(provider, connection, progress)
        except AuthError as error:
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
        self.store.record_sync(connection, "ok" if result.ok else str(result.error))
        return result

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
            timeout=httpx.Timeout(30.0, connect=10.0),
        )
        return client


def _refuse_importer_only(provider: Provider) -> None:
    """A provider whose data comes in files has nothing to connect to or sync from."""
    if provider.importer_only:
        raise UserError(
            f"{provider.display_name} has no API to connect to: its data comes in files.",
            hint="Download the file from the provider, then run portal import FILE.",
        )
