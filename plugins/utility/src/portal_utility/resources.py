"""Demo Energy's ESPI resources as Atom entries, addressed as the Connect My Data API has them.

``Resources(base)`` knows every URL under ``{base}/espi/1_1/resource`` and builds the entry
for each resource: the usage resources (UsagePoint, LocalTimeParameters, MeterReading,
ReadingType, IntervalBlock, UsageSummary) from ``DemoUtility``, and the retail customer
resources (Customer, CustomerAccount, CustomerAgreement, ServiceLocation), which carry
personal data and so live in their own namespace and feed.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from portal_utility.customer import (
    ADDRESS,
    CURRENCY_NUMERIC,
    CUSTOMER_ACCOUNT,
    FIRST_DAY,
    GAS,
    METERS,
    PARTY_NAME,
    RETAIL_CUSTOMER_ID,
    SUBSCRIPTION_ID,
    TARIFFS,
    Meter,
    atom_time,
    epoch,
    midnight,
)
from portal_utility.dataset import DemoUtility
from portal_utility.espi import CUSTOMER
from portal_utility.feeds import Entry

RESOURCE = "/espi/1_1/resource"
SIGNED_UP = datetime(2025, 9, 22, 19, 41, tzinfo=midnight(FIRST_DAY).tzinfo)

# DST rules as ESPI encodes them: month << 28 | operator << 25 | day of month << 20 |
# day of week << 17 | hour << 12. "Sunday on or after the 25th" is the last Sunday.
DST_START = f"{3 << 28 | 3 << 25 | 25 << 20 | 7 << 17 | 1 << 12:08X}"
DST_END = f"{10 << 28 | 3 << 25 | 25 << 20 | 7 << 17 | 2 << 12:08X}"

_READING_TYPES = {
    "electricity": {
        "accumulationBehaviour": "4",
        "commodity": "1",
        "currency": CURRENCY_NUMERIC,
        "dataQualifier": "12",
        "flowDirection": "1",
        "intervalLength": "1800",
        "kind": "12",
        "phase": "769",
        "powerOfTenMultiplier": "0",
        "timeAttribute": "0",
        "uom": "72",
    },
    "gas": {
        "accumulationBehaviour": "4",
        "commodity": "7",
        "currency": CURRENCY_NUMERIC,
        "dataQualifier": "12",
        "flowDirection": "1",
        "intervalLength": "86400",
        "kind": "58",
        "powerOfTenMultiplier": "-3",
        "timeAttribute": "0",
        "uom": "42",
    },
}


_READING_TYPE_ORDER = [
    "accumulationBehaviour", "commodity", "currency", "dataQualifier", "defaultQuality",
    "flowDirection", "intervalLength", "kind", "phase", "powerOfTenMultiplier",
    "timeAttribute", "uom",
]  # fmt: skip


class Resources:
    """Every resource's URL and entry, for a sandbox listening at ``base``."""

    def __init__(self, base: str, utility: DemoUtility) -> None:
        self.root = base + RESOURCE
        self.utility = utility
        self.subscription = f"{self.root}/Subscription/{SUBSCRIPTION_ID}"

    # -- URLs -------------------------------------------------------------------------

    def usage_point_url(self, meter: Meter) -> str:
        """The UsagePoint of ``meter``."""
        return f"{self.subscription}/UsagePoint/{meter.usage_point}"

    def meter_reading_url(self, meter: Meter) -> str:
        """The MeterReading of ``meter``."""
        return f"{self.usage_point_url(meter)}/MeterReading/{meter.meter_reading}"

    def blocks_url(self, meter: Meter) -> str:
        """The IntervalBlock feed of ``meter``."""
        return f"{self.meter_reading_url(meter)}/IntervalBlock"

    def summaries_url(self, meter: Meter) -> str:
        """The UsageSummary feed of ``meter``."""
        return f"{self.usage_point_url(meter)}/UsageSummary"

    # -- usage ------------------------------------------------------------------------

    def usage_point(self, meter: Meter) -> Entry:
        """The UsagePoint entry: the service, its supply number and agreement."""
        url = self.usage_point_url(meter)
        content = {
            "roleFlags": "03",
            "ServiceCategory": {"kind": meter.service_kind},
            "status": "1",
            "serviceDeliveryPoint": {
                "name": meter.supply_number,
                "tariffProfile": _tariff_profile(meter),
                "customerAgreement": meter.agreement,
            },
            "amiBillingReady": "operable",
            "connectionState": "connected",
            "isVirtual": "false",
        }
        title = "Electricity supply" if meter.fuel == "electricity" else "Gas supply"
        return self._dated(
            Entry(
                "UsagePoint",
                content,
                url,
                title=f"{title}, meter {meter.serial}",
                up=f"{self.subscription}/UsagePoint",
                related=[
                    f"{url}/MeterReading",
                    f"{url}/UsageSummary",
                    f"{self.root}/LocalTimeParameters/1",
                ],
            )
        )

    def local_time(self) -> Entry:
        """London's time parameters: GMT, one hour of summer time, and the rules."""
        content = {
            "dstEndRule": DST_END,
            "dstOffset": "3600",
            "dstStartRule": DST_START,
            "tzOffset": "0",
        }
        url = f"{self.root}/LocalTimeParameters/1"
        return self._dated(Entry("LocalTimeParameters", content, url, title="Europe/London"))

    def meter_reading(self, meter: Meter) -> Entry:
        """The MeterReading entry, linking its ReadingType and IntervalBlock feed."""
        url = self.meter_reading_url(meter)
        return self._dated(
            Entry(
                "MeterReading",
                {},
                url,
                title=f"{meter.fuel.capitalize()} interval readings",
                up=f"{self.usage_point_url(meter)}/MeterReading",
                related=[f"{url}/IntervalBlock", f"{self.root}/ReadingType/{meter.reading_type}"],
            )
        )

    def reading_type(self, meter: Meter) -> Entry:
        """What the meter's readings measure: unit, multiplier, interval, direction."""
        url = f"{self.root}/ReadingType/{meter.reading_type}"
        title = "Energy delivered (Wh)" if meter.fuel == "electricity" else "Gas volume (m3)"
        content = dict(_READING_TYPES[meter.fuel])
        variant = self.utility.variant
        uom, multiplier, _ = variant.units[meter.fuel]
        content.update(uom=uom, powerOfTenMultiplier=multiplier)
        if variant.default_quality:  # in its place in the schema's sequence
            content = {**content, "defaultQuality": variant.default_quality}
            content = {k: content[k] for k in sorted(content, key=_READING_TYPE_ORDER.index)}
        if uom == "169":  # therms measure the gas's energy, not its volume
            content["kind"], title = "12", "Gas energy (therms)"
        return self._dated(Entry("ReadingType", content, url, title=title))

    def block(self, meter: Meter, day: date) -> Entry:
        """One day's IntervalBlock of ``meter``."""
        block = self.utility.block(meter, day)
        url = f"{self.blocks_url(meter)}/{block['id']}"
        return Entry(
            "IntervalBlock",
            block["content"],
            url,
            title=f"Readings of {day.isoformat()}",
            published=block["published"],
            updated=block["updated"],
            up=self.blocks_url(meter),
        )

    def summary(self, meter: Meter, first: date, last: date) -> Entry:
        """The UsageSummary of one billing period of ``meter``."""
        summary = self.utility.summary(meter, first, last)
        return Entry(
            "UsageSummary",
            summary["content"],
            f"{self.summaries_url(meter)}/{summary['id']}",
            title=f"Billing period {first.isoformat()} to {last.isoformat()}",
            published=summary["published"],
            updated=summary["updated"],
            up=self.summaries_url(meter),
        )

    def authorization(self, authorization: dict[str, Any]) -> Entry:
        """An ESPI Authorization: the grant portal holds, its status and scope."""
        url = f"{self.root}/Authorization/{authorization['id']}"
        return Entry(
            "Authorization",
            authorization["content"],
            url,
            title="Green Button Connect My Data authorization for portal",
            published=authorization["published"],
            updated=authorization["updated"],
        )

    # -- the retail customer ----------------------------------------------------------

    def customer_entries(self) -> list[Entry]:
        """Customer, CustomerAccount, both CustomerAgreements and the ServiceLocation."""
        base = f"{self.root}/RetailCustomer/{RETAIL_CUSTOMER_ID}/Customer/1"
        account = f"{base}/CustomerAccount/1"
        location = f"{self.root}/RetailCustomer/{RETAIL_CUSTOMER_ID}/ServiceLocation/1"
        entries = [
            Entry("Customer", _customer(), base, title=PARTY_NAME, namespace=CUSTOMER),
            Entry(
                "CustomerAccount",
                _account(),
                account,
                title=f"Customer account {CUSTOMER_ACCOUNT}",
                up=f"{base}/CustomerAccount",
                namespace=CUSTOMER,
            ),
        ]
        for n, meter in enumerate(METERS, 1):
            entries.append(
                Entry(
                    "CustomerAgreement",
                    self._agreement(meter),
                    f"{account}/CustomerAgreement/{n}",
                    title=f"{meter.fuel.capitalize()} supply agreement",
                    up=f"{account}/CustomerAgreement",
                    related=[location, self.usage_point_url(meter)],
                    namespace=CUSTOMER,
                )
            )
        entries.append(
            Entry(
                "ServiceLocation",
                self._location(),
                location,
                title="Flat 3, 27 Elmwood Road",
                namespace=CUSTOMER,
            )
        )
        return [self._dated(entry) for entry in entries]

    def _agreement(self, meter: Meter) -> dict[str, Any]:
        tariffs = [t for t in TARIFFS if t.fuel == meter.fuel]
        return {
            "agreement": {
                "type": "supply",
                "createdDateTime": str(epoch(SIGNED_UP)),
                "status": {"value": "active", "dateTime": str(epoch(midnight(FIRST_DAY)))},
                "signDate": str(epoch(SIGNED_UP)),
                "validityInterval": {"start": str(epoch(midnight(FIRST_DAY)))},
            },
            "isPrePay": "false",
            "PricingStructures": [
                f"{self.root.removesuffix(RESOURCE)}/products/{t.code}" for t in tariffs
            ],
            "currency": "GBP",
            "agreementId": meter.agreement,
        }

    def _location(self) -> dict[str, Any]:
        return {
            "location": {"type": "residential", "mainAddress": ADDRESS},
            "accessMethod": "Meters in the cupboard under the communal stairs; key with the"
            " concierge",
            "needsInspection": "false",
            "UsagePoints": [self.usage_point_url(meter) for meter in METERS],
        }

    def _dated(self, entry: Entry) -> Entry:
        # Resources that do not change carry the date the supply started.
        stamp = atom_time(SIGNED_UP if entry.namespace == CUSTOMER else midnight(FIRST_DAY))
        entry.published = entry.published or stamp
        entry.updated = entry.updated or stamp
        return entry


