"""``portal import FILE``: the files people already download, into the same record.

An ``Importer`` (declared through the ``register_importers`` hook) recognises a kind of
file by its content and reads it into pages of raw items; the importer's provider's
``normalise`` hook turns them into records through the engine's ``Normaliser``, exactly as
after a fetch. Each page is written to the store as it is read, all of them in one
transaction: a file with one bad item is refused whole, with an error naming the line or
element, and nothing already stored changes; memory holds a page, not the file.

Items keep stable provider ids, so a file imported twice adds nothing the second time. A
record whose content changed since an earlier import is applied and reported, its earlier
version kept (``portal.imports_log``), and any import can be undone.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal import imports_log
from portal.archives import archive_names, is_zip
from portal.batch import Batch
from portal.engine.watch import load_seconds, within
from portal.errors import ConfigError, UserError
from portal.filereaders import BadFile, XmlNode, csv_rows, decode, xml_tree
from portal.imports_log import Change, import_history, undo_import
from portal.provider import Page, Provider
from portal.shown import shown
from portal.understand import Finding, understand

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection as DBConnection

    from portal.app import Portal
    from portal.plugins import Plugins
    from portal.samples import SampleExport

log = logging.getLogger(__name__)

HEAD_BYTES = 8192
"""How much of the start of a file ``sniff`` is shown."""

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest file portal imports (in one transaction, so it can be refused whole)."""

__all__ = [
    "HEAD_BYTES",
    "BadFile",
    "FileNote",
    "FilePage",
    "ImportResult",
    "Importer",
    "XmlNode",
    "choose_importer",
    "csv_rows",
    "decode",
    "import_file",
    "import_history",
    "importers",
    "undo_import",
    "xml_tree",
]


@dataclass(frozen=True)
class FilePage(Page):
    """A page read from a file: ``locators[i]`` says where ``items[i]`` was ("line 14")."""

    locators: Sequence[str] = ()


@dataclass(frozen=True)
class FileNote:
    """Something in a file that is read but kept nowhere, said rather than dropped silently.

    A reader yields it among its pages (``where`` is "entry 7 (ElectricPowerQualitySummary)");
    ``portal import`` lists it after the counts.
    """

    where: str
    text: str


@dataclass(frozen=True)
class Importer:
    """A kind of file portal can import, declared through the ``register_importers`` hook.

    ``sniff(head, filename)`` says from the file's first ``HEAD_BYTES`` whether it is this
    kind; ``read(path)`` (optionally ``read(path, account=...)``) yields its raw items as
    pages, for ``provider``'s ``normalise`` hook (and ``FileNote``s for what it keeps nowhere).
    ``sniff_archive(names)``, if given, says from the member names of a ZIP archive whether
    this importer reads it (``read`` then gets the ZIP's path, and opens it with
    ``portal.archives.Archive``); an importer without it is never offered a ZIP.
    ``samples``, if given, is the importer's test double (a ``portal.samples.SampleExport``
    class): the conformance suite grades the importer against the files it writes.
    """

    name: str
    display_name: str
    provider: Provider
    sniff: Callable[[bytes, str], bool]
    read: Callable[..., Iterable[Page | FileNote]]
    extensions: tuple[str, ...] = ()
    description: str = ""
    sniff_archive: Callable[[Sequence[str]], bool] | None = None
    samples: Callable[..., SampleExport] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_-]*", self.name):
            raise ConfigError(
                f"Importer name {self.name!r} must be lower case letters, digits, - or _.",
                hint="Use a short name such as 'ofx' or 'midata'.",
            )

    def describe(self) -> str:
        """The importer in words, with the file names it usually has."""
        kinds = f" ({', '.join(self.extensions)})" if self.extensions else ""
        return f"{self.name}: {self.display_name}{kinds}"


def importers(plugins: Plugins) -> dict[str, Importer]:
    """Every importer the loaded plugins declare, by name.

    An importer's provider must be declared by the same plugin (through
    ``register_providers``), so its ``normalise`` hook is that plugin's. A plugin whose
    declaration is unusable is left out with a warning, as a broken provider is.
    """
    found: dict[str, Importer] = {}
    for impl in plugins.pm.hook.register_importers.get_hookimpls():
        owner = impl.plugin
        plugin_name = plugins.pm.get_name(owner) or repr(owner)

        def register(importer: Importer, owner: object = owner, plugin: str = plugin_name) -> None:
            name = importer.provider.name
            if plugins.owners.get(name) is not owner:
                raise ConfigError(
                    f"Importer {importer.name!r} uses provider {name!r}, which plugin"
                    f" {plugin!r} does not declare.",
                    hint="Declare the provider in the same plugin's register_providers hook.",
                )
            if importer.name in found:
                raise ConfigError(
                    f"Two plugins declare importer {importer.name!r}.",
                    hint="Uninstall one of them.",
                )
            found[importer.name] = importer

        call = functools.partial(impl.function, register=register)
        try:
            within(load_seconds(), f"Plugin {plugin_name!r}'s register_importers", call)
        except Exception as error:  # one broken declaration must not stop the others
            from portal.plugins import declaration_problem

            reason = declaration_problem(error)
            plugins.problems.append(f"Plugin {plugin_name!r}: {reason}")
            log.warning("Plugin %r declares an unusable importer: %s", plugin_name, reason)
    return found


