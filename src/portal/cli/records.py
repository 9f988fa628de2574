"""Commands about the record: providers, sync, status, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from portal.engine.sync import SyncResult
    from portal.store import Store

from portal.cli.base import (
    _open,
    _stderr,
    cli,
    exit_code_for,
    friendly_errors,
    terminated_as_interrupted,
)


@cli.command()
@click.pass_context
def providers(ctx: click.Context) -> None:
    """List the installed providers, their sector and the data they hold."""
    from rich.console import Console
    from rich.table import Table

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        table = Table("Provider", "Name", "Sector", "Data it holds", "Sandbox")
        for name, provider in sorted(portal.plugins.providers.items()):
            inventory = ", ".join(item.category.value for item in provider.inventory)
            table.add_row(
                name,
                provider.display_name,
                provider.sector.value,
                inventory,
                "yes" if provider.sandbox else "no",
            )
        console = Console()
        if portal.plugins.providers:
            console.print(table)
        else:
            console.print(
                "No providers installed. Install a plugin, e.g. pip install -e plugins/bank."
            )
        for problem in portal.plugins.problems:
            _stderr().print(f"[yellow]Warning:[/] {problem}")


@cli.command()
@click.argument("providers", nargs=-1)
@click.option(
    "--demo",
    is_flag=True,
    help="Start the bundled sandbox providers in-process, connect through the real OAuth flow,"
    " and sync.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def sync(
    ctx: click.Context, providers: tuple[str, ...], demo: bool, quiet: bool, as_json: bool
) -> None:
    """Fetch what is new from each connected provider (or just PROVIDERS) into the store."""
    from portal.progress import RichProgress

    with friendly_errors(ctx.obj["verbose"]), terminated_as_interrupted():
        portal = _open(ctx)
        if not demo and not providers and not portal.store.connections():
            from portal.errors import UserError

            raise UserError(
                "No provider is connected yet.",
                hint="Run portal connect NAME, or portal sync --demo to try the sandboxes.",
            )
        with RichProgress(_stderr(), enabled=not (quiet or as_json)) as progress:
            if demo:
                from portal.demo import demo_sync

                results = demo_sync(portal, providers or None, progress=progress)
            else:
                results = portal.sync(providers or None, progress=progress)
        _report(results, portal.store, quiet, as_json)
        failures = [r.error for r in results if r.error is not None]
        if failures:
            sys.exit(exit_code_for(failures[0]))


def _report(results: list[SyncResult], store: Store, quiet: bool, as_json: bool) -> None:
    from rich.console import Console

    from portal.errors import PortalError
    from portal.record import CATEGORY_LABELS

    if as_json:
        click.echo(
            json.dumps(
                {
                    "store": store.url,
                    "providers": [
                        {
                            "provider": r.provider,
                            "ok": r.ok,
                            "items": r.items,
                            "records": r.records,
                            "new": r.new,
                            "changed": r.changed,
                            "unchanged": r.unchanged,
                            "rejected": r.rejected,
                            "pages": r.pages,
                            "retries": r.retries,
                            "streams": {k: vars(c) for k, c in sorted(r.streams.items())},
                            "seconds": round(r.seconds, 3),
                            "error": None if r.error is None else str(r.error),
                        }
                        for r in results
                    ],
                },
                indent=2,
            )
        )
        return
    for r in results:
        if r.error is not None:
            message = (
                r.error.message
                if isinstance(r.error, PortalError)
                else f"{type(r.error).__name__}: {r.error}"
            )
            hint = r.error.hint if isinstance(r.error, PortalError) else "Run with -v for details."
            click.echo(f"Error: {r.provider}: {message}", err=True)
            if hint:
                click.echo(hint, err=True)
    if quiet:
        return
    columns = {
        r.provider + ("" if r.ok else " (failed)"): {
            **{
                c: _fetched(r, c) if store.tells_changes else r.records.get(c, 0)
                for c in CATEGORY_LABELS
            },
            "rejected": r.rejected,
            "pages": r.pages,
            "time": f"{r.seconds:.1f}s",
        }
        for r in results
    }
    table = _entity_table("Fetched this run", columns)
    Console().print(table)
    click.echo(f"Store: {store.url}")


def _fetched(result: SyncResult, category: str) -> str | int:
    """What a category's records were to the store: "3 new, 1 changed, 996 unchanged"."""
    fetched = result.records.get(category, 0)
    if not fetched:
        return fetched
    counts = [result.new, result.changed, result.unchanged]
    new, changed, unchanged = (count.get(category, 0) for count in counts)
    parts = [(new, "new"), (changed, "changed"), (unchanged, "unchanged")]
    # A failed sync fetched some it never committed (its error says why).
    parts.append((fetched - new - changed - unchanged, "not stored"))
    return ", ".join(f"{count} {what}" for count, what in parts if count)


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show each connection, its last sync, and what the store holds."""
    from rich.console import Console
    from rich.table import Table

    from portal.record import CATEGORY_LABELS
    from portal.shown import shown

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        portal.store.check()
        console = Console()
        counts = portal.store.counts()
        connections = portal.store.connections()
        if not connections:
            console.print(
                "No provider is connected yet. Run portal connect NAME, or portal sync --demo."
            )
        table = Table(
            "Provider",
            "Status",
            "Scopes granted",
            "Granted",
            "Grant expires",
            "Last sync",
            title="Connections",
            title_justify="left",
        )
        for c in connections:
            table.add_row(
                c.provider,
                "connected" if c.status == "connected" else "[red]connect again[/]",
                c.scopes or "(none stated)",
                f"{c.connected_at:%Y-%m-%d %H:%M}",
                f"{c.grant_expires_at:%Y-%m-%d}" if c.grant_expires_at else "not stated",
                (f"{c.last_sync_at:%Y-%m-%d %H:%M} " if c.last_sync_at else "never ")
                + ("ok" if c.last_sync_status in (None, "ok") else "failed"),
            )
        if connections:
            console.print(table)
        if counts:
            held = _entity_table(
                "Records in the store",
                {
                    provider: {
                        **{c: per.get(c, 0) for c in CATEGORY_LABELS},
                        "rejected": per.get("rejections", 0),
                    }
                    for provider, per in sorted(counts.items())
                },
            )
            console.print(held)
        _print_rejections(console, portal.store.rejections())
        for c in connections:
            if c.last_sync_status not in (None, "ok"):
                reason = shown(c.last_sync_status)  # the provider's words, among others
                console.print(f"{c.provider}'s last sync failed: {reason}", markup=False)
        console.print(f"Store: {portal.store.url}")


def _print_rejections(console: Console, rejections: list[dict[str, Any]]) -> None:
    """The reasons items were rejected, most common first (each raw item is kept)."""
    from collections import Counter

    if not rejections:
        return
    reasons = Counter(
        (r["provider"], r["stream"].split(":", 1)[0], r["reason"]) for r in rejections
    )
    console.print("Rejected items (their raw payloads are kept in the store):")
    for (provider, stream, reason), count in reasons.most_common(10):
        line = f"  {provider} {stream}: {count} times: {reason}"
        console.print(line, markup=False, highlight=False)
    if len(reasons) > 10:
        console.print(f"  ... and {len(reasons) - 10} other reasons")


@cli.command(name="export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write into.",
)
@click.option("--provider", help="Export only this provider's records.")
@click.pass_context
def export_command(ctx: click.Context, fmt: str, out: Path, provider: str | None) -> None:
    """Write the record as one file per entity, with a manifest of counts and SHA-256 digests."""
    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        portal.store.check()
        manifest = _export_whole(portal.store, out, fmt, provider)
        for name, info in manifest["files"].items():
            click.echo(f"{out / name}: {info['records']} records")
        click.echo(f"{out / 'manifest.json'}: counts and digests")


def _export_whole(store: Store, out: Path, fmt: str, provider: str | None) -> dict[str, Any]:
    """``portal.export.export`` into ``out``, whole or not at all.

    The files are written into a hidden folder inside ``out`` and moved into place once
    every one of them is complete; whatever stops the export before that (a damaged row,
    a full disk, Ctrl-C) leaves ``out`` as it was.
    """
    import shutil
    import tempfile

    from portal.export import export

    created = not out.exists()
    out.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner only
    staging = Path(tempfile.mkdtemp(prefix=".portal-export-", dir=out))
    try:
        manifest = export(store, staging, fmt, provider)
        for name in [*manifest["files"], "manifest.json"]:  # the manifest last: it says "done"
            (staging / name).replace(out / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        raise
    staging.rmdir()
    return manifest


ROW_LABELS = {"rejected": "Rejected (reasons in portal status)", "pages": "Pages", "time": "Time"}


def _entity_table(title: str, columns: dict[str, dict[str, Any]]) -> Table:
    """A table with a row per record category and a column per provider."""
    from rich.table import Table

    from portal.record import CATEGORY_LABELS

    table = Table("", *columns, title=title, title_justify="left")
    categories = {k.value: v for k, v in CATEGORY_LABELS.items()}
    for key, label in (categories | ROW_LABELS).items():
        # A category no provider here holds would be a row of zeros: leave it out.
        if key in categories and not any(values.get(key) for values in columns.values()):
            continue
        if any(key in values for values in columns.values()):
            table.add_row(label, *[str(values.get(key, "")) for values in columns.values()])
    return table
