"""``portal config``: the person's settings, kept in their home (``portal.settings``)."""

from __future__ import annotations

import click

from portal.cli import output
from portal.cli.base import cli, friendly_errors
from portal.shown import shown


@cli.command(name="config")
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--unset", is_flag=True, help="Forget the setting NAME: its default applies again.")
@click.pass_context
def config(ctx: click.Context, name: str | None, value: str | None, unset: bool) -> None:
    """Show your settings, or keep one: portal config timezone Europe/London.

    \b
    Settings:
      timezone  The time zone times are shown in (an IANA name). --tz and
                PORTAL_TZ override it; unset, this computer's zone is used.
      name      How your consent receipts name you (portal receipts); unset,
                they say "the person who holds this portal home".
    """
    from portal import localtime, settings
    from portal.store import home_folder

    if unset and (name is None or value is not None):
        raise click.UsageError("--unset takes the NAME of one setting and no VALUE.")
    home = home_folder(ctx.obj["home"])
    with friendly_errors(ctx.obj["verbose"]):
        if name is not None:
            settings.known(name)
        if name is not None and (value is not None or unset):
            settings.write(home, name, None if unset else value)
        # Each setting as it applies now, which may not be what the file keeps (--tz, ...).
        zone, source = localtime.zone_and_source(home, ctx.obj["tz"])
        kept = settings.read(home)
        named = ("set with portal config", kept["name"]) if "name" in kept else None
        applied = {
            "timezone": (zone.key, source),
            "name": (named[1], named[0]) if named else ("(not set)", "receipts name no one"),
        }
        for setting, (about, _) in settings.SETTINGS.items():
            if name in (None, setting):
                value_now, source = applied[setting]
                output.echo(f"{setting}: {shown(value_now)} ({shown(source)})")
                output.echo(f"  {about}")