def _listing(known: dict[str, Importer]) -> str:
    if not known:
        return "No importer is installed (pip install portal-files for OFX and midata files)."
    return "Installed importers: " + "; ".join(i.describe() for i in known.values()) + "."


def choose_importer(
    known: dict[str, Importer], path: Path, head: bytes, name: str | None = None
) -> Importer:
    """The importer named ``name``, or else the one whose ``sniff`` recognises ``head``."""
    if name is not None:
        if name not in known:
            raise UserError(f"There is no importer called {name!r}.", hint=_listing(known))
        return known[name]
    archive = is_zip(head)
    members = archive_names(path) if archive else []  # checked: a hostile archive stops here
    matches = []
    for importer in known.values():
        try:
            if archive:
                if importer.sniff_archive is not None and importer.sniff_archive(members):
                    matches.append(importer)
            elif importer.sniff(head, path.name):
                matches.append(importer)
        except Exception as error:  # one buggy sniff must not hide the other importers
            log.warning("Importer %r failed to sniff %s: %s", importer.name, path.name, error)
    if not matches:
        kind = "ZIP archive" if archive else "file"
        raise UserError(
            f"portal does not recognise the content of {shown(path.name)}: no installed"
            f" importer reads this kind of {kind}.",
            hint=_listing(known) + " If you know which it is, pass --as NAME.",
        )
    if len(matches) > 1:
        names = ", ".join(i.name for i in matches)
        raise UserError(
            f"{path.name} looks like more than one kind of file ({names}).",
            hint="Say which with --as NAME.",
        )
    return matches[0]


@dataclass
class ImportResult:
    """What one ``portal import`` did."""

    path: Path
    importer: Importer
    digest: str
    items: int = 0
    records: dict[str, int] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    changed: list[Change] = field(default_factory=list)
    """The records it changed, field by field (the first ``LISTED_CHANGES``)."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per table: how many records were new, changed, or already stored as they are."""
    import_id: int | None = None
    """The import's number for ``--undo``; None when it changed nothing (not recorded)."""
    account: str | None = None
    earlier: int | None = None
    """The number of an earlier import of the same file, if there is one."""
    notes: list[str] = field(default_factory=list)
    """What the file holds that portal keeps nowhere (``FileNote``), where it is."""
    understood: list[Finding] = field(default_factory=list)
    """What the understanding layer did with what the import brought."""

    @property
    def provider(self) -> str:
        """The provider the records are filed under."""
        return self.importer.provider.name


