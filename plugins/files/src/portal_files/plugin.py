"""The file importers' hooks: two importer-only providers, their importers, and normalise.

Why a package of its own rather than the bank plugin: the bank plugin is one (fictional)
bank's API, while an OFX or midata file can come from any bank; the records it holds are
filed under the format's provider (``ofx``, ``midata``) with the institution kept on the
account, and this package needs no sandbox, Flask or OAuth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal import InventoryItem, Provider, hookimpl
from portal.record import Category, Sector

if TYPE_CHECKING:
    from portal.importing import FilePage, Importer
    from portal.record import Entity
    from portal.samples import SampleExport

OFX = Provider(
    name="ofx",
    display_name="OFX/QFX statement files",
    sector=Sector.bank,
    description="Bank and credit card statements in Open Financial Exchange format"
    " (OFX 1.x SGML or 2.x XML, and Quicken's QFX), as most banks offer for download.",
    importer_only=True,
    inventory=(
        InventoryItem(
            Category.accounts,
            "The accounts the statements are for, and the bank that sent them.",
            ("BANKACCTFROM", "CCACCTFROM", "CURDEF", "FI"),
        ),
        InventoryItem(
            Category.balances, "Ledger and available balances.", ("LEDGERBAL", "AVAILBAL")
        ),
        InventoryItem(
            Category.transactions,
            "Every transaction in the statement.",
            ("STMTTRN", "TRNAMT", "DTPOSTED", "NAME", "MEMO", "FITID"),
        ),
    ),
)
MIDATA = Provider(
    name="midata",
    display_name="midata current-account files",
    sector=Sector.bank,
    description="The midata CSV of a UK personal current account: date, type,"
    " description, amount and running balance of every transaction.",
    importer_only=True,
    inventory=(
        InventoryItem(Category.accounts, "The current account the file is for."),
        InventoryItem(
            Category.transactions,
            "Every transaction, with the running balance.",
            ("Date", "Type", "Merchant/Description", "Debit/Credit", "Balance"),
        ),
    ),
)


PORTAL_CONFORMANCE = {
    "ofx": {
        "ignored_fields": {
            "accounts": {
                "kind": "Which statement the account came from (STMTRS: bank, CCSTMTRS:"
                " credit card), which the account's type and its identifier's scheme state.",
            }
        }
    }
}
"""What the conformance suite needs to know about the file importers
(portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the two file formats as providers, so their records have a home."""
    register(OFX)
    register(MIDATA)


# Every portal command loads every plugin: the readers are imported when a file is read.


def _sniff_ofx(head: bytes, filename: str) -> bool:
    from portal_files import ofx

    return ofx.sniff(head, filename)


def _read_ofx(path: Path) -> Iterator[FilePage]:
    from portal_files import statements

    return statements.read(path)


def _sniff_midata(head: bytes, filename: str) -> bool:
    from portal_files import midata

    return midata.sniff(head, filename)


def _read_midata(path: Path, account: str | None = None) -> Iterator[FilePage]:
    from portal_files import midata

    return midata.read(path, account)


def _ofx_samples(folder: Path, scale: int = 1) -> SampleExport:
    from portal_files.samples import OfxExport

    return OfxExport(folder, scale)


def _midata_samples(folder: Path, scale: int = 1) -> SampleExport:
    from portal_files.samples import MidataExport

    return MidataExport(folder, scale)


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """OFX/QFX statements and midata CSVs, each with its test double (``samples``)."""
    from portal.importing import Importer

    register(
        Importer(
            name="ofx",
            display_name="OFX/QFX statement",
            provider=OFX,
            sniff=_sniff_ofx,
            read=_read_ofx,
            extensions=(".ofx", ".qfx"),
            description="Open Financial Exchange 1.x (SGML) or 2.x (XML); QFX is Quicken's"
            " flavour. Most banks offer it as 'Download transactions: Money / Quicken'.",
            samples=_ofx_samples,
        )
    )
    register(
        Importer(
            name="midata",
            display_name="midata current-account CSV",
            provider=MIDATA,
            sniff=_sniff_midata,
            read=_read_midata,
            extensions=(".csv",),
            description="UK banks' midata download of a personal current account. The file"
            " does not name the account: give it a name with --account.",
            samples=_midata_samples,
        )
    )


@hookimpl
def normalise(
    provider: Provider, stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one item read from a file to the customer record."""
    from portal_files import mapping

    return mapping.NORMALISERS[provider.name, stream](item, ref)
