"""The credential vault: tokens encrypted at rest, changed only under a lock.

Two backends keep the secrets:

- ``KeyringStorage``: the operating system's keyring (macOS Keychain, Windows Credential
  Locker, Secret Service), through ``keyring``, where one is available;
- ``FileStorage``: a file encrypted with Fernet (AES-128-CBC + HMAC-SHA256), whose key is
  either a random key in a separate 0600 key file, or derived from a passphrase with
  Argon2id (memory-hard, RFC 9106). Both files must be 0600: anything looser is refused.

Whatever the backend, every change goes through ``Vault``, which holds an exclusive lock
(a ``flock`` on ``vault.lock``) across processes and threads, so a refresh in one process
and a refresh in another cannot lose a rotated refresh token: ``swap`` only writes when the
stored refresh token is still the one the caller started from (compare-and-swap).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from portal.auth.tokens import TokenSet
from portal.errors import ConfigError

FORMAT = "portal-vault/1"
# Argon2id parameters: 64 MiB, 3 passes, 4 lanes (RFC 9106's second recommended option).
ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_LANES = 64 * 1024, 3, 4


class Storage(Protocol):
    """Where a vault keeps its entries (each a JSON object of token values)."""

    def read(self) -> dict[str, dict[str, Any]]:
        """Every entry, by connection id."""
        ...

    def write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Replace every entry."""
        ...


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ConfigError(
            f"{str(path)!r} is readable by other users (mode {mode:o}), so portal will not use it.",
            hint=f"Run chmod 600 {path}.",
        )


def _write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class FileStorage:
    """Entries in one encrypted file, keyed by a key file or by a passphrase."""

    def __init__(self, path: Path, *, key_file: Path | None = None, passphrase: str | None = None):
        if (key_file is None) == (passphrase is None):
            raise ValueError("give exactly one of key_file and passphrase")
        self.path = path
        self.key_file = key_file
        self._passphrase = passphrase

    def __repr__(self) -> str:
        how = "passphrase" if self._passphrase is not None else f"key file {self.key_file}"
        return f"FileStorage({str(self.path)!r}, {how})"

    def _key_from_file(self) -> bytes:
        assert self.key_file is not None
        if not self.key_file.exists():
            _write_private(self.key_file, Fernet.generate_key())
        _check_private(self.key_file)
        return self.key_file.read_bytes().strip()

    def _key_from_passphrase(self, salt: bytes) -> bytes:
        assert self._passphrase is not None
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=ARGON2_ITERATIONS,
            lanes=ARGON2_LANES,
            memory_cost=ARGON2_MEMORY_KIB,
        )
        return base64.urlsafe_b64encode(kdf.derive(self._passphrase.encode()))

    def read(self) -> dict[str, dict[str, Any]]:
        """Decrypt and return every entry (none if the file does not exist yet)."""
        if not self.path.exists():
            return {}
        _check_private(self.path)
        header_line, _, token = self.path.read_bytes().partition(b"\n")
        try:
            header = json.loads(header_line)
        except json.JSONDecodeError:
            header = {}
        if header.get("format") != FORMAT:
            raise ConfigError(
                f"{str(self.path)!r} is not a portal vault.",
                hint="Move it away; portal will start a new vault (connect each provider again).",
            )
        if header.get("kdf") == "argon2id" and self._passphrase is None:
            raise ConfigError(
                "The vault is protected by a passphrase.",
                hint="Set PORTAL_VAULT_PASSPHRASE to it.",
            )
        key = self._key(header)
        try:
            plain = Fernet(key).decrypt(token)
        except InvalidToken:
            raise ConfigError(
                f"The vault {str(self.path)!r} cannot be decrypted: wrong key or passphrase.",
                hint="Check PORTAL_VAULT_PASSPHRASE or the key file, or connect again.",
            ) from None
        entries: dict[str, dict[str, Any]] = json.loads(plain)
        return entries

    def _key(self, header: dict[str, Any]) -> bytes:
        if self._passphrase is not None:
            if header.get("kdf") != "argon2id":
                raise ConfigError(
                    "The vault is protected by a key file, not a passphrase.",
                    hint="Unset PORTAL_VAULT_PASSPHRASE.",
                )
            return self._key_from_passphrase(base64.b64decode(header["salt"]))
        return self._key_from_file()

    def write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Encrypt and replace every entry."""
        if self._passphrase is not None:
            salt = os.urandom(16)
            header = {"format": FORMAT, "kdf": "argon2id", "salt": base64.b64encode(salt).decode()}
            key = self._key_from_passphrase(salt)
        else:
            header = {"format": FORMAT, "kdf": "keyfile"}
            key = self._key_from_file()
        token = Fernet(key).encrypt(json.dumps(entries).encode())
        _write_private(self.path, json.dumps(header).encode() + b"\n" + token)


class KeyringStorage:
    """Entries in the operating system's keyring, one secret per connection."""

    SERVICE = "portal"
    INDEX = "__connections__"

    def __init__(self, backend: Any = None) -> None:
        import keyring

        self._keyring = backend or keyring.get_keyring()

    def __repr__(self) -> str:
        return f"KeyringStorage({type(self._keyring).__name__})"

    def read(self) -> dict[str, dict[str, Any]]:
        """Every entry the index lists."""
        index = json.loads(self._keyring.get_password(self.SERVICE, self.INDEX) or "[]")
        entries = {}
        for connection_id in index:
            value = self._keyring.get_password(self.SERVICE, connection_id)
            if value is not None:
                entries[connection_id] = json.loads(value)
        return entries

    def write(self, entries: dict[str, dict[str, Any]]) -> None:
        """Store every entry and forget the ones no longer listed."""
        for gone in set(
            json.loads(self._keyring.get_password(self.SERVICE, self.INDEX) or "[]")
        ) - set(entries):
            with contextlib.suppress(Exception):  # already gone is as good as deleted
                self._keyring.delete_password(self.SERVICE, gone)
        for connection_id, values in entries.items():
            self._keyring.set_password(self.SERVICE, connection_id, json.dumps(values))
        self._keyring.set_password(self.SERVICE, self.INDEX, json.dumps(sorted(entries)))


