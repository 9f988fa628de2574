"""Documents carry their files: each digest names a file kept in the portal home, intact.

A ``Document`` names its file (a statement's PDF, a bill) by SHA-256; the plugin keeps the
file through its client (``ProviderClient.keep_file``), and portal stores it under that
digest (``portal.files``). A digest that names no kept file is a document the person
cannot open; a kept file whose bytes no longer hash to its name, or whose size is not the
document's, is not the document the provider issued.
"""

from __future__ import annotations

from portal.files import FileStore
from portal.record import Document
from portal_conformance.failures import examples, require
from portal_conformance.harness import Harness


def kept_files(h: Harness, category: str) -> None:
    """Every stored document's digest names a kept file whose bytes and size match."""
    run = h.require_main_ok()
    files = FileStore(run.portal.home)
    rows = h.rows(Document)
    where = f"the portal home's files/sha256 after the main sync of provider {h.name!r}"
    missing = [r["provider_id"] for r in rows if not files.has(r["digest"])]
    require(
        not missing,
        f"{len(missing)} of {len(rows)} documents name a digest under which no file is kept:"
        f" {examples(missing)}.",
        where=where,
        fix="Download each document's file in fetch with client.keep_file(url) (or keep bytes"
        " you hold with client.keep_content) and put the sha256 it returns in the Document.",
    )
    changed = [r["provider_id"] for r in rows if not files.intact(r["digest"])]
    require(
        not changed,
        f"{len(changed)} of {len(rows)} documents' kept files do not hash to their digest:"
        f" {examples(changed)}.",
        where=where,
        fix="Keep files only through client.keep_file or client.keep_content, which name a"
        " file by the digest of its bytes; never write into the file store yourself.",
    )
    sizes = {r["provider_id"]: files.path(r["digest"]).stat().st_size for r in rows}
    sized = [
        f"{r['provider_id']} ({r['size_bytes']} declared, {sizes[r['provider_id']]} kept)"
        for r in rows
        if r["size_bytes"] is not None and r["size_bytes"] != sizes[r["provider_id"]]
    ]
    require(
        not sized,
        f"{len(sized)} of {len(rows)} documents state a size their kept file does not have:"
        f" {examples(sized)}.",
        where=where,
        fix="Put in size_bytes the size keep_file returns with the digest.",
    )
