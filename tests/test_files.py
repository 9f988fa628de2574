"""A document carries its file: kept whole in the portal home by its SHA-256, owner only,
streamed to disk within the provider's body limit, and handed back checked byte by byte.

Through the real path: the Demo Bank sandbox on a socket, the real OAuth flow, a real sync
whose bank plugin keeps every statement PDF, and the ``portal documents`` command.
"""

import hashlib
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import connect, synced_once
from portal.cli import ExitCode, cli
from portal.files import FileStore
from portal.provider import sandbox_endpoints
from portal.record import Document
from portal_bank.sandbox import BankSandbox
from portal_bank.statements import statement_pdf

Synced = tuple[Path, BankSandbox]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        home = tmp_path_factory.mktemp("files") / "home"
        with BankSandbox() as bank, synced_once(home, bank, "bank"):
            yield home, bank


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def file_column(listing: str) -> list[str]:
    """The state of each document's file, as the listing's last column shows it."""
    return re.findall(r"│ (kept|missing|changed) +│$", listing, re.M)


def documents(home: Path) -> dict[str, dict[str, object]]:
    from portal.app import Portal

    with Portal.open(home=home) as portal:
        return {r["provider_id"]: r for r in portal.store.rows(Document, "bank")}


def test_every_statement_pdf_is_kept_owner_only_under_its_digest(synced: Synced) -> None:
    home, bank = synced
    stored = documents(home)
    files = FileStore(home)
    served = bank.ground_truth()["documents"]
    assert len(served) == len(stored) == 46
    for statement in served:
        pdf = statement_pdf(statement)
        document = stored[f"statement:{statement['StatementId']}"]
        kept = files.path(str(document["digest"]))
        assert kept.read_bytes() == pdf  # exactly what the sandbox served
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    for folder in (files.root, files.root.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    # Nothing half-written is left behind, and each file is kept once.
    assert sorted(p.name for p in files.root.iterdir()) == sorted(
        {str(d["digest"]) for d in stored.values()}
    )


def test_the_cli_lists_the_documents_and_saves_one_byte_for_byte(
    synced: Synced, tmp_path: Path
) -> None:
    home, bank = synced
    statement = bank.ground_truth()["documents"][0]
    document = documents(home)[f"statement:{statement['StatementId']}"]
    code, listing, err = run(home, "documents", "--provider", "bank")
    assert code == ExitCode.OK, err
    assert file_column(listing) == ["kept"] * 46
    out = tmp_path / "saved"
    out.mkdir()
    code, said, err = run(home, "documents", "save", str(document["id"])[:13], "--out", str(out))
    assert code == ExitCode.OK, err
    [saved] = out.iterdir()
    assert saved.name == f"{document['id']}.pdf"  # portal's id, never the provider's file name
    assert saved.read_bytes() == statement_pdf(statement)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert "Wrote" in said
    # A file that exists already is never replaced.
    code, _, err = run(home, "documents", "save", str(document["id"]), "--out", str(saved))
    assert code == ExitCode.USER_ERROR and "already exists" in err


def test_a_tampered_file_is_shown_as_changed_and_never_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_VAULT", "file")
    home = tmp_path / "home"
    with BankSandbox() as bank, synced_once(home, bank, "bank"):
        pass
    document = next(iter(documents(home).values()))
    kept = FileStore(home).path(str(document["digest"]))
    kept.write_bytes(kept.read_bytes().replace(b"%%EOF", b"%%E0F"))
    code, listing, _ = run(home, "documents")
    assert code == ExitCode.OK and sorted(file_column(listing)) == ["changed"] + ["kept"] * 45
    out = tmp_path / "out.pdf"
    code, _, err = run(home, "documents", "save", str(document["id"]), "--out", str(out))
    assert code != ExitCode.OK and "has been changed since it was fetched" in err
    assert not out.exists() and list(tmp_path.glob(".out.pdf.*")) == []


def test_a_sync_after_tampering_fetches_the_file_again_in_the_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new statement whose bytes equal a damaged kept file's heals it, and a file the
    provider serves twice is kept once: the name is the digest of what arrived."""
    files = FileStore(tmp_path)
    first = files.keep_content(b"%PDF-1.4 statement", "application/pdf")
    files.path(first.sha256).write_bytes(b"damaged")
    assert files.has(first.sha256) and not files.intact(first.sha256)
    again = files.keep_content(b"%PDF-1.4 statement", "application/pdf")
    assert again == first and files.intact(first.sha256)
    assert [p.name for p in files.root.iterdir()] == [first.sha256]


SMALL_LIMIT_PLUGIN = """
import dataclasses
from portal import hookimpl
from portal.provider import RequestLimits
from portal_bank import plugin as bank

PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="bank_small", limits=RequestLimits(max_bytes=8000)
)

