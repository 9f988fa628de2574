"""The history of every record: a sync that changes a record, or finds it no longer released,
keeps the earlier version with when it changed, and ``portal changes`` says what changed, in
words, once.

The demo home is synced on the demo's first day, then again "on a later day" (the telco's
customer withdrew a permission, was put in a new segment, and the marketing purpose of its
processing notice gained a recipient), then once more with nothing new.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.auth.vault import FileStorage, Vault
from portal.batch import Batch
from portal.cli import cli
from portal.http import RetryPolicy
from portal.record.commerce import Price, Product
from portal.record.ids import portal_id
from portal.record.model import Address, Party, Transaction
from portal.shown import shown
from portal.store import Store, sqlite_url
from portal.store_history import GONE
from portal.understand.history import changes

LATER_DAY = "2026-12-20"
PROVIDERS = ("telco", "bank")


def portal(home: Path, *args: str, db: str | None = None) -> tuple[int, str]:
    """Run ``portal --home HOME ARGS`` as a person would; its exit code and all it printed."""
    where = ["--home", str(home)] + (["--db", db] if db else [])
    result = CliRunner().invoke(
        cli, [*where, *args], env={"PORTAL_VAULT": "file"}, catch_exceptions=False
    )
    return result.exit_code, result.stdout + result.stderr


def listed(home: Path, *args: str, db: str | None = None) -> list[dict[str, Any]]:
    """``portal changes --json ARGS``, parsed."""
    code, said = portal(home, "changes", "--json", *args, db=db)
    assert code == 0, said
    found: list[dict[str, Any]] = json.loads(said)
    return found


@dataclass
class Demo:
    home: Path
    before_later_day: datetime
    after_later_day: datetime
    changes_after_later_day: list[dict[str, Any]]
    """``portal changes --json`` right after the later day's sync (before the third)."""
    third_sync: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("history") / "home"
    code, said = portal(home, "sync", "--demo", *PROVIDERS, "--quiet")
    assert code == 0, said
    before = datetime.now(UTC)
    code, said = portal(home, "sync", "--demo", *PROVIDERS, "--demo-day", LATER_DAY, "--quiet")
    assert code == 0, said
    after = datetime.now(UTC)
    found = listed(home)
    code, third = portal(home, "sync", "--demo", *PROVIDERS, "--demo-day", LATER_DAY)
    assert code == 0, third
    return Demo(home, before, after, found, third)


def _versions(home: Path, provider: str | None = None) -> list[dict[str, Any]]:
    with sqlite3.connect(home / "portal.db") as db:
        db.row_factory = sqlite3.Row
        query = "SELECT * FROM record_versions"
        rows = db.execute(
            query + (" WHERE provider = ?" if provider else ""), (provider,) if provider else ()
        )
        return [dict(row) for row in rows]


def test_a_later_day_reports_the_withdrawn_permission_the_new_inference_and_the_new_recipient(
    demo: Demo,
) -> None:
    found = demo.changes_after_later_day
    assert sorted((c["provider"], c["category"], c["kind"]) for c in found) == [
        ("telco", "consents", "standing"),
        ("telco", "inferences", "new"),
        ("telco", "processing", "recipient_added"),
    ]
    words = {c["kind"]: c["words"] for c in found}
    assert (
        words["standing"]
        == "'Marketing permission by Text message' at Demo Telecom: on → withdrawn"
    )
    assert words["new"] == (
        "Demo Telecom inferred a new segment about you: 'Likely to switch' (Switching segment),"
        " 20 Nov 2026"
    )
    assert words["recipient_added"] == (
        "Demo Telecom's processing notice, 'Telling you about offers you might want':"
        " recipient added: Brightloop Analytics Ltd (measures our campaigns) (processor, GB)"
    )
    code, said = portal(demo.home, "changes")
    assert code == 0, said
    assert said.startswith("Demo Telecom\n")
    for sentence in words.values():
        assert said.count(sentence) == 1, said
    assert len(said.splitlines()) == 4  # the provider, and its three changes


def test_a_sync_with_nothing_new_reports_nothing_new(demo: Demo) -> None:
    assert listed(demo.home) == demo.changes_after_later_day
    code, said = portal(demo.home, "changes", "--since", demo.after_later_day.isoformat())
    assert code == 0 and said.startswith("Nothing changed since"), said
    assert len(_versions(demo.home)) == 2  # the permission's and the notice's earlier versions


