"""Amazon's "Request your data" export: an importer-only provider, its importer, normalise.

Amazon offers its customers no API for their orders; what it does offer is the export a
person requests under data protection law (GDPR article 15, CCPA). ``portal import`` reads
the ZIP it sends, or one of the CSVs in it, recognised by content (``portal_amazon.reader``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal import InventoryItem, Provider, hookimpl
from portal.record import Category, Sector

if TYPE_CHECKING:
    from portal.importing import FileNote, FilePage, Importer
    from portal.record import Entity
    from portal.samples import SampleExport

AMAZON = Provider(
    name="amazon",
    display_name="Amazon (Request your data)",
    sector=Sector.retailer,
    description="The order history Amazon sends on request (amazon.com, .co.uk, .de and"
    " the other sites): orders with their items, returns and refunds.",
    importer_only=True,
    inventory=(
        InventoryItem(
            Category.purchases,
            "Every order with its items (quantities, prices, tax, what was owed),"
            " returns, and refunds paid.",
            (
                "Order ID",
                "Order Date",
                "Currency",
                "Unit Price",
                "Unit Price Tax",
                "Total Owed",
                "Quantity",
                "ASIN",
                "Product Name",
                "Order Status",
                "ReversalID",
                "AmountRefunded",
                "RefundCompletionDate",
            ),
        ),
    ),
)


PORTAL_CONFORMANCE = {
    "amazon": {
        "ignored_fields": {
            "purchases": {
                "rows[].Payment Instrument Type": "The card that paid (network and last four"
                " digits): portal keeps no payment card details; extra['not_kept'] says so.",
                "rows[].Payment Method Type": "The 2025 layout's name for the card that paid:"
                " not kept, as Payment Instrument Type.",
                "rows[].Order ID": "Each row of an order repeats its id, which the item holds"
                " once as order_id (the rows are grouped by it): the order number.",
            }
        }
    }
}
"""What the conformance suite should know: the one column deliberately not kept."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Amazon's export as a provider, so its records have a home."""
    register(AMAZON)


# Every portal command loads every plugin: the reader is imported when a file is read.


def _sniff(head: bytes, filename: str) -> bool:
    from portal_amazon import reader

    return reader.sniff(head, filename)


def _sniff_archive(names: Sequence[str]) -> bool:
    from portal_amazon import reader

    return reader.sniff_archive(tuple(names))


def _read(path: Path) -> Iterator[FilePage | FileNote]:
    from portal_amazon import reader

    return reader.read(path)


def _samples(folder: Path, scale: int = 1) -> SampleExport:
    from portal_amazon.samples import AmazonExport

    return AmazonExport(folder, scale)


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """Amazon's export: the ZIP, or its order history, returns or refunds CSV."""
    from portal.importing import Importer

    register(
        Importer(
            name="amazon",
            display_name="Amazon 'Request your data' order history",
            provider=AMAZON,
            sniff=_sniff,
            sniff_archive=_sniff_archive,
            read=_read,
            samples=_samples,  # portal_amazon.samples.AmazonExport, imported when used
            extensions=(".zip", ".csv"),
            description="The 'Your Orders' ZIP Amazon sends when you request your data"
            " (amazon.com/hz/privacy-central/data-requests/preview.html), or one of its"
            " CSVs: Retail.OrderHistory.1.csv, Retail.OrdersReturned.1.csv,"
            " Retail.OrdersReturned.Payments.1.csv, Order History.csv, Refund Details.csv.",
        )
    )


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one order (its rows), return or refund to the customer record."""
    from portal_amazon import mapping

    return mapping.NORMALISERS[stream](item, ref)
