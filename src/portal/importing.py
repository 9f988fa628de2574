"""``portal import FILE``: the files people already download, into the same record.

An ``Importer`` (declared through the ``register_importers`` hook) recognises a kind of
file by its content and reads it into pages of raw items; the importer's provider's
``normalise`` hook turns them into records through the engine's ``Normaliser``, exactly as
after a fetch. The whole file is then delivered as one batch, which the store commits in
one transaction: a file with one bad item is refused whole, with an error naming the line
or element, and nothing already stored changes. Items keep stable provider ids, so a file
imported twice adds nothing the second time.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from portal.batch import Batch
from portal.errors import ConfigError, UserError
from portal.filereaders import BadFile, XmlNode, csv_rows, decode, xml_tree
from portal.provider import Page, Provider

if TYPE_CHECKING:
    from portal.app import Portal
    from portal.plugins import Plugins

log = logging.getLogger(__name__)

HEAD_BYTES = 8192
"""How much of the start of a file ``sniff`` is shown."""

MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest file portal imports: a file is read whole so it can be refused whole."""

__all__ = [
    "HEAD_BYTES",
    "BadFile",
    "FilePage",
    "ImportResult",
    "Importer",
    "XmlNode",
    "choose_importer",
    "csv_rows",
    "decode",
    "import_file",
    "importers",
    "xml_tree",
]


@dataclass(frozen=True)
class FilePage(Page):
    """A page read from a file: ``locators[i]`` says where ``items[i]`` was ("line 14")."""

    locators: Sequence[str] = ()


@dataclass(frozen=True)
class Importer:
    """A kind of file portal can import, declared through the ``register_importers`` hook.

    ``sniff(head, filename)`` says from the file's first ``HEAD_BYTES`` whether it is this
    kind; ``read(path)`` (optionally ``read(path, account=...)``) yields its raw items as
    pages, for ``provider``'s ``normalise`` hook.
    """

    name: str
    display_name: str
    provider: Provider
    sniff: Callable[[bytes, str], bool]
    read: Callable[..., Iterable[Page]]
    extensions: tuple[str, ...] = ()
    description: str = ""

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

        try:
            impl.function(register=register)
        except ConfigError as error:
            plugins.problems.append(f"Plugin {plugin_name!r}: {error}")
            log.warning("Plugin %r declares an unusable importer: %s", plugin_name, error)
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
    matches = []
    for importer in known.values():
        try:
            if importer.sniff(head, path.name):
                matches.append(importer)
        except Exception as error:  # one buggy sniff must not hide the other importers
            log.warning("Importer %r failed to sniff %s: %s", importer.name, path.name, error)
    if not matches:
        raise UserError(
            f"portal does not recognise the content of {path.name}: no installed importer"
            " reads this kind of file.",
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

    @property
    def provider(self) -> str:
        """The provider the records are filed under."""
        return self.importer.provider.name


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise UserError(f"There is no file {str(path)!r}.", hint="Check the path and try again.")
    if not path.is_file():
        raise UserError(f"{str(path)!r} is not a file.", hint="Pass the downloaded file itself.")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise BadFile(path, None, f"is {size} bytes, more than portal imports in one go")
    data = path.read_bytes()
    if not data.strip():
        raise BadFile(path, None, "is empty")
    return data


def _pages(importer: Importer, path: Path, account: str | None) -> Iterable[Page]:
    # As pluggy does for hooks, pass only the arguments the reader asks for.
    if "account" in inspect.signature(importer.read).parameters:
        return importer.read(path, account=account)
    if account is not None:
        raise UserError(
            f"{importer.display_name} files say which account they are for; --account"
            " does not apply.",
            hint="Run portal import again without --account.",
        )
    return importer.read(path)


def _batch(
    portal: Portal, importer: Importer, path: Path, digest: str, account: str | None
) -> Batch:
    """Read and normalise the whole file; any bad item raises ``BadFile`` naming where it was."""
    from portal.engine.sync import Normaliser
    from portal.record.tables import Connection

    provider = importer.provider
    # Not stored: a file has no tokens to keep and nothing to sync again. The id ties every
    # record to the file it came from, as a connection id ties it to a login.
    connection = Connection(
        id=f"file:{digest}", provider=provider.name, status="imported", connected_at=_now()
    )
    normaliser = Normaliser(portal.plugins, provider, connection)
    whole = Batch(
        provider=provider.name,
        connection_id=connection.id,
        stream=f"import:{importer.name}",
        fetched_at=_now(),
    )
    for number, page in enumerate(_pages(importer, path, account), 1):
        batch = normaliser.batch(page)
        if batch.rejections:
            rejected = batch.rejections[0]
            index = next(i for i, raw in enumerate(batch.raws) if raw.id == rejected.raw_id)
            raise BadFile(path, _locator(page, number, index), rejected.reason)
        whole.records.extend(batch.records)
        whole.raws.extend(batch.raws)
    return whole


def _locator(page: Page, number: int, index: int) -> str:
    if isinstance(page, FilePage) and index < len(page.locators):
        return page.locators[index]
    return f"item {index + 1} of {page.stream!r} (page {number})"


def _now() -> datetime:
    return datetime.now(UTC)


def import_file(
    portal: Portal, path: Path, *, importer: str | None = None, account: str | None = None
) -> ImportResult:
    """Import one downloaded file into the store: all of it, or (on an error) none of it.

    ``importer`` names the importer to use (default: the one that recognises the content);
    ``account`` names the account for files that do not say which one they are for.
    """
    data = _read_bytes(path)
    known = importers(portal.plugins)
    chosen = choose_importer(known, path, data[:HEAD_BYTES], importer)
    digest = hashlib.sha256(data).hexdigest()
    batch = _batch(portal, chosen, path, digest, account)
    before = portal.store.counts().get(chosen.provider.name, {})
    portal.plugins.pm.hook.deliver(batch=batch)
    after = portal.store.counts().get(chosen.provider.name, {})
    result = ImportResult(path=path, importer=chosen, digest=digest, items=batch.items_in)
    for record in batch.records:
        name = record.category.value
        result.records[name] = result.records.get(name, 0) + 1
    for name in result.records:
        result.added[name] = after.get(name, 0) - before.get(name, 0)
    return result
