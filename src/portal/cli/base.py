"""The ``portal`` group, its exit codes and how errors reach the user."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import Console

    from portal.app import Portal

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
    BROKEN_PIPE = 141
    TERMINATED = 143


EXIT_CODE_MEANINGS = {
    ExitCode.OK: "everything asked for was done",
    ExitCode.FAILED: "an unexpected internal error (run with -v for the traceback)",
    ExitCode.USAGE: "the command line itself was wrong",
    ExitCode.USER_ERROR: "cannot be done as asked (unknown or unconnected provider, ...)",
    ExitCode.AUTH: "a provider refused the credentials: run portal connect again",
    ExitCode.CONFIG: "a plugin, the configuration or the store is unusable (read-only, ...)",
    ExitCode.PROVIDER: "a provider answered something unusable; earlier pages are kept",
    ExitCode.INTERRUPTED: "stopped with Ctrl-C; everything committed so far is kept",
    ExitCode.BROKEN_PIPE: "whatever read the output stopped early (e.g. | head); nothing is lost",
    ExitCode.TERMINATED: "stopped by SIGTERM (kill, systemd); everything committed is kept",
}


def exit_code_for(error: BaseException) -> ExitCode:
    """The exit code for an error: the one place errors become exit codes."""
    from portal.errors import AuthError, ConfigError, Interrupted, ProviderError, UserError

    for kind, code in (
        (UserError, ExitCode.USER_ERROR),
        (AuthError, ExitCode.AUTH),
        (ConfigError, ExitCode.CONFIG),
        (ProviderError, ExitCode.PROVIDER),
        (Terminated, ExitCode.TERMINATED),
        (KeyboardInterrupt, ExitCode.INTERRUPTED),
        (Interrupted, ExitCode.INTERRUPTED),
    ):
        if isinstance(error, kind):
            return code
    return ExitCode.FAILED


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stopped exactly as Ctrl-C stops, with its own exit code (128 + 15)."""


@contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """While inside, SIGTERM stops the command as Ctrl-C does.

    ``Terminated`` is raised in the main thread, so syncs stop after their page, the live
    display is put away and the store keeps what was committed. The handler before is put
    back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return

    def stop(signum: int, frame: object) -> None:
        raise Terminated

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


EPILOG = "\b\nExit codes:\n" + "\n".join(
    f"  {code.value:<4} {meaning}" for code, meaning in EXIT_CODE_MEANINGS.items()
)


def _stderr() -> Console:
    from portal.cli.output import console

    return console(err=True)


@contextmanager
def friendly_errors(verbose: bool) -> Iterator[None]:
    """Turn portal's errors into one sentence and a hint on stderr, and the right exit code."""
    from portal.cli.output import echo, quiet_broken_pipe
    from portal.errors import PortalError
    from portal.shown import shown

    # Messages and hints are built from provider names, URLs, OAuth answers and file
    # contents: each is shown as one neutralised line.
    try:
        yield
    except PortalError as error:
        if verbose:
            logging.getLogger("portal").exception("error")
        echo(f"Error: {shown(error.message)}", err=True)
        if error.hint:
            echo(shown(error.hint), err=True)
        sys.exit(exit_code_for(error))
    except KeyboardInterrupt as stop:
        how = "Stopped by SIGTERM" if isinstance(stop, Terminated) else "Interrupted"
        echo(f"{how}; everything committed so far is kept.", err=True)
        sys.exit(exit_code_for(stop))
    except BrokenPipeError:  # `portal status | head -1`: the reader has all it wanted
        quiet_broken_pipe()
        sys.exit(ExitCode.BROKEN_PIPE)
    except Exception as error:  # a bug: say so plainly; the traceback only under -v
        if verbose:
            logging.getLogger("portal").exception("internal error")
        echo(f"Internal error: {shown(type(error).__name__)}: {shown(error)}", err=True)
        echo("Run again with -v for the traceback, and please report it.", err=True)
        sys.exit(ExitCode.FAILED)


def _open(ctx: click.Context) -> Portal:
    from portal.app import Portal

    options = ctx.obj
    portal = Portal.open(home=options["home"], db=options["db"], plugins_dir=options["plugins_dir"])
    ctx.call_on_close(portal.close)
    return portal


def local_server_options(command: F) -> F:
    """``--port`` and ``--no-browser``, as every command that serves the person's browser on
    127.0.0.1 takes them (``portal view``, ``portal browse``)."""
    command = click.option(
        "--no-browser", is_flag=True, help="Print the address to open instead of opening a browser."
    )(command)
    return click.option(
        "--port",
        default=0,
        type=click.IntRange(0, 65535),
        help="Port on 127.0.0.1 [default: any free port].",
    )(command)


def person_zone(ctx: click.Context) -> ZoneInfo:
    """The zone moments are shown in: --tz, $PORTAL_TZ, the home's setting, the computer's."""
    from portal.localtime import zone
    from portal.store import home_folder

    return zone(home_folder(ctx.obj["home"]), ctx.obj["tz"])


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
    "--tz",
    metavar="ZONE",
    help="Show times in this IANA time zone, e.g. Europe/London [default: env PORTAL_TZ, then"
    " portal config timezone, then this computer's].",
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log what portal does (never secrets), with tracebacks."
)
@click.version_option(package_name="portal-core")
@click.pass_context
def cli(
    ctx: click.Context,
    home: Path | None,
    db: str | None,
    plugins_dir: Path | None,
    tz: str | None,
    verbose: bool,
) -> None:
    """portal gets your data back from your bank, utility, telco and retailer.

    Connect a provider once with `portal connect NAME`, then run `portal sync` whenever you
    like: everything lands in one local SQLite store you can browse, export and keep.
    Try `portal sync --demo` to see it work against the bundled sandbox providers.
    """
    from portal.cli.output import log_handler

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, handlers=[log_handler()]
    )
    if not verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    from portal.auth import redaction

    redaction.install(logging.getLogger().handlers)  # libraries log URLs and token bodies
    ctx.obj = {"home": home, "db": db, "plugins_dir": plugins_dir, "tz": tz, "verbose": verbose}


def known_provider(portal: Portal, provider: str, then: str) -> None:
    """An unknown ``--provider`` is an error naming the known ones, not an empty answer.

    Known are the installed providers and any the store holds records of (imported files
    are filed under a provider no plugin need offer). ``then`` ends the hint: what to do
    with a known one ("export one of those").
    """
    from portal.errors import UnknownProvider

    held = set(portal.store.counts())
    if provider in portal.plugins.providers or provider in held:
        return
    known = ", ".join(sorted(set(portal.plugins.providers) | held)) or "none"
    raise UnknownProvider(
        f"No provider called {provider!r} is installed or in the store (known: {known}).",
        hint=f"Run portal providers or portal status to list them, and {then}.",
    )
