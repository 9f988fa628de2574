"""``portal documents``: the documents providers issued, and the files they carry.

A document's file is kept in the portal home by its digest (``portal.files``); ``save``
copies it out, checking every byte against the digest on the way, to a name the person
chose or one portal makes from the document's portal id: never the provider's file name.
"""

from __future__ import annotations

import os
import secrets
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from portal.cli import output
from portal.cli.base import _open, cli, friendly_errors
from portal.shown import shown

if TYPE_CHECKING:
    from portal.app import Portal
    from portal.files import FileStore

EXTENSIONS = {"application/pdf": ".pdf", "application/json": ".json", "text/plain": ".txt"}
"""The file name ending ``save`` gives a document by its content type (else ``.bin``)."""
SHORT_ID = 13
"""How much of a portal id the listing shows (``save`` takes any unique start of one)."""


@cli.group(invoke_without_command=True)
@click.option("--provider", help="Only this provider's documents.")
@click.pass_context
def documents(ctx: click.Context, provider: str | None) -> None:
    """List the documents providers issued (statements, bills, letters) and their files."""
    if ctx.invoked_subcommand is not None:
        return
    from portal.files import FileStore

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        files = FileStore(portal.home)
        table = output.table("Id", "Provider", "Issued", "Title", "Size", "File")
        found = 0
        for row in _documents(portal, provider):
            found += 1
            table.add_row(
                row["id"][:SHORT_ID],
                row["provider"],
                str(row["issued_on"]),
                row["title"],
                "" if row["size_bytes"] is None else f"{row['size_bytes']:,} B",
                _state(files, row["digest"]),
            )
        console = output.console()
        if found:
            console.print(table)
            output.line(console, "File: kept; missing (sync again); changed (since fetched).")
            output.line(console, "Save one with: portal documents save ID --out FILE_OR_FOLDER")
        else:
            output.line(console, "No documents yet. Run portal sync to fetch them.")


@documents.command("save")
@click.argument("document_id")
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    required=True,
    help="A new file to write, or a folder to write it into (named by the document's id).",
)
@click.pass_context
def save(ctx: click.Context, document_id: str, out: Path) -> None:
    """Write the file of document DOCUMENT_ID (see portal documents), checked by its digest."""
    from portal.errors import UserError
    from portal.files import FileStore

    with friendly_errors(ctx.obj["verbose"]):
        portal = _open(ctx)
        matches = [r for r in _documents(portal, None) if r["id"].startswith(document_id)]
        if len(matches) != 1 or not document_id:
            raise UserError(
                f"{'No' if not matches else 'More than one'} document has the id {document_id!r}.",
                hint="Run portal documents to list them, and give one id (or its start) from it.",
            )
        [row] = matches
        if out.is_dir():
            out = out / (row["id"] + EXTENSIONS.get(row["content_type"], ".bin"))
        size = _write_new(FileStore(portal.home), row["digest"], out)
        output.echo(f"Wrote {shown(out)} ({size:,} bytes, SHA-256 {row['digest']}).")


def _documents(portal: Portal, provider: str | None) -> list[dict[str, Any]]:
    from portal.record import Document

    rows = list(portal.store.rows(Document, provider))
    return sorted(rows, key=lambda r: (r["provider"], r["issued_on"], r["id"]))


def _state(files: FileStore, digest: str) -> str:
    if not files.has(digest):
        return "missing"
    return "kept" if files.intact(digest) else "changed"


def _write_new(files: FileStore, digest: str, out: Path) -> int:
    """Copy the file named ``digest`` to the new file ``out`` (0600); return its size.

    The bytes go to a temporary name beside ``out`` and are linked to ``out`` only when
    all of them matched the digest; an existing ``out`` is never replaced.
    """
    from portal.errors import UserError
    from portal.private import new_private_file

    if out.exists() or out.is_symlink():
        raise UserError(f"{out} already exists.", hint="Give --out a new file name or a folder.")
    try:
        folder = os.open(out.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as error:
        raise UserError(
            f"Cannot write into {out.parent} ({error.strerror}).",
            hint="Give --out a file in a folder that exists and is yours.",
        ) from None
    temporary = f".{out.name}.{secrets.token_hex(8)}.tmp"
    size = 0
    try:
        fd = new_private_file(folder, temporary)
        with os.fdopen(fd, "wb") as handle:
            for chunk in files.chunks(digest):  # raises TamperedFile after the last chunk
                handle.write(chunk)
                size += len(chunk)
        os.link(temporary, out.name, src_dir_fd=folder, dst_dir_fd=folder)  # never replaces
    except FileExistsError:
        raise UserError(
            f"{out} already exists.", hint="Give --out a new file name or a folder."
        ) from None
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temporary, dir_fd=folder)
        os.close(folder)
    return size
