"""The OFX/QFX and midata test doubles (portal_files.samples) against the real import path.

Each export's files are imported through ``portal.importing.import_file`` and every stored
record is compared, field by field, with what the export states
(``portal_conformance.rules.values``), as the conformance suite's import mode does; each
raw item's fields are all mapped or kept (``rules.rawfields``); the stated balances add up
(``rules.reconcile``); and the files are the same bytes for the same scale.
"""

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portal.app import Portal
from portal.errors import UserError
from portal.importing import FileNote, import_file, importers
from portal.record import Account, Balance, Transaction
from portal.samples import SampleExport
from portal_conformance.rules.rawfields import dropped_paths
from portal_conformance.rules.reconcile import _reconcile_series
from portal_conformance.rules.values import compare, delivered_values, matched
from portal_files import mapping
from portal_files.plugin import PORTAL_CONFORMANCE
from portal_files.samples import MidataExport, OfxExport

ENTITIES = {"accounts": Account, "balances": Balance, "transactions": Transaction}
EXPORTS = {"ofx": OfxExport, "midata": MidataExport}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Portal]:
    with Portal.open(home=tmp_path / "home") as portal:
        yield portal


def written(tmp_path: Path, kind: type[SampleExport], scale: int = 1) -> SampleExport:
    folder = tmp_path / f"{kind.__name__}-{scale}"
    folder.mkdir(parents=True)
    return kind(folder, scale=scale)


def import_all(app: Portal, export: SampleExport) -> None:
    for path in export.files:
        import_file(app, path, account=getattr(export, "account", None))


def mismatches(app: Portal, provider: str, export: SampleExport) -> list[str]:
    """Every way the stored records differ from ``export.expected_records()``."""
    problems = []
    expected = export.expected_records()
    ids = {r["id"]: r["provider_id"] for r in app.store.rows(Account, provider)}
    for category, stated in expected.items():
        rows = list(app.store.rows(ENTITIES[category], provider))
        found = set()
        for row in rows:
            key = matched(row["provider_id"], stated)
            if key is None:
                problems.append(f"{category} {row['provider_id']}: stated nowhere")
                continue
            found.add(key)
            delivered = delivered_values(ENTITIES[category], row)
            if delivered.get("account_id"):
                delivered["account_id"] = ids[delivered["account_id"]]
            unstated, wrong = compare(stated[key], delivered)
            problems += [f"{category} {key}: {name} not stated" for name in unstated]
            problems += [f"{category} {key}: {n} {e!r} != {d!r} ({why})" for n, e, d, why in wrong]
        problems += [f"{category} {key}: no record" for key in sorted(set(stated) - found)]
        if len(rows) != len(stated):
            problems.append(f"{category}: {len(rows)} records for {len(stated)} stated")
    return problems


@pytest.mark.parametrize("provider", sorted(EXPORTS))
def test_every_stored_record_says_what_the_export_states(
    app: Portal, tmp_path: Path, provider: str
) -> None:
    export = written(tmp_path, EXPORTS[provider])
    import_all(app, export)
    assert mismatches(app, provider, export) == []
    # Imported again, nothing changes: every record keeps its stable id.
    import_all(app, export)
    assert mismatches(app, provider, export) == []


def test_the_importers_offer_their_doubles(app: Portal, tmp_path: Path) -> None:
    known = importers(app.plugins)
    # Offered through a function that imports the double only when the suite asks for it.
    for name, kind in (("ofx", OfxExport), ("midata", MidataExport)):
        (tmp_path / name).mkdir()
        made = known[name].samples(tmp_path / name, scale=1)  # type: ignore[misc]
        assert isinstance(made, kind) and made.files
    assert MidataExport.account and OfxExport.account is None


def raw_items(path: Path, provider: str, account: str | None) -> Iterator[tuple[str, Any]]:
    from portal_files import midata, statements

    pages = midata.read(path, account) if provider == "midata" else statements.read(path)
    for page in pages:
        if isinstance(page, FileNote):
            continue
        for item in page.items:
            yield page.stream, item


@pytest.mark.parametrize("provider", sorted(EXPORTS))
def test_every_raw_field_is_mapped_or_kept(tmp_path: Path, provider: str) -> None:
    export = written(tmp_path, EXPORTS[provider])

    def call(stream: str, item: dict[str, Any]) -> list[Any]:
        return mapping.NORMALISERS[provider, stream](item, lambda entity, key: key)

    declared = PORTAL_CONFORMANCE.get(provider, {}).get("ignored_fields", {})
    dropped = {
        (stream, field)
        for path in export.files
        for stream, item in raw_items(path, provider, getattr(export, "account", None))
        for field in dropped_paths(call, stream, item, set(declared.get(stream, {})))
    }
    assert dropped == set()


