"""The vault: encrypted at rest, private files only, keyring or passphrase, compare-and-swap."""

import os
import threading
from pathlib import Path
from typing import Any

import pytest
from keyring.backend import KeyringBackend

from portal.auth.tokens import TokenSet
from portal.auth.vault import FileStorage, KeyringStorage, Vault, open_vault
from portal.errors import ConfigError

TOKENS = TokenSet({"access_token": "at-secret-1", "refresh_token": "rt-secret-1", "expires_in": 60})


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in memory, as a real OS keyring would keep them."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.passwords[(service, username)]


def file_vault(folder: Path, passphrase: str | None = None) -> Vault:
    if passphrase is not None:
        storage = FileStorage(folder / "vault.bin", passphrase=passphrase)
    else:
        storage = FileStorage(folder / "vault.bin", key_file=folder / "vault.key")
    return Vault(storage, folder / "vault.lock")


@pytest.mark.parametrize("passphrase", [None, "correct horse battery staple"])
def test_tokens_round_trip_encrypted_in_a_private_file(tmp_path: Path, passphrase: Any) -> None:
    vault = file_vault(tmp_path, passphrase)
    vault.put("c1", TOKENS)
    stored = vault.get("c1")
    assert stored is not None and stored.access_token == "at-secret-1"
    raw = (tmp_path / "vault.bin").read_bytes()
    assert b"at-secret-1" not in raw and b"rt-secret-1" not in raw
    assert os.stat(tmp_path / "vault.bin").st_mode & 0o777 == 0o600
    if passphrase is None:
        assert os.stat(tmp_path / "vault.key").st_mode & 0o777 == 0o600
    else:
        assert not (tmp_path / "vault.key").exists()
        assert b'"kdf": "argon2id"' in raw.splitlines()[0]


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    file_vault(tmp_path, "right").put("c1", TOKENS)
    with pytest.raises(ConfigError, match="wrong key or passphrase"):
        file_vault(tmp_path, "wrong").get("c1")
    with pytest.raises(ConfigError, match="PORTAL_VAULT_PASSPHRASE"):
        file_vault(tmp_path).get("c1")


def test_a_file_that_is_not_a_vault_is_refused(tmp_path: Path) -> None:
    (tmp_path / "vault.bin").write_bytes(b"hello")
    os.chmod(tmp_path / "vault.bin", 0o600)
    with pytest.raises(ConfigError, match="not a portal vault"):
        file_vault(tmp_path).get("c1")


def test_keyring_storage_keeps_each_connection_as_a_secret(tmp_path: Path) -> None:
    backend = MemoryKeyring()
    vault = Vault(KeyringStorage(backend), tmp_path / "vault.lock")
    vault.put("c1", TOKENS)
    vault.put("c2", TokenSet({"access_token": "other"}))
    assert vault.get("c1") == TokenSet(TOKENS.as_dict())
    assert ("portal", "c1") in backend.passwords and ("portal", "c2") in backend.passwords
    vault.delete("c1")
    assert ("portal", "c1") not in backend.passwords and vault.get("c2") is not None


def test_open_vault_follows_portal_vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_VAULT", "file")
    assert isinstance(open_vault(tmp_path).storage, FileStorage)
    monkeypatch.setenv("PORTAL_VAULT", "cloud")
    with pytest.raises(ConfigError, match="PORTAL_VAULT='cloud'"):
        open_vault(tmp_path)


def test_swap_only_replaces_the_token_it_expected(tmp_path: Path) -> None:
    vault = file_vault(tmp_path)
    vault.put("c1", TOKENS)
    rotated = TokenSet({"access_token": "at-2", "refresh_token": "rt-2"})
    assert not vault.swap("c1", "rt-stale", rotated)
    assert vault.swap("c1", "rt-secret-1", rotated)
    assert not vault.swap("c1", "rt-secret-1", TOKENS)  # the rotation is never undone
    assert vault.get("c1") == rotated


def test_the_lock_excludes_other_vaults_on_the_same_files(tmp_path: Path) -> None:
    # Two Vault objects on one home behave like two processes: flock excludes them.
    first, second = file_vault(tmp_path), file_vault(tmp_path)
    order: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with first.locked():
            inside.set()
            order.append("first in")
            threading.Event().wait(0.3)
            order.append("first out")

    thread = threading.Thread(target=hold)
    thread.start()
    inside.wait()
    with second.locked():
        order.append("second in")
    thread.join()
    assert order == ["first in", "first out", "second in"]


def test_token_values_never_show_in_repr(tmp_path: Path) -> None:
    vault = file_vault(tmp_path)
    vault.put("c1", TOKENS)
    shown = repr(vault) + repr(vault.get("c1")) + str(vault.get("c1"))
    assert "secret" not in shown
