"""Commands about connections: connect, disconnect, and running a sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pathlib import Path

    from portal.app import Portal

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors, person_zone
from portal.shown import shown


@cli.command()
@click.argument("provider")
@click.option(
    "--no-browser", is_flag=True, help="Print the URL to open instead of opening a browser."
)
@click.option(
    "--device",
    is_flag=True,
    help="No browser here: show a code to approve on another device (RFC 8628).",
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
@click.option(
    "--stdin",
    "from_stdin",
    is_flag=True,
    help="Read what PROVIDER asks for (an API key, a setup token) from standard input, one"
    " NAME=VALUE per line, instead of prompting.",
)
@click.option(
    "--renew",
    is_flag=True,
    help="Renew the grant of a connected PROVIDER (its consent lapsing or lapsed): the same"
    " connection, everything synced kept.",
)
@click.pass_context
def connect(
    ctx: click.Context,
    provider: str,
    no_browser: bool,
    device: bool,
    sandbox_url: str | None,
    timeout: int,
    from_stdin: bool,
    renew: bool,
) -> None:
    """Connect PROVIDER: approve access once, or give the key it issued you; portal keeps
    the credentials encrypted in its vault.

    A service that gives you a key instead of a login (an API key, a setup token) is asked
    for it here, without echo; a script sets PORTAL_<PROVIDER>_<NAME> instead (portal
    providers lists the names), or passes --stdin.
    """
    import sys

    from portal.auth.credentials import Ask, read_stdin_answers
    from portal.auth.device import DeviceCode
    from portal.auth.flows import open_browser
    from portal.errors import UserError
    from portal.localtime import local

    def browser(url: str) -> None:
        output.echo(f"Open this address to approve access:\n\n  {shown(url)}\n", err=True)
        if not no_browser:
            open_browser(url)
        output.echo("Waiting for your approval...", err=True)

    def show_code(code: DeviceCode) -> None:
        output.echo(
            f"On any device, open {shown(code.verification_uri)} and enter the code\n\n"
            f"  {shown(code.user_code)}\n\n(it expires in {code.expires_in // 60} minutes)."
            " Waiting for your approval...",
            err=True,
        )

    def ask(item: Ask) -> str:
        if not sys.stdin.isatty():
            raise UserError(
                f"portal connect {provider} needs the {item.label}, and there is no terminal"
                " to ask in.",
                hint=f"Set {item.environment_variable(provider)}, or pass NAME=VALUE lines"
                " with --stdin.",
            )
        if item.help:
            output.echo(shown(item.help), err=True)
        what = f"Path of the {item.label} file" if item.file else item.label
        answer: str = click.prompt(what, hide_input=item.secret and not item.file, err=True)
        return answer

    def tell(text: str) -> None:
        output.echo(shown(text), err=True)

    with friendly_errors(ctx.obj["verbose"]):
        zone = person_zone(ctx)  # a bad zone is said before anything is asked of the provider
        given = read_stdin_answers(sys.stdin.read()) if from_stdin else None
        portal = _open(ctx)
        endpoints = _sandbox_endpoints(portal, provider, sandbox_url) if sandbox_url else None
        warnings: list[str] = []
        connection = portal.connect(
            provider,
            browser=browser,
            endpoints=endpoints,
            timeout=timeout,
            device=device,
            show_code=show_code,
            warn=warnings.append,
            answers=given,
            ask=None if from_stdin else ask,
            tell=tell,
            renew=renew,
        )
        ends = connection.grant_expires_at
        expires = f", until {local(ends, zone):%Y-%m-%d}" if ends else ""
        for warning in warnings:
            output.echo(f"Warning: {shown(warning)}", err=True)
        but = ", with the warning above" if warnings else ""
        declared = portal.plugins.provider(provider)
        if renew:
            until = f" until {local(ends, zone):%Y-%m-%d}" if ends else ""
            output.echo(
                f"Renewed {shown(declared.display_name)}'s grant{until}{but}; everything"
                " already synced is kept. Now run: portal sync"
            )
            return
        if declared.credential is not None:
            from portal.auth.credentials import KIND_WORDS

            kept = f"{KIND_WORDS[declared.credential.kind]} kept in portal's vault"
            output.echo(f"Connected {shown(provider)}{but} ({kept}{expires}). Now run: portal sync")
        else:
            scopes = shown(connection.scopes or "none stated")
            said = f"Connected {shown(provider)}{but} (scopes: {scopes}{expires})."
            output.echo(f"{said} Now run: portal sync")


@cli.command()
@click.argument("provider")
@click.option(
    "--delete-data", is_flag=True, help="Also delete every record portal synced from PROVIDER."
)
@click.pass_context
def disconnect(ctx: click.Context, provider: str, delete_data: bool) -> None:
    """Revoke portal's access at PROVIDER and forget its credentials."""
    from portal.errors import ProviderError

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        done = portal.disconnect(provider, delete_data=delete_data)
        kept = "deleted its records" if delete_data else "kept its records"
        if done.failures:
            raise ProviderError(
                f"portal forgot the credentials and {kept}, but {provider} did not confirm"
                f" revoking them ({shown('; '.join(done.failures))}).",
                hint="Revoke portal's access in the provider's own settings too.",
            )
        declared = portal.plugins.provider(provider)
        if declared.credential is not None and not done.revoked:
            name = declared.display_name
            output.echo(
                f"Disconnected {shown(provider)}: key deleted from portal's vault, {kept}."
                f" {shown(name)} offers no way for portal to revoke it:"
                f" {shown(done.revoke_hint or 'revoke it in its own settings.')}"
            )
            return
        output.echo(f"Disconnected {shown(provider)}: access revoked, tokens deleted, {kept}.")


def _private_file(home: Path, name: str, text: str) -> Path:
    """``text`` in a file only its owner can read, in the home's sandbox folder."""
    import os

    path = home / "sandbox" / f"{name}.txt"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def _sandbox_endpoints(portal: Portal, name: str, base_url: str) -> dict[str, str]:
    """The endpoints of a sandbox started with `portal sandbox`, at their usual paths."""
    base = base_url.rstrip("/")
    return {
        "authorize_url": f"{base}/oauth/authorize",
        "token_url": f"{base}/oauth/token",
        "revocation_url": f"{base}/oauth/revoke",
        "device_authorization_url": f"{base}/oauth/device",
        "issuer": base,
        "jwks_url": f"{base}/.well-known/jwks.json",
        "api_base": _sandbox_api_base(portal, name, base),
    }


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
            where = shown(server.base_url)
            output.echo(f"{shown(declared.display_name)} sandbox on {where} (Ctrl-C to stop).")
            answers = server.connect_answers()
            if answers:
                output.echo("Its customer's answers to what portal connect asks (test values):")
                for item in declared.asks:
                    if item.name in answers:
                        value = answers[item.name]
                        if item.file:  # the variable names a file, as the person's would
                            value = str(_private_file(portal.home, item.name, value))
                        output.echo(f"  {item.environment_variable(provider)}={shown(value)}")
            output.echo(f"Connect to it with: portal connect {shown(provider)} --sandbox {where}")
            threading.Event().wait()
