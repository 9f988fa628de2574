"""Grants that end: a sync on a lapsed grant says so in one sentence, fetches nothing, keeps
every record and exits with the documented code; ``portal connect --renew`` re-consents
the same connection, and the next sync goes on where the last one stopped.

Through the CLI on a real SQLite file, against the bank's sandbox on 127.0.0.1 with the real
OAuth flow; the grant's end is moved into the past in the store, as 90 days passing would.
"""

import json
import sqlite3
import uuid
import webbrowser
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.auth.flows import auto_approve_browser
from portal.cli import ExitCode, cli
from portal_bank.sandbox import BankSandbox


def counts(home: Path) -> tuple[int, int]:
    with sqlite3.connect(home / "portal.db") as db:
        [(transactions,)] = db.execute("SELECT count(*) FROM transactions")
        [(raw,)] = db.execute("SELECT count(*) FROM raw_items")
    return transactions, raw


def test_a_lapsed_grant_stops_the_sync_keeps_the_data_and_renewing_keeps_the_connection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webbrowser, "open", auto_approve_browser)
    home = tmp_path / "home"
    env = {"PORTAL_HOME": str(home)}
    runner = CliRunner()
    with BankSandbox() as bank:
        named = runner.invoke(cli, ["config", "name", "Ada  Lovelace"], env=env)
        assert named.exit_code == 0, named.output
        connected = runner.invoke(cli, ["connect", "bank", "--sandbox", bank.base_url], env=env)
        assert connected.exit_code == 0, connected.output
        [grant] = json.loads(runner.invoke(cli, ["receipts", "--json"], env=env).output)["receipts"]
        assert_kantara(grant)
        assert grant["piiPrincipalId"] == "Ada Lovelace"
        assert grant["piiControllers"][0]["piiController"] == "Demo Bank"
        assert grant["portal"]["kind"] == "grant" and grant["origin"] == "provided"
        [purpose] = grant["services"][0]["purposes"]
        assert "Transactions" in purpose["piiCategory"] and not purpose["thirdPartyDisclosure"]
        assert runner.invoke(cli, ["sync"], env=env).exit_code == 0
        before = counts(home)
        with sqlite3.connect(home / "portal.db") as db:
            [(connection,)] = db.execute("SELECT id FROM connections")
            db.execute("UPDATE connections SET grant_expires_at = '2026-01-02T03:04:05+00:00'")
        served = len(bank.requests)

        lapsed = runner.invoke(cli, ["sync"], env=env)
        assert lapsed.exit_code == ExitCode.AUTH, lapsed.output
        said = " ".join(lapsed.output.split())
        assert "grant to portal ended on 2026-01-02" in said
        assert "everything already synced is kept" in said
        assert "portal connect bank --renew" in said
        assert len(bank.requests) == served  # refused before any request
        assert counts(home) == before
        status = runner.invoke(cli, ["status"], env=env)
        assert {"2026-01-02", "(ended)", "--renew"} <= set(status.output.split())  # cells wrap

        renewed = runner.invoke(cli, ["connect", "bank", "--renew"], env=env)  # same sandbox
        assert renewed.exit_code == 0, renewed.output
        assert "everything already synced is kept" in renewed.output
        with sqlite3.connect(home / "portal.db") as db:
            [(same, ends)] = db.execute("SELECT id, grant_expires_at FROM connections")
        assert same == connection and (ends is None or ends > "2026-12")
        again = runner.invoke(cli, ["sync"], env=env)
        assert again.exit_code == 0, again.output
        assert counts(home)[0] == before[0]  # nothing lost, nothing twice
        listed = runner.invoke(cli, ["receipts"], env=env).output
        assert listed.count("grant") == 2  # the first grant and its renewal, each receipted


KANTARA = {
    "version": str,
    "jurisdiction": str,
    "consentTimestamp": int,
    "collectionMethod": str,
    "consentReceiptID": str,
    "language": str,
    "piiPrincipalId": str,
    "piiControllers": list,
    "policyUrl": str,
    "services": list,
    "sensitive": bool,
    "spiCat": list,
}
"""The fields Kantara's Consent Receipt v1.1 requires of a receipt, and their JSON types."""
PURPOSE = {
    "purpose": str,
    "purposeCategory": list,
    "consentType": str,
    "piiCategory": list,
    "termination": str,
    "thirdPartyDisclosure": bool,
}


def assert_kantara(receipt: dict[str, object]) -> None:
    """``receipt`` has every field the specification requires, typed, and not empty."""
    for name, kind in KANTARA.items():
        assert isinstance(receipt[name], kind) and receipt[name] != "", name
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert str(uuid.UUID(str(receipt["consentReceiptID"]))) == receipt["consentReceiptID"]
    [controller] = receipt["piiControllers"]  # type: ignore[misc]
    assert {"piiController", "contact", "address", "email", "phone"} <= set(controller)
    for service in receipt["services"]:  # type: ignore[attr-defined]
        assert service["service"]
        for purpose in service["purposes"]:
            for name, kind in PURPOSE.items():
                assert isinstance(purpose[name], kind) and purpose[name] != "", name


def test_renewing_a_provider_never_connected_says_to_connect_it(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        cli, ["connect", "bank", "--renew"], env={"PORTAL_HOME": str(tmp_path / "home")}
    )
    assert done.exit_code == ExitCode.USER_ERROR
    assert "not connected, so there is nothing to renew" in done.output
    assert "portal connect bank" in done.output
