"""``portal browse``: the store in Datasette (the optional ``browse`` extra), read-only."""

from __future__ import annotations

import click

from portal.cli import output
from portal.cli.base import cli, friendly_errors, local_server_options, terminated_as_interrupted
from portal.shown import shown


@cli.command()
@local_server_options
@click.pass_context
def browse(ctx: click.Context, port: int, no_browser: bool) -> None:
    """Explore the store with SQL and facets in Datasette, until Ctrl-C.

    Needs the browse extra: pip install 'portal-core[browse]'. Every table and column is titled
    and described from the record model. Datasette opens the store immutable (SQLite
    refuses any write) and listens on 127.0.0.1 only, but it has no secret of its own:
    while it runs, any program on this computer can read the store through it. Use
    portal view for the secret-guarded view. It shows the store as it was when it started.

    \b
    Example:
      portal browse
      portal browse --no-browser --port 8001
    """
    import tempfile
    from pathlib import Path

    from portal.auth.flows import open_browser
    from portal.browse import (
        Datasette,
        being_written,
        free_port,
        require_datasette,
        store_file,
    )
    from portal.errors import ConfigError
    from portal.store import Store, home_folder, store_url

    options = ctx.obj
    with friendly_errors(options["verbose"]):
        require_datasette()
        url = store_url(home_folder(options["home"]), options["db"])
        database = store_file(url)
        Store(url, read_only=True).close()  # a missing or damaged store is said plainly here
        if being_written(database):
            output.echo(
                "Note: portal is writing the store right now (a sync?). Datasette shows it as"
                " it was before; run portal browse again once that is done to see everything."
            )
        with tempfile.TemporaryDirectory(prefix="portal-browse-") as folder:
            datasette = Datasette(database, free_port(port), Path(folder))
            with terminated_as_interrupted():
                try:
                    datasette.start()
                    if no_browser:
                        output.echo(
                            f"Open this address in your browser:\n\n  {shown(datasette.url)}\n"
                        )
                    else:
                        open_browser(datasette.url)
                        output.echo(f"Datasette is open in your browser at {shown(datasette.url)}")
                    output.echo(
                        "It only reads your store, and has no secret: any program on this"
                        " computer can read it while it runs. Press Ctrl-C to stop it."
                    )
                    code = datasette.wait()
                    if code != 0:  # it ended by itself: say so, rather than end quietly
                        raise ConfigError(
                            f"Datasette stopped by itself (exit code {code}).",
                            hint="Its own message is above; start portal browse again.",
                        )
                except KeyboardInterrupt:
                    output.echo("portal browse stopped.")
                finally:
                    datasette.stop()
