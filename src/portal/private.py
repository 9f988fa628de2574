"""Folders and files only their owner can open: for exports and the files documents carry.

Personal data is written into a folder that is 0700 and a file that is 0600, made new
(never through a symbolic link someone planted at the name), relative to the open folder,
so swapping the folder's path for a link afterwards changes nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from portal.errors import UserError

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


def open_private_folder(
    out: Path,
    *,
    action: str = "export into",
    hint: str = "Give --out a new folder, or a folder of your own.",
) -> int:
    """``out`` as an open folder only its owner can use (0700), made if it is missing.

    An existing folder that others could read is tightened; a symbolic link, something
    that is not a folder, or a folder owned by someone else is refused with a UserError
    that says portal cannot ``action`` it, and ``hint``. The folder is opened without
    following a link, and files are then made relative to that open folder, so swapping
    the path for a link afterwards changes nothing.
    """
    try:
        out.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = os.open(out, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as error:
        kind = "a symbolic link" if out.is_symlink() else "not a folder portal can write"
        raise UserError(
            f"Cannot {action} {out}: it is {kind} ({error.strerror}).", hint=hint
        ) from None
    info = os.fstat(folder)
    if info.st_uid != os.getuid():
        os.close(folder)
        raise UserError(f"Cannot {action} {out}: the folder belongs to another user.", hint=hint)
    if stat.S_IMODE(info.st_mode) != 0o700:  # personal data: owner only, whatever was there
        os.fchmod(folder, 0o700)
    return folder


def new_private_file(folder: int, name: str) -> int:
    """A new 0600 file ``name`` in the open ``folder``, as a descriptor open for writing.

    O_EXCL and O_NOFOLLOW: the file is ours and new, never a link planted at the name.
    """
    fd = os.open(name, _NEW, 0o600, dir_fd=folder)
    os.fchmod(fd, 0o600)  # whatever the umask
    return fd
