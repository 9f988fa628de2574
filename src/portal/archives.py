"""ZIP archives people download ("Request your data" exports), read safely and as streams.

``portal import`` hands an importer that declares ``sniff_archive`` (``portal.importing``)
the path of the ZIP file itself; the importer opens it with ``Archive`` and reads the
members it wants, each as a stream. Nothing is ever extracted to disk, and an archive is
distrusted as any other file is:

- before its directory is parsed, the end record is read: an archive that declares more
  than ``MAX_MEMBERS`` members (or a directory too large for that many) is refused, so a
  forged directory cannot cost memory;
- a member name that is absolute, names a drive, climbs out of the archive (``..``) or
  holds a NUL makes the whole archive refused (no honest export has one);
- a member is opened only if it is not encrypted, declares at most ``MAX_MEMBER_BYTES``
  and expands at most ``MAX_RATIO`` times its compressed size (a "zip bomb" expands by
  thousands); what is read from all members together is counted and stopped at
  ``MAX_TOTAL_BYTES``; a member's data never runs past its declared size (``zipfile``
  stops there and checks the CRC).

Every error is a ``BadFile`` naming the archive and the member; ``member_errors`` adds the
member to the errors a reader raises inside it, so a bad date reads "Your Orders.zip,
member Retail.OrderHistory.1/Retail.OrderHistory.1.csv, line 14: ...".
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from portal.filereaders import CHUNK, BadFile, text_encoding
from portal.shown import shown

MAX_MEMBERS = 10_000
"""The most members an archive may hold: Amazon's "Your Orders" export holds a few hundred."""

MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""The largest a member may declare itself, uncompressed (as ``importing.MAX_FILE_BYTES``)."""

MAX_TOTAL_BYTES = 1024 * 1024 * 1024
"""The most that is read, uncompressed, from all the members of one archive together."""

MAX_RATIO = 200
"""How many times its compressed size a member may expand: CSV and XML compress 5 to 50
times; a zip bomb's members expand a thousand times and more."""

_SMALL = 64 * 1024
"""Below this, a member may expand any number of times (a tiny file of one repeated byte)."""

_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_END = b"PK\x05\x06"
_END_SIZE = 22
_DIRECTORY_ENTRY = 46 + 1024  # fixed part of an entry, and a generous name and extras


def is_zip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a ZIP archive (or an empty one)."""
    return head.startswith(_MAGIC)


@dataclass(frozen=True)
class Member:
    """One file in an archive: its name (with its folders), sizes, and where it is listed."""

    name: str
    size: int
    compressed: int
    info: zipfile.ZipInfo

    @property
    def basename(self) -> str:
        """The name without its folders."""
        return self.name.rsplit("/", 1)[-1]


def _declared_members(path: Path) -> None:
    """Refuse an archive whose end record declares more than portal reads, before parsing."""
    with path.open("rb") as source:
        source.seek(0, io.SEEK_END)
        size = source.tell()
        tail_size = min(size, _END_SIZE + 0xFFFF)  # the end record, and its comment at most
        source.seek(size - tail_size)
        tail = source.read(tail_size)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        raise BadFile(path, None, "is not a readable ZIP archive (it has no end record)")
    entries, directory = struct.unpack("<6xHI", tail[at + 4 : at + 16])
    if entries != 0xFFFF and entries > MAX_MEMBERS:
        raise BadFile(
            path, None, f"holds {entries} files, more than the {MAX_MEMBERS} portal reads"
        )
    if directory > MAX_MEMBERS * _DIRECTORY_ENTRY:
        raise BadFile(
            path,
            None,
            f"has a directory of {directory} bytes, more than {MAX_MEMBERS} files need",
        )


def _too_many(count: int) -> str:
    return f"holds {count} files, more than the {MAX_MEMBERS} portal reads"


_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> bool:
    """Whether a member name could point outside the archive's own folder if extracted."""
    if "\x00" in name:
        return True
    posix = name.replace("\\", "/")
    if posix.startswith("/") or _DRIVE.match(posix):
        return True
    return any(part == ".." for part in posix.split("/"))


