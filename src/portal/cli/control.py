"""``portal preferences`` and ``portal apply``: the person's terms, stated once, carried out
at every provider (``portal.control``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from portal.app import Portal
    from portal.control.apply import Applied


@cli.command(
    name="preferences",
    epilog="\b\nKeys: marketing.email, marketing.sms, marketing.phone, marketing.post,"
    "\nprofiling, third_party_marketing. Values: yes, no, unset.",
)
@click.argument("settings", nargs=-1, metavar="[KEY=yes|no|unset]...")
@click.option("--json", "as_json", is_flag=True, help="Print them as JSON (for scripts).")
@click.pass_context
def preferences_command(ctx: click.Context, settings: tuple[str, ...], as_json: bool) -> None:
    """State how every provider may treat you, once: marketing by channel, personalised
    offers and profiling, sharing your data with other companies for their marketing.

    Without arguments, show them and what each connected provider releases of them.
    `portal apply` then asks every provider for the difference.
    """
    from portal.control import preferences as prefs

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        if settings:
            portal.store.writable()
            prefs.state(portal.store.engine, prefs.parse(settings), datetime.now(UTC))
        stated = prefs.stated(portal.store.engine)
        if as_json:
            output.echo(json.dumps({"preferences": stated}, indent=2, sort_keys=True))
            return
        _show(portal, stated)


def _show(portal: Portal, stated: dict[str, bool]) -> None:
    from portal.control.changes import PREFERENCES, WORDS
    from portal.control.preferences import released
    from portal.record.model import Consent

    console = output.console()
    providers = [c.provider for c in portal.store.connections()]
    names = [portal.plugins.provider(name).display_name for name in providers]
    table = output.table("Preference", "You", *names)
    releases = {name: released(portal.store.rows(Consent, name)) for name in providers}
    for key in PREFERENCES:
        yours = {True: "yes", False: "no"}.get(stated.get(key), "(not stated)")  # type: ignore[arg-type]
        cells = []
        for name in providers:
            now = releases[name].get(key)
            cells.append(
                "(not released)"
                if now is None
                else {True: "yes", False: "no"}.get(now.allowed, "?")  # type: ignore[arg-type]
            )
        table.add_row(f"{WORDS[key]} ({key})", yours, *cells)
    console.print(table)
    if not stated:
        output.line(console, "State one with: portal preferences marketing.email=no")
    else:
        output.line(console, "Ask every provider for the difference with: portal apply")


def _said(allowed: bool | None, otherwise: str) -> str:
    return otherwise if allowed is None else "yes" if allowed else "no"


@cli.command(name="apply")
@click.argument("providers", nargs=-1, metavar="[PROVIDER]...")
@click.option("--dry-run", is_flag=True, help="Say what would be asked, and ask nothing.")
@click.option(
    "--withdraw",
    "withdraw",
    metavar="CONSENT_ID",
    help="Withdraw this data-sharing consent (the provider's id of it, as portal view's"
    " consents page and portal export list it) at"
    " the one provider named, instead of applying your preferences.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON (for scripts).")
@click.pass_context
def apply_command(
    ctx: click.Context,
    providers: tuple[str, ...],
    dry_run: bool,
    as_json: bool,
    withdraw: str | None,
) -> None:
    """Ask every connected provider (or those named) to hold your preferences.

    For each provider and preference it prints what happened: applied, already so, not
    supported (and what you can do instead), refused (and the provider's reason), or could
    not ask. The next `portal sync` checks that what a provider said it applied is what it
    now releases, and says so where it is not.
    """
    from portal.control.apply import apply_preferences
    from portal.control.preferences import stated

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        if not dry_run:
            portal.store.writable()
        if withdraw is not None:
            done = [_withdraw(portal, providers, withdraw, dry_run)]
        elif not stated(portal.store.engine):
            from portal.errors import UserError

            raise UserError(
                "You have stated no preferences yet, so there is nothing to apply.",
                hint="State them first, e.g. portal preferences marketing.email=no profiling=no",
            )
        else:
            done = apply_preferences(portal, providers or None, dry_run=dry_run)
        if as_json:
            output.echo(json.dumps({"changes": [_as_json(a) for a in done]}, indent=2))
            return
        _print(portal, done, dry_run)


def _withdraw(portal: Portal, providers: tuple[str, ...], consent: str, dry_run: bool) -> Applied:
    """Ask the one provider named to withdraw ``consent`` (``portal apply --withdraw``)."""
    from portal.control.apply import Applied, ask
    from portal.control.changes import CONSENT, Change, ChangeResult, Outcome
    from portal.errors import UserError

    if len(providers) != 1:
        raise UserError(
            "--withdraw needs the one provider that holds the consent.",
            hint="For example: portal apply bank --withdraw CONSENT_ID",
        )
    provider = portal.plugins.provider(providers[0])
    if providers[0] not in {c.provider for c in portal.store.connections()}:
        from portal.errors import NotConnected

        raise NotConnected(
            f"{provider.display_name} is not connected.", hint="portal status lists connections."
        )
    change = Change(CONSENT, False, consent=consent)
    if dry_run:
        result = ChangeResult(Outcome.applied, detail="would be asked (dry run)")
    else:
        result = ask(portal, provider, change)
    return Applied(provider.name, CONSENT, False, change, result)


def _as_json(applied: Applied) -> dict[str, object]:
    return {
        "provider": applied.provider,
        "preference": applied.key,
        "allow": applied.allow,
        "outcome": applied.result.outcome.value,
        "detail": applied.result.detail,
        "instead": applied.result.instead,
    }


def _print(portal: Portal, done: list[Applied], dry_run: bool) -> None:
    from portal.control.changes import OUTCOME_WORDS, WORDS

    console = output.console()
    table = output.table("Provider", "Preference", "Asked", "Answer", "Why, or what you can do")
    for applied in done:
        name = portal.plugins.provider(applied.provider).display_name
        mark = OUTCOME_WORDS[applied.result.outcome]
        if dry_run and applied.change is not None:
            mark = "would ask"
        note = applied.result.instead or applied.result.detail
        table.add_row(
            name,
            WORDS[applied.key],
            "yes" if applied.allow else "no",
            mark,
            shown(note, limit=300) if note and not dry_run else "",
        )
    console.print(table)
    asked = sum(1 for a in done if a.change is not None)
    if dry_run:
        output.line(console, f"{asked} changes would be asked. Run portal apply to ask them.")
    elif asked:
        output.line(console, "The next portal sync checks that each provider now releases it.")


@cli.command(name="receipts")
@click.option("--provider", metavar="NAME", help="Only the receipts of this provider.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print every receipt whole, as Kantara's JSON."
)
@click.pass_context
def receipts_command(ctx: click.Context, provider: str | None, as_json: bool) -> None:
    """List your consent receipts: every grant portal obtained, every change it made at a
    provider for you, every share you made, in the fields of the Kantara Consent Receipt
    specification (who, what data, which purpose, when, how, until when)."""
    from portal.control.receipts import receipts
    from portal.localtime import MOMENT, local

    with friendly_errors(ctx.obj["verbose"]):
        zone = person_zone(ctx)
        portal = _open(ctx)
        found = receipts(portal.store.engine, provider)
        if as_json:
            # json.dumps escapes every control and non-ASCII character: the text is safe.
            output.echo(json.dumps({"receipts": found}, indent=2))
            return
        console = output.console()
        if not found:
            output.line(console, "No receipts yet: portal connect and portal apply make them.")
            return
        table = output.table("When", "Kind", "Who", "Purpose", "Until", "Receipt")
        for receipt in found:
            [service] = receipt["services"]
            [purpose] = service["purposes"]
            when = datetime.fromtimestamp(receipt["consentTimestamp"], UTC)
            table.add_row(
                f"{local(when, zone):{MOMENT}}",
                receipt["portal"]["kind"],
                receipt["piiControllers"][0]["piiController"],
                purpose["purpose"],
                purpose["termination"],
                receipt["consentReceiptID"],
            )
        console.print(table)
        output.line(console, "Every field of each: portal receipts --json")
