"""``portal report``: the single view as one static HTML file, to keep or print."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from portal.cli import output
from portal.cli.base import cli, friendly_errors, person_zone
from portal.shown import shown

if TYPE_CHECKING:
    from portal.store import Store


@cli.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The HTML file to write (replaced if it exists).",
)
@click.option(
    "--provider",
    "providers",
    multiple=True,
    metavar="NAME",
    help="Only this provider's records (repeat for more) [default: every provider].",
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Only dated records (transactions, bills, usage, orders...) from this day on.",
)
@click.pass_context
def report(
    ctx: click.Context, out: Path, providers: tuple[str, ...], since: datetime | None
) -> None:
    """Write everything the store holds as one HTML file you can archive or print.

    The same pages as portal view, in one document with a table of contents. The file
    runs no script and never loads anything from anywhere (its own security policy forbids
    it), so it can be opened on any computer, online or not. The store is only read.

    \b
    Example:
      portal report --out my-data.html
      portal report --provider bank --since 2026-01-01 --out bank-2026.html
    """
    from portal.store import Store, home_folder, store_url
    from portal.view.report import build, write

    options = ctx.obj
    with friendly_errors(options["verbose"]):
        store = Store(store_url(home_folder(options["home"]), options["db"]), read_only=True)
        ctx.call_on_close(store.close)
        chosen = frozenset(providers) if providers else None
        if chosen is not None:
            _check_providers(store, chosen)
        html = build(
            store,
            datetime.now(UTC),
            providers=chosen,
            since=since.date() if since else None,
            zone=person_zone(ctx),
        )
        size = write(out, html)
        output.echo(f"Wrote the report to {shown(out.resolve())} ({_size(size)}).")


def _check_providers(store: Store, chosen: frozenset[str]) -> None:
    from portal.errors import UserError

    held = set(store.counts()) | {c.provider for c in store.connections()}
    unknown = sorted(chosen - held)
    if unknown:
        raise UserError(
            f"The store holds nothing from {', '.join(repr(n) for n in unknown)}.",
            hint=f"It holds: {', '.join(sorted(held)) or 'nothing yet'}."
            " Name one of those with --provider.",
        )


def _size(count: int) -> str:
    if count < 1000:
        return f"{count} bytes"
    if count < 1_000_000:
        return f"{count / 1000:.1f} kB"
    return f"{count / 1_000_000:.1f} MB"