class Archive:
    """A ZIP archive opened for reading: its members listed and checked, none yet read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        _declared_members(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError) as error:
            raise BadFile(path, None, f"is not a readable ZIP archive ({error})") from None
        try:
            self.members = self._list()
        except BaseException:
            self._zip.close()
            raise
        self._read = 0
        self._encodings: dict[tuple[str, tuple[str, ...]], str] = {}

    def _list(self) -> list[Member]:
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise BadFile(
                self.path,
                None,
                f"holds {len(infos)} files, more than the {MAX_MEMBERS} portal reads",
            )
        members = []
        for info in infos:
            if unsafe_name(info.filename):
                raise BadFile(
                    self.path,
                    f"member {shown(info.filename)}",
                    "names a place outside the archive's folder; portal refuses such archives",
                )
            if not info.is_dir():
                members.append(Member(info.filename, info.file_size, info.compress_size, info))
        return members

    @property
    def names(self) -> list[str]:
        """Every member's name (files only), in the archive's order."""
        return [member.name for member in self.members]

    def open(self, member: Member) -> IO[bytes]:
        """The member's bytes as a stream, once its sizes and encryption are checked."""
        where = f"member {shown(member.name)}"
        if member.info.flag_bits & 0x1:
            raise BadFile(self.path, where, "is encrypted; portal reads unencrypted archives")
        if member.size > MAX_MEMBER_BYTES:
            raise BadFile(
                self.path, where, f"is {member.size} bytes uncompressed, more than portal reads"
            )
        if member.size > _SMALL and member.size > MAX_RATIO * max(member.compressed, 1):
            raise BadFile(
                self.path,
                where,
                f"expands {member.size // max(member.compressed, 1)} times its compressed"
                f" size (more than {MAX_RATIO}): a 'zip bomb', refused",
            )
        try:
            raw = self._zip.open(member.info)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError) as error:
            raise BadFile(self.path, where, f"cannot be read ({error})") from None
        return io.BufferedReader(_Counted(raw, self, where), CHUNK)

    def peek(self, member: Member, size: int) -> bytes:
        """The first ``size`` bytes of a member (to recognise it), whatever its size.

        Only this much is decompressed, so the size and ratio checks of ``open`` (which
        are for reading a member whole) do not apply: a large member the importer will not
        read does not stop the archive being read."""
        where = f"member {shown(member.name)}"
        if member.info.flag_bits & 0x1:
            raise BadFile(self.path, where, "is encrypted; portal reads unencrypted archives")
        try:
            with self._zip.open(member.info) as raw:
                data = raw.read(size)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError) as error:
            raise BadFile(self.path, where, f"cannot be read ({error})") from None
        except (zlib.error, EOFError, OSError) as error:
            raise BadFile(self.path, where, f"is damaged ({error})") from None
        self.count(len(data), where)
        return data

    def open_text(
        self, member: Member, encodings: Sequence[str] = ("utf-8-sig", "cp1252")
    ) -> IO[str]:
        """The member as text in the first of ``encodings`` that reads it all.

        The first time, the member is read once more to choose the encoding; the choice is
        kept, so a reader that reads a member twice (two passes) decodes it only twice.
        """
        key = (member.name, tuple(encodings))
        with member_errors(self.path, member.name):
            if key not in self._encodings:
                opener = functools.partial(self.open, member)
                self._encodings[key] = text_encoding(self.path, encodings, opener=opener)
            return io.TextIOWrapper(self.open(member), encoding=self._encodings[key], newline="")

    def count(self, size: int, where: str) -> None:
        """Add ``size`` bytes read; refuse the archive once the total is more than allowed."""
        self._read += size
        if self._read > MAX_TOTAL_BYTES:
            raise BadFile(
                self.path,
                where,
                f"takes what is read from the archive past {MAX_TOTAL_BYTES} bytes; refused",
            )

    def close(self) -> None:
        """Close the archive file."""
        self._zip.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Counted(io.RawIOBase):
    """A member's stream that counts what it hands out, and names the member in its errors."""

    def __init__(self, raw: IO[bytes], archive: Archive, where: str) -> None:
        super().__init__()
        self._raw = raw
        self._archive = archive
        self._where = where

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._raw.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise BadFile(self._archive.path, self._where, f"is damaged ({error})") from None
        self._archive.count(len(data), self._where)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._raw.close()
        super().close()


def archive_names(path: Path) -> list[str]:
    """The names of the files in the archive at ``path``, once it passed the checks above."""
    with Archive(path) as archive:
        return archive.names


@contextmanager
def member_errors(path: Path, member: str) -> Iterator[None]:
    """Name ``member`` in any ``BadFile`` raised inside: "member X.csv, line 4: ..."."""
    prefix = f"member {shown(member)}"
    try:
        yield
    except BadFile as error:
        if error.path == path and error.locator and error.locator.startswith(prefix):
            raise
        where = f"{prefix}, {error.locator}" if error.locator else prefix
        raise BadFile(path, where, error.problem) from None
