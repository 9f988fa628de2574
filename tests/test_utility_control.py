"""The utility's write side, through the real path: the sandbox on 127.0.0.1, connect and
sync, then ``portal preferences`` and ``portal apply`` (Connect My Data: ``DELETE`` on the
Authorization's authorizationURI), and the next sync."""

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.cli import cli
from portal.control.tables import AskedChange
from portal.provider import sandbox_endpoints
from portal.record.metering import Usage
from portal.record.model import Consent
from portal_utility.sandbox import UtilitySandbox


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


def _connected(home: Path, utility: UtilitySandbox) -> str:
    """Connect and sync once; the id of the Consent portal's Authorization became."""
    with Portal.open(home=home) as portal:
        portal.connect(
            "utility",
            browser=auto_approve_browser,
            endpoints=sandbox_endpoints(utility),
            timeout=10,
        )
        [result] = portal.sync(["utility"])
        assert result.ok, result.error
    return f"authorization:{utility.utility.authorizations[-1]['id']}"


def _changes(result: Result) -> list[dict[str, object]]:
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output)["changes"])


def _states(home: Path) -> dict[str, str]:
    with Portal.open(home=home) as portal:
        return {c["provider_id"]: c["state"] for c in portal.store.rows(Consent, "utility")}


def test_revoking_portals_authorization_keeps_the_data_and_holds_after_reconnecting(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with UtilitySandbox(page_size=100) as utility:  # fewer pages: the same data, sooner
        first = _connected(home, utility)
        assert _run(home, "preferences", "marketing.email=no", "profiling=no").exit_code == 0
        answers = {c["preference"]: c for c in _changes(_run(home, "apply", "--json"))}
        assert answers["profiling"]["outcome"] == "not_supported"
        assert "privacy@demo-energy.example" in str(answers["profiling"]["instead"])

        [revoked] = _changes(_run(home, "apply", "utility", "--withdraw", first, "--json"))
        assert revoked["outcome"] == "applied", revoked
        [truth] = utility.ground_truth()["consents"]
        assert truth["status"] == "0"  # ESPI AuthorizationStatus 0: Revoked

        with Portal.open(home=home) as portal:
            kept = len(list(portal.store.rows(Usage, "utility")))
        assert kept > 0
        assert _run(home, "sync").exit_code != 0
        status = _run(home, "status")
        assert "Run portal connect utility again" in _words(status), status.output
        with Portal.open(home=home) as portal:
            assert len(list(portal.store.rows(Usage, "utility"))) == kept
            [connection] = portal.store.connections()
            assert connection.status == "needs_reconnect"

        # Connected again (a new Authorization), the sync reads the earlier one as it is.
        second = _connected(home, utility)
        states = _states(home)
        assert states[first] == "withdrawn" and states[second] == "active"
        assert ("consent", "applied", True) in _asked(home)

        deletes = sum(1 for r in utility.requests if r.method == "DELETE")
        [again] = _changes(_run(home, "apply", "utility", "--withdraw", first, "--json"))
        assert again["outcome"] == "already", again
        assert sum(1 for r in utility.requests if r.method == "DELETE") == deletes


def test_a_refusal_reaches_the_terminal_inert_and_a_revocation_not_made_is_reported(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with UtilitySandbox(page_size=100) as utility:  # fewer pages: the same data, sooner
        consent = _connected(home, utility)
        utility.refuse_revocations = "Held \x1b[31mfor\x1b]8;;https://evil.example\x07 audit"
        refused = _run(home, "apply", "utility", "--withdraw", consent)
        assert refused.exit_code == 0, refused.output
        assert "refused" in refused.output and "Held" in refused.output
        assert "\x1b" not in refused.output and "\x07" not in refused.output

        utility.refuse_revocations, utility.ignore_revocations = None, True
        [said] = _changes(_run(home, "apply", "utility", "--withdraw", consent, "--json"))
        assert said["outcome"] == "applied"
        synced = _run(home, "sync")
        assert synced.exit_code == 0, synced.output
        assert "still releases the earlier state" in _words(synced)
        assert _asked(home) == [("consent", "refused", None), ("consent", "applied", False)]
