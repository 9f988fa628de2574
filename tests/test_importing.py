"""portal import: the framework, through a small importer plugin loaded from a plugins folder.

The real importers (OFX, midata) are tested on realistic files in test_import_files.py;
here a tiny "tally" format pins down what every importer gets from the framework.
"""

import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.app import Portal
from portal.cli import ExitCode, cli
from portal.errors import ConfigError, UserError
from portal.importing import BadFile, import_file, import_history, importers, undo_import
from portal.provider import OAuthClient, Provider
from portal.record import Account, Sector, Transaction
from portal.understand.tables import DERIVED_TABLES

TALLY_PLUGIN = """
from datetime import datetime
from decimal import Decimal, InvalidOperation

from portal import Provider, hookimpl
from portal.importing import BadFile, FilePage, Importer, decode
from portal.record import Account, Category, Sector, Transaction
from portal.provider import InventoryItem

TALLY = Provider(
    name="tally",
    display_name="Tally sheet",
    sector=Sector.other,
    importer_only=True,
    inventory=(InventoryItem(Category.transactions, "Tallied payments."),),
)


@hookimpl
def register_providers(register):
    register(TALLY)


def sniff(head, filename):
    return head.startswith(b"TALLY v1")


def read(path, account=None):
    lines = decode(path.read_bytes(), path).splitlines()
    items, where = [{"account": account or "tally"}], ["line 1"]
    for number, line in enumerate(lines[1:], 2):
        day, amount, text = line.split(",", 2)
        try:
            datetime.strptime(day, "%Y-%m-%d")
        except ValueError:
            raise BadFile(path, f"line {number}", f"date {day!r} is not YYYY-MM-DD") from None
        items.append({"day": day, "amount": amount, "text": text, "account": account or "tally"})
        where.append(f"line {number}")
    yield FilePage("tally", items, locators=where)


@hookimpl
def register_importers(register):
    register(Importer("tally", "Tally sheet", TALLY, sniff, read, extensions=(".tally",)))


@hookimpl
def normalise(stream, item, ref):
    if "day" not in item:
        return [Account(provider_id=item["account"], name="Tally", account_type="tally",
                        account_type_label="Tally sheet")]
    return [
        Transaction(
            provider_id=f"{item['day']}:{item['text']}",
            account_id=ref(Account, item["account"]),
            booked_at=datetime.fromisoformat(item["day"] + "T12:00:00+00:00"),
            amount=Decimal(item["amount"]),
            currency="GBP",
            status="booked",
            status_label="Booked",
            description=item["text"],
        )
    ]
"""

GOOD = "TALLY v1\n2026-01-02,-3.50,Coffee\n2026-01-03,-12.00,Lunch\n2026-01-05,100.00,Refund\n"
FEB = "TALLY v1\n2026-01-03,-12.00,Lunch\n2026-02-01,-900.00,Rent\n2026-02-02,-2.10,Tea\n"


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "tally.py").write_text(TALLY_PLUGIN, encoding="utf-8")
    return folder


@pytest.fixture
def app(tmp_path: Path, plugins_dir: Path) -> Portal:
    with Portal.open(home=tmp_path / "home", plugins_dir=plugins_dir) as portal:
        yield portal


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def dump(portal: Portal) -> str:
    """Every table's contents, as SQL text: equal dumps mean an unchanged store."""
    database = portal.store.engine.url.database
    with sqlite3.connect(database) as db:
        # The import counter (sqlite_sequence) moves on after an undo: numbers are not reused.
        # The search index is compared by what it holds (each record's text), not by how
        # FTS5 lays out its segments or which number a record put back was given.
        # What the understanding layer derived (its marks, its facts) is worked out again
        # from the records, not put back by an undo.
        internal = ("sqlite_sequence", '"search_index_', '"search_keys"')
        internal += tuple(f'"{table}"' for table in DERIVED_TABLES)
        lines = [line for line in db.iterdump() if not any(t in line for t in internal)]
        index = db.execute(
            "SELECT k.category, k.id, s.body FROM search_keys AS k"
            " JOIN search_index AS s ON s.rowid = k.rowid ORDER BY 1, 2"
        )
        return "\n".join(lines + [repr(entry) for entry in index])


