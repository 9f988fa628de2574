"""``portal apply``: the person's preferences carried out at every connected provider.

For each provider, ``plan`` (``portal.control.preferences``) compares the preferences with
the permissions it releases; each difference is asked of it through the plugin's
``apply_change`` hook, with the engine's authorised client, retried after a connection
error or a retryable answer as a fetch's requests are. Every change asked is kept in
``asked_changes`` with the answer; after the next sync of that provider, ``verify`` checks
that it releases what it said it applied, and names each change it did not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select, update
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from portal.control.changes import CONSENT, WORDS, Change, ChangeResult, Outcome
from portal.control.preferences import Planned, plan, released, stated
from portal.control.tables import AskedChange
from portal.errors import PortalError, RetryableError
from portal.record.model import Consent
from portal.shown import shown

if TYPE_CHECKING:
    from portal.app import Portal
    from portal.provider import Provider

ATTEMPTS = 3
"""Calls of the hook at most, for one change (it is idempotent)."""
FIRST_WAIT = 0.5
"""Seconds before the second call; doubled before the third. (Each request in a call is
retried by the client as well, honouring Retry-After.)"""
NOT_SUPPORTED = (
    "Ask {name} directly: its privacy notice names the contact for data protection requests"
    " (portal show processing --provider {provider} lists what it released of it)."
)
"""What a person can do where a provider declares no way to make a change and no words of
its own (``Provider.write_instead``)."""


@dataclass(frozen=True)
class Applied:
    """One preference at one provider: the change asked (None: already so) and the answer."""

    provider: str
    key: str
    allow: bool
    change: Change | None
    result: ChangeResult


def apply_preferences(
    portal: Portal, names: Iterable[str] | None = None, *, dry_run: bool = False
) -> list[Applied]:
    """Compare the stated preferences with every connected provider (or those named) and
    ask each for the difference; with ``dry_run``, only say what would be asked."""
    preferences = stated(portal.store.engine)
    connections = {c.provider: c for c in portal.store.connections()}
    wanted = list(names) if names else sorted(connections)
    done: list[Applied] = []
    for name in wanted:
        provider = portal.plugins.provider(name)
        if name not in connections:
            from portal.errors import NotConnected

            raise NotConnected(
                f"{provider.display_name} is not connected.",
                hint="portal status lists connections.",
            )
        consents = portal.store.rows(Consent, name)
        for planned in plan(preferences, released(consents)):
            done.append(_one(portal, provider, planned, dry_run))
    return done


def _one(portal: Portal, provider: Provider, planned: Planned, dry_run: bool) -> Applied:
    if planned.change is None:
        return Applied(
            provider.name, planned.key, planned.allow, None, ChangeResult(Outcome.already)
        )
    if dry_run:
        result = ChangeResult(Outcome.applied, detail="would be asked (dry run)")
        return Applied(provider.name, planned.key, planned.allow, planned.change, result)
    result = ask(portal, provider, planned.change)
    return Applied(provider.name, planned.key, planned.allow, planned.change, result)


def ask(portal: Portal, provider: Provider, change: Change) -> ChangeResult:
    """Ask ``provider`` for ``change`` through its plugin, record it, return the answer."""
    instead = provider.write_instead or NOT_SUPPORTED.format(
        name=provider.display_name, provider=provider.name
    )
    if change.key not in provider.writes:
        result = ChangeResult(Outcome.not_supported, instead=instead)
    else:
        try:
            result = _call(portal, provider, change) or ChangeResult(
                Outcome.not_supported, instead=instead
            )
        except PortalError as error:
            result = ChangeResult(Outcome.failed, detail=error.message)
        except httpx.HTTPError as error:  # still unreachable after the retries
            # Its type only: an httpx error quotes the URL, which may carry a credential.
            result = ChangeResult(
                Outcome.failed,
                detail=f"{provider.display_name} could not be reached"
                f" ({type(error).__name__}); nothing is known to have changed.",
            )
    _record(portal, provider.name, change, result)
    if result.outcome is Outcome.applied:
        from portal.control import receipts

        principal = receipts.principal(portal.home)
        receipts.keep(portal.store.engine, receipts.for_change(provider, principal, change, result))
    return result


def _call(portal: Portal, provider: Provider, change: Change) -> ChangeResult | None:
    hook = portal.plugins.caller(provider.name, "apply_change")
    retrying = Retrying(
        retry=retry_if_exception_type((httpx.TransportError, RetryableError)),
        stop=stop_after_attempt(ATTEMPTS),
        wait=wait_exponential(multiplier=FIRST_WAIT, max=5),
        reraise=True,
    )
    for attempt in retrying:
        with attempt, portal.client(provider.name) as client:
            answer = hook(provider=provider, client=client, change=change)
            if answer is not None and not isinstance(answer, ChangeResult):
                raise PortalError(
                    f"The plugin of {provider.display_name} answered {type(answer).__name__}"
                    " to a change, not a ChangeResult."
                )
            return answer
    return None  # pragma: no cover - Retrying either returns or raises


def _record(portal: Portal, provider: str, change: Change, result: ChangeResult) -> None:
    table = AskedChange.__table__  # type: ignore[attr-defined]
    with portal.store.engine.begin() as db:
        db.execute(
            table.insert().values(
                provider=provider,
                key=change.key,
                allow=change.allow,
                consent=change.consent,
                outcome=result.outcome.value,
                detail=result.detail,
                instead=result.instead,
                asked_at=datetime.now(UTC),
            )
        )


def verify(portal: Portal, providers: Iterable[str]) -> list[str]:
    """After a sync: check each change ``providers`` said they applied against what they now
    release; return a sentence for each they still release otherwise."""
    table = AskedChange.__table__  # type: ignore[attr-defined]
    said: list[str] = []
    now = datetime.now(UTC)
    for name in providers:
        with portal.store.engine.connect() as db:
            pending = list(
                db.execute(
                    select(table).where(
                        table.c.provider == name,
                        table.c.outcome == Outcome.applied.value,
                        table.c.held.is_not(True),
                    )
                )
            )
        if not pending:
            continue
        consents = list(portal.store.rows(Consent, name))  # read twice below
        releases = released(consents)
        display = portal.plugins.provider(name).display_name
        with portal.store.engine.begin() as db:
            for row in pending:
                if row.key == CONSENT:
                    states = {str(c["state"]) for c in consents if c["provider_id"] == row.consent}
                    held = bool(states) and states <= {"withdrawn", "expired", "declined"}
                    silent = not states
                else:
                    now_released = releases.get(row.key)
                    held = now_released is not None and now_released.allowed is row.allow
                    silent = now_released is None
                db.execute(
                    update(table).where(table.c.id == row.id).values(checked_at=now, held=held)
                )
                if not held:
                    what = (
                        f"the withdrawal of consent {row.consent}"
                        if row.key == CONSENT
                        else f"{WORDS[row.key]}: {'yes' if row.allow else 'no'}"
                    )
                    now_said = (
                        "now releases nothing about it, so it cannot be checked"
                        if silent
                        else "still releases the earlier state"
                    )
                    said.append(
                        shown(
                            f"{display} said it applied {what} on {row.asked_at:%Y-%m-%d},"
                            f" but {now_said}."
                        )
                    )
    return said
