"""``portal browse``: the store in Datasette, for people who want SQL and facets.

Datasette (an optional extra, ``portal[browse]``) serves the SQLite file immutable (SQLite
itself refuses any write) on 127.0.0.1, with metadata generated here from the record
model, so its pages speak the record's words rather than column names:

- each entity table's title is its category's label (``CATEGORY_LABELS``), its
  description the entity's docstring;
- each column's description is the model field's title and description (Datasette 0.65
  has descriptions for columns, not titles, so the title leads the description);
- ``label_column`` names the field a person knows each record by (an account's name),
  and ``portal_references`` says which columns hold the portal id of another table's
  record; the small Datasette plugin in ``portal.datasette_plugins`` shows those cells as
  a link labelled with that record's label column (the store declares no SQL foreign
  keys, which Datasette would otherwise need);
- ``units`` for the columns whose unit the model fixes (``duration_seconds``,
  ``size_bytes``); other quantities carry their unit in a column beside them.

Datasette has no secret of its own: any program of this computer can read what it
serves while it runs. The same plugin refuses requests whose Host header is not the
address it serves at (a web page cannot reach it by pointing its own name at 127.0.0.1).
"""

from __future__ import annotations

import importlib.util
import inspect as pyinspect
import json
import socket
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from portal.control.tables import AskedChange, PreferenceRow, ReceiptRow
from portal.errors import ConfigError, UserError
from portal.imports_log import ImportedRow, ImportRow
from portal.record.model import ENTITIES, Entity, nested_titles
from portal.record.tables import Connection, RawItem, Rejection, SyncCursor, SyncStart
from portal.record.vocab import CATEGORY_LABELS
from portal.serving import LOOPBACK, listen_on_loopback

LABEL_FIELDS = ("name", "full_name", "title", "purpose", "description", "bill_number")
"""The fields a record is known by, in order of preference: the first an entity has is its
``label_column``."""

REFERENCES = {"account_id": "accounts", "connection_id": "connections"}
"""Columns holding the portal id of another table's record, and that table."""

UNITS = {"_seconds": "s", "_bytes": "byte"}
"""Column name endings whose unit the name fixes (Datasette's ``units`` are pint units)."""

SETTINGS = {
    # The whole store is one click away otherwise; SQL, facets and CSV stay available.
    "allow_download": "off",
    # Pages hold personal data: no copy in the browser's cache.
    "default_cache_ttl": "0",
}
"""``--setting`` values ``portal browse`` passes: nothing here opens it beyond this computer
(Datasette binds 127.0.0.1 unless told otherwise, and no ``--cors`` is passed)."""


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the store served under the name ``database``: every table of
    the store with its title and description, and every column's title and description."""
    tables: dict[str, Any] = {}
    for entity in ENTITIES:
        tables[entity.category.value] = _table(entity, CATEGORY_LABELS[entity.category])
    for model, title in {**ENGINE_TABLES, **_understood_tables()}.items():
        tables[str(model.__table__.name)] = _table(model, title)  # type: ignore[attr-defined]
    tables["alembic_version"] = {
        "title": "Schema version",
        "description": "The version of the store's tables (an Alembic revision): an older store"
        " is brought up to date by portal migrate.",
        "columns": {"version_num": "Revision: the schema version the store is at."},
    }
    for name in SEARCH_TABLES:  # the search index's own tables: portal view's Search reads them
        tables[name] = {
            "hidden": True,
            "description": "Part of the full-text search index the sync keeps (portal.search).",
        }
    return {
        "title": "Your portal store",
        "description": "Everything portal synced from your providers, read-only. Each table"
        " is one kind of record; each column says what it holds.",
        "databases": {database: {"tables": tables}},
    }


SEARCH_TABLES = (
    "search_keys",
    "search_index",
    "search_index_data",
    "search_index_idx",
    "search_index_content",
    "search_index_docsize",
    "search_index_config",
)
"""The tables of ``portal.search``'s index (FTS5 makes the ``search_index_*`` ones)."""

ENGINE_TABLES: dict[type[SQLModel], str] = {
    RawItem: "Raw payloads",
    Rejection: "Rejected items",
    Connection: "Connections",
    SyncCursor: "Sync cursors",
    SyncStart: "When each sync started (counted against a provider's quota)",
    ImportRow: "Imports",
    ImportedRow: "What each import did",
    PreferenceRow: "Your preferences (portal preferences)",
    AskedChange: "Changes asked of providers (portal apply)",
    ReceiptRow: "Consent receipts (portal receipts)",
}
"""portal's own bookkeeping beside the record, with the titles Datasette shows."""