def test_import_stores_every_item_and_a_second_import_adds_nothing(
    app: Portal, tmp_path: Path
) -> None:
    path = write(tmp_path, "jan.tally", GOOD)
    result = import_file(app, path)
    assert result.importer.name == "tally" and result.items == 4
    assert result.records == {"accounts": 1, "transactions": 3}
    assert result.added == {"accounts": 1, "transactions": 3}
    rows = list(app.store.rows(Transaction, "tally"))
    assert sorted(r["description"] for r in rows) == ["Coffee", "Lunch", "Refund"]
    assert {r["connection_id"] for r in rows} == {f"file:{result.digest}"}
    before = dump(app)
    again = import_file(app, path)
    assert again.added == {"accounts": 0, "transactions": 0}
    assert dump(app) == before


def test_a_bad_line_names_it_and_changes_nothing(app: Portal, tmp_path: Path) -> None:
    import_file(app, write(tmp_path, "jan.tally", GOOD))
    before = dump(app)
    bad = GOOD.replace("2026-01-03", "2026-13-03") + "2026-01-09,-1.00,Later\n"
    with pytest.raises(BadFile) as error:
        import_file(app, write(tmp_path, "feb.tally", bad))
    assert error.value.message == "feb.tally, line 3: date '2026-13-03' is not YYYY-MM-DD"
    assert dump(app) == before


def test_an_item_normalise_rejects_names_its_line_and_changes_nothing(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, write(tmp_path, "jan.tally", GOOD))
    before = dump(app)
    bad = GOOD + "2026-01-06,12.0.0,Broken amount\n2026-01-07,-2.00,Fine\n"
    with pytest.raises(BadFile) as error:
        import_file(app, write(tmp_path, "feb.tally", bad))
    assert error.value.message.startswith("feb.tally, line 5: normalise failed: InvalidOperation")
    assert dump(app) == before


def test_the_content_decides_not_the_name(app: Portal, tmp_path: Path) -> None:
    assert import_file(app, write(tmp_path, "statement.csv", GOOD)).importer.name == "tally"
    with pytest.raises(UserError) as error:
        import_file(app, write(tmp_path, "notes.tally", "Dear diary,\n"))
    assert "does not recognise the content of notes.tally" in error.value.message
    assert "tally: Tally sheet (.tally)" in error.value.hint


def test_as_names_the_importer_and_an_unknown_name_lists_them(app: Portal, tmp_path: Path) -> None:
    path = write(tmp_path, "jan.tally", GOOD)
    with pytest.raises(UserError) as error:
        import_file(app, path, importer="nosuch")
    assert "no importer called 'nosuch'" in error.value.message
    assert "tally: Tally sheet" in error.value.hint
    assert import_file(app, path, importer="tally").records["transactions"] == 3


def test_account_reaches_readers_that_take_it(app: Portal, tmp_path: Path) -> None:
    import_file(app, write(tmp_path, "jan.tally", GOOD), account="joint")
    import_file(app, write(tmp_path, "feb.tally", FEB), account="sole")
    assert sorted(r["provider_id"] for r in app.store.rows(Account, "tally")) == ["joint", "sole"]


def test_the_same_file_with_and_without_account_is_filed_once(app: Portal, tmp_path: Path) -> None:
    path = write(tmp_path, "jan.tally", GOOD)
    import_file(app, path)
    before = dump(app)
    with pytest.raises(UserError) as error:
        import_file(app, path, account="joint")
    assert error.value.message == (
        "jan.tally was imported before (import 1) as the default account; importing it as"
        " 'joint' would hold every transaction in it twice."
    )
    assert "portal import --undo 1" in error.value.hint
    assert dump(app) == before
    named = write(tmp_path, "named.tally", "TALLY v1\n2026-03-01,-5.00,Books\n2026-03-02,-6,Bus\n")
    import_file(app, named, account="joint")
    again = import_file(app, named)  # without --account: where it went before
    assert again.account == "joint" and again.earlier == 2 and again.import_id is None
    assert len(list(app.store.rows(Transaction, "tally"))) == 3 + 2
    assert sorted(r["provider_id"] for r in app.store.rows(Account, "tally")) == ["joint", "tally"]


