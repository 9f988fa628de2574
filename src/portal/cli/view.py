"""``portal view``: the store as a local web app, read-only, for this browser only."""

from __future__ import annotations

import click

from portal.cli import output
from portal.cli.base import (
    cli,
    friendly_errors,
    local_server_options,
    person_zone,
    terminated_as_interrupted,
)
from portal.shown import shown


@cli.command()
@local_server_options
@click.pass_context
def view(ctx: click.Context, port: int, no_browser: bool) -> None:
    """See everything the store holds, in your browser, until Ctrl-C.

    It serves on 127.0.0.1 only, reads the store without ever writing it, and answers only
    the browser that opened the address it prints (which carries a secret for this run).
    """
    import threading

    from portal.auth.flows import open_browser
    from portal.store import Store, home_folder, store_url
    from portal.view import ViewServer

    options = ctx.obj
    with friendly_errors(options["verbose"]):
        zone = person_zone(ctx)
        store = Store(store_url(home_folder(options["home"]), options["db"]), read_only=True)
        ctx.call_on_close(store.close)
        with ViewServer(store, port=port, zone=zone) as server, terminated_as_interrupted():
            if no_browser:
                output.echo(f"Open this address in your browser:\n\n  {shown(server.login_url)}\n")
            else:
                open_browser(server.login_url)
                output.echo(f"portal view is open in your browser at {shown(server.url)}")
            output.echo("It only reads your store. Press Ctrl-C to stop it.")
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                output.echo("portal view stopped.")
