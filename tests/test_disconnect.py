"""Disconnect: tokens revoked at the provider and forgotten here; records kept or deleted."""

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from conftest import connect
from portal.app import Portal
from portal.batch import Batch, RawPayload
from portal.cli import ExitCode, cli
from portal.record import Account, Transaction
from portal_bank.sandbox import BankSandbox


def other_providers_data(portal: Portal) -> None:
    """Rows from another provider, which disconnecting the bank must not touch."""
    account = Account(provider_id="x1", name="Other", account_type="x", account_type_label="X")
    account.id, account.provider, account.raw_id = "other-account", "other", "raw-other"
    portal.store.commit(
        Batch(
            "other",
            "c-other",
            "accounts",
            datetime.now(UTC),
            [account],
            [RawPayload("raw-other", "accounts", "{}")],
        )
    )


def test_disconnect_revokes_both_tokens_and_forgets_them(portal: Portal, bank: BankSandbox) -> None:
    connection = connect(portal, bank)
    portal.sync()
    done = portal.disconnect("bank")
    assert done.failures == [] and done.revoked
    assert sorted(kind for _, kind in bank.revocations) == ["access_token", "refresh_token"]
    assert portal.vault.get(connection.id) is None
    assert portal.store.connections() == []
    assert portal.store.cursors(connection.id) == {}
    assert len(list(portal.store.rows(Transaction))) == len(bank.ground_truth()["transactions"])


def test_disconnect_with_delete_data_removes_only_that_providers_records(
    portal: Portal, bank: BankSandbox
) -> None:
    connect(portal, bank)
    portal.sync()
    other_providers_data(portal)
    portal.disconnect("bank", delete_data=True)
    assert portal.store.counts() == {"other": {"accounts": 1}}
    assert [row["id"] for row in portal.store.rows(Account)] == ["other-account"]
    assert portal.store.rejections() == []


def test_disconnect_from_the_command_line(tmp_path: Path, bank: BankSandbox) -> None:
    with Portal.open(home=tmp_path) as portal:
        connect(portal, bank)
    result = CliRunner().invoke(
        cli, ["--home", str(tmp_path), "disconnect", "bank", "--delete-data"]
    )
    assert result.exit_code == 0, result.output
    assert "access revoked, tokens deleted, deleted its records" in result.stdout


def test_an_unreachable_provider_still_loses_its_tokens_here_and_the_user_is_told(
    tmp_path: Path,
) -> None:
    with BankSandbox() as bank, Portal.open(home=tmp_path) as portal:
        connection = connect(portal, bank)
    # The sandbox is gone: revocation cannot reach it.
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "disconnect", "bank"])
    assert result.exit_code == ExitCode.PROVIDER
    assert (
        "did not confirm revoking" in result.stderr and "provider's own settings" in result.stderr
    )
    with Portal.open(home=tmp_path) as portal:
        assert portal.vault.get(connection.id) is None and portal.store.connections() == []


def test_status_shows_scopes_and_when_the_grant_expires(tmp_path: Path, bank: BankSandbox) -> None:
    with Portal.open(home=tmp_path) as portal:
        connection = connect(portal, bank)
    assert connection.grant_expires_at is not None
    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "status"], env={"COLUMNS": "160"})
    assert "openid accounts" in result.stdout
    assert f"{connection.grant_expires_at:%Y-%m-%d}" in result.stdout
