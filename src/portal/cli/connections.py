"""Commands about connections: connect, disconnect, and running a sandbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
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
@click.pass_context
def connect(
    ctx: click.Context,
    provider: str,
    no_browser: bool,
    device: bool,
    sandbox_url: str | None,
    timeout: int,
) -> None:
    """Connect PROVIDER: approve access once; portal keeps the tokens encrypted."""
    from portal.auth.device import DeviceCode
    from portal.auth.flows import open_browser
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

    with friendly_errors(ctx.obj["verbose"]):
        zone = person_zone(ctx)  # a bad zone is said before anything is asked of the provider
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
        )
        ends = connection.grant_expires_at
        expires = f", until {local(ends, zone):%Y-%m-%d}" if ends else ""
        for warning in warnings:
            output.echo(f"Warning: {shown(warning)}", err=True)
        but = ", with the warning above" if warnings else ""
        output.echo(
            f"Connected {shown(provider)}{but} (scopes: {shown(connection.scopes or 'none stated')}"
            f"{expires}). Now run: portal sync"
        )


@cli.command()
@click.argument("provider")
@click.option(
    "--delete-data", is_flag=True, help="Also delete every record portal synced from PROVIDER."
)
@click.pass_context
def disconnect(ctx: click.Context, provider: str, delete_data: bool) -> None:
    """Revoke portal's access at PROVIDER and forget its tokens."""
    from portal.errors import ProviderError

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        failures = portal.disconnect(provider, delete_data=delete_data)
        kept = "deleted its records" if delete_data else "kept its records"
        if failures:
            raise ProviderError(
                f"portal forgot the tokens and {kept}, but {provider} did not confirm revoking"
                f" them ({'; '.join(failures)}).",
                hint="Revoke portal's access in the provider's own settings too.",
            )
        output.echo(f"Disconnected {shown(provider)}: access revoked, tokens deleted, {kept}.")


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
            output.echo(f"Connect to it with: portal connect {shown(provider)} --sandbox {where}")
            threading.Event().wait()
