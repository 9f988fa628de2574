"""Every error portal raises, sorted by what the engine does with it.

    PortalError                  a message a person can read, and a hint for what to do next
    ├── UserError                fatal: the user asked for something that cannot be done
    │   ├── UnknownProvider      no installed plugin offers that provider
    │   ├── NotConnected         the provider has no connection yet
    │   ├── QuotaReached         the provider's declared syncs for now are used up
    │   └── BadFile              a file to import is unreadable, named with its line (filereaders)
    ├── ConfigError              fatal: a plugin or the configuration is broken
    │   └── StoreError           the store is read-only, in use, or damaged (one subclass each)
    │       └── StoreSchema      its schema is older or newer than this portal's, or stuck
    ├── AuthError                fatal: the provider refused the credentials; connect again
    ├── ProviderError            fatal for this provider's sync: it answered something unusable
    │   ├── RetryableError       retried by the HTTP client (with ``retry_after``), then fatal
    │   ├── TokenResponseError   a token answer with absurd values, refused (auth.tokens)
    │   └── Unanswered           a plugin's hook did not return in time (engine.watch)
    ├── SkippableError           raised in ``normalise``: becomes a Rejection, the sync goes on
    └── Interrupted              stopped (Ctrl-C, SIGTERM); what was committed stays

The CLI maps each branch to one exit code in one place (``portal.cli.ExitCode``).
Nothing here carries a secret: messages are built from provider names, URLs without
query strings and status codes only.
"""

from __future__ import annotations


class PortalError(Exception):
    """Base of every error portal raises on purpose.

    ``message`` is one sentence saying what went wrong; ``hint`` says what to do next.
    """

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UserError(PortalError):
    """The user asked for something that cannot be done as asked."""


class UnknownProvider(UserError):
    """No installed plugin offers the provider that was named."""


class NotConnected(UserError):
    """The provider is installed but has not been connected yet."""


class QuotaReached(UserError):
    """The provider's declared quota of syncs is used up for now (``Provider.quota``)."""


class ConfigError(PortalError):
    """A plugin, its declaration or portal's configuration is broken."""


class AuthError(PortalError):
    """The provider refused or lost the credentials: the user must connect again."""


class GrantLapsed(AuthError):
    """The grant a provider gave portal has reached its end (an Open Banking consent after
    90 or 180 days): nothing can be fetched until the person renews it; nothing is lost."""


class ProviderError(PortalError):
    """The provider answered with something portal cannot use (bad status, invalid JSON)."""


class RetryableError(ProviderError):
    """A transient failure worth another try, after ``retry_after`` seconds if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str = "") -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after


class SkippableError(PortalError):
    """One raw item cannot be normalised; it becomes a Rejection with this message."""


class Interrupted(PortalError):
    """The user stopped a sync; every page committed before the stop is kept."""


class StoreError(ConfigError):
    """The store cannot be used as it is: read-only, in use by another program, or damaged."""


class StoreReadOnly(StoreError):
    """The store's file (or its folder) cannot be written, and the command has to write."""


class StoreBusy(StoreError):
    """Another process held the store's write lock for longer than portal waits."""


class StoreCorrupt(StoreError):
    """The store's file is not a SQLite database, or SQLite found it damaged."""


class StoreSchema(StoreError):
    """The store's schema is not this portal's: written by an earlier portal and not yet
    migrated (where it can only be read), by a later one, or a migration stopped on a value
    it could not convert (and left the store as it was)."""
