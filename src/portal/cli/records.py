"""Commands about the record: providers, sync, status, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from datetime import datetime

    from rich.console import Console
    from rich.table import Table

    from portal.app import Portal
    from portal.engine.sync import SyncResult
    from portal.store import Store

from portal.cli import output
from portal.cli.base import (
    _open,
    _stderr,
    cli,
    exit_code_for,
    friendly_errors,
    known_provider,
    person_zone,
    terminated_as_interrupted,
)
from portal.shown import shown


@cli.command()
@click.pass_context
def providers(ctx: click.Context) -> None:
    """List the installed providers: real services or sandboxes, how each connects, its data.

    Below the table, what each key-based service asks for at portal connect, with the
    environment variable a script sets instead, and each service's quota of syncs.
    """
    from portal.auth.credentials import KIND_WORDS

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        table = output.table(
            "Provider", "Name", "What it is", "Connect with", "Holds", no_wrap=("Provider",)
        )
        notes: list[str] = []
        for name, provider in sorted(portal.plugins.providers.items()):
            inventory = ", ".join(item.category.value for item in provider.inventory)
            sector = provider.sector.value
            if provider.importer_only:
                what, how = f"{sector} files", "portal import"
            else:
                what = (
                    f"{sector} sandbox only" if provider.sandbox_only else f"real {sector} service"
                )
                how = KIND_WORDS[provider.kind]
                if provider.own_client:
                    how += " (your own client)"
            table.add_row(name, provider.display_name, what, how, inventory)
            if provider.asks:
                asked = ", ".join(
                    f"{a.label} ({a.environment_variable(name)})" for a in provider.asks
                )
                notes.append(f"{name} asks for: {asked}")
            if provider.quota is not None:
                q = provider.quota
                why = f": {q.why}" if q.why else ""
                notes.append(f"{name} allows {q.syncs} syncs {q.window}{why}")
        console = output.console()
        if portal.plugins.providers:
            console.print(table)
            for note in notes:
                output.line(console, shown(note))
        else:
            output.line(
                console,
                "No providers installed. Install a plugin, e.g. pip install -e plugins/bank.",
            )
        for problem in portal.plugins.problems:
            output.line(_stderr(), f"Warning: {shown(problem)}", style="yellow")


@cli.command()
@click.argument("providers", nargs=-1)
@click.option(
    "--demo",
    is_flag=True,
    help="Start the demo providers' sandboxes in-process (or PROVIDERS', a real service's"
    " test double included), connect through the real OAuth flow or with the sandbox's test"
    " key, and sync.",
)
@click.option(
    "--demo-day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    envvar="PORTAL_DEMO_DAY",
    help="With --demo: the day the sandboxes' customers are served as of (YYYY-MM-DD); a"
    " later day brings what changed in between.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for scripts).")
@click.pass_context
def sync(
    ctx: click.Context,
    providers: tuple[str, ...],
    demo: bool,
    demo_day: datetime | None,
    quiet: bool,
    as_json: bool,
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

                day = None if demo_day is None else demo_day.date()
                results = demo_sync(portal, providers or None, progress=progress, day=day)
            else:
                results = portal.sync(providers or None, progress=progress)
        _report(results, portal.store, quiet, as_json)
        if not (quiet or as_json):
            from portal.cli.understand import print_findings

            print_findings(portal.understood)
        for sentence in portal.unheld:  # a provider that said "applied" and did not
            output.line(_stderr(), sentence, style="yellow")
        if not (quiet or as_json) and any(r.ok for r in results):
            output.echo(f"See what was synced: {_command(ctx, 'view')} (in your browser)")
        failures = [r.error for r in results if r.error is not None]
        if failures:
            sys.exit(exit_code_for(failures[0]))


def _command(ctx: click.Context, name: str) -> str:
    """How the person runs ``portal NAME`` on the same home and store as this command.

    Options that came from the environment stay out (the environment still has them); a
    ``--db`` URL is never repeated, since it can carry a password.
    """
    import shlex

    from click.core import ParameterSource

    root = ctx.find_root()
    given = [_program()]
    if root.get_parameter_source("home") is ParameterSource.COMMANDLINE:
        given.append(f"--home {shlex.quote(str(ctx.obj['home']))}")
    if root.get_parameter_source("db") is ParameterSource.COMMANDLINE:
        given.append("--db URL")
    return " ".join([*given, name])


def _program() -> str:
    """``portal``, or how this very program was run when ``portal`` is not on the PATH
    (``.venv/bin/portal`` after the Quick start): a command the person can paste."""
    import os
    import shlex
    import shutil
    import sys

    ran = sys.argv[0]
    if os.path.basename(ran) != "portal" or shutil.which("portal"):
        return "portal"
    here = os.path.relpath(ran)
    return shlex.quote(ran if here.startswith("..") else here)


def _report(results: list[SyncResult], store: Store, quiet: bool, as_json: bool) -> None:
    from portal.errors import PortalError
    from portal.record import CATEGORY_LABELS

    if as_json:
        # json.dumps escapes every control and non-ASCII character: the text is safe.
        output.echo(
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
            output.echo(f"Error: {shown(r.provider)}: {shown(message)}", err=True)
            if hint:
                output.echo(shown(hint), err=True)
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
    output.console().print(table)
    output.echo(f"Store: {shown(store.url)}")


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


def _access(portal: Portal, name: str, scopes: str) -> str:
    """What a connection was granted: its OAuth scopes, or the kind of key it holds."""
    from portal.auth.credentials import KIND_WORDS

    provider = portal.plugins.providers.get(name)
    if provider is not None and provider.credential is not None:
        return f"{KIND_WORDS[provider.credential.kind]} (all the key reads)"
    return scopes or "(none stated)"


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show each connection, its grant and until when, its last sync, and what the store
    holds."""
    from datetime import UTC, datetime

    from portal.localtime import MOMENT, local
    from portal.record import CATEGORY_LABELS

    with friendly_errors(ctx.obj["verbose"]):
        zone = person_zone(ctx)
        portal = _open(ctx)
        portal.store.check()
        console = output.console()
        counts = portal.store.counts()
        connections = portal.store.connections()
        if not connections:
            output.line(
                console,
                "No provider is connected yet. Run portal connect NAME, or portal sync --demo.",
            )
        table = output.table(
            "Provider",
            "Status",
            "Access granted",
            "Granted",
            "Grant expires",
            "Last sync",
            title="Connections",
            title_justify="left",
        )
        now = datetime.now(UTC)
        for c in connections:
            lapsed = c.grant_expires_at is not None and c.grant_expires_at <= now
            table.add_row(
                c.provider,
                output.styled("renew: connect --renew", "red")
                if lapsed
                else "connected"
                if c.status == "connected"
                else output.styled("connect again", "red"),
                _access(portal, c.provider, c.scopes),
                f"{local(c.connected_at, zone):{MOMENT}}",
                f"{local(c.grant_expires_at, zone):%Y-%m-%d}" + (" (ended)" if lapsed else "")
                if c.grant_expires_at
                else "not stated",
                (f"{local(c.last_sync_at, zone):{MOMENT}} " if c.last_sync_at else "never ")
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
                output.line(
                    console, f"{shown(c.provider)}'s last sync failed: {shown(c.last_sync_status)}"
                )
        output.line(console, f"Store: {shown(portal.store.url)}")


def _print_rejections(console: Console, rejections: list[dict[str, Any]]) -> None:
    """The reasons items were rejected, most common first (each raw item is kept)."""
    from collections import Counter

    if not rejections:
        return
    reasons = Counter(
        (r["provider"], r["stream"].split(":", 1)[0], r["reason"]) for r in rejections
    )
    output.line(console, "Rejected items (their raw payloads are kept in the store):")
    for (provider, stream, reason), count in reasons.most_common(10):
        line = f"  {shown(provider)} {shown(stream)}: {count} times: {shown(reason)}"
        output.line(console, line)
    if len(reasons) > 10:
        output.line(console, f"  ... and {len(reasons) - 10} other reasons")


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
    from portal.export import export

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        portal.store.check()
        if provider is not None:
            known_provider(portal, provider, "export one of those")
        manifest = export(portal.store, out, fmt, provider)
        for name, info in manifest["files"].items():
            output.echo(f"{shown(out / name)}: {info['records']} records")
        output.echo(f"{shown(out / 'manifest.json')}: counts and digests")


ROW_LABELS = {"rejected": "Rejected (reasons in portal status)", "pages": "Pages", "time": "Time"}


def _entity_table(title: str, columns: dict[str, dict[str, Any]]) -> Table:
    """A table with a row per record category and a column per provider."""
    from portal.record import CATEGORY_LABELS

    table = output.table("", *columns, title=title, title_justify="left")
    categories = {k.value: v for k, v in CATEGORY_LABELS.items()}
    for key, label in (categories | ROW_LABELS).items():
        # A category no provider here holds would be a row of zeros: leave it out.
        if key in categories and not any(values.get(key) for values in columns.values()):
            continue
        if any(key in values for values in columns.values()):
            table.add_row(label, *[str(values.get(key, "")) for values in columns.values()])
    return table
