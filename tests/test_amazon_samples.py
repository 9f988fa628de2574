"""Amazon's sample export (portal_amazon.samples.AmazonExport), the double the conformance
suite grades the importer against: its files are laid out as Amazon's, the same for the
same scale, and the importer makes of them exactly what it states, field by field."""

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.importing import import_file, importers
from portal.record import Purchase
from portal_amazon import rules
from portal_amazon.samples import AmazonExport
from portal_conformance.rules.values import compare, delivered_values, differs


def write(folder: Path, scale: int = 1) -> AmazonExport:
    folder.mkdir(parents=True)
    return AmazonExport(folder, scale)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def imported(tmp_path: Path, samples: AmazonExport) -> tuple[dict[str, dict[str, Any]], list[str]]:
    notes: list[str] = []
    with Portal.open(home=tmp_path / "home") as portal:
        for path in samples.files:
            notes += import_file(portal, path).notes
        rows = portal.store.rows(Purchase, "amazon")
    return {row["provider_id"]: row for row in rows}, notes


def mismatches(expected: dict[str, dict[str, Any]], stored: dict[str, dict[str, Any]]) -> list[str]:
    found = []
    for pid, row in stored.items():
        unstated, wrong = compare(expected[pid], delivered_values(Purchase, row))
        found += [f"{pid}: {name} not stated" for name in unstated]
        found += [f"{pid}: {name} {why}" for name, _, _, why in wrong]
    return found


def test_the_importer_makes_of_every_file_exactly_what_the_double_states(tmp_path: Path) -> None:
    samples = write(tmp_path / "samples")
    expected = samples.expected_records()["purchases"]
    stored, notes = imported(tmp_path, samples)
    assert sorted(stored) == sorted(expected)
    assert mismatches(expected, stored) == []
    kinds = [(f["kind"], f["kind_label"]) for f in expected.values()]
    assert kinds.count(("order", "Online order")) == 15
    assert kinds.count(("return", "Return")) == 3
    assert kinds.count(("return", "Refund")) == 5
    # The two refunds not paid yet are said, not kept; the digital orders are not read.
    assert sum("has no refund date" in note for note in notes) == 2
    assert any("Digital Items.csv" in note for note in notes)


def test_the_check_sees_a_value_the_importer_reads_otherwise(tmp_path: Path) -> None:
    samples = write(tmp_path / "samples")
    expected = samples.expected_records()["purchases"]
    stored, _ = imported(tmp_path, samples)
    order = next(pid for pid in expected if pid.startswith("order:112-") and pid.endswith("03"))
    laptop = dict(expected[order], total=expected[order]["total"] / 1000)  # 1,406.17 as 1.40617
    assert mismatches({**expected, order: laptop}, stored) == [f"{order}: total another number"]
    assert differs(expected[order]["lines"], stored[order]["lines"]) is None


def test_the_hostile_text_is_in_the_files_and_stored_as_written(tmp_path: Path) -> None:
    samples = write(tmp_path / "samples")
    expected = samples.expected_records()["purchases"]
    said = repr(expected)
    for hostile in ("\\x1b[31m", "\\u202e", '=HYPERLINK("', "<script>", "<b>"):
        assert hostile in said
    stored, _ = imported(tmp_path, samples)
    messages = [
        line["Gift Message"]
        for p in stored.values()
        if p["kind"] == "order"
        for line in p["extra"]["lines"]
        if "Gift Message" in line
    ]
    assert "Happy holidays!\nWith love, Alex \x1b[31mx\x1b[0m" in messages
    assert "Joyeux anniversaire !\r\nBises, Alex" in messages
    names = {line["description"] for p in stored.values() for line in p["lines"]}
    assert 'Desk Organiser =HYPERLINK("http://example.invalid","open")' in names
    assert "Ladekabel \u202eLSU\u202c, 2 m" in names


