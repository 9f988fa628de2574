"""The ``portal`` command. A thin layer over ``portal.app.Portal``.

Heavy imports happen inside commands, so ``portal --help`` stays fast whatever is installed.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from portal.app import Portal
    from portal.engine.sync import SyncResult

F = TypeVar("F", bound=Callable[..., Any])


class ExitCode(IntEnum):
    """What ``portal`` exits with; each is explained in ``portal --help``."""

    OK = 0
    FAILED = 1
    USAGE = 2
    USER_ERROR = 3
    AUTH = 4
    CONFIG = 5
    PROVIDER = 6
    INTERRUPTED = 130


EXIT_CODE_MEANINGS = {
    ExitCode.OK: "everything asked for was done",
    ExitCode.FAILED: "an unexpected internal error (run with -v for the traceback)",
    ExitCode.USAGE: "the command line itself was wrong",
    ExitCode.USER_ERROR: "cannot be done as asked (unknown or unconnected provider, ...)",
    ExitCode.AUTH: "a provider refused the credentials: run portal connect again",
    ExitCode.CONFIG: "a plugin or portal's configuration is broken",
    ExitCode.PROVIDER: "a provider answered something unusable; earlier pages are kept",
    ExitCode.INTERRUPTED: "stopped with Ctrl-C; everything committed so far is kept",
}


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error: the one place errors become exit codes."""
    from portal.errors import AuthError, ConfigError, ProviderError, UserError

    for kind, code in (
        (UserError, ExitCode.USER_ERROR),
        (AuthError, ExitCode.AUTH),
        (ConfigError, ExitCode.CONFIG),
        (ProviderError, ExitCode.PROVIDER),
        (KeyboardInterrupt, ExitCode.INTERRUPTED),
    ):
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED


EPILOG = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value:<4} {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def friendly_errors(verbose: bool) -> Iterator[None]:
    """Turn portal's errors into one sentence and a hint on stderr, and the right exit code."""
    from portal.errors import PortalError

    try:
        yield
    except PortalError as error:
        if verbose:
            logging.getLogger("portal").exception("error")
        click.echo(f"Error: {error.message}", err=True)
        if error.hint:
            click.echo(error.hint, err=True)
        sys.exit(exit_code_for(error))
    except KeyboardInterrupt:
        click.echo("Interrupted; everything committed so far is kept.", err=True)
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as error:  # a bug: say so plainly; the traceback only under -v
        if verbose:
            logging.getLogger("portal").exception("internal error")
        click.echo(f"Internal error: {type(error).__name__}: {error}", err=True)
        click.echo("Run again with -v for the traceback, and please report it.", err=True)
        sys.exit(ExitCode.FAILED)


def _open(ctx: click.Context) -> Portal:
    from portal.app import Portal

    options = ctx.obj
    portal = Portal.open(home=options["home"], db=options["db"], plugins_dir=options["plugins_dir"])
    ctx.call_on_close(portal.close)
    return portal


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="PORTAL_HOME",
    help="Folder for the store and the token vault [default: user data folder; env PORTAL_HOME].",
)
@click.option(
    "--db",
    envvar="PORTAL_DB",
    help="Store as a SQLAlchemy URL, e.g. sqlite:///my.db [default: portal.db in --home].",
)
@click.option(
    "--plugins-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="PORTAL_PLUGINS_DIR",
    help="Also load every *.py file in this folder as a plugin.",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what portal does (never secrets), with tracebacks."
)
@click.version_option(package_name="portal-core")
@click.pass_context
def cli(
    ctx: click.Context, home: Path | None, db: str | None, plugins_dir: Path | None, verbose: bool
) -> None:
    """portal gets your data back from your bank, utility, telco and retailer.

    Connect a provider once with `portal connect NAME`, then run `portal sync` whenever you
    like: everything lands in one local SQLite store you can browse, export and keep.
    Try `portal sync --demo` to see it work against the bundled sandbox providers.
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    ctx.obj = {"home": home, "db": db, "plugins_dir": plugins_dir, "verbose": verbose}


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
@click.argument("provider")
@click.option(
    "--no-browser", is_flag=True, help="Print the URL to open instead of opening a browser."
)
@click.option(
    "--sandbox",
    "sandbox_url",
    metavar="URL",
    help="Connect to a sandbox started with `portal sandbox` at this URL instead of the provider.",
)
@click.option(
    "--timeout", default=300, show_default=True, help="Seconds to wait for you to approve access."
)
@click.pass_context
def connect(
    ctx: click.Context, provider: str, no_browser: bool, sandbox_url: str | None, timeout: int
) -> None:
    """Connect PROVIDER: approve access in your browser once; portal keeps the tokens encrypted."""
    from portal.auth.flows import open_browser

    def browser(url: str) -> None:
        click.echo(f"Open this address to approve access:\n\n  {url}\n", err=True)
        if not no_browser:
            open_browser(url)
        click.echo("Waiting for your approval...", err=True)

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        endpoints = None
        if sandbox_url:
            base = sandbox_url.rstrip("/")
            endpoints = {
                "authorize_url": f"{base}/oauth/authorize",
                "token_url": f"{base}/oauth/token",
                "revocation_url": f"{base}/oauth/revoke",
                "api_base": _sandbox_api_base(portal, provider, base),
            }
        connection = portal.connect(provider, browser=browser, endpoints=endpoints, timeout=timeout)
        click.echo(
            f"Connected {provider} (scopes: {connection.scopes or 'none stated'}). "
            "Now run: portal sync"
        )


def _sandbox_api_base(portal: Portal, name: str, base: str) -> str:
    from urllib.parse import urlsplit

    declared = portal.plugins.provider(name).api_base
    return base + urlsplit(declared).path.rstrip("/")


@cli.command()
@click.argument("provider")
@click.option("--port", default=0, help="Port on 127.0.0.1 [default: any free port].")
@click.pass_context
def sandbox(ctx: click.Context, provider: str, port: int) -> None:
    """Run PROVIDER's sandbox on 127.0.0.1 until Ctrl-C (for plugin authors)."""
    import threading

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        declared = portal.plugins.provider(provider)
        if declared.sandbox is None:
            from portal.errors import UserError

            raise UserError(
                f"{declared.display_name} ships no sandbox.", hint="Pick another provider."
            )
        server = declared.sandbox()
        server.port = port
        with server:
            click.echo(f"{declared.display_name} sandbox on {server.base_url} (Ctrl-C to stop).")
            click.echo(f"Connect to it with: portal connect {provider} --sandbox {server.base_url}")
            threading.Event().wait()


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

    with friendly_errors(ctx.obj["verbose"]):
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
        _report(results, portal.store.url, quiet, as_json)
        failures = [r.error for r in results if r.error is not None]
        if failures:
            sys.exit(exit_code_for(failures[0]))


