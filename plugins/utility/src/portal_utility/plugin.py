"""The utility plugin's hooks: its declaration, and how it fetches, imports and normalises.

Everything else (tokens, retries, cursors, storage) is the engine's. The modules doing the
work are imported inside the hooks, so loading the plugin (for every portal command) costs
only its declaration.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from portal import Cursors, InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.control.changes import CONSENT, Change, ChangeResult
from portal.record import Category, Sector
from portal.variants import FAULTY, VALID, SandboxVariants, Variant
from portal_utility import spec_variants, variants
from portal_utility.control import WRITE_INSTEAD

if TYPE_CHECKING:
    from collections.abc import Callable

    from portal.http import ProviderClient
    from portal.importing import Importer
    from portal.record import Entity
    from portal.sandbox import Sandbox

API = "https://greenbutton.demo-energy.example/DataCustodian"
SCOPE = "FB=1_3_4_5_13_14_39;IntervalDuration=1800_86400;BlockDuration=daily;HistoryLength=13"
"""Green Button function blocks 1, 3-5, 13, 14 and 39: usage, summaries, customer data."""


def _sandbox(variant: str = "standard") -> Sandbox:
    # Imported here so that loading the plugin never imports Flask.
    from portal_utility.sandbox import UtilitySandbox

    return UtilitySandbox(variant=variant)


SANDBOX = SandboxVariants(
    _sandbox,
    *(
        Variant(v.name, FAULTY if v.faulty else VALID, v.description)
        for v in variants.VARIANTS.values()
        if v.name != "standard"  # the usual sandbox: every conformance check already uses it
    ),
)
"""Demo Energy's sandbox, and the other shapes ESPI allows it to serve in."""


PROVIDER = Provider(
    name="utility",
    display_name="Demo Energy",
    sector=Sector.utility,
    description="Electricity and gas in London over Green Button Connect My Data (NAESB ESPI).",
    timezone="Europe/London",  # bill periods are London dates
    api_base=API,
    oauth=OAuthClient(
        authorize_url="https://greenbutton.demo-energy.example/oauth/authorize",
        token_url="https://greenbutton.demo-energy.example/oauth/token",  # noqa: S106 - a URL
        revocation_url="https://greenbutton.demo-energy.example/oauth/revoke",
        client_id="portal-demo",
        scopes=(SCOPE,),
    ),
    inventory=(
        InventoryItem(
            Category.party,
            "Your name, contact details and supply address.",
            ("customerName", "organisation", "ServiceLocation"),
        ),
        InventoryItem(
            Category.accounts,
            "Your customer account, your supply agreements and your two supply points.",
            ("CustomerAccount", "CustomerAgreement", "UsagePoint"),
        ),
        InventoryItem(
            Category.products,
            "The tariffs you are and were on, with their prices.",
            ("PricingStructures", "standard_unit_rate", "standing_charge"),
        ),
        InventoryItem(
            Category.usage,
            "Half-hourly electricity and daily gas readings, estimated ones marked.",
            ("IntervalReading", "ReadingQuality", "ReadingType"),
        ),
        InventoryItem(
            Category.bills,
            "Each billing period's consumption, charges and total.",
            ("UsageSummary", "costAdditionalDetailLastPeriod", "billLastPeriod"),
        ),
        InventoryItem(
            Category.consents,
            "The Green Button authorization you gave portal.",
            ("Authorization",),
        ),
        InventoryItem(
            Category.processing,
            "What Demo Energy does with your data, on what basis, and who receives it.",
            ("purposes",),
        ),
    ),
    sandbox=SANDBOX,
    specification=spec_variants.SPECIFICATION,
    sandbox_only=True,  # Demo Energy is fictional: its production endpoints do not exist.
    # Connect My Data's one write: revoking the Authorization at its authorizationURI.
    writes=(CONSENT,),
    write_instead=WRITE_INSTEAD,
)


GREEN_BUTTON = Provider(
    name="greenbutton",
    display_name="Green Button files",
    sector=Sector.utility,
    description="Green Button Download My Data files (NAESB ESPI Atom XML), as utilities"
    " offer them on their websites: interval readings and usage summaries.",
    importer_only=True,
    inventory=(
        InventoryItem(
            Category.accounts, "The supply points the readings are for.", ("UsagePoint",)
        ),
        InventoryItem(
            Category.usage,
            "Interval readings with their quality.",
            ("IntervalReading", "ReadingQuality", "ReadingType"),
        ),
        InventoryItem(
            Category.bills,
            "Usage summaries: each billing period's consumption and charges.",
            ("UsageSummary",),
        ),
    ),
)
"""Where imported files are filed: a Download My Data file can come from any utility."""

_POINT_CONTEXT = (
    "Context fetch adds so the item can be read alone (portal_utility.items); the supply"
    " point's own Account keeps it."
)
PORTAL_CONFORMANCE = {
    "utility": {
        "unsupported": {
            "permissions": "Green Button Connect My Data grants all its data under one scope"
            " string (its function blocks); which blocks are shared is agreed on the Data"
            " Custodian's own screen, so portal has no narrower grant per category to ask for.",
            "changes": "The sandbox does not play its customer's life over time yet"
            " (Sandbox.moves is empty): the plugin is not yet seen following pending items,"
            " amendments and withdrawals.",
        },
        "ignored_fields": {
            "accounts": {
                "CustomerAgreement.content": "The agreement the supply point is billed under,"
                " joined for its currency; the agreement's own Account (agreements stream)"
                " keeps all of it.",
            },
            "usage": {
                "UsagePoint.customerAgreement": _POINT_CONTEXT,
                "UsagePoint.tzOffset": _POINT_CONTEXT,
                "UsagePoint.dstOffset": _POINT_CONTEXT,
            },
            "bills": {
                "UsagePoint.customerAgreement": _POINT_CONTEXT,
                "UsagePoint.kind": _POINT_CONTEXT,
                "UsagePoint.supply_number": _POINT_CONTEXT,
            },
        },
    }
}
"""What the conformance suite needs to know about Demo Energy (portal_conformance.declaration)."""


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer Demo Energy, and Green Button files as a provider of their own."""
    register(PROVIDER)
    register(GREEN_BUTTON)


@hookimpl
def register_importers(register: Callable[[Importer], None]) -> None:
    """Green Button Download My Data files, read with the same ESPI parser as the API."""
    from portal.importing import Importer
    from portal_utility import importer

    register(
        Importer(
            name="greenbutton",
            display_name="Green Button Download My Data file",
            provider=GREEN_BUTTON,
            sniff=importer.sniff,
            read=importer.read,
            extensions=(".xml",),
            description="The XML file behind a utility website's green Download My Data button.",
        )
    )


@hookimpl
def fetch(client: ProviderClient, cursors: Cursors) -> Iterator[Page]:
    """The customer, the authorization, the processing notice, then usage point by point."""
    from portal_utility.fetching import fetch_all

    return fetch_all(client, cursors)


@hookimpl
def apply_change(client: ProviderClient, change: Change) -> ChangeResult | None:
    """Revoke a Connect My Data Authorization (``DELETE`` on its authorizationURI);
    marketing and profiling have no resource in Connect My Data, so not supported."""
    from portal_utility import control

    return control.apply_change(client, change)


@hookimpl
def normalise(
    stream: str, item: dict[str, Any], ref: Callable[[type[Entity], str], str]
) -> list[Entity]:
    """Map one ESPI item to the customer record."""
    from portal_utility import mapping

    kind = stream.split(":", 1)[0]
    return mapping.NORMALISERS[kind](item, ref)