def test_the_files_are_laid_out_as_amazons_export(tmp_path: Path) -> None:
    samples = write(tmp_path / "samples")
    assert [p.name for p in samples.files] == ["Your Orders.zip", "Your Orders (1).zip"]
    older, newer = (members(p) for p in samples.files)
    assert sorted(older) == [
        "Digital-Ordering.1/Digital Items.csv",
        "Retail.OrderHistory.1/Retail.OrderHistory.1.csv",
        "Retail.OrderHistory.2/Retail.OrderHistory.2.csv",
        "Retail.OrdersReturned.1/Retail.OrdersReturned.1.csv",
        "Retail.OrdersReturned.Payments.1/Retail.OrdersReturned.Payments.1.csv",
    ]
    assert sorted(newer) == [
        "Your Amazon Orders/Order History.csv",
        "Your Returns & Refunds/Refund Details.csv",
    ]
    headers = {
        "Retail.OrderHistory.1/Retail.OrderHistory.1.csv": "orders until 2025",
        "Retail.OrderHistory.2/Retail.OrderHistory.2.csv": "orders until 2025",
        "Retail.OrdersReturned.1/Retail.OrdersReturned.1.csv": "returns until 2025",
        "Retail.OrdersReturned.Payments.1/Retail.OrdersReturned.Payments.1.csv": "refunds until"
        " 2025",
        "Your Amazon Orders/Order History.csv": "orders since 2025",
        "Your Returns & Refunds/Refund Details.csv": "refunds since 2025",
    }
    files = older | newer
    for name, layout in headers.items():
        data = files[name]
        assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") >= 2, name
        text = data.decode("utf-8-sig")
        header, *rows = csv.reader(io.StringIO(text, newline=""))
        assert tuple(header) == rules.HEADERS[layout], name
        assert rows and all(len(row) == len(header) for row in rows), name
        first = text.split("\r\n", 1)[0]
        # Until 2025 every cell is quoted; since, only where needed.
        assert first.startswith('"') == name.startswith("Retail."), name
    text = files["Retail.OrderHistory.1/Retail.OrderHistory.1.csv"].decode("utf-8-sig")
    for quirk in ('"Not Available"', "\"'-0.68'\"", '"1,299.00"', " and ", '"0"', ".500Z"):
        assert quirk in text
    refunds = files["Retail.OrdersReturned.Payments.1/Retail.OrdersReturned.Payments.1.csv"]
    assert b'"$14.52"' in refunds and b'"Not Applicable"' in refunds
    assert (
        b"01/05/2024 10:15:00 UTC" in files["Retail.OrdersReturned.1/Retail.OrdersReturned.1.csv"]
    )
    newer_text = files["Your Amazon Orders/Order History.csv"].decode("utf-8-sig")
    assert '"1.250,00"' in newer_text and "'-1,00'" in newer_text


def test_the_same_scale_writes_the_same_bytes_and_more_scale_a_longer_history(
    tmp_path: Path,
) -> None:
    one, again = write(tmp_path / "a"), write(tmp_path / "b")
    assert [p.read_bytes() for p in one.files] == [p.read_bytes() for p in again.files]
    three = write(tmp_path / "c", scale=3)
    expected, tripled = one.expected_records()["purchases"], three.expected_records()["purchases"]
    assert len(tripled) == 3 * len(expected) and set(expected) <= set(tripled)
    assert len(three.ground_truth()["purchases"]) == 3 * len(expected)
    earliest = min(f["purchased_at"] for f in expected.values())
    assert min(f["purchased_at"] for f in tripled.values()) < earliest
    for small, large in zip(one.files, three.files, strict=True):
        sizes = [sum(map(len, members(path).values())) for path in (small, large)]
        assert sizes[1] > 2.5 * sizes[0]


@pytest.mark.slow
def test_a_scaled_history_imports_as_stated(tmp_path: Path) -> None:
    samples = write(tmp_path / "samples", scale=4)
    expected = samples.expected_records()["purchases"]
    stored, _ = imported(tmp_path, samples)
    assert sorted(stored) == sorted(expected)
    assert mismatches(expected, stored) == []


def test_the_importer_offers_the_double(tmp_path: Path) -> None:
    with Portal.open(home=tmp_path / "home") as portal:
        importer = importers(portal.plugins)["amazon"]
    assert importer.samples is not None
    (tmp_path / "samples").mkdir()
    samples = importer.samples(tmp_path / "samples", scale=1)
    assert isinstance(samples, AmazonExport) and samples.scales
    assert [p.name for p in samples.files] == ["Your Orders.zip", "Your Orders (1).zip"]


@pytest.mark.slow
def test_amazon_reaches_gold_on_its_sample_files(tmp_path: Path) -> None:
    from test_conformance import gold_report, outcomes_of

    report = gold_report(tmp_path, "amazon")
    outcomes = outcomes_of(report)
    # Graded on the files: every value, every raw field, and import mode's own checks.
    for check in (
        "test_values[purchases]",
        "test_raw_fields[purchases]",
        "test_no_silent_drop[purchases]",
        "test_idempotent[reimport]",
        "test_damaged[truncated]",
        "test_damaged[garbled]",
        "test_damaged[empty]",
        "test_offline[import]",
        "test_budget[memory_flat]",
    ):
        assert outcomes[check] == "passed", check
