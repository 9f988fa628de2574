"""The files documents carry (a statement's PDF, a bill), kept in the portal home by digest.

A ``Document`` names its file by the SHA-256 of its bytes; the bytes live once, however
many documents or syncs name them, at ``<home>/files/sha256/<digest>``: a 0600 file in a
0700 folder (``portal.private``). A file is written under a temporary name while it
arrives, hashed as it is written, and takes its digest as its name only when it is whole,
so a file at a digest's name is always complete and a sync cut short leaves no half file.
The name is the digest portal computed, never a name a provider chose: a provider's file
name ("../../.bashrc", "statement.pdf\\u202egnp.exe") never becomes a path.

Plugins keep files through their client (``ProviderClient.keep_file``, streamed to disk
within the provider's body limit, never held in memory whole) and ``keep_content`` for
bytes they already hold. People get them with ``portal documents`` (``portal.cli.documents``).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portal.errors import UserError
from portal.private import new_private_file, open_private_folder

_DIGEST = re.compile(r"[0-9a-f]{64}")
STALE_SECONDS = 6 * 3600
"""A temporary file this old is a download that was killed, not one still arriving."""
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class KeptFile:
    """A file in the store: the SHA-256 that names it, its size, and its media type."""

    sha256: str
    size: int
    content_type: str = "application/octet-stream"

    def as_dict(self) -> dict[str, Any]:
        """The file as plain values (what a plugin puts beside a raw item it measured)."""
        return {"content_type": self.content_type, "sha256": self.sha256, "size": self.size}


class TamperedFile(UserError):
    """A kept file whose bytes no longer hash to the digest that names it."""


class Receiving:
    """One file arriving, perhaps over several attempts: each ``start`` begins it afresh.

    Made by ``FileStore.receiving``; the transport calls ``start`` at every attempt of the
    request (a retry must not append to what a failed attempt wrote) and writes the body's
    chunks to what it returns. ``kept`` then names the whole file by its digest.
    """

    def __init__(self, store: FileStore, folder: int) -> None:
        self._store = store
        self._folder = folder
        self._temporary: str | None = None
        self._fd: int | None = None
        self._sha256 = hashlib.sha256()
        self._size = 0

    def start(self) -> Callable[[bytes], None]:
        """Begin the file again (dropping what an earlier attempt wrote); return its writer."""
        self._abandon()
        self._temporary = f".incoming.{secrets.token_hex(8)}.tmp"
        self._fd = new_private_file(self._folder, self._temporary)
        self._sha256, self._size = hashlib.sha256(), 0
        return self._write

    def _write(self, chunk: bytes) -> None:
        assert self._fd is not None, "start() first"
        self._sha256.update(chunk)
        self._size += len(chunk)
        view = memoryview(chunk)
        while view:
            view = view[os.write(self._fd, view) :]

    def kept(self, content_type: str) -> KeptFile:
        """The file written since the last ``start``, now in the store under its digest."""
        assert self._fd is not None and self._temporary is not None, "start() first"
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        digest = self._sha256.hexdigest()
        if self._store.intact(digest):  # the same bytes are kept already: keep them once
            os.unlink(self._temporary, dir_fd=self._folder)
        else:  # new, or the kept copy was damaged: the bytes just hashed replace it
            os.replace(self._temporary, digest, src_dir_fd=self._folder, dst_dir_fd=self._folder)
        self._temporary = None
        return KeptFile(digest, self._size, content_type)

    def _abandon(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._temporary is not None:
            with suppress(FileNotFoundError):
                os.unlink(self._temporary, dir_fd=self._folder)
            self._temporary = None


class FileStore:
    """The files of one portal home, each named by the SHA-256 of its bytes."""

    def __init__(self, home: Path) -> None:
        self.root = home / "files" / "sha256"
        self._swept = False

    def __repr__(self) -> str:
        return f"FileStore({str(self.root)!r})"

    @contextmanager
    def receiving(self) -> Iterator[Receiving]:
        """A file to write into the store; whatever is not ``kept`` by the end is removed."""
        folder = self._open()
        receiving = Receiving(self, folder)
        try:
            yield receiving
        finally:
            receiving._abandon()
            os.close(folder)

    def keep_content(self, content: bytes, content_type: str) -> KeptFile:
        """Keep ``content`` (bytes a plugin holds already) and return it as a kept file."""
        with self.receiving() as receiving:
            receiving.start()(content)
            return receiving.kept(content_type)

    def path(self, digest: str) -> Path:
        """Where the file named ``digest`` is kept (whether or not it is there)."""
        if not _DIGEST.fullmatch(digest):
            raise UserError(
                f"{digest!r} is not a SHA-256 digest.", hint="A digest is 64 hex digits."
            )
        return self.root / digest

    def has(self, digest: str) -> bool:
        """Whether a file is kept under ``digest`` (its bytes unchecked: see ``intact``)."""
        return self.path(digest).is_file()

    def intact(self, digest: str) -> bool:
        """Whether a file is kept under ``digest`` and its bytes still hash to it."""
        try:
            return self._hash(self.path(digest)) == digest
        except FileNotFoundError:
            return False

    def chunks(self, digest: str) -> Iterator[bytes]:
        """The bytes of the file named ``digest``, checked against it as they are read.

        Raises UserError if no file is kept under the digest, and TamperedFile (after the
        last chunk) if its bytes do not hash to it: a caller writing them somewhere must
        discard what it wrote then.
        """
        path = self.path(digest)
        if not path.is_file():
            raise UserError(
                f"No file is kept for digest {digest}.",
                hint="Run portal sync again: the provider's plugin keeps it on the next sync.",
            )
        sha256 = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha256.update(chunk)
                yield chunk
        if sha256.hexdigest() != digest:
            raise TamperedFile(
                f"The file kept for digest {digest} has been changed since it was fetched.",
                hint=f"Delete {path} and run portal sync again to fetch it afresh.",
            )

    def _open(self) -> int:
        # Both levels owner only: the folder's listing (which digests) is personal too.
        os.close(open_private_folder(self.root.parent, action="keep files in", hint=_HINT))
        folder = open_private_folder(self.root, action="keep files in", hint=_HINT)
        if not self._swept:
            self._sweep(folder)
            self._swept = True
        return folder

    @staticmethod
    def _sweep(folder: int) -> None:
        """Remove what downloads killed mid-way left (a SIGKILL runs no cleanup).

        Only temporaries older than ``STALE_SECONDS``: another sync may be writing its own
        right now, and no answer takes that long (``RequestLimits.answer_seconds``).
        """
        now = time.time()
        for name in os.listdir(folder):
            if name.startswith(".incoming.") and name.endswith(".tmp"):
                with suppress(FileNotFoundError):
                    info = os.stat(name, dir_fd=folder, follow_symlinks=False)
                    if now - info.st_mtime > STALE_SECONDS:
                        os.unlink(name, dir_fd=folder)

    @staticmethod
    def _hash(path: Path) -> str:
        sha256 = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                sha256.update(chunk)
        return sha256.hexdigest()


_HINT = "The portal home's files folder must be a folder of your own; move aside what is there."