def test_the_earlier_version_is_kept_with_when_it_was_fetched_and_when_it_changed(
    demo: Demo,
) -> None:
    [kept] = [v for v in _versions(demo.home, "telco") if v["table_name"] == "consents"]
    earlier = json.loads(kept["row"])
    assert (kept["why"], earlier["state"], earlier["expires_at"]) == ("changed", "active", None)
    assert earlier["fetched_at"] == kept["valid_from"]
    with sqlite3.connect(demo.home / "portal.db") as db:
        state, fetched, raw = db.execute(
            "SELECT state, fetched_at, raw_id FROM consents WHERE id = ?", (kept["record_id"],)
        ).fetchone()
    assert state == "withdrawn" and raw != earlier["raw_id"]
    assert kept["valid_from"] < kept["replaced_at"] == fetched  # replaced by the new version
    assert (
        demo.before_later_day.isoformat() < kept["replaced_at"] < demo.after_later_day.isoformat()
    )


def test_since_and_provider_narrow_the_list(demo: Demo) -> None:
    since = demo.before_later_day.isoformat()
    assert listed(demo.home, "--since", since) == demo.changes_after_later_day
    assert listed(demo.home, "--provider", "telco") == demo.changes_after_later_day
    assert listed(demo.home, "--provider", "bank") == []
    assert listed(demo.home, "--since", demo.after_later_day.isoformat()) == []
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert listed(demo.home, "--since", tomorrow) == []
    code, said = portal(demo.home, "changes", "--provider", "nobody")
    assert code != 0 and "No provider is named 'nobody'" in said
    code, said = portal(demo.home, "changes", "--since", "last week")
    assert code != 0 and "--since" in said


@pytest.mark.parametrize("writer_process", ["never", "always"])
def test_a_record_the_provider_stops_releasing_is_kept_as_its_last_version(
    demo: Demo, tmp_path: Path, writer_process: str
) -> None:
    with Portal.open(home=demo.home) as reading:
        [row] = [r for r in reading.store.rows(Transaction, "bank")][:1]
    record = Transaction.model_validate(row)
    store = Store(sqlite_url(tmp_path / "portal.db"), writer_process=writer_process)
    try:
        first = Batch("bank", row["connection_id"], "transactions", row["fetched_at"])
        first.records.append(record)
        store.commit(first)
        gone = Batch("bank", row["connection_id"], "transactions", datetime.now(UTC))
        gone.withdrawn.append(("transactions", record.id))
        store.commit(gone)
        assert [r["id"] for r in store.rows(Transaction)] == []  # the live table: released now
        with store.engine.connect() as db:
            [kept] = db.exec_driver_sql("SELECT row, why, valid_from FROM record_versions").all()
        assert kept[1] == GONE
        earlier = json.loads(kept[0], parse_float=Decimal)  # money: exact, never a float
        assert Transaction.model_validate(earlier) == record  # every value, as it was stored
        assert kept[2] == earlier["fetched_at"]
        [said] = changes(store.engine, names={"bank": "Demo Bank"})
        assert said.kind == "gone" and said.words.startswith(
            "Demo Bank no longer releases the transaction '"
        )
    finally:
        store.close()