def _report(results: list[SyncResult], where: str, quiet: bool, as_json: bool) -> None:
    from rich.console import Console

    from portal.errors import PortalError
    from portal.record import CATEGORY_LABELS

    if as_json:
        click.echo(
            json.dumps(
                {
                    "store": where,
                    "providers": [
                        {
                            "provider": r.provider,
                            "ok": r.ok,
                            "items": r.items,
                            "records": r.records,
                            "rejected": r.rejected,
                            "pages": r.pages,
                            "retries": r.retries,
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
            **{c: r.records.get(c, 0) for c in CATEGORY_LABELS},
            "rejected": r.rejected,
            "pages": r.pages,
            "time": f"{r.seconds:.1f}s",
        }
        for r in results
    }
    table = _entity_table("Fetched this run", columns)
    Console().print(table)
    click.echo(f"Store: {where}")


@cli.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show each connection, its last sync, and what the store holds."""
    from rich.console import Console
    from rich.table import Table

    from portal.record import CATEGORY_LABELS

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        console = Console()
        counts = portal.store.counts()
        connections = portal.store.connections()
        if not connections:
            console.print(
                "No provider is connected yet. Run portal connect NAME, or portal sync --demo."
            )
        table = Table(
            "Provider", "Status", "Scopes", "Connected", "Last sync", "Result", title="Connections"
        )
        for c in connections:
            table.add_row(
                c.provider,
                c.status,
                c.scopes,
                f"{c.connected_at:%Y-%m-%d %H:%M}",
                f"{c.last_sync_at:%Y-%m-%d %H:%M}" if c.last_sync_at else "never",
                c.last_sync_status or "",
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
    from portal.export import export

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        manifest = export(portal.store, out, fmt, provider)
        for name, info in manifest["files"].items():
            click.echo(f"{out / name}: {info['records']} records")
        click.echo(f"{out / 'manifest.json'}: counts and digests")


ROW_LABELS = {"rejected": "Rejected (reasons in portal status)", "pages": "Pages", "time": "Time"}


def _entity_table(title: str, columns: dict[str, dict[str, Any]]) -> Table:
    """A table with a row per record category and a column per provider."""
    from rich.table import Table

    from portal.record import CATEGORY_LABELS

    table = Table("", *columns, title=title, title_justify="left")
    rows = {k.value: v for k, v in CATEGORY_LABELS.items()} | ROW_LABELS
    for key, label in rows.items():
        if any(key in values for values in columns.values()):
            table.add_row(label, *[str(values.get(key, "")) for values in columns.values()])
    return table


def main() -> None:
    """Entry point of the ``portal`` console script."""
    cli(prog_name="portal")
