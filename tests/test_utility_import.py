"""Green Button Download My Data files (portal_utility.importer) against every way ESPI lets a
utility write them: each variant of Demo Energy's sandbox (``portal_utility.variants``) gives
its file, ``portal import`` reads it through the real CLI into a real SQLite store, and the
store holds exactly what a sync of the same variant over a socket stored: the same records,
values, units, bill lines and provider ids. A file ESPI forbids, or one portal cannot record,
is refused naming the entry and the reason a sync gives, never with an internal error."""

import io
import re
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.auth.flows import auto_approve_browser
from portal.auth.vault import FileStorage, Vault
from portal.cli import ExitCode, cli
from portal.http import RetryPolicy
from portal.provider import sandbox_endpoints
from portal.record import Account, Bill, Entity, Party, Usage
from portal_utility import espi
from portal_utility.feeds import feed_xml
from portal_utility.sandbox import UtilitySandbox
from portal_utility.variants import VARIANTS

EARLY = datetime(2025, 11, 20, 9, tzinfo=ZoneInfo("Europe/London"))
"""Five weeks of readings (the autumn clock change in them) and one bill per meter."""
REFUSED = [name for name, v in VARIANTS.items() if v.faulty or v.unrecorded]
"""Variants whose file holds an item a sync rejects: an import refuses the file whole."""
IMPORTED = [name for name in VARIANTS if name not in REFUSED]

PER_SOURCE = {"id", "provider", "connection_id", "consent_id", "fetched_at", "raw_id"}
"""Columns that say where a record came from (a login, or a file), not what it says."""
FROM_THE_AGREEMENT = ("currency", "agreement")
"""What a supply point takes from the CustomerAgreement (its currency, the agreement's
envelope): a sync reads the agreement from the customer feed; a Download My Data file,
like Demo Energy's, holds usage alone."""


@pytest.fixture(scope="module", params=list(VARIANTS))
def variant(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    """One variant: its Download My Data file, and a home that synced the same data."""
    name: str = request.param
    folder = tmp_path_factory.mktemp(name)
    with UtilitySandbox(now=EARLY, page_size=7, variant=name) as sandbox:
        download = folder / "Green Button Download.xml"
        download.write_bytes(sandbox.download_my_data())
        # The same file with the customer's own resources after the usage, as a utility may
        # add them: Customer, CustomerAccount, the CustomerAgreements, the ServiceLocation.
        customer = feed_xml(
            "Customer", "/", "2025-11-20T09:00:00Z", sandbox.resources.customer_entries()
        )
        usage = download.read_text(encoding="utf-8")
        entries = customer[customer.index("<entry") : customer.rindex("</feed>")]
        (folder / "with customer.xml").write_text(
            usage.replace("</feed>", entries + "</feed>"), encoding="utf-8"
        )
        home = folder / "synced"
        vault = Vault(
            FileStorage(home / "vault.bin", key_file=home / "vault.key"), home / "vault.lock"
        )
        with Portal.open(
            home=home, vault=vault, retry_policy=RetryPolicy(initial_wait=0.01, max_wait=0.1)
        ) as portal:
            portal.connect(
                "utility",
                browser=auto_approve_browser,
                endpoints=sandbox_endpoints(sandbox),
                timeout=10,
            )
            [result] = portal.sync(["utility"])
            assert result.ok, result.error
    yield name, download, home


def _import(path: Path, home: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), "import", str(path)])
    return result.exit_code, result.stdout, result.stderr


def _rows(home: Path, entity: type[Entity], provider: str) -> dict[str, dict[str, Any]]:
    with Portal.open(home=home) as portal:
        return {row["provider_id"]: row for row in portal.store.rows(entity, provider)}


def _same(synced: dict[str, Any], imported: dict[str, Any], ignore: tuple[str, ...] = ()) -> None:
    for column, value in synced.items():
        if column in PER_SOURCE or column in ignore:
            continue
        if column == "extra":
            kept = {k: v for k, v in value.items() if k not in ignore}
            assert kept == {k: v for k, v in imported["extra"].items() if k not in ignore}
        else:
            assert imported[column] == value, (synced["provider_id"], column)


@pytest.mark.parametrize("variant", IMPORTED, indirect=True)
def test_each_valid_variants_file_imports_as_its_sync_stored_it(
    variant: tuple[str, Path, Path], tmp_path: Path
) -> None:
    name, download, synced_home = variant
    home = tmp_path / "imported"
    code, out, err = _import(download, home)
    assert code == ExitCode.OK, err
    assert "This is import 1" in out
    synced_points = {
        k: v for k, v in _rows(synced_home, Account, "utility").items() if k.startswith("usage-")
    }
    points = _rows(home, Account, "greenbutton")
    assert points.keys() == synced_points.keys() and len(points) == 2
    for key, row in synced_points.items():
        _same(row, points[key], FROM_THE_AGREEMENT)
    # Each record belongs to the same supply point in both stores, by its provider id.
    synced_ids = {row["id"]: key for key, row in synced_points.items()}
    imported_ids = {row["id"]: key for key, row in points.items()}
    for entity in (Usage, Bill):
        synced = _rows(synced_home, entity, "utility")
        imported = _rows(home, entity, "greenbutton")
        assert imported.keys() == synced.keys() and imported, (name, entity.__name__)
        for key, row in synced.items():
            _same(row, imported[key], ("account_id",))
            assert imported_ids[imported[key]["account_id"]] == synced_ids[row["account_id"]]