def keyring_available() -> bool:
    """Whether the OS offers a real keyring (not keyring's fail or null backends)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:  # pragma: no cover - keyring is a dependency
        return False
    backend = keyring.get_keyring()
    return not isinstance(backend, fail.Keyring) and getattr(backend, "priority", 0) > 0


class Vault:
    """Tokens by connection id, every change made under an exclusive lock."""

    def __init__(self, storage: Storage, lock_path: Path) -> None:
        self.storage = storage
        self.lock_path = lock_path
        self._thread_lock = threading.RLock()
        self._depth = 0

    def __repr__(self) -> str:
        return f"Vault({self.storage!r})"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the vault exclusively: other threads and other processes wait."""
        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._depth = 1
                yield
            finally:
                self._depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def get(self, connection_id: str) -> TokenSet | None:
        """The tokens of a connection, or None."""
        values = self.storage.read().get(connection_id)
        return None if values is None else TokenSet(values)

    def put(self, connection_id: str, tokens: TokenSet) -> None:
        """Store (replace) the tokens of a connection."""
        with self.locked():
            entries = self.storage.read()
            entries[connection_id] = tokens.as_dict()
            self.storage.write(entries)

    def swap(
        self, connection_id: str, expected_refresh_token: str | None, tokens: TokenSet
    ) -> bool:
        """Store ``tokens`` only if the stored refresh token is still the expected one."""
        with self.locked():
            entries = self.storage.read()
            current = entries.get(connection_id, {})
            if current.get("refresh_token") != expected_refresh_token:
                return False
            entries[connection_id] = tokens.as_dict()
            self.storage.write(entries)
            return True

    def delete(self, connection_id: str) -> None:
        """Forget the tokens of a connection."""
        with self.locked():
            entries = self.storage.read()
            if entries.pop(connection_id, None) is not None:
                self.storage.write(entries)


def open_vault(home: Path) -> Vault:
    """The vault of a portal home, by ``PORTAL_VAULT`` (keyring, file) or what the OS offers.

    ``PORTAL_VAULT_PASSPHRASE`` makes the file vault derive its key from a passphrase
    instead of keeping a key file.
    """
    choice = os.environ.get("PORTAL_VAULT", "auto")
    if choice not in {"auto", "keyring", "file"}:
        raise ConfigError(
            f"PORTAL_VAULT={choice!r} is not a vault portal knows.",
            hint="Use PORTAL_VAULT=keyring or PORTAL_VAULT=file, or unset it.",
        )
    lock = home / "vault.lock"
    if choice == "keyring" or (choice == "auto" and keyring_available()):
        if not keyring_available():
            raise ConfigError(
                "PORTAL_VAULT=keyring, but this system has no keyring.",
                hint="Use PORTAL_VAULT=file.",
            )
        return Vault(KeyringStorage(), lock)
    passphrase = os.environ.get("PORTAL_VAULT_PASSPHRASE")
    if passphrase:
        return Vault(FileStorage(home / "vault.bin", passphrase=passphrase), lock)
    return Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), lock)
