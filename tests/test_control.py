"""The person's preferences, stated once, compared with what each provider releases, and
carried out by ``portal apply`` (``portal.control``)."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import cli
from portal.control.changes import CONSENT, PREFERENCES, Change, ChangeResult, Outcome
from portal.control.preferences import parse, plan, preference_of, released
from portal.errors import UserError
from portal.provider import _WRITABLE


def consent(pid: str, kind: str, channel: str | None, state: str) -> dict[str, object]:
    return {"provider_id": pid, "kind": kind, "channel": channel, "state": state}


def test_a_released_consent_is_read_as_the_preference_it_is_about() -> None:
    assert preference_of(consent("1", "marketing", "Email", "active")) == "marketing.email"
    assert preference_of(consent("2", "marketing", "push", "active")) is None  # no preference
    assert preference_of(consent("3", "profiling", None, "active")) == "profiling"
    assert preference_of(consent("4", "data_sharing", None, "active")) == "third_party_marketing"
    assert preference_of(consent("5", "data_access", None, "active")) is None  # portal's grant


def test_a_preference_is_allowed_if_any_of_its_consents_is_in_force() -> None:
    found = released(
        [
            consent("a", "marketing", "email", "withdrawn"),
            consent("b", "marketing", "email", "active"),
            consent("c", "marketing", "sms", "declined"),
            consent("d", "marketing", "post", "pending"),
        ]
    )
    assert found["marketing.email"].allowed is True
    assert found["marketing.email"].consents == ("a", "b")
    assert found["marketing.sms"].allowed is False
    assert found["marketing.post"].allowed is None  # neither: asked again


def test_the_plan_asks_only_for_what_differs_or_is_not_released() -> None:
    releases = released(
        [consent("a", "marketing", "email", "active"), consent("b", "marketing", "sms", "declined")]
    )
    wanted = {"marketing.email": False, "marketing.sms": False, "profiling": False}
    planned = {p.key: p.change for p in plan(wanted, releases)}
    assert planned == {
        "marketing.email": Change("marketing.email", False),
        "marketing.sms": None,  # already so
        "profiling": Change("profiling", False),  # released nothing: asked
    }


def test_preferences_are_written_key_equals_yes_no_or_unset() -> None:
    assert parse(["marketing.email=no", "profiling=YES", "marketing.sms=unset"]) == {
        "marketing.email": False,
        "profiling": True,
        "marketing.sms": None,
    }
    with pytest.raises(UserError, match="'profiling' is not a preference"):
        parse(["profiling"])


def test_a_change_names_a_known_permission_and_a_consent_change_names_its_consent() -> None:
    assert Change("marketing.phone", False).channel == "phone"
    assert Change("marketing.phone", False).describe() == "marketing by phone: no"
    assert Change(CONSENT, False, consent="C-1").describe().endswith("C-1")
    with pytest.raises(ValueError, match="unknown change"):
        Change("marketing.fax", False)
    with pytest.raises(ValueError, match="named by its id"):
        Change(CONSENT, False)
    assert ChangeResult(Outcome.refused, detail="no").outcome == "refused"


def test_a_provider_declares_only_changes_portal_has() -> None:
    assert set(_WRITABLE) == {*PREFERENCES, CONSENT}


def test_preferences_are_kept_and_shown_and_apply_asks_a_provider_that_cannot_write(
    tmp_path: Path,
) -> None:
    """Through the CLI on a real store: the demo bank writes only consents, so every
    preference it releases otherwise is answered "not supported", with what to do."""
    env = {"PORTAL_HOME": str(tmp_path / "home")}
    runner = CliRunner()
    synced = runner.invoke(cli, ["sync", "--demo", "bank"], env=env)
    assert synced.exit_code == 0, synced.output
    said = runner.invoke(cli, ["preferences", "marketing.email=no", "profiling=no"], env=env)
    assert said.exit_code == 0, said.output
    assert "marketing by email (marketing.email)" in said.output
    shown = runner.invoke(cli, ["preferences", "--json"], env=env)
    assert '"marketing.email": false' in shown.output
    dry = runner.invoke(cli, ["apply", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would ask" in dry.output, dry.output
    applied = runner.invoke(cli, ["apply", "--json"], env=env)
    assert applied.exit_code == 0, applied.output
    assert '"outcome": "not_supported"' in applied.output
    assert "Marketing preferences" in applied.output  # the bank's own words (write_instead)
    wrong = runner.invoke(cli, ["preferences", "marketing.fax=no"], env=env)
    assert wrong.exit_code != 0 and "no preference called 'marketing.fax'" in wrong.output


def test_a_provider_still_unreachable_after_the_retries_is_could_not_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook raises a connection error three times: the answer is "could not ask", its
    words name the provider and the kind of error, never the URL (it may carry a key)."""
    import httpx

    from portal.app import Portal
    from portal.control import apply
    from portal.control.tables import AskedChange

    runner = CliRunner()
    env = {"PORTAL_HOME": str(tmp_path / "home")}
    assert runner.invoke(cli, ["sync", "--demo", "retailer"], env=env).exit_code == 0
    calls = []

    def unreachable(**hook: object) -> None:
        calls.append(hook["change"])
        raise httpx.ConnectError("https://shop.example/?key=SECRET-KEY refused")

    monkeypatch.setattr(apply, "FIRST_WAIT", 0.01)
    with Portal.open(home=tmp_path / "home") as portal:
        provider = portal.plugins.provider("retailer")
        monkeypatch.setattr(portal.plugins, "caller", lambda *a: unreachable)
        result = apply.ask(portal, provider, Change("marketing.email", False))
        table = AskedChange.__table__  # type: ignore[attr-defined]
        with portal.store.engine.connect() as db:
            [(outcome, detail)] = db.execute(
                table.select().with_only_columns(table.c.outcome, table.c.detail)
            )
    assert result.outcome == Outcome.failed and len(calls) == apply.ATTEMPTS
    assert "could not be reached (ConnectError)" in result.detail
    assert "SECRET-KEY" not in result.detail
    assert (outcome, detail) == ("failed", result.detail)  # recorded, as every change asked
