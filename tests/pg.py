"""A PostgreSQL server for the tests: the one ``PORTAL_TEST_POSTGRES`` names, or a throwaway
cluster started from the Debian binaries in a temporary folder, on 127.0.0.1 and a free port.

Where neither is found the PostgreSQL tests skip and say why (``-ra`` puts the reason in the
summary); under CI (``CI`` set) they fail instead, so a CI machine without PostgreSQL never
passes by testing nothing.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

MISSING = "PostgreSQL not found: install postgresql or set PORTAL_TEST_POSTGRES"
"""What a run without PostgreSQL says (as the skip reason, or the failure under CI)."""

PASSWORD = "pg-" + secrets.token_hex(8)
"""The throwaway cluster's superuser password: the tests look for it in every output."""


def binaries() -> Path | None:
    """The newest PostgreSQL ``bin`` folder with ``initdb`` and ``pg_ctl``, or None."""
    found = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    found = [b for b in found if (b / "pg_ctl").exists()]
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def missing() -> None:
    """Skip the test (fail it under CI) because no PostgreSQL can be found."""
    if os.environ.get("CI"):
        pytest.fail(f"{MISSING} (CI is set, so the PostgreSQL tests must run)", pytrace=False)
    pytest.skip(MISSING)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run(owner: str | None, *command: str, check: bool = True) -> None:
    # initdb refuses to run as root: the cluster then belongs to the postgres system user.
    argv = ["runuser", "-u", owner, "--", *command] if owner else list(command)
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")


@contextmanager
def cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1; its superuser's URL (with a password)."""
    found = binaries()
    if found is None:
        missing()
        raise AssertionError  # unreachable: missing() raises
    initdb, pg_ctl = str(found / "initdb"), str(found / "pg_ctl")
    owner = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="portal-pg-"))
    data, sockets, password_file = root / "data", root / "socket", root / "pw"
    try:
        sockets.mkdir()
        password_file.write_text(PASSWORD, encoding="utf-8")
        if owner:
            for path in (root, sockets, password_file):
                shutil.chown(path, owner)
        # Host connections need the password (scram), so the tests' URL carries a real one.
        _run(owner, initdb, "-D", str(data), "-U", "postgres", "--pwfile", str(password_file),
             "--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync", "-E", "UTF8",
             "--locale=C")  # fmt: skip
        port = _free_port()
        # A throwaway cluster need not survive a power cut: no fsync, much less CPU and I/O.
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        _run(owner, pg_ctl, "-D", str(data), "-o", options, "-w", "-l", str(root / "log"), "start")
        try:
            yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/postgres"
        finally:
            _run(owner, pg_ctl, "-D", str(data), "-m", "immediate", "stop", check=False)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def server() -> Iterator[str]:
    """The URL of a PostgreSQL server to test against: ``PORTAL_TEST_POSTGRES`` if set, else
    a throwaway cluster for as long as the context lasts."""
    given = os.environ.get("PORTAL_TEST_POSTGRES")
    if given:
        yield given
        return
    with cluster() as url:
        yield url


@contextmanager
def database(server_url: str, name: str) -> Iterator[str]:
    """A new, empty database on the server for as long as the context lasts; its URL.

    Named ``name`` and this process's id: the workers of ``pytest -n`` may share a server
    (``PORTAL_TEST_POSTGRES``), and each makes its own.
    """
    import psycopg

    url = make_url(server_url)
    unique = f"{name}_{os.getpid()}"
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{unique}"')
        db.execute(f'CREATE DATABASE "{unique}"')
    try:
        yield url.set(database=unique).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{unique}" WITH (FORCE)')