def _amounts(portal: Portal) -> dict[str, str]:
    return {r["description"]: str(r["amount"]) for r in portal.store.rows(Transaction, "tally")}


def test_a_changed_item_is_applied_reported_and_undo_puts_it_back(
    app: Portal, tmp_path: Path
) -> None:
    import_file(app, write(tmp_path, "jan.tally", GOOD))
    before = dump(app)
    changed = import_file(app, write(tmp_path, "jan-2.tally", GOOD.replace("-3.50", "-4.50")))
    assert changed.added == {"accounts": 0, "transactions": 0}
    [change] = changed.changed
    assert (change.category, change.provider_id) == ("transactions", "2026-01-02:Coffee")
    assert change.fields == {"amount": (Decimal("-3.50"), Decimal("-4.50"))}
    assert changed.import_id == 2
    assert _amounts(app)["Coffee"] == "-4.5"  # the value; the store keeps no scale
    with sqlite3.connect(app.store.engine.url.database or "") as db:  # the earlier one is kept
        kept = db.execute("SELECT json_extract(row, '$.amount') FROM record_versions").fetchall()
    assert kept == [(-3.5,)]
    undone = undo_import(app, 2)
    assert undone["undone"] == {"transactions": 1, "raw_items": 1}
    assert dump(app) == before  # byte for byte: the earlier version, its provenance too


def test_undo_removes_what_one_import_brought_and_keeps_what_another_holds(
    app: Portal, tmp_path: Path
) -> None:
    jan = import_file(app, write(tmp_path, "jan.tally", GOOD))
    after_jan = dump(app)
    feb = import_file(app, write(tmp_path, "feb.tally", FEB))  # Lunch is in both
    assert feb.added == {"accounts": 0, "transactions": 2}
    assert sorted(_amounts(app)) == ["Coffee", "Lunch", "Refund", "Rent", "Tea"]
    undo_import(app, feb.import_id)
    assert dump(app) == after_jan
    feb = import_file(app, write(tmp_path, "feb.tally", FEB))
    assert (jan.import_id, feb.import_id) == (1, 3)  # an undone import's number is not reused
    undo_import(app, jan.import_id)  # Lunch and the account stay: February's file holds them
    assert sorted(_amounts(app)) == ["Lunch", "Rent", "Tea"]
    assert [i["id"] for i in import_history(app)] == [feb.import_id]
    undo_import(app, feb.import_id)  # ...and now February brought them, they go with it
    assert app.store.counts() == {}
    assert app.store.rejections("tally") == []
    with pytest.raises(UserError, match="There is no import 1 to undo") as error:
        undo_import(app, 1)
    assert error.value.hint == "No import is recorded in this store."


def test_cli_lists_imports_and_undoes_one(tmp_path: Path, plugins_dir: Path) -> None:
    run(tmp_path, plugins_dir, "import", str(write(tmp_path, "jan.txt", GOOD)))
    changed = write(tmp_path, "jan2.txt", GOOD.replace("-12.00", "-13.00"))
    code, out, err = run(tmp_path, plugins_dir, "import", str(changed))
    assert code == ExitCode.OK, err
    assert "Transactions: 3 (0 new, 1 changed)" in out
    assert "changed transactions 2026-01-03:Lunch: amount -12.00 -> -13.00" in out
    assert "already in the store" not in out
    assert "This is import 2: portal import --undo 2 takes it back." in out
    code, out, _ = run(tmp_path, plugins_dir, "import", "--history")
    assert code == ExitCode.OK
    lines = out.splitlines()
    assert len(lines) == 2 and "jan.txt (tally): 1 new accounts, 3 new transactions" in lines[0]
    assert "jan2.txt (tally): 0 new accounts, 0 new transactions, 1 changed" in lines[1]
    code, out, _ = run(tmp_path, plugins_dir, "import", "--undo", "2")
    assert code == ExitCode.OK
    assert (
        out == "Undid import 2 of jan2.txt: removed or restored 1 transactions, 1 raw payloads.\n"
    )
    code, _, err = run(tmp_path, plugins_dir, "import", "--undo", "2")
    assert code == ExitCode.USER_ERROR and "There is no import 2 to undo" in err


