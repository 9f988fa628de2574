"""Tokens encrypted at rest (Fernet), one file per portal home.

This is the first form of the vault: an encrypted file whose key sits in a separate
0600 key file. It keeps tokens out of plaintext, out of the store and out of backups of
the store; the keyring and passphrase-derived keys come with the full vault.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from portal.auth.tokens import TokenSet
from portal.errors import ConfigError


class Vault:
    """Encrypted token storage, keyed by connection id."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "vault.bin"
        self.key_path = directory / "vault.key"
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Vault({str(self.path)!r})"

    def get(self, connection_id: str) -> TokenSet | None:
        """The tokens of a connection, or None."""
        with self._lock:
            values = self._read().get(connection_id)
        return None if values is None else TokenSet(values)

    def put(self, connection_id: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens of a connection."""
        with self._lock:
            data = self._read()
            data[connection_id] = tokens.as_dict()
            self._write(data)

    def delete(self, connection_id: str) -> None:
        """Forget the tokens of a connection."""
        with self._lock:
            data = self._read()
            if data.pop(connection_id, None) is not None:
                self._write(data)

    def _fernet(self) -> Fernet:
        if not self.key_path.exists():
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(Fernet.generate_key())
        mode = self.key_path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(
                f"The vault key {str(self.key_path)!r} is readable by others (mode {mode:o}).",
                hint=f"Run chmod 600 {self.key_path}.",
            )
        return Fernet(self.key_path.read_bytes())

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        try:
            plain = self._fernet().decrypt(self.path.read_bytes())
        except InvalidToken:
            raise ConfigError(
                f"The vault {str(self.path)!r} cannot be decrypted with its key.",
                hint="Delete the vault and run portal connect again for each provider.",
            ) from None
        data: dict[str, Any] = json.loads(plain)
        return data

    def _write(self, data: dict[str, Any]) -> None:
        token = self._fernet().encrypt(json.dumps(data).encode())
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(token)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
