"""The store's schema versions: a store an earlier portal wrote is migrated whole or not at all.

``data/stores/v0.1-demo.db.gz`` is a demo store portal 0.1 wrote (its README says how it
was made): no ``alembic_version``, money and quantities as text.
"""

import gzip
import hashlib
import shutil
import sqlite3
import subprocess
import sys
import warnings
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from portal.cli import cli
from portal.errors import StoreSchema
from portal.migrations import __file__ as migrations_init
from portal.record import Transaction
from portal.store import Store, sqlite_url
from portal.store_schema import HEAD, config, head, include_name

OLD_STORE = Path(__file__).parent / "data" / "stores" / "v0.1-demo.db.gz"

# The money and quantity columns 0.1 kept as text, by table.
NUMBERS = {
    "balances": ("amount", "credit_limit"),
    "bills": ("total",),
    "inferences": ("score",),
    "purchases": ("total", "points_earned", "points_spent"),
    "recurring_payments": ("amount",),
    "transactions": ("amount", "balance_after"),
    "usage": ("quantity", "charge"),
}


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    """A copy of the store portal 0.1 wrote, as ``portal.db`` in a home of its own."""
    path = tmp_path / "home" / "portal.db"
    path.parent.mkdir()
    with gzip.open(OLD_STORE) as packed, open(path, "wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    path.chmod(0o600)
    return path


def _number(value: object) -> object:
    """A stored money value as the Decimal it means, whether text (0.1) or a number (now),
    in one spelling of it (the scale, "59.90" or "59.9", is not kept)."""
    if isinstance(value, float):
        return Decimal(repr(value)).normalize()
    if isinstance(value, int | str):
        return Decimal(value).normalize()
    return value


def _contents(path: Path) -> dict[str, tuple[int, str]]:
    """Each portal table's row count, and a digest of every row's values (money as Decimals)."""
    contents = {}
    with sqlite3.connect(path) as db:
        tables = [
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            # The search index is built from the rows when the store opens (portal.search).
            if name not in ("alembic_version", "sqlite_sequence") and not name.startswith("search_")
        ]
        for table in sorted(tables):
            columns = [row[1] for row in db.execute(f'PRAGMA table_info("{table}")')]
            money = {columns.index(c) for c in NUMBERS.get(table, ())}
            rows = sorted(
                repr([_number(v) if i in money else v for i, v in enumerate(row)])
                for row in db.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            )
            digest = hashlib.sha256("\n".join(rows).encode())
            contents[table] = (len(rows), digest.hexdigest())
    return contents


def _dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def _revision(path: Path) -> str | None:
    with sqlite3.connect(path) as db:
        try:
            return db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        except sqlite3.OperationalError:  # no such table: written before versions
            return None


def test_a_store_written_by_0_1_is_backed_up_migrated_and_keeps_every_row(
    old_store: Path,
) -> None:
    before = _contents(old_store)
    assert before["transactions"][0] == 40 and _revision(old_store) is None
    with sqlite3.connect(old_store) as db:
        texts = dict(db.execute('SELECT id, amount FROM "transactions"').fetchall())

    store = Store(sqlite_url(old_store))
    assert store.migrated is not None
    assert (store.migrated.before, store.migrated.after) == (None, head())
    amounts = {r["id"]: r["amount"] for r in store.rows(Transaction)}
    store.close()

    after = _contents(old_store)
    assert {table: after[table] for table in before} == before  # every row, values as Decimals
    assert {table: count for table, (count, _) in after.items() if table not in before} == {
        "imports": 0,  # the log of imports, made by 0.1 only once a file was imported
        "imported_rows": 0,
        "understood": 0,  # the understanding layer's marks (revision 0004)
        "bill_checks": 0,  # bills checked against usage and tariff (revision 0008)
        "record_versions": 0,  # earlier versions of records (revision 0009)
        "history_starts": before["connections"][0],  # histories start at the migration
        "links": 0,  # links across providers (revision 0007)
        "recurring_series": 0,  # recurring payments found (revision 0006)
        "recurring_members": 0,
        "recurring_changes": 0,
        "recurring_payees": 0,
        "transaction_categories": 0,  # spending categories (revision 0005)
        "category_rules": 0,
        "sync_starts": 0,  # when syncs started, for providers' quotas (revision 0011)
        "preferences": 0,  # the person's preferences (revision 0012)
        "asked_changes": 0,  # changes asked of providers (revision 0012)
        "receipts": 0,  # consent receipts (revision 0013)
    }
    assert amounts == {id_: Decimal(text) for id_, text in texts.items()}
    assert _revision(old_store) == head()
    with sqlite3.connect(old_store) as db:
        for table, columns in NUMBERS.items():
            for column in columns:
                kinds = db.execute(f'SELECT DISTINCT typeof("{column}") FROM "{table}"')  # noqa: S608
                assert {kind for (kind,) in kinds} <= {"integer", "real", "null"}, (table, column)
    # The backup is the store as 0.1 left it.
    backup = old_store.with_name(f"portal.db.before-{head()}.bak")
    assert store.migrated.backup == backup
    assert _revision(backup) is None and _contents(backup) == before
    assert backup.stat().st_mode & 0o077 == 0
    with sqlite3.connect(backup) as db:
        assert {type(a) for (a,) in db.execute('SELECT amount FROM "transactions"')} == {str}


def test_a_migrated_store_opens_again_without_migrating(old_store: Path) -> None:
    Store(sqlite_url(old_store)).close()
    again = Store(sqlite_url(old_store))
    assert again.migrated is None
    again.close()


def test_columns_added_since_a_store_was_written_are_added_as_0_1_added_them(
    old_store: Path,
) -> None:
    with sqlite3.connect(old_store) as db:  # as a build before states wrote it
        db.execute('ALTER TABLE "transactions" DROP COLUMN state')
    store = Store(sqlite_url(old_store))
    assert {r["state"] for r in store.rows(Transaction)} == {None}
    store.close()
    assert _revision(old_store) == head()


@pytest.mark.parametrize(
    ("value", "named_as"),
    [
        ("12345678901234567.89", "12345678901234567.89"),  # more digits than a double holds
        ("twelve", "twelve"),
        ("\x1b]0;pwned\x07 12", "\\x1b]0;pwned\\x07 12"),  # shown inert, never obeyed
    ],
)
def test_a_migration_that_stops_half_way_leaves_the_store_exactly_as_it_was(
    old_store: Path, value: str, named_as: str
) -> None:
    # transactions is converted after balances, bills, inferences, purchases and recurring
    # payments: by the time this value stops it, those have been copied already.
    with sqlite3.connect(old_store) as db:
        [(victim,)] = db.execute('SELECT id FROM "transactions" ORDER BY id LIMIT 1 OFFSET 7')
        db.execute('UPDATE "transactions" SET amount = ? WHERE id = ?', (value, victim))
    before = _dump(old_store)

    with pytest.raises(StoreSchema) as stopped:
        Store(sqlite_url(old_store))
    message = str(stopped.value)
    assert "transactions.amount" in message and victim in message and named_as in message
    assert "\x1b" not in message
    assert "portal migrate" in message

    assert _dump(old_store) == before  # the tables converted before it, too
    assert _revision(old_store) is None
    assert not list(old_store.parent.glob("*-journal"))


def test_a_read_only_open_of_an_old_store_refuses_and_says_how_to_migrate(
    old_store: Path,
) -> None:
    before = _dump(old_store)
    with pytest.raises(StoreSchema, match=r"earlier portal.*portal migrate"):
        Store(sqlite_url(old_store), read_only=True)
    assert _dump(old_store) == before
    assert not old_store.with_name(f"portal.db.before-{head()}.bak").exists()


def test_portal_view_of_an_old_store_says_it_needs_migrating_and_portal_migrate_does_it(
    old_store: Path,
) -> None:
    home = ["--home", str(old_store.parent)]
    # A subprocess, so that a view that did open (and serve until stopped) fails the test.
    portal = Path(sys.executable).with_name("portal")
    refused = subprocess.run(
        [portal, *home, "view", "--no-browser"], capture_output=True, text=True, timeout=30
    )
    assert refused.returncode != 0
    assert "earlier portal" in refused.stderr and "portal migrate" in refused.stderr

    migrated = CliRunner().invoke(cli, [*home, "migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert head() in migrated.output and "before-" in migrated.output
    assert _revision(old_store) == head()

    again = CliRunner().invoke(cli, [*home, "migrate"])
    assert again.exit_code == 0 and "already" in again.output


def test_a_store_from_a_later_portal_is_refused_and_left_alone(old_store: Path) -> None:
    Store(sqlite_url(old_store)).close()
    with sqlite3.connect(old_store) as db:
        db.execute("UPDATE alembic_version SET version_num = '9999'")
    before = _dump(old_store)
    for read_only in (False, True):
        with pytest.raises(StoreSchema, match="later portal"):
            Store(sqlite_url(old_store), read_only=read_only)
    assert _dump(old_store) == before


def _differences(url: str) -> list[object]:
    with create_engine(url).connect() as db:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(db, opts=opts)
        with warnings.catch_warnings():
            # SQLAlchemy cannot reflect SQLite's expression indexes (CAST(amount AS REAL)):
            # they are compared by name below instead.
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression")
            warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression")
            found = list(compare_metadata(context, SQLModel.metadata))
    expressions = {
        index.name
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if any(not hasattr(e, "name") for e in index.expressions)
    }
    with sqlite3.connect(url.removeprefix("sqlite:///")) as raw:
        held = {
            name for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type='index'")
        }
    missing = sorted(expressions - held)
    return [f"expression index {name} missing" for name in missing] + [
        d for d in found if not (d[0] == "add_index" and d[1].name in expressions)
    ]


def test_the_models_and_the_head_revision_agree(tmp_path: Path) -> None:
    """A change to a table without a migration fails here (Alembic's ``check``)."""
    assert head() == HEAD  # the constant a store at head is recognised by, without Alembic
    assert {"transactions", "imports", "imported_rows"} <= set(SQLModel.metadata.tables)
    migrated = sqlite_url(tmp_path / "migrated.db")
    with create_engine(migrated).begin() as db:
        command.upgrade(config(db), "head")
    assert _differences(migrated) == []
    new = sqlite_url(tmp_path / "new.db")
    Store(new).close()  # made from the models, stamped at head
    assert _revision(tmp_path / "new.db") == head()
    assert _differences(new) == []


def test_a_new_store_is_stamped_at_head_without_loading_alembic(tmp_path: Path) -> None:
    """Every first command in a new home makes a store: Alembic's import and its revision
    files (about 2 s) are left to stores that need migrating."""
    made = subprocess.run(
        [sys.executable, "-c", "import sys; from portal.store import Store;"
         f" Store({sqlite_url(tmp_path / 'new.db')!r}).close();"
         " print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert made.stdout.strip() == "[]"
    assert _revision(tmp_path / "new.db") == head()


def test_the_revisions_ship_inside_the_package() -> None:
    versions = Path(migrations_init).parent / "versions"
    assert sorted(p.name[:4] for p in versions.glob("[0-9]*.py")) == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
    ]
    assert (Path(migrations_init).parent / "env.py").is_file()


def test_revision_0002_alters_postgresql_columns_in_place_converting_the_text() -> None:
    """PostgreSQL is not tested against a server here: the SQL the revision emits for it is."""
    import importlib.util
    import io

    from alembic.operations import Operations

    path = Path(migrations_init).parent / "versions" / "0002_numbers_that_sort.py"
    spec = importlib.util.spec_from_file_location("revision_0002", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    sql = io.StringIO()
    context = MigrationContext.configure(
        dialect_name="postgresql", opts={"as_sql": True, "output_buffer": sql}
    )
    with Operations.context(context):
        revision.upgrade()
    statements = [s.strip() for s in sql.getvalue().split(";") if s.strip()]
    assert len(statements) == sum(len(columns) for columns in NUMBERS.values())
    assert (
        'ALTER TABLE transactions ALTER COLUMN amount TYPE NUMERIC USING "amount"::numeric'
        in statements
    )
