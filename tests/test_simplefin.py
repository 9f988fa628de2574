"""The SimpleFIN Bridge plugin through the real path: the Bridge's sandbox on a socket, a setup
token claimed once, HTTP Basic from the Access URL, SQLite.

One sync is shared by the read-only tests of this module; tests that change the sandbox or
the connection get their own.
"""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.app import Portal
from portal.engine.sync import SyncResult
from portal.errors import AuthError, UserError
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Account, Balance, Entity, Transaction
from portal_simplefin.plugin import PROVIDER, REVOKE_HINT, claim_url
from portal_simplefin.sandbox import SimpleFinSandbox
from values import differences

Synced = tuple[Portal, SimpleFinSandbox, SyncResult]
PORTAL = str(Path(sys.executable).with_name("portal"))


def _open(home: Path) -> Portal:
    return Portal.open(home=home, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1))


def _connect(portal: Portal, bridge: SimpleFinSandbox, token: str | None = None) -> None:
    answers = {"setup_token": token} if token else bridge.connect_answers()
    portal.connect("simplefin", answers=answers, endpoints=sandbox_endpoints(bridge), timeout=10)


def _sync(portal: Portal) -> SyncResult:
    [result] = portal.sync(["simplefin"])
    return result


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    """The Bridge's sandbox, connected with a fresh setup token and synced once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PORTAL_VAULT", "file")
        patch.delenv("PORTAL_VAULT_PASSPHRASE", raising=False)
        home = tmp_path_factory.mktemp("simplefin") / "home"
        with SimpleFinSandbox() as bridge, _open(home) as portal:
            _connect(portal, bridge)
            yield portal, bridge, _sync(portal)


@pytest.fixture
def bridge() -> Iterator[SimpleFinSandbox]:
    """A fresh sandbox for a test that changes it."""
    with SimpleFinSandbox() as sandbox:
        yield sandbox


def _rows(portal: Portal, entity: type[Entity]) -> list[dict[str, Any]]:
    return list(portal.store.rows(entity, "simplefin"))


def _account_requests(bridge: SimpleFinSandbox) -> list[dict[str, list[str]]]:
    return [parse_qs(r.query) for r in bridge.requests if r.path.endswith("/accounts")]


# -- one sync ----------------------------------------------------------------------------


def test_sync_stores_exactly_what_the_sandbox_served(synced: Synced) -> None:
    portal, bridge, result = synced
    assert result.ok, result.error
    truth = bridge.ground_truth()
    assert len(_rows(portal, Account)) == len(truth["accounts"]) == 3
    assert len(_rows(portal, Balance)) == len(truth["balances"]) == 6
    assert len(_rows(portal, Transaction)) == len(truth["transactions"])
    assert result.rejected == 0


def test_every_stored_value_is_what_the_sandbox_says_it_means(synced: Synced) -> None:
    portal, bridge, _ = synced
    assert differences(portal, "simplefin", bridge.expected_records()) == []


def test_the_canadian_account_keeps_its_dollars(synced: Synced) -> None:
    portal, _, _ = synced
    chequing = [r for r in _rows(portal, Transaction) if r["currency"] == "CAD"]
    assert chequing and {r["account_id"] for r in chequing} == {
        a["id"] for a in _rows(portal, Account) if a["currency"] == "CAD"
    }


def test_the_first_sync_asks_for_a_year_in_windows_of_at_most_90_days(synced: Synced) -> None:
    _, bridge, _ = synced
    asked = _account_requests(bridge)
    assert len(asked) == 5
    for query in asked:
        assert query["version"] == ["2"] and query["pending"] == ["1"]
    closed = [q for q in asked if "end-date" in q]
    assert len(closed) == 4 and "end-date" not in asked[-1]
    for query in closed:
        assert int(query["end-date"][0]) - int(query["start-date"][0]) == 90 * 86400


def test_the_bridges_errors_reach_the_person_as_a_warning(
    tmp_path: Path, bridge: SimpleFinSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        with caplog.at_level(logging.WARNING):
            assert _sync(portal).ok
    said = [r.getMessage() for r in caplog.records if "SimpleFIN Bridge says" in r.getMessage()]
    # Once per sync, though each of the five documents carries it.
    assert said == [
        "The SimpleFIN Bridge says: Connection to Maple Demo Credit Union may need attention"
        " (The bank connection needs you to sign in again; conn_id CON-0b93d4e1-maple)"
    ]


@pytest.mark.slow  # a portal process of its own, about ten seconds
def test_portal_sync_shows_the_bridges_error_at_the_terminal(tmp_path: Path) -> None:
    env = {**os.environ, "PORTAL_HOME": str(tmp_path / "home"), "PORTAL_VAULT": "file"}
    done = subprocess.run(
        [PORTAL, "sync", "--demo", "simplefin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Connection to Maple Demo Credit Union may need attention" in done.stderr


# -- connecting ----------------------------------------------------------------------------


def test_a_setup_token_claimed_twice_says_so_in_words(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    token = bridge.setup_token()
    with _open(tmp_path / "one") as portal:
        _connect(portal, bridge, token)
    with _open(tmp_path / "two") as portal, pytest.raises(AuthError) as refused:
        _connect(portal, bridge, token)
    assert "This setup token was already used" in refused.value.message
    assert "make a new one in the Bridge" in refused.value.message


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all: SECRET-7f3a",
        "U0VDUkVULTdmM2EgaXMgbm90IGEgVVJM",  # base64 of text that is no claim URL
        "aHR0cHM6Ly9leGFtcGxlLmNvbS9TRUNSRVQtN2YzYQ==",  # a URL, but not a claim URL
    ],
)
def test_a_token_that_is_not_a_setup_token_is_refused_naming_the_field_never_echoing_it(
    token: str,
) -> None:
    with pytest.raises(UserError) as refused:
        claim_url(token)
    said = str(refused.value)
    assert "setup token" in said
    assert "SECRET" not in said and token not in said
    assert "U0VDUkVU" not in said


def test_a_setup_token_decodes_to_its_claim_url() -> None:
    demo = "aHR0cHM6Ly9iZXRhLWJyaWRnZS5zaW1wbGVmaW4ub3JnL3NpbXBsZWZpbi9jbGFpbS9ERU1P"
    assert claim_url(demo) == "https://beta-bridge.simplefin.org/simplefin/claim/DEMO"
    assert claim_url(f" {demo[:30]}\n{demo[30:]} ") == claim_url(demo)  # pasted with breaks


def test_the_access_url_never_reaches_errors_reprs_or_the_store(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    home = tmp_path / "home"
    with _open(home) as portal:
        _connect(portal, bridge)
        assert _sync(portal).ok
        connection = repr(portal.store.connections())
        bridge.revoke_access()
        failed = _sync(portal)
    kinds = bridge._oauth.kinds()
    assert {"setup_token", "claim_code", "access_url", "access_url_password"} <= set(kinds.values())
    said = str(failed.error) + repr(failed) + connection
    stored = b"".join(
        p.read_bytes() for p in home.rglob("*") if p.is_file() and "vault" not in p.name
    )
    for secret, kind in kinds.items():
        assert secret not in said, kind
        assert secret.encode() not in stored, kind


# -- syncing again -------------------------------------------------------------------------


def test_a_resync_asks_once_from_the_cursor_less_the_overlap(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        assert _sync(portal).ok
        first = len(_account_requests(bridge))
        bridge.move_on("arrive")
        result = _sync(portal)
        assert result.ok
        again = _account_requests(bridge)[first:]
        assert len(again) == 1 and "end-date" not in again[0]
        assert len(_rows(portal, Transaction)) == len(bridge.ground_truth()["transactions"])
        assert differences(portal, "simplefin", bridge.expected_records()) == []


def test_a_pending_transaction_the_bank_drops_is_withdrawn_and_one_that_posts_is_booked(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        assert _sync(portal).ok
        descriptions = {r["description"] for r in _rows(portal, Transaction)}
        assert "SHELL OIL 57442" in descriptions
        [held] = [
            r for r in _rows(portal, Transaction) if r["description"] == "HILTON PORTLAND HOLD"
        ]
        bridge.move_on("withdraw")
        assert _sync(portal).ok
        rows = _rows(portal, Transaction)
        assert "SHELL OIL 57442" not in {r["description"] for r in rows}
        bridge.move_on("book")
        assert _sync(portal).ok
        rows = _rows(portal, Transaction)
        assert not [r for r in rows if r["state"] == "pending"]
        # The hotel hold posted under a new id: the pending record is gone, not left beside it.
        [hotel] = [r for r in rows if r["description"] == "HILTON PORTLAND HOLD"]
        assert hotel["provider_id"] != held["provider_id"] and hotel["state"] == "booked"
        assert differences(portal, "simplefin", bridge.expected_records()) == []


def test_a_lapsed_subscription_is_said_in_words(tmp_path: Path, bridge: SimpleFinSandbox) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        bridge.payment_required = True
        result = _sync(portal)
    assert not result.ok
    assert "payment is required" in str(result.error)


def test_an_access_url_deleted_in_the_bridge_asks_to_connect_again(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        bridge.revoke_access()
        result = _sync(portal)
    assert isinstance(result.error, AuthError)


def test_disconnect_tells_the_person_where_to_delete_the_connection(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        done = portal.disconnect("simplefin")
    assert "beta-bridge.simplefin.org" in REVOKE_HINT
    assert REVOKE_HINT in json.dumps(done.__dict__, default=str)


def test_the_quota_is_the_bridges_24_requests_a_day() -> None:
    assert PROVIDER.quota is not None
    assert (PROVIDER.quota.syncs, PROVIDER.quota.hours) == (24, 24)


# -- the conformance suite -----------------------------------------------------------------


@pytest.mark.slow
def test_the_simplefin_plugin_reaches_gold(tmp_path: Path) -> None:
    from test_conformance import gold_report

    report = gold_report(tmp_path, "simplefin")
    variants = {
        c["test"]: c["outcome"] for c in report["checks"] if c["test"].startswith("test_variant[")
    }
    assert variants == {f"test_variant[{v}]": "passed" for v in ("v1", "sparse", "miles", "faulty")}
    outcomes = {c["test"]: c for c in report["checks"]}
    for generated in ("optional_absent", "unknown_codes", "unknown_fields", "other_currency"):
        assert outcomes[f"test_spec_variant[{generated}]"]["outcome"] == "passed"
    assert outcomes["test_quota[enforced]"]["outcome"] == "passed"
    # What a key has no use for is skipped, saying why, and leaves the tier open.
    for oauth_only in ("test_declaration[scopes]", "test_resilience[unauthorized]"):
        skipped = outcomes[oauth_only]
        assert skipped["outcome"] == "skipped" and not skipped["blocks"]
        assert "not an OAuth login" in skipped["message"]


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            'HTTP Request: POST http://127.0.0.1:4001/simplefin/claim/AbC-d_e12 "HTTP/1.1 200 OK"',
            "AbC-d_e12",
        ),
        ("got https://user123:pass456@bridge.simplefin.org/simplefin back", "pass456"),
    ],
)
def test_a_claim_code_and_an_access_urls_password_are_redacted_from_log_lines(
    line: str, secret: str
) -> None:
    from portal.auth.redaction import redact

    assert secret not in redact(line)
    assert "[redacted]" in redact(line)


def test_a_hostile_error_from_the_bridge_reaches_the_terminal_inert(
    tmp_path: Path, bridge: SimpleFinSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    from portal.cli.output import log_handler

    bridge.person.errlist[0]["msg"] = "\x1b[2J\x1b[31mAll good\nINFO fake line\u202e"
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        with caplog.at_level(logging.WARNING):
            assert _sync(portal).ok
    [record] = [r for r in caplog.records if "SimpleFIN Bridge says" in r.getMessage()]
    line = log_handler().format(record)
    assert "All good" in line
    assert not any(c in line for c in ("\x1b", "\n", "\u202e"))


def test_an_access_url_on_a_host_the_plugin_does_not_declare_is_refused(
    tmp_path: Path, bridge: SimpleFinSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        bridge, "_claim", lambda code: "https://user:pw-7f3a@evil.example/simplefin"
    )
    with _open(tmp_path / "home") as portal:
        with pytest.raises(AuthError) as refused:
            _connect(portal, bridge)  # refused before the vault keeps it
        assert not portal.store.connections()
    assert "evil.example" in str(refused.value) and "pw-7f3a" not in str(refused.value)


def _claimed(bridge: SimpleFinSandbox) -> httpx.Client:
    """An httpx client authorised by a freshly claimed Access URL, as any SimpleFIN app."""
    claim = claim_url(bridge.setup_token())
    access = httpx.post(claim, headers={"Content-Length": "0"}).text
    parts = urlsplit(access)
    base = f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"
    return httpx.Client(base_url=base, auth=(parts.username or "", parts.password or ""))


def test_the_sandbox_claims_once_and_admits_only_the_access_urls_credentials(
    bridge: SimpleFinSandbox,
) -> None:
    token = bridge.setup_token()
    assert httpx.post(claim_url(token)).status_code == 200
    assert httpx.post(claim_url(token)).status_code == 403  # the protocol: claimed already
    with _claimed(bridge) as client:
        assert client.get("/accounts", params={"version": "2"}).status_code == 200
        assert client.get("/accounts", auth=("user", "wrong")).status_code == 403
        assert httpx.get(f"{bridge.api_base}/accounts").status_code == 403


def test_the_sandbox_caps_a_range_over_90_days_and_says_so_as_the_bridge_does(
    bridge: SimpleFinSandbox,
) -> None:
    end = int(bridge.person.now.timestamp())
    with _claimed(bridge) as client:
        body = client.get(
            "/accounts", params={"version": "2", "start-date": 0, "end-date": end}
        ).json()
    assert body["errlist"][-1]["code"] == "gen.api" and "capped" in body["errlist"][-1]["msg"]
    posted = [t["posted"] for a in body["accounts"] for t in a["transactions"]]
    assert posted and min(posted) >= end - 90 * 86400


def test_a_transaction_on_a_window_boundary_is_fetched_exactly_once(
    tmp_path: Path, bridge: SimpleFinSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portal_simplefin import dataset, fetching

    clock = bridge.person.anchor + timedelta(hours=6)
    monkeypatch.setattr(fetching, "now", lambda: clock)
    # Where the first window ends and the second begins: the Bridge's 90 days after the start.
    first_end = fetching.start_of(None, clock) + timedelta(days=90)
    bridge.person.add(dataset.CHECKING, first_end, Decimal("-1.00"), "ON THE BOUNDARY")
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        result = _sync(portal)
        assert result.ok
        served = len(bridge.ground_truth()["transactions"])
        assert result.streams["transactions"].items == served  # none twice, none missed
        assert [r["description"] for r in _rows(portal, Transaction)].count("ON THE BOUNDARY") == 1


def test_a_person_with_no_accounts_syncs_to_nothing_without_error(
    tmp_path: Path, bridge: SimpleFinSandbox
) -> None:
    bridge.person.accounts.clear()
    bridge.person.transactions.clear()
    with _open(tmp_path / "home") as portal:
        _connect(portal, bridge)
        result = _sync(portal)
    assert result.ok and sum(result.records.values()) == 0
