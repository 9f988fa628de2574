"""Demo Mart's marketing preferences changed through the real path: its sandbox on a socket,
real OAuth, ``portal preferences``, ``portal apply`` and ``portal sync`` on a real store.

The sandbox starts with email withdrawn, SMS never given, the post catalogue and
personalised offers (profiling) opted in; it has no phone channel and no sharing.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.cli import cli
from portal.control.tables import AskedChange
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Consent
from portal_retailer.sandbox import RetailerSandbox
from values import differences

Home = tuple[dict[str, str], RetailerSandbox]

SHOP_KEYS = ("marketing.email", "marketing.sms", "marketing.post", "profiling")
HOSTILE = "Locked by customer care\x1b[2J\x1b]0;pwned\x07 while your complaint is handled."


@pytest.fixture(autouse=True)
def _file_vault(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_VAULT", "file")  # never the keyring of the machine running tests
    monkeypatch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)


def _connected(home: Path, shop: RetailerSandbox) -> dict[str, str]:
    """Connect and sync once through the engine; the CLI then works on the same home."""
    with Portal.open(
        home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
    ) as portal:
        portal.connect(
            "retailer", browser=auto_approve_browser, endpoints=sandbox_endpoints(shop), timeout=10
        )
        [result] = portal.sync(["retailer"])
        assert result.ok, result.error
    return {"PORTAL_HOME": str(home), "PORTAL_VAULT": "file", "COLUMNS": "400"}


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    with RetailerSandbox() as shop:
        yield _connected(tmp_path / "home", shop), shop


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _answers(env: dict[str, str]) -> dict[str, dict[str, Any]]:
    said = json.loads(_run(env, "apply", "--json"))["changes"]
    return {c["preference"]: c for c in said}


def _asked(env: dict[str, str]) -> list[Any]:
    with Portal.open(home=Path(env["PORTAL_HOME"])) as portal, portal.store.engine.connect() as db:
        table = AskedChange.__table__  # type: ignore[attr-defined]
        return list(db.execute(select(table).order_by(table.c.id)))


def _statuses(shop: RetailerSandbox) -> dict[str, str]:
    return {p["id"]: p["status"] for p in shop.ground_truth()["consents"]}


def _patches(shop: RetailerSandbox) -> int:
    return sum(1 for r in shop.requests if r.method == "PATCH")


def test_preferences_are_applied_then_released_then_already_so(home: Home) -> None:
    env, shop = home
    _run(
        env,
        "preferences",
        "marketing.email=no",
        "marketing.sms=yes",
        "marketing.post=no",
        "profiling=no",
        "marketing.phone=no",
        "third_party_marketing=no",
    )
    answers = _answers(env)
    outcomes = {key: a["outcome"] for key, a in answers.items()}
    assert outcomes == {
        "marketing.email": "already",  # withdrawn in March: nothing asked
        "marketing.sms": "applied",
        "marketing.post": "applied",
        "profiling": "applied",  # personalised offers in the app
        "marketing.phone": "not_supported",
        "third_party_marketing": "not_supported",
    }
    assert "privacy@demomart.example" in answers["marketing.phone"]["instead"]
    assert "Text me Demo Mart offers.: opted_in" in answers["marketing.sms"]["detail"]
    # The shop now holds them: given now, withdrawn now (they had been given).
    assert _statuses(shop) == {
        "MP-01": "withdrawn",
        "MP-02": "opted_in",
        "MP-03": "withdrawn",
        "MP-04": "withdrawn",
    }
    assert _patches(shop) == 3
    # Asked again before a sync: the store still holds the old state, the shop the new one.
    again = _answers(env)
    assert {key: a["outcome"] for key, a in again.items() if key in SHOP_KEYS} == dict.fromkeys(
        SHOP_KEYS, "already"
    )
    assert _patches(shop) == 3  # nothing asked twice

    synced = _run(env, "sync", "retailer")
    assert "still releases" not in synced
    with Portal.open(home=Path(env["PORTAL_HOME"])) as portal:
        # The next sync's records are exactly what the shop now serves, field by field.
        assert differences(portal, "retailer", shop.expected_records()) == []
        kinds = {r["provider_id"]: r["kind"] for r in portal.store.rows(Consent, "retailer")}
    assert kinds["MP-04"] == "profiling"
    held = {row.key: row.held for row in _asked(env) if row.outcome == "applied"}
    assert held == {"marketing.sms": True, "marketing.post": True, "profiling": True}

    shown = _run(env, "apply")
    assert shown.count("already so") == 4 and "applied" not in shown
    assert _patches(shop) == 3


def test_the_same_update_twice_leaves_the_same_state(home: Home) -> None:
    env, shop = home
    with Portal.open(home=Path(env["PORTAL_HOME"])) as portal, portal.client("retailer") as client:
        answers = [
            client.patch(
                "marketing-preferences/MP-03",
                content=b'{"status": "opted_out"}',
                headers={"Content-Type": "application/merge-patch+json"},
            )
            for _ in range(2)
        ]
        wrong = client.patch(
            "marketing-preferences/MP-03",
            content=b'{"status": "withdrawn"}',
            headers={"Content-Type": "application/merge-patch+json"},
        )
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[1].json()["data"]["status"] == "withdrawn"
    [held] = [p for p in shop.ground_truth()["consents"] if p["id"] == "MP-03"]
    assert held == answers[1].json()["data"]
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "invalid_status"


def test_a_refusal_is_shown_with_the_shop_s_reason_inert_and_an_unheld_change_reported(
    home: Home,
) -> None:
    env, shop = home
    shop.lock_preference("MP-03", HOSTILE)
    shop.ignore_preference_updates = True  # answers "applied", records nothing
    _run(env, "preferences", "marketing.post=no", "marketing.sms=yes")

    shown = _run(env, "apply")
    assert "refused" in shown and "applied" in shown
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Locked by customer care" in shown and "\\x1b" in shown  # visible, not obeyed
    [refused] = [r for r in _asked(env) if r.outcome == "refused"]
    assert refused.key == "marketing.post" and refused.detail == HOSTILE

    synced = _run(env, "sync", "retailer")
    assert "Demo Mart said it applied marketing by text message: yes" in synced
    assert "still releases the earlier state" in synced
    [unheld] = [r for r in _asked(env) if r.outcome == "applied"]
    assert unheld.key == "marketing.sms" and unheld.held is False
