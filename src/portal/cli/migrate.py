"""``portal migrate``: bring the store's schema up to this portal's, after a backup."""

from __future__ import annotations

import click

from portal.cli import output
from portal.cli.base import cli, friendly_errors
from portal.shown import shown


@cli.command()
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Migrate a store an earlier portal wrote, so this one can read and write it.

    The store is copied to <store>.before-<revision>.bak first, then migrated in one
    transaction: if a value cannot be converted, the store is left as it was and the error
    names the table, column and row. Every command that writes the store (portal sync,
    portal status) migrates it first too; portal view, which only reads, asks for this.
    """
    from portal.store import Store, home_folder, store_url

    options = ctx.obj
    with friendly_errors(options["verbose"]):
        store = Store(store_url(home_folder(options["home"]), options["db"]))
        ctx.call_on_close(store.close)
        done = store.migrated
        if done is None:
            output.echo(f"The store at {shown(store.url)} is already up to date.")
            return
        before = done.before or "written before schema versions"
        output.echo(
            f"Migrated the store at {shown(store.url)} ({before}) to revision {done.after}."
        )
        if done.backup is not None:
            output.echo(f"The store as it was is kept at {shown(str(done.backup))}.")