def _check_file(path: Path) -> tuple[bytes, str]:
    """The file's first ``HEAD_BYTES`` and its SHA-256, once it is a file portal can read."""
    if not path.exists():
        raise UserError(f"There is no file {str(path)!r}.", hint="Check the path and try again.")
    if not path.is_file():
        raise UserError(f"{str(path)!r} is not a file.", hint="Pass the downloaded file itself.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadFile(path, None, f"is {size} bytes, more than portal imports in one go")
    with path.open("rb") as source:
        head = source.read(HEAD_BYTES)
        if not head.strip() and not source.read(HEAD_BYTES).strip():
            raise BadFile(path, None, "is empty")
        source.seek(0)
        digest = hashlib.file_digest(source, "sha256").hexdigest()
    return head, digest


def _pages(importer: Importer, path: Path, account: str | None) -> Iterable[Page | FileNote]:
    # As pluggy does for hooks, pass only the arguments the reader asks for.
    if _takes_account(importer):
        return importer.read(path, account=account)
    if account is not None:
        raise UserError(
            f"{importer.display_name} files say which account they are for; --account"
            " does not apply.",
            hint="Run portal import again without --account.",
        )
    return importer.read(path)


def _takes_account(importer: Importer) -> bool:
    return "account" in inspect.signature(importer.read).parameters


def _batches(
    portal: Portal,
    importer: Importer,
    path: Path,
    digest: str,
    account: str | None,
    notes: list[str],
) -> Iterator[Batch]:
    """Each page of the file, normalised; any bad item raises ``BadFile`` naming where it was."""
    from portal.engine.sync import Normaliser
    from portal.record.tables import Connection

    provider = importer.provider
    # Not stored: a file has no tokens to keep and nothing to sync again. The id ties every
    # record to the file it came from, as a connection id ties it to a login.
    connection = Connection(
        id=f"file:{digest}", provider=provider.name, status="imported", connected_at=_now()
    )
    normaliser = Normaliser(portal.plugins, provider, connection)
    for number, page in enumerate(_pages(importer, path, account), 1):
        if isinstance(page, FileNote):
            notes.append(f"{page.where}: {page.text}")
            continue
        if page.cursor is not None:  # a file is read whole each time: nothing to resume
            page = replace(page, cursor=None)
        batch = normaliser.batch(page)
        if batch.rejections:
            rejected = batch.rejections[0]
            index = next(i for i, raw in enumerate(batch.raws) if raw.id == rejected.raw_id)
            raise BadFile(path, _locator(page, number, index), rejected.reason)
        yield batch
        del page, batch  # not held while the reader reads the next page


def _locator(page: Page, number: int, index: int) -> str:
    if isinstance(page, FilePage) and index < len(page.locators):
        return page.locators[index]
    return f"item {index + 1} of {page.stream!r} (page {number})"


def _now() -> datetime:
    return datetime.now(UTC)


def _account_for(
    db: DBConnection, importer: Importer, path: Path, digest: str, account: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    """The account name to file the file under, given what an earlier import of it used.

    The same file imported with and without ``--account`` would otherwise file its rows
    twice, under two accounts: without a name it goes where it went before, and a new name
    for a file already imported is refused.
    """
    before = imports_log.earlier(db, digest, importer.name)
    if before is None or not _takes_account(importer):
        return account, before
    if account is None:
        return before["account"], before
    if account != before["account"]:
        named = repr(before["account"]) if before["account"] else "the default account"
        raise UserError(
            f"{shown(path.name)} was imported before (import {before['id']}) as {named};"
            f" importing it as {shown(account)!r} would hold every transaction in it twice.",
            hint=f"Run portal import --undo {before['id']} first to file it under the new"
            " name, or import it again without --account.",
        )
    return account, before


def import_file(
    portal: Portal, path: Path, *, importer: str | None = None, account: str | None = None
) -> ImportResult:
    """Import one downloaded file into the store: all of it, or (on an error) none of it.

    ``importer`` names the importer to use (default: the one that recognises the content);
    ``account`` names the account for files that do not say which one they are for. The
    file is read and written a page at a time, in one transaction; the import is recorded
    (``portal.imports_log``) when it brought or changed anything, so it can be undone.
    """
    head, digest = _check_file(path)
    known = importers(portal.plugins)
    chosen = choose_importer(known, path, head, importer)
    store = portal.store
    others = _other_destinations(portal)
    result = ImportResult(path=path, importer=chosen, digest=digest)
    with store.engine.connect() as db:
        transaction = db.begin()
        try:
            account, before = _account_for(db, chosen, path, digest, account)
            result.account = account
            result.earlier = None if before is None else before["id"]
            tally = imports_log.begin(
                db, path.name, digest, chosen.name, chosen.provider.name, account
            )
            for batch in _batches(portal, chosen, path, digest, account, result.notes):
                entries = imports_log.compare(db, tally, batch)
                store.write_in(db, batch)
                imports_log.record(db, tally, entries)
                others(batch=batch)
                result.items += batch.items_in
                for record in batch.records:
                    name = record.category.value
                    result.records[name] = result.records.get(name, 0) + 1
                del batch, entries  # not held while the next page is read
            if not tally.altered:  # nothing new, nothing changed: leave no trace at all
                transaction.rollback()
            else:
                imports_log.finish(db, tally)
                transaction.commit()
                result.import_id = tally.import_id
        except BaseException:
            transaction.rollback()
            raise
    if result.import_id is not None:  # what the import brought, understood like a sync's
        result.understood = understand(store)
    result.added = {name: tally.counts.get(name, {}).get("new", 0) for name in result.records}
    result.changed = tally.changes
    result.counts = tally.counts
    return result


def _other_destinations(portal: Portal) -> Callable[..., Any]:
    """The ``deliver`` hook without the store, which the import writes in its transaction."""
    from portal.store import StoreDestination

    pm = portal.plugins.pm
    stores = [p for p in pm.get_plugins() if isinstance(p, StoreDestination)]
    return pm.subset_hook_caller("deliver", remove_plugins=stores)
