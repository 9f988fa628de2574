"""The conformance suite's import mode: an import-only provider graded on its sample files.

A small shop's receipts CSV, with its ``SampleExport``, reaches gold through the real
command; three broken readers of the same format each fail the check written for what
they get wrong (a crash on a damaged file, a connection during an import, memory that
grows with the history), so each check is seen to fail.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portal_conformance.report import Outcome, tier
from portal_conformance.rules.files import DAMAGES, damage

SHOP_PLUGIN = '''
import socket
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from portal import InventoryItem, Provider, hookimpl
from portal.errors import SkippableError
from portal.filereaders import open_text
from portal.importing import BadFile, FilePage, Importer, csv_rows
from portal.record import Category, Purchase, PurchaseLine, Sector
from portal.record.vocab import State
from portal.samples import SampleExport

NAME = "{name}"
FLAW = "{flaw}"
COLUMNS = ("receipt", "when", "item", "amount", "currency")
SHOP = Provider(
    name=NAME,
    display_name="Corner Shop receipts",
    sector=Sector.retailer,
    description="The receipts the corner shop e-mails as a CSV.",
    importer_only=True,
    inventory=(InventoryItem(Category.purchases, "Every receipt.", COLUMNS),),
)


class ShopExport(SampleExport):
    """Its receipts CSV as the shop writes it (comma separated, a header row, UTF-8)."""

    def __init__(self, folder, scale=1):
        super().__init__(folder, scale)
        self.rows = [
            (
                f"R{{n:05d}}",
                datetime(2026, 1, 1, 9, tzinfo=UTC) + timedelta(hours=7 * n),
                ["Milk", "Bread & butter", "Café crème", "Tea, 80 bags"][n % 4],
                Decimal(n % 17) + Decimal("0.45"),
                ["GBP", "EUR"][n % 2],
            )
            for n in range(1, 12 * scale + 1)
        ]
        path = folder / "receipts.csv"
        lines = [",".join(COLUMNS)]
        for receipt, when, item, amount, currency in self.rows:
            quoted = f'"{{item}}"' if "," in item else item
            lines.append(f"{{receipt}},{{when:%Y-%m-%dT%H:%M:%SZ}},{{quoted}},{{amount}},{{currency}}")
        path.write_text("\\r\\n".join(lines) + "\\r\\n", encoding="utf-8")
        self.files = [path]

    def expected_records(self):
        return {{
            "purchases": {{
                receipt: {{
                    "kind": "receipt",
                    "kind_label": "Receipt",
                    "order_number": receipt,
                    "purchased_at": when,
                    "channel": "store",
                    "channel_label": "In the shop",
                    "status": "paid",
                    "status_label": "Paid",
                    "state": State.completed,
                    "total": amount,
                    "currency": currency,
                    "lines": [
                        {{"description": item, "quantity": Decimal(1), "unit": "item",
                         "amount": amount}}
                    ],
                }}
                for receipt, when, item, amount, currency in self.rows
            }}
        }}


def sniff(head, filename):
    return head.startswith(",".join(COLUMNS).encode())


def read(path):
    if FLAW == "connects":  # asks a server something while reading a file
        try:
            socket.create_connection(("127.0.0.1", 9), timeout=0.2).close()
        except OSError:
            pass
    kept, page, where = [], [], []
    with open_text(path) as text:
        for line, row in csv_rows(text, path):
            if line == 1:
                continue
            if FLAW != "careless" and len(row) != len(COLUMNS):
                raise BadFile(path, f"line {{line}}", f"has {{len(row)}} cells, not {{len(COLUMNS)}}")
            item = {{name: row[n] for n, name in enumerate(COLUMNS)}}
            if FLAW == "hoards":  # keeps every row read, and a copy of the file per row
                kept.append(bytes(200_000))
            page.append(item)
            where.append(f"line {{line}}")
            if len(page) == 50 and FLAW != "hoards":
                yield FilePage("receipts", page, locators=where)
                page, where = [], []
    if page:
        yield FilePage("receipts", page, locators=where)


@hookimpl
def register_providers(register):
    register(SHOP)


@hookimpl
def register_importers(register):
    register(
        Importer(
            name=NAME,
            display_name="Corner Shop receipts CSV",
            provider=SHOP,
            sniff=sniff,
            read=read,
            extensions=(".csv",),
            description="The receipts CSV the shop e-mails on request.",
            samples=ShopExport,
        )
    )


@hookimpl
def normalise(stream, item, ref):
    try:
        amount = Decimal(item["amount"])
        when = datetime.strptime(item["when"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (InvalidOperation, ValueError) as error:
        raise SkippableError(f"receipt {{item['receipt']}}: {{error}}") from None
    return [
        Purchase(
            provider_id=item["receipt"],
            kind="receipt",
            kind_label="Receipt",
            order_number=item["receipt"],
            purchased_at=when,
            channel="store",
            channel_label="In the shop",
            status="paid",
            status_label="Paid",
            state=State.completed,
            total=amount,
            currency=item["currency"],
            lines=[PurchaseLine(description=item["item"], quantity=1, unit="item", amount=amount)],
        )
    ]
'''


def write_shops(folder: Path) -> list[str]:
    folder.mkdir()
    names = {"shop": "", "careless": "careless", "connects": "connects", "hoards": "hoards"}
    for name, flaw in names.items():
        (folder / f"{name}.py").write_text(SHOP_PLUGIN.format(name=name, flaw=flaw))
    return list(names)


def suite(tmp_path: Path, names: list[str], *args: str) -> dict[str, dict[str, Any]]:
    """The suite run on the shops ``names`` (with pytest's ``args``): each one's report."""
    report = tmp_path / f"report-{names[0]}.json"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--noconftest", "-q",
         "-c", os.devnull, "--rootdir", str(tmp_path), "--pyargs", "portal_conformance.checks",
         *(f"--portal-provider={n}" for n in names), "--portal-plugins-dir",
         str(tmp_path / "plugins"), "--portal-report", "json", "--portal-report-file",
         str(report), *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "PORTAL_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    reports = {r["provider"]: r for r in json.loads(report.read_text())["providers"]}
    for r in reports.values():
        r["outcomes"] = {c["test"]: c["outcome"] for c in r["checks"]}
        r["output"] = done.stdout
    return reports


@pytest.mark.slow
def test_an_import_only_provider_is_graded_on_its_sample_files(tmp_path: Path) -> None:
    write_shops(tmp_path / "plugins")
    good = suite(tmp_path, ["shop"])["shop"]
    assert good["mode"] == "import"
    failed = [t for t, o in good["outcomes"].items() if o == "failed"]
    assert failed == [], good["output"][-4000:]
    assert (good["tier"], good["completeness_score"], good["legibility_score"]) == (
        "gold",
        100,
        100,
    )
    # The checks of a file: every damage, no network, memory, re-import, exact values...
    for test in (
        *(f"test_damaged[{how}]" for how in DAMAGES),
        "test_offline[import]",
        "test_budget[memory_flat]",
        "test_idempotent[reimport]",
        "test_values[purchases]",
        "test_exact_count[purchases]",
        "test_declaration[samples]",
    ):
        assert good["outcomes"][test] == "passed", test
    # ...and none about a live service.
    services = ("test_oauth", "test_quota", "test_secrets", "test_variant", "test_changes")
    assert not [t for t in good["outcomes"] if t.split("[")[0] in services]
    memory = next(c for c in good["checks"] if c["test"] == "test_budget[memory_flat]")
    assert memory["stats"]["file_mb_large"] > 50 * memory["stats"]["file_mb_small"]


@pytest.mark.slow
def test_each_flaw_of_an_importer_fails_the_check_written_for_it(tmp_path: Path) -> None:
    write_shops(tmp_path / "plugins")
    checks = "damaged or offline or memory_flat"
    reports = suite(tmp_path, ["careless", "connects", "hoards"], "-k", checks)
    outcome = {name: r["outcomes"] for name, r in reports.items()}
    assert outcome["careless"]["test_damaged[truncated]"] == "failed"
    assert outcome["connects"]["test_offline[import]"] == "failed"
    assert outcome["hoards"]["test_budget[memory_flat]"] == "failed"
    # Each fails that check alone: the others pass for it.
    assert sum(o == "failed" for r in outcome.values() for o in r.values()) == 3
    output = reports["careless"]["output"]
    assert "crashed with IndexError" in output
    assert "tried to reach 127.0.0.1:9" in output
    assert "so memory grows with the history" in output


def test_a_damaged_file_is_cut_inside_a_record_or_garbled_in_the_middle() -> None:
    data = b"a,b\r\n1,2\r\n3,4\r\n"
    cut = damage(data, "truncated")
    assert data.startswith(cut) and len(cut) < len(data) and not cut.endswith((b"\n", b"\r"))
    garbled = damage(data, "garbled")
    assert garbled.startswith(data[:9]) and garbled.endswith(data[9:]) and b"\x00" in garbled
    assert damage(data, "empty") == b""


def test_an_import_only_tier_needs_its_own_groups_not_a_services() -> None:
    groups = {
        "declaration": "declaration",
        "exact_count": "completeness",
        "reconcile": "reconciliation",
        "legible": "legibility",
        "damaged": "resilience",
        "idempotent": "idempotence",
        "deterministic": "determinism",
        "delivery": "delivery",
        "offline": "egress",
    }
    passed = [Outcome("shop", f"test_{f}[x]", f, "x", "passed", mode="import") for f in groups]
    assert tier(passed) == "silver"  # no budgets measured yet
    budgets = Outcome("shop", "test_budget[x]", "budget", "x", "passed", mode="import")
    assert tier([*passed, budgets]) == "gold"
    # The same outcomes from a provider with a sandbox lack OAuth, secrets, variants...
    as_sync = [Outcome(o.provider, o.test, o.family, o.param, o.outcome) for o in passed]
    assert tier([*as_sync, budgets]) == "bronze"
