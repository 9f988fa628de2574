"""The bank's write side, through the real path: the sandbox on 127.0.0.1, connect and sync,
then ``portal preferences`` and ``portal apply`` (Open Banking's ``DELETE
/account-access-consents/{ConsentId}``), and the next sync."""

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from conftest import connect
from portal.app import Portal
from portal.cli import cli
from portal.control.tables import AskedChange
from portal.record.model import Consent, Transaction
from portal_bank.sandbox import BankSandbox


def _run(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env={"PORTAL_HOME": str(home)})


def _words(result: Result) -> str:
    """The output with its lines joined (tables wrap at the terminal's width)."""
    return " ".join(result.output.split())


def _asked(home: Path) -> list[tuple[str, str, bool | None]]:
    table = AskedChange.__table__  # type: ignore[attr-defined]
    with Portal.open(home=home) as portal, portal.store.engine.connect() as db:
        rows = db.execute(select(table.c.key, table.c.outcome, table.c.held).order_by(table.c.id))
        return [(r.key, r.outcome, r.held) for r in rows]


def _connected(home: Path, bank: BankSandbox) -> str:
    """Connect and sync once; the id of the consent portal was granted under."""
    with Portal.open(home=home) as portal:
        connect(portal, bank)
        [result] = portal.sync(["bank"])
        assert result.ok, result.error
    return str(bank.bank.consents[-1]["ConsentId"])


def _changes(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output)["changes"])


def test_withdrawing_portals_grant_revokes_it_keeps_the_data_and_holds_after_reconnecting(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with BankSandbox(page_size=1000) as bank:  # fewer pages: the same data, sooner
        first = _connected(home, bank)
        # Marketing and profiling are the bank's own business: not supported, in its words.
        assert _run(home, "preferences", "marketing.sms=yes", "profiling=no").exit_code == 0
        answers = {c["preference"]: c for c in _changes(_run(home, "apply", "--json"))}
        assert answers["marketing.sms"]["outcome"] == "not_supported"
        assert "Marketing preferences" in str(answers["marketing.sms"]["instead"])
        assert answers["profiling"]["outcome"] == "not_supported"
        assert "Data Protection Officer" in str(answers["profiling"]["instead"])

        [withdrawn] = _changes(_run(home, "apply", "bank", "--withdraw", first, "--json"))
        assert withdrawn["outcome"] == "applied", withdrawn
        # The bank's truth changed: the consent is Revoked, as the next sync must show.
        [truth] = [c for c in bank.ground_truth()["consents"] if c["ConsentId"] == first]
        assert truth["Status"] == "Revoked"

        # portal's access ended with it: the sync says so, the connection needs
        # reconnecting, and everything already synced is kept.
        with Portal.open(home=home) as portal:
            kept = len(list(portal.store.rows(Transaction, "bank")))
        assert kept > 0
        failed = _run(home, "sync")
        assert failed.exit_code != 0
        status = _run(home, "status")
        assert "Run portal connect bank again" in _words(status), status.output
        with Portal.open(home=home) as portal:
            assert len(list(portal.store.rows(Transaction, "bank"))) == kept
            [connection] = portal.store.connections()
            assert connection.status == "needs_reconnect"

        # Connected again (a new consent), the sync reads the earlier one as it now is.
        _connected(home, bank)
        with Portal.open(home=home) as portal:
            states = {c["provider_id"]: c["state"] for c in portal.store.rows(Consent, "bank")}
        assert states[first] == "withdrawn"
        assert states[bank.bank.consents[-1]["ConsentId"]] == "active"
        resynced = _run(home, "sync")
        assert resynced.exit_code == 0, resynced.output
        assert "still releases" not in resynced.output, _words(resynced)
        assert ("consent", "applied", True) in _asked(home)

        # Asked again, the bank shows it is already so: nothing is deleted twice.
        deletes = sum(1 for r in bank.requests if r.method == "DELETE")
        [again] = _changes(_run(home, "apply", "bank", "--withdraw", first, "--json"))
        assert again["outcome"] == "already", again
        assert sum(1 for r in bank.requests if r.method == "DELETE") == deletes


def test_a_refusal_reaches_the_terminal_inert_and_a_withdrawal_not_made_is_reported(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with BankSandbox(page_size=1000) as bank:  # fewer pages: the same data, sooner
        consent = _connected(home, bank)
        bank.refuse_withdrawals = "Locked \x1b[31mby\x1b]8;;https://evil.example\x07 fraud team"
        refused = _run(home, "apply", "bank", "--withdraw", consent)
        assert refused.exit_code == 0, refused.output
        assert "refused" in refused.output and "Locked" in refused.output
        assert "\x1b" not in refused.output and "\x07" not in refused.output
        assert bank.bank.consents[-1]["Status"] == "Authorised"

        # A bank that answers 204 and revokes nothing: the next sync says so.
        bank.refuse_withdrawals, bank.ignore_withdrawals = None, True
        [said] = _changes(_run(home, "apply", "bank", "--withdraw", consent, "--json"))
        assert said["outcome"] == "applied"
        synced = _run(home, "sync")
        assert synced.exit_code == 0, synced.output
        assert "still releases the earlier state" in _words(synced)
        assert _asked(home)[-1] == ("consent", "applied", False)
        assert _asked(home)[0][:2] == ("consent", "refused")