@pytest.mark.parametrize("variant", ["standard", "legacy"], indirect=True)
def test_a_file_with_the_customers_resources_imports_every_account_as_the_sync(
    variant: tuple[str, Path, Path], tmp_path: Path
) -> None:
    """With the CustomerAgreement in the file, a supply point gets its currency from it, as
    in a sync, wherever in the file the agreement comes."""
    _, download, synced_home = variant
    home = tmp_path / "imported"
    code, _, err = _import(download.with_name("with customer.xml"), home)
    assert code == ExitCode.OK, err
    for entity in (Account, Party):
        synced = _rows(synced_home, entity, "utility")
        imported = _rows(home, entity, "greenbutton")
        assert imported.keys() == synced.keys() and len(imported) >= 1
        for key, row in synced.items():
            _same(row, imported[key])
    points = [v for k, v in _rows(home, Account, "greenbutton").items() if k.startswith("usage-")]
    assert {row["currency"] for row in points} == {"GBP"}  # from the agreements


@pytest.mark.parametrize("variant", ["units"], indirect=True)
def test_gas_in_therms_imports_as_therms(variant: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, download, _ = variant
    _import(download, tmp_path / "home")
    usage = _rows(tmp_path / "home", Usage, "greenbutton").values()
    therms = [row for row in usage if row["unit"] == "therm"]
    # Read to the thousandth of a therm (the store keeps the value, not its trailing zeros).
    quantities = [row["quantity"] for row in therms]
    assert quantities and all(q == q.quantize(Decimal("0.001")) for q in quantities)
    assert any(q != q.quantize(Decimal("0.01")) for q in quantities)
    bills = _rows(tmp_path / "home", Bill, "greenbutton").values()
    assert {row["currency"] for row in bills} == {"GBP"}  # from the ReadingType


@pytest.mark.parametrize("variant", REFUSED, indirect=True)
def test_a_file_with_an_item_a_sync_rejects_is_refused_naming_the_entry(
    variant: tuple[str, Path, Path], tmp_path: Path
) -> None:
    _, download, synced_home = variant
    with Portal.open(home=synced_home) as portal:
        reasons = {r["reason"] for r in portal.store.rejections("utility")}
    home = tmp_path / "imported"
    code, out, err = _import(download, home)
    assert code == ExitCode.USER_ERROR, (code, out, err)
    assert "Traceback" not in out + err and "internal" not in err.lower()
    found = re.search(r"entry (\d+) \((\w+)\), IntervalReading (\d+): (.*?)\.?\s+Nothing was", err)
    assert found, err
    number, resource, reading, reason = found.groups()
    assert reason in reasons  # the reason a sync gives for the same reading
    entries = list(espi.entries(io.BytesIO(download.read_bytes()), "the file"))
    entry = entries[int(number) - 1]  # the entry the error names is that reading's
    assert entry["resource"] == resource == "IntervalBlock"
    value = entry["content"]["IntervalReading"][int(reading) - 1]["value"]
    assert value in reason or "unit of measure" in reason
    assert _rows(home, Usage, "greenbutton") == {}  # refused whole: nothing imported


@pytest.mark.parametrize("variant", ["sparse"], indirect=True)
def test_a_bill_without_billlastperiod_totals_its_lines_and_says_so(
    variant: tuple[str, Path, Path], tmp_path: Path
) -> None:
    assert _import(variant[1], tmp_path / "home")[0] == ExitCode.OK
    bills = _rows(tmp_path / "home", Bill, "greenbutton").values()
    assert len(bills) == 2
    for bill in bills:
        assert bill["total"] == sum((Decimal(line["amount"]) for line in bill["lines"]), Decimal(0))
        assert "billLastPeriod" in bill["extra"]["total_derived"]


@pytest.mark.parametrize("variant", ["standard"], indirect=True)
def test_bill_lines_keep_their_dates_and_meter_reads(
    variant: tuple[str, Path, Path], tmp_path: Path
) -> None:
    assert _import(variant[1], tmp_path / "home")[0] == ExitCode.OK
    lines = [
        line
        for bill in _rows(tmp_path / "home", Bill, "greenbutton").values()
        for line in bill["lines"]
    ]
    dated = [line for line in lines if line["period_start"] and line["period_end"]]
    measured = [line for line in lines if line["quantity"] is not None and line["unit"]]
    assert dated and measured
    assert {line["unit"] for line in measured} >= {"kWh"}