def _tariff_profile(meter: Meter) -> str:
    return "G-1R-FLEX" if meter is GAS else "E-1R-FLEX"


def _customer() -> dict[str, Any]:
    return {
        "organisation": {
            "streetAddress": ADDRESS,
            "electronicAddress": {"email1": "siobhan.ashworth@example.com"},
            "phone1": {"countryCode": "44", "areaCode": "20", "localNumber": "7946 0123"},
            "phone2": {"countryCode": "44", "localNumber": "7700 900123"},
        },
        "kind": "residential",
        "specialNeed": "",
        "locale": "en_GB",
        "customerName": PARTY_NAME,
        "status": {"value": "active", "dateTime": str(epoch(SIGNED_UP))},
    }


def _account() -> dict[str, Any]:
    return {
        "document": {
            "type": "customer account",
            "createdDateTime": str(epoch(SIGNED_UP)),
            "status": {"value": "active", "dateTime": str(epoch(SIGNED_UP))},
        },
        "billingCycle": "15",
        "budgetBill": "",
        "notifications": [
            {
                "methodKind": "email",
                "time": str(epoch(SIGNED_UP)),
                "note": "Welcome to Demo Energy: your switch completes on 15 October.",
                "customerNotificationKind": "move in",
            }
        ],
        "accountId": CUSTOMER_ACCOUNT,
    }
