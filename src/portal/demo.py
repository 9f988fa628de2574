"""Demo mode: start the bundled sandboxes in-process, connect through the real OAuth flow
(or, for a key-based service's sandbox, with the test key it issued its customer).

Nothing is faked: each sandbox is a real HTTP server with a real authorization server on
127.0.0.1, the connection runs PKCE and a loopback redirect, and an automated user agent
plays the part of the person clicking "Approve" in the browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.engine.sync import SyncProgress, SyncResult
from portal.errors import UserError
from portal.provider import sandbox_endpoints
from portal.sandbox import Sandbox

FIRST_PARTY = ("bank", "telco")
"""The plugins in this repository whose sandboxes ``portal sync --demo`` starts when installed."""


@contextmanager
def running_sandboxes(
    portal: Portal, names: Iterable[str] | None = None
) -> Iterator[dict[str, Sandbox]]:
    """Start the sandbox of each named provider (default: every demo provider, one that
    exists only as its sandbox; the sandboxes of real services, test doubles of another
    customer, start only when named)."""
    shipping = {n: p for n, p in portal.plugins.providers.items() if p.sandbox}
    demos = sorted(n for n, p in shipping.items() if p.sandbox_only)
    wanted = list(names) if names else (demos or sorted(shipping))
    if not wanted:
        raise UserError(
            "No installed provider plugin ships a sandbox, so there is nothing to demo.",
            hint="Install the first-party plugins: pip install "
            + " ".join(f"-e plugins/{name}" for name in FIRST_PARTY),
        )
    with ExitStack() as stack:
        running = {}
        for name in wanted:
            provider = portal.plugins.provider(name)
            if provider.sandbox is None:
                raise UserError(
                    f"{provider.display_name} ships no sandbox.", hint="Leave it out of --demo."
                )
            running[name] = stack.enter_context(provider.sandbox())
        yield running


def demo_sync(
    portal: Portal,
    names: Iterable[str] | None = None,
    progress: SyncProgress | None = None,
    day: date | None = None,
) -> list[SyncResult]:
    """Connect to every sandbox (through the real OAuth flow, or with the key-based
    sandbox's own answers: its customer's key and account number), then sync them all.

    ``day``: the sandboxes serve their customers as of that day (``Sandbox.live_until``),
    so a later run finds what changed in between.
    """
    portal.store.writable()  # before starting servers for a store that cannot take their data
    with running_sandboxes(portal, names) as sandboxes:
        for name, sandbox in sandboxes.items():
            if day is not None:
                sandbox.live_until(day)
            portal.connect(
                name,
                browser=auto_approve_browser,
                endpoints=sandbox_endpoints(sandbox),
                timeout=30,
                answers=sandbox.connect_answers() or None,  # a key-based service's test key
            )
        return portal.sync(list(sandboxes), progress=progress)


def demo_home(
    home: Path, names: Iterable[str] | None = None, progress: SyncProgress | None = None
) -> list[SyncResult]:
    """Make ``home`` (a new folder) a portal home with the sandboxes ``names`` (default:
    every one installed) connected and synced, as ``portal sync --demo`` would; its tokens
    in a file vault inside it, never in the machine's keyring. For the tests and the
    benchmarks, which need a demo store of their own."""
    from portal.auth.vault import FileStorage, Vault

    home.mkdir()
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    with Portal.open(home=home, vault=vault) as portal:
        return demo_sync(portal, names, progress)