def test_missing_and_empty_files_say_so(app: Portal, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="There is no file"):
        import_file(app, tmp_path / "nowhere.ofx")
    with pytest.raises(BadFile, match=r"empty.ofx: is empty"):
        import_file(app, write(tmp_path, "empty.ofx", "\n \n"))


def test_an_importer_must_use_its_own_plugins_provider(tmp_path: Path) -> None:
    class Thief:
        from portal.hookspecs import hookimpl

        @hookimpl
        def register_importers(self, register):  # type: ignore[no-untyped-def]
            from portal.importing import Importer
            from portal_bank.plugin import PROVIDER

            register(Importer("thief", "Thief", PROVIDER, lambda h, n: True, lambda p: []))

    with Portal.open(home=tmp_path / "home", extra_plugins=[Thief()]) as portal:
        assert "thief" not in importers(portal.plugins)
        assert any("does not declare" in p for p in portal.plugins.problems)


def test_importer_only_providers_have_no_endpoints_and_cannot_be_connected(
    app: Portal,
) -> None:
    with pytest.raises(UserError, match="no API to connect to"):
        app.connect("tally")
    with pytest.raises(UserError, match="portal import FILE"):
        app.sync(["tally"])
    with pytest.raises(ConfigError, match="importer_only but declares an API"):
        Provider("x", "X", Sector.other, api_base="https://x.example", importer_only=True)
    with pytest.raises(ConfigError, match="declares no api_base, or neither oauth nor credential"):
        Provider("x", "X", Sector.other)
    oauth = OAuthClient("https://x.example/a", "https://x.example/t", "id", ("read",))
    assert Provider("x", "X", Sector.other, "https://x.example", oauth).hosts == {"x.example"}


def run(tmp_path: Path, plugins_dir: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli,
        ["--home", str(tmp_path / "home"), "--plugins-dir", str(plugins_dir), *args],
        catch_exceptions=False,
    )
    return result.exit_code, result.stdout, result.stderr


def test_cli_import_reports_counts_and_exit_codes(tmp_path: Path, plugins_dir: Path) -> None:
    path = write(tmp_path, "jan.txt", GOOD)
    code, out, err = run(tmp_path, plugins_dir, "import", str(path))
    assert code == ExitCode.OK, err
    assert "Imported jan.txt as Tally sheet" in out and "Transactions: 3 (3 new)" in out
    code, out, _ = run(tmp_path, plugins_dir, "import", str(path), "--json")
    assert code == ExitCode.OK and json.loads(out)["added"] == {"accounts": 0, "transactions": 0}
    bad = write(tmp_path, "bad.txt", "TALLY v1\nyesterday,1.00,x\n")
    code, _, err = run(tmp_path, plugins_dir, "import", str(bad))
    assert code == ExitCode.USER_ERROR
    assert "Error: bad.txt, line 2: date 'yesterday' is not YYYY-MM-DD" in err
    assert "store is unchanged" in err
    code, out, _ = run(tmp_path, plugins_dir, "import", "--list")
    assert code == ExitCode.OK and "tally: Tally sheet (.tally)" in out
    code, _, err = run(tmp_path, plugins_dir, "import")
    assert code == ExitCode.USAGE and "Give the FILE" in err


def test_cli_import_help_explains_itself() -> None:
    result = CliRunner().invoke(cli, ["import", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "recognises the kind of file by its content" in text
    assert "refused whole, with the line or element named" in text
    assert "Exit codes:" in result.output