def test_disconnect_with_delete_data_leaves_no_history_of_that_provider(
    demo: Demo, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    shutil.copytree(demo.home, home)
    vault = Vault(FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock")
    fast = RetryPolicy(initial_wait=0.01, max_wait=0.1)
    with Portal.open(home=home, vault=vault, retry_policy=fast) as app:
        app.disconnect("telco", delete_data=True)  # the sandbox is gone: it cannot revoke
    assert _versions(home, "telco") == []
    with sqlite3.connect(home / "portal.db") as db:
        starts = [p for (p,) in db.execute("SELECT provider FROM history_starts")]
    assert sorted(starts) == ["bank"]
    assert listed(home) == []


def test_the_triggers_are_made_again_when_a_migration_copied_a_table(tmp_path: Path) -> None:
    path = tmp_path / "portal.db"
    Store(sqlite_url(path)).close()
    listed_triggers = (
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'history%'"
    )
    with sqlite3.connect(path) as db:
        made = {name for (name,) in db.execute(listed_triggers)}
        assert "history_v1_consents_changed" in made and len(made) == 14
        db.execute('DROP TRIGGER "history_v1_consents_changed"')  # as a batch copy drops it
    Store(sqlite_url(path)).close()
    with sqlite3.connect(path) as db:
        assert {name for (name,) in db.execute(listed_triggers)} == made


def test_a_postgresql_store_keeps_the_same_history_and_says_the_same_changes(
    postgres: str, demo: Demo, tmp_path: Path
) -> None:
    import pg

    with pg.database(postgres, "portal_history") as url:
        home = tmp_path / "home"
        code, said = portal(home, "sync", "--demo", *PROVIDERS, "--quiet", db=url)
        assert code == 0, said
        code, said = portal(
            home, "sync", "--demo", *PROVIDERS, "--demo-day", LATER_DAY, "--quiet", db=url
        )
        assert code == 0, said
        found = listed(home, db=url)
        words = [(c["category"], c["kind"], c["words"]) for c in found]
        assert sorted(words) == sorted(
            (c["category"], c["kind"], c["words"]) for c in demo.changes_after_later_day
        )
        # A record the provider withdraws: kept as its last version, gone from the live table.
        store = Store(url)
        try:
            [row] = list(store.rows(Transaction, "bank"))[:1]
            gone = Batch("bank", row["connection_id"], "transactions", datetime.now(UTC))
            gone.withdrawn.append(("transactions", row["id"]))
            store.commit(gone)
            assert row["id"] not in {r["id"] for r in store.rows(Transaction, "bank")}
            with store.engine.connect() as db:
                [(kept, why)] = db.exec_driver_sql(
                    "SELECT row::text, why FROM record_versions WHERE provider = 'bank'"
                ).all()
            assert why == GONE
            earlier = json.loads(kept, parse_float=Decimal)
            assert Transaction.model_validate(earlier) == Transaction.model_validate(row)
        finally:
            store.close()


def _stored(store: Store, *records: Any) -> None:
    """Commit ``records`` as one page of a sync: each its portal id, raw id and fetch time."""
    fetched = datetime.now(UTC)
    batch = Batch("utility", "c1", "customer", fetched)
    for record in records:
        raw = "raw-" + hashlib.sha256(record.model_dump_json().encode()).hexdigest()
        record.id = portal_id("utility", record.category, record.provider_id)
        record.provider, record.raw_id, record.fetched_at = "utility", raw, fetched
        batch.records.append(record)
    store.commit(batch)


def test_a_partys_details_and_a_products_prices_are_said_field_by_field_and_inert(
    tmp_path: Path,
) -> None:
    hostile = "Acme \u202ekcatta Energy"  # a bidi override: the name would read backwards
    store = Store(sqlite_url(tmp_path / "portal.db"))
    try:
        home = Address(lines=["1 High Street"], town="Leeds", postcode="LS1 1AA")
        moved = Address(lines=["2 Low Lane"], town="York", postcode="YO1 1AA")
        party = Party(provider_id="me", full_name="Ann Smith", email="ann@old.example")
        party.addresses = [home]
        tariff = Product(
            provider_id="tariff",
            name=hostile,
            product_type="tariff",
            product_type_label="Tariff",
            prices=[
                Price(label="Unit rate", amount=Decimal("0.2450"), currency="GBP", unit="kWh"),
                Price(label="Standing charge", amount=Decimal("0.60"), currency="GBP"),
            ],
        )
        _stored(store, party, tariff)
        party = party.model_copy(update={"email": "ann@new.example", "addresses": [moved]})
        tariff = tariff.model_copy(
            update={
                "prices": [
                    Price(label="Unit rate", amount=Decimal("0.2612"), currency="GBP", unit="kWh"),
                    Price(label="Standing charge", amount=Decimal("0.60"), currency="GBP"),
                ]
            }
        )
        _stored(store, party, tariff)
        _stored(store, party, tariff)  # the same again: nothing more to say
        said = {c.kind: c.words for c in changes(store.engine, names={"utility": "Demo Energy"})}
    finally:
        store.close()
    assert said == {
        "detail": "Demo Energy, party 'Ann Smith': Email: ann@old.example → ann@new.example;"
        " Addresses: 1 High Street, Leeds, LS1 1AA → 2 Low Lane, York, YO1 1AA",
        "price": f"'{shown(hostile)}' at Demo Energy: Unit rate: 0.245 GBP per kWh"
        " → 0.2612 GBP per kWh",
    }
    assert "\u202e" not in said["price"] and "\\u202e" in said["price"]