def _understood_tables() -> dict[type[SQLModel], str]:
    """What the understanding layer derived and kept (``portal.understand.tables``)."""
    from portal.understand import tables as t

    return {
        t.TransactionCategory: "Spending categories",
        t.CategoryRule: "Your category rules",
        t.RecurringSeries: "Recurring payments found",
        t.RecurringMember: "The payments of each recurring payment",
        t.RecurringChange: "Changes of amount of recurring payments",
        t.RecurringPayeeName: "Payee names of recurring payments",
        t.Link: "Links across providers",
        t.BillCheck: "Bills checked",
        t.RecordVersion: "Earlier versions of records",
        t.HistoryStart: "Where each provider's history starts",
        t.Understood: "How far portal has worked things out",
    }


def _table(model: type[SQLModel], title: str) -> dict[str, Any]:
    fields: dict[str, FieldInfo] = model.model_fields
    columns = {name: column_description(name, info) for name, info in fields.items()}
    if issubclass(model, Entity):  # JSON columns: say what each of their items holds
        for name, parts in nested_titles(model).items():
            columns[name] += f" Each holds: {', '.join(t for t, _ in parts.values())}."
    table: dict[str, Any] = {
        "title": title,
        "description": _first_paragraph(model.__doc__),
        "columns": columns,
    }
    label = next((name for name in LABEL_FIELDS if name in fields), None)
    if model is Connection:
        label = "provider"
    if label is not None:
        table["label_column"] = label
    references = {name: REFERENCES[name] for name in fields if name in REFERENCES}
    if references and model is not Connection:
        table["portal_references"] = references
    units = {
        name: unit for name in fields for ending, unit in UNITS.items() if name.endswith(ending)
    }
    if units:
        table["units"] = units
    return table


def column_description(name: str, info: FieldInfo) -> str:
    """What Datasette shows for a column: the field's title, then its description."""
    title = info.title or name.replace("_", " ").capitalize()
    return f"{title}: {info.description}" if info.description else title


def _first_paragraph(doc: str | None) -> str:
    return pyinspect.cleandoc(doc or "").split("\n\n")[0].replace("\n", " ")


def plugins_folder() -> Path:
    """The folder of Datasette plugins ``portal browse`` loads (``--plugins-dir``)."""
    return Path(str(resources.files("portal").joinpath("datasette_plugins")))


def datasette_installed() -> bool:
    """Whether Datasette can be imported here (the ``browse`` extra is installed)."""
    try:
        return importlib.util.find_spec("datasette") is not None
    except (ImportError, ValueError):
        return False


def require_datasette() -> None:
    """Raise a UserError saying how to install Datasette if it is not installed."""
    if not datasette_installed():
        raise UserError(
            "portal browse needs Datasette, which is not installed.",
            hint="Install it with: pip install 'portal-core[browse]' (portal's browse extra).",
        )


def store_file(url: str) -> Path:
    """The SQLite file of the store at ``url``; a UserError for any other kind of store."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise UserError(
            f"portal browse opens SQLite stores only; this store is {parsed.get_backend_name()}.",
            hint="Use that database's own tools, or portal view.",
        )
    return Path(parsed.database)


def being_written(database: Path) -> bool:
    """Whether the SQLite file has commits not yet copied into it from its write-ahead log
    (a sync is running, or stopped mid-way): Datasette, reading the file immutable, would
    not see them."""
    wal = database.with_name(database.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except FileNotFoundError:
        return False


def free_port(port: int) -> int:
    """``port`` if it is free on 127.0.0.1 (any free port for 0); a UserError if taken."""
    with listen_on_loopback(port) as probe:
        return int(probe.getsockname()[1])


class Datasette:
    """Datasette serving one store file on 127.0.0.1, in a process of its own."""

    def __init__(self, database: Path, port: int, folder: Path) -> None:
        self.database = database
        self.port = port
        self.url = f"http://{LOOPBACK}:{port}/"
        meta = folder / "metadata.json"
        meta.write_text(json.dumps(metadata(database.stem), indent=1), encoding="utf-8")
        self.command = [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            "--immutable",
            str(database),
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--metadata",
            str(meta),
            "--plugins-dir",
            str(plugins_folder()),
            *(part for name, value in SETTINGS.items() for part in ("--setting", name, value)),
        ]
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        """Start Datasette and wait until it answers (a ConfigError if it never does)."""
        self._process = subprocess.Popen(self.command)  # noqa: S603 - our own argv, no shell
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigError(
                    f"Datasette stopped as it started (exit code {self._process.returncode}).",
                    hint="Its own message is above; run portal -v browse for more.",
                )
            try:
                with socket.create_connection((LOOPBACK, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ConfigError(
            f"Datasette did not start within {timeout:.0f} s.",
            hint="Try again; if it persists, run datasette yourself to see why.",
        )

    def wait(self) -> int:
        """Wait for Datasette to end; its exit code."""
        assert self._process is not None
        return self._process.wait()

    def stop(self) -> None:
        """Stop Datasette (SIGTERM, then SIGKILL after 10 s) and reap it. Idempotent."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
