"""The person's preferences carried out at Demo Telecom (issue 21), through the real path:
the TM Forum sandbox on 127.0.0.1, real OAuth, ``portal preferences`` and ``portal apply``
on a real store, TMF644 ``PATCH partyPrivacyProfile/{id}``, and the next sync checking it.

Each test connects with the ``privacy`` scope only (Demo Telecom's narrower grant), so a
sync fetches the permissions and the notice, not six months of usage.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.cli import cli
from portal.control.apply import ask
from portal.control.changes import CONSENT, Change, ChangeResult, Outcome
from portal.control.tables import AskedChange
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Consent
from portal_telco import control
from portal_telco.later import SMS_WITHDRAWN
from portal_telco.plugin import PRIVACY, PROVIDER
from portal_telco.privacy_patch import MERGE_PATCH
from portal_telco.sandbox import CLIENT_ID, TelcoSandbox
from test_grants import assert_kantara
from values import differences


@pytest.fixture
def telco() -> Iterator[TelcoSandbox]:
    with TelcoSandbox() as sandbox:
        sandbox.register_client(CLIENT_ID, scope="privacy")  # permissions and notice only
        yield sandbox


@contextmanager
def _opened(home: Path) -> Iterator[Portal]:
    with Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)) as p:
        yield p


def _synced(home: Path, telco: TelcoSandbox) -> None:
    with _opened(home) as portal:
        endpoints = sandbox_endpoints(telco)
        portal.connect("telco", browser=auto_approve_browser, endpoints=endpoints, timeout=10)
        _sync(home)


def _sync(home: Path) -> list[str]:
    """Sync Demo Telecom again; what the sync said the telco did not hold."""
    with _opened(home) as portal:
        [result] = portal.sync(["telco"])
        assert result.ok, result.error
        return portal.unheld


def _run(home: Path, *args: str) -> Result:
    ran = CliRunner().invoke(cli, list(args), env={"PORTAL_HOME": str(home)})
    assert ran.exit_code == 0, ran.output
    return ran


def _answers(home: Path) -> dict[str, str]:
    changes = json.loads(_run(home, "apply", "--json").output)["changes"]
    return {c["preference"]: c["outcome"] for c in changes if c["provider"] == "telco"}


def _profile(telco: TelcoSandbox, ident: str) -> dict[str, Any]:
    [found] = [p for p in telco.ground_truth()["privacy_profiles"] if p["id"] == ident]
    return found


def _asked(home: Path) -> list[Any]:
    table = AskedChange.__table__  # type: ignore[attr-defined]
    with _opened(home) as portal, portal.store.engine.connect() as db:
        return list(db.execute(select(table).order_by(table.c.id)))


def test_preferences_are_patched_held_by_the_next_sync_and_then_already_so(
    tmp_path: Path, telco: TelcoSandbox
) -> None:
    home = tmp_path / "home"
    _synced(home, telco)
    _run(
        home,
        "preferences",
        "marketing.email=no",  # granted: withdrawn
        "marketing.post=yes",  # withdrawn: granted again
        "profiling=no",  # granted: withdrawn
        "marketing.phone=no",  # refused (never granted): already so
        "third_party_marketing=no",  # refused: already so
    )
    assert _answers(home) == {
        "marketing.email": "applied",
        "marketing.post": "applied",
        "profiling": "applied",
        "marketing.phone": "already",
        "third_party_marketing": "already",
    }
    assert _profile(telco, "PPP-0001")["status"] == "withdrawn"
    assert "endDateTime" in _profile(telco, "PPP-0001")["validFor"]
    assert _profile(telco, "PPP-0004")["status"] == "granted"
    assert "endDateTime" not in _profile(telco, "PPP-0004")["validFor"]  # a new grant
    assert _profile(telco, "PPP-0007")["status"] == "withdrawn"
    assert _profile(telco, "PPP-0002")["status"] == "granted"  # sms: not stated, untouched
    patches = [r for r in telco.requests if r.method == "PATCH"]
    assert len(patches) == 3  # nothing is sent for what already was so
    # A consent receipt for each change the telco applied, none for what already was so.
    receipts = json.loads(_run(home, "receipts", "--json").output)["receipts"]
    changed = {r["portal"]["change"]["key"]: r for r in receipts if r["portal"]["kind"] == "change"}
    assert set(changed) == {"marketing.email", "marketing.post", "profiling"}
    for receipt in changed.values():
        assert_kantara(receipt)
        assert receipt["piiControllers"][0]["piiController"] == "Demo Telecom"
    [email] = changed["marketing.email"]["services"][0]["purposes"]
    assert (email["purposeCategory"], email["termination"]) == (["6 - Marketing"], "withdrawn")

    assert _sync(home) == []  # the telco releases what it said it applied
    held = {row.key: row.held for row in _asked(home)}
    assert held == {"marketing.email": True, "marketing.post": True, "profiling": True}
    with _opened(home) as portal:
        truth = telco.expected_records()
        expected = {"consents": truth["consents"], "processing": truth["processing"]}
        assert differences(portal, "telco", expected) == []
        released = {r["provider_id"]: r["status"] for r in portal.store.rows(Consent, "telco")}
    assert released["PPP-0001:email"] == "withdrawn"
    assert released["PPP-0007:all"] == "withdrawn"

    assert set(_answers(home).values()) == {"already"}  # a second apply: nothing to ask
    assert len([r for r in telco.requests if r.method == "PATCH"]) == 3


def test_a_refusal_carries_the_telcos_reason_inert_to_the_terminal(
    tmp_path: Path, telco: TelcoSandbox
) -> None:
    home = tmp_path / "home"
    _synced(home, telco)
    telco.live_until(SMS_WITHDRAWN)  # she turns offers by text off in the app: portal's copy is old
    telco.refusals["THIRD_PARTY_SHARING"] = "Only in our app \x1b[2J\x1b]0;pwned\x07 sorry\nFAKE"
    _run(home, "preferences", "third_party_marketing=yes", "marketing.sms=no")
    shown = _run(home, "apply").output
    assert "refused" in shown
    assert "Only in our app" in shown
    assert "\x1b" not in shown and "\x07" not in shown  # the escapes arrive as visible text
    assert "\\x1b[2J" in shown or "\\u001b" in shown or "\\x1b" in shown
    rows = {row.key: row for row in _asked(home)}
    refused = rows["third_party_marketing"]
    assert refused.outcome == "refused" and refused.detail.startswith("Only in our app \x1b[2J")
    assert _profile(telco, "PPP-0006")["status"] == "refused"  # nothing changed
    # The store said offers by text were on; the telco shows them off: already so, not sent.
    assert rows["marketing.sms"].outcome == "already"
    assert [r.method for r in telco.requests if r.method == "PATCH"] == ["PATCH"]


def test_a_telco_that_says_applied_and_changes_nothing_is_named_by_the_next_sync(
    tmp_path: Path, telco: TelcoSandbox
) -> None:
    home = tmp_path / "home"
    _synced(home, telco)
    telco.ignore_privacy_patches = True
    _run(home, "preferences", "marketing.sms=no")
    assert _answers(home) == {"marketing.sms": "applied"}  # so it says
    assert _profile(telco, "PPP-0002")["status"] == "granted"
    [unheld] = _sync(home)
    assert "Demo Telecom said it applied marketing by text message: no" in unheld
    [row] = _asked(home)
    assert row.held is False


def test_the_patch_follows_tmf644_and_tmf630(tmp_path: Path, telco: TelcoSandbox) -> None:
    """The sandbox's write side: merge patch, 200 with the profile, TMF630 error bodies,
    and the same PATCH twice leaving the same state."""
    home = tmp_path / "home"
    _synced(home, telco)
    trait = _profile(telco, "PPP-0002")["partyPrivacyProfileCharacteristic"][0]
    withdraw = {
        "status": "withdrawn",
        "partyPrivacyProfileCharacteristic": [{**trait, "value": "withdrawn"}],
    }
    kind = {"Content-Type": MERGE_PATCH}
    with _opened(home) as portal, portal.client("telco") as client:

        def patch(ident: str, body: Any, headers: dict[str, str] = kind) -> Any:
            return client.patch(f"{PRIVACY}/{ident}", content=json.dumps(body), headers=headers)

        first = patch("PPP-0002", withdraw)
        assert first.status_code == 200 and first.json()["status"] == "withdrawn"
        after = _profile(telco, "PPP-0002")
        assert first.json() == after
        assert patch("PPP-0002", withdraw).json() == after == _profile(telco, "PPP-0002")

        def error(response: Any, status: int) -> str:
            assert response.status_code == status, response.text
            body = response.json()
            assert set(body) >= {"code", "reason", "message"} and body["status"] == str(status)
            return str(body["message"])

        assert "No privacy profile" in error(patch("PPP-9999", withdraw), 404)
        assert "cannot be patched" in error(patch("PPP-0002", {"id": "X"}), 400)
        assert "JSON object" in error(patch("PPP-0002", ["status"]), 400)
        assert "must say the same" in error(patch("PPP-0002", {"status": "granted"}), 400)
        assert "not description" in error(patch("PPP-0002", {"description": "x"}), 422)
        merge = {"Content-Type": "text/plain"}
        assert "merge patch" in error(patch("PPP-0002", withdraw, merge), 400)
    assert _profile(telco, "PPP-0002") == after


def test_what_the_api_cannot_change_is_not_supported_with_what_to_do(
    tmp_path: Path, telco: TelcoSandbox
) -> None:
    home = tmp_path / "home"
    _synced(home, telco)
    with _opened(home) as portal:
        provider = portal.plugins.provider("telco")
        # A data-sharing consent by its id: the telco's API has no such resource.
        withdraw = Change(CONSENT, False, consent="PPP-0006:partners")
        assert ask(portal, provider, withdraw) == ChangeResult(
            Outcome.not_supported, instead=PROVIDER.write_instead
        )
        # A profile served without its id (TMF644 allows it) cannot be patched.
        telco.set_variant("unidentified")
        result = ask(portal, provider, Change("marketing.email", False))
    assert result.outcome is Outcome.not_supported and "Demo Telecom app" in result.instead
    assert not [r for r in telco.requests if r.method == "PATCH"]


def test_the_telco_declares_what_it_can_change() -> None:
    assert set(PROVIDER.writes) == set(control.TARGETS)
    assert PROVIDER.write_instead