@pytest.mark.parametrize("provider", sorted(EXPORTS))
def test_the_stated_balances_add_up_from_the_transactions(tmp_path: Path, provider: str) -> None:
    stated = written(tmp_path, EXPORTS[provider], scale=2).expected_records()
    movements = defaultdict(list)
    states = defaultdict(list)
    for key, t in stated["transactions"].items():
        group = f"{t['account_id']} in {t['currency']}"
        movements[group].append((t["booked_at"], t["amount"], False))
        if t["balance_after"] is not None:
            states[group].append((key, t["booked_at"], t["balance_after"]))
    for key, b in stated.get("balances", {}).items():
        states[f"{b['account_id']} in {b['currency']}"].append((key, b["as_of"], b["amount"]))
    # A running balance is compared only where its moment is its own (midata: one a day).
    moments = {g: [m for m, _, _ in ms] for g, ms in movements.items()}
    compared = {
        g: [s for s in ss if moments[g].count(s[1]) == 1 or s[0] in stated.get("balances", {})]
        for g, ss in states.items()
    }
    assert sum(map(len, compared.values())) >= 4
    problems = [p for g, ss in compared.items() for p in _reconcile_series(g, ss, movements[g])]
    assert problems == []


@pytest.mark.parametrize("provider", sorted(EXPORTS))
def test_the_same_scale_writes_the_same_bytes_and_scale_multiplies_the_history(
    tmp_path: Path, provider: str
) -> None:
    kind = EXPORTS[provider]
    one, again = written(tmp_path / "a", kind), written(tmp_path / "b", kind)
    assert [p.name for p in one.files] == [p.name for p in again.files]
    assert [p.read_bytes() for p in one.files] == [p.read_bytes() for p in again.files]
    three = written(tmp_path / "c", kind, scale=3)
    counts = {c: len(v) for c, v in one.expected_records().items()}
    tripled = {c: len(v) for c, v in three.expected_records().items()}
    assert tripled["transactions"] == 3 * counts["transactions"]
    assert tripled["accounts"] == counts["accounts"]
    assert 20 <= counts["transactions"] <= 80  # tens of items: the suite stays fast
    assert sum(p.stat().st_size for p in three.files) > 2 * sum(p.stat().st_size for p in one.files)


def test_the_ofx_export_covers_what_the_format_allows(tmp_path: Path) -> None:
    export = written(tmp_path, OfxExport)
    stated = export.expected_records()
    transactions = stated["transactions"].values()
    assert {t["category_code"] for t in transactions} >= {
        "CREDIT", "DEBIT", "INT", "FEE", "SRVCHG", "DEP", "ATM", "POS", "XFER", "CHECK",
        "PAYMENT", "CASH", "DIRECTDEP", "DIRECTDEBIT", "REPEATPMT", "OTHER", "DIV",
    }  # fmt: skip
    assert {t["currency"] for t in transactions} == {"GBP", "EUR", "USD"}
    assert any(t["counterparty"] is None and t["reference"] is None for t in transactions)
    assert any("PAYEE" in t["extra"] for t in transactions)
    assert any(t["amount"] > 0 for t in transactions if t["currency"] == "USD")
    texts = "".join(str(t["description"]) + str(t["reference"]) for t in transactions)
    assert "\u202e" in texts and "<script>" in texts and "=HYPERLINK(" in texts
    heads = {p.name: p.read_bytes()[:200] for p in export.files}
    assert heads["harbour-current-1.ofx"].startswith(b"OFXHEADER:100\r\n")
    assert b"<?OFX" in heads["harbour-2.ofx"]
    assert b"\x1b[2J" in export.files[0].read_bytes()
    balances = stated["balances"].values()
    assert {b["balance_type"] for b in balances} == {"LEDGERBAL", "AVAILBAL"}
    assert any(b["amount"] < 0 for b in balances)  # the card's: what is owed
    assert all(isinstance(t["amount"], Decimal) for t in transactions)


@pytest.mark.slow
@pytest.mark.parametrize("provider", sorted(EXPORTS))
def test_portal_conformance_grades_the_importer_gold(tmp_path: Path, provider: str) -> None:
    from test_conformance import gold_report

    gold_report(tmp_path, provider)


def test_a_midata_download_cut_anywhere_in_a_row_is_refused_and_changes_nothing(
    app: Portal, tmp_path: Path
) -> None:
    export = written(tmp_path, MidataExport)
    [path] = export.files
    import_file(app, path, account=MidataExport.account)
    before = [list(app.store.rows(e, "midata")) for e in (Account, Transaction)]
    data = path.read_bytes()
    # A row whose balance is not quoted: a cut inside it still reads as a number.
    lines = data.split(b"\r\n")
    row = next(i for i, line in enumerate(lines) if line[:1].isdigit() and line[-1:] != b'"')
    start = sum(len(line) + 2 for line in lines[:row])
    end = start + len(lines[row])
    cut = tmp_path / "cut.csv"
    for size in range(start + 1, end + 1):
        cut.write_bytes(data[:size])
        with pytest.raises(UserError, match=r"cut\.csv"):
            import_file(app, cut, account=MidataExport.account)
    assert [list(app.store.rows(e, "midata")) for e in (Account, Transaction)] == before