@hookimpl
def register_providers(register):
    register(PROVIDER)

@hookimpl
def fetch(client, cursors):
    client.keep_file("accounts/{account}/transactions")
    yield from ()

@hookimpl
def normalise(stream, item, ref):
    return []
"""


def test_a_file_larger_than_the_body_limit_is_refused_and_nothing_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit of any answer holds while a file streams to disk: a page of transactions
    kept as a file is larger than 8000 bytes; the login's answers are not."""
    from portal.app import Portal
    from portal.auth.flows import auto_approve_browser

    monkeypatch.setenv("PORTAL_VAULT", "file")
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    home = tmp_path / "home"
    with BankSandbox() as bank:
        account = bank.ground_truth()["documents"][0]["AccountId"]
        (plugins / "bank_small.py").write_text(SMALL_LIMIT_PLUGIN.format(account=account))
        with Portal.open(home=home, plugins_dir=plugins) as portal:
            endpoints = sandbox_endpoints(bank)
            portal.connect("bank_small", browser=auto_approve_browser, endpoints=endpoints)
            [result] = portal.sync(["bank_small"])
    assert not result.ok and "more than the 8000 bytes allowed" in str(result.error)
    assert list(FileStore(home).root.iterdir()) == []  # no half file, no temporary left


def test_a_file_name_is_always_a_digest(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    for hostile in ("../../.bashrc", "a" * 63, "A" * 64, "statement.pdf"):
        with pytest.raises(Exception, match="not a SHA-256 digest"):
            files.path(hostile)
    assert files.path(hashlib.sha256(b"x").hexdigest()).parent == files.root
    assert not os.listdir(tmp_path)  # asking makes nothing


def test_a_file_cut_off_mid_download_is_fetched_again_and_kept_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection reset halfway through a PDF: the retry starts the file afresh."""
    from portal.app import Portal
    from portal.http import RetryPolicy
    from portal.sandbox.chaos import Chaos

    monkeypatch.setenv("PORTAL_VAULT", "file")
    fast = RetryPolicy(initial_wait=0.01, max_wait=0.05)
    with BankSandbox() as bank, Portal.open(home=tmp_path / "home", retry_policy=fast) as portal:
        connect(portal, bank)
        bank.set_chaos(Chaos(rate=0.15, kinds=("reset",), seed=3))
        [result] = portal.sync(["bank"])
        bank.set_chaos(None)
        assert result.ok, result.error
        files = [r.path for r in bank.requests if r.path.endswith("/file")]
        assert len(files) > len(set(files))  # some PDFs were cut off and asked for again
        stored = {d["provider_id"]: d for d in portal.store.rows(Document, "bank")}
        store = FileStore(tmp_path / "home")
        for statement in bank.ground_truth()["documents"]:
            digest = str(stored[f"statement:{statement['StatementId']}"]["digest"])
            assert store.path(digest).read_bytes() == statement_pdf(statement)
        assert len(list(store.root.iterdir())) == len(stored)  # no half file left behind


def test_a_large_file_streams_to_disk_and_is_never_held_in_memory(tmp_path: Path) -> None:
    """32 MB kept through the transport (as keep_file does) costs a chunk or two of memory."""
    import tracemalloc

    import httpx

    from hostile import HostileServer
    from portal.http import KEEP, RetryPolicy, RetryTransport

    size = 32 << 20  # /huge sends this many spaces
    files = FileStore(tmp_path)
    transport = RetryTransport(policy=RetryPolicy(attempts=1), max_bytes=64 << 20)
    with HostileServer(huge_bytes=size) as server, httpx.Client(transport=transport) as client:
        tracemalloc.start()
        try:
            with files.receiving() as receiving:
                client.get(f"{server.url}/huge", extensions={KEEP: receiving})
                kept = receiving.kept("application/pdf")
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert kept.sha256 == hashlib.sha256(b" " * size).hexdigest() and kept.size == size
    assert files.path(kept.sha256).stat().st_size == size
    assert peak < 2 << 20, f"{peak} bytes held for a {size}-byte file"


def test_what_a_killed_download_left_is_swept_but_a_download_in_progress_is_not(
    tmp_path: Path,
) -> None:
    from portal.files import STALE_SECONDS

    files = FileStore(tmp_path)
    files.keep_content(b"first", "text/plain")  # makes the folder
    stale, fresh = files.root / ".incoming.dead.tmp", files.root / ".incoming.live.tmp"
    stale.write_bytes(b"half a statement")
    fresh.write_bytes(b"arriving")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    FileStore(tmp_path).keep_content(b"second", "text/plain")  # a later sync's store
    assert not stale.exists() and fresh.exists()
