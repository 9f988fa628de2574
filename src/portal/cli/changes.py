"""``portal changes``: what changed in what providers release, in words, newest first."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from portal.understand.change_words import Change


@cli.command(name="changes")
@click.option(
    "--since",
    metavar="DATE",
    help="Only what changed after DATE (YYYY-MM-DD, from its first moment in your time zone,"
    " or YYYY-MM-DDTHH:MM[:SS][+HH:MM]).",
)
@click.option("--provider", metavar="NAME", help="Only what changed at this provider.")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (for scripts).")
@click.pass_context
def changes_command(
    ctx: click.Context, since: str | None, provider: str | None, as_json: bool
) -> None:
    """List what changed in what your providers release: new inferences, permissions turned
    on or off, recipients added to or removed from a processing notice, prices and tariffs,
    your details, and records a provider no longer releases (portal keeps them all).

    What each provider's first sync brought is where its history starts.
    """
    from portal.errors import UserError
    from portal.understand.history import changes

    with friendly_errors(ctx.obj["verbose"]):
        zone = person_zone(ctx)
        moment = None if since is None else _moment(since, zone)
        portal = _open(ctx)
        names = {name: p.display_name for name, p in portal.plugins.providers.items()}
        if provider is not None:
            known = {c.provider for c in portal.store.connections()} | set(names)
            if provider not in known:
                raise UserError(
                    f"No provider is named {shown(provider)!r}.",
                    hint="portal status lists the connected providers.",
                )
        found = changes(portal.store.engine, since=moment, provider=provider, names=names)
        if as_json:
            # json.dumps escapes every control and non-ASCII character: the text is inert.
            output.echo(json.dumps([c.as_json() for c in found], indent=2))
            return
        if not found:
            output.echo("Nothing changed" + (f" since {since}." if since else "."))
            return
        _print(found, names, zone)


def _print(found: list[Change], names: dict[str, str], zone: ZoneInfo) -> None:
    """Per provider (the one with the latest change first), each change newest first."""
    from portal.localtime import local

    order: list[str] = []
    for change in found:
        if change.provider not in order:
            order.append(change.provider)
    for n, name in enumerate(order):
        if n:
            output.echo()
        output.echo(shown(names.get(name, name)))
        for change in (c for c in found if c.provider == name):
            when = local(change.at, zone)
            output.echo(f"  {when.day:>2} {when:%b %Y}  {change.words}")


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """``--since`` as an aware moment: a date is its first moment in the person's zone."""
    from portal.errors import UserError

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"--since {shown(text)!r} is neither a date nor a moment.",
            hint="Give a date as YYYY-MM-DD, or a moment as YYYY-MM-DDTHH:MM.",
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
