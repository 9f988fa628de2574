"""What happens to Demo Telecom's customer after the demo's first day, on the days it happens.

``portal sync --demo`` serves the customer as of its last day of usage (``customer.END``).
Run again "on a later day" (``--demo-day`` or ``PORTAL_DEMO_DAY``), the sandbox first plays
the events dated up to that day, so a person (or a test) can watch a sync find what a real
provider changes between two syncs: a permission withdrawn, a new inference, a recipient
added to the processing notice. Each event changes the item the API serves, as a real
service would (a new status, a new element, a new recipient), so its raw payload changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from portal_telco.customer import at, local

if TYPE_CHECKING:
    from portal_telco.dataset import DemoTelecom

SMS_WITHDRAWN = date(2026, 11, 14)
SWITCH_INFERRED = date(2026, 11, 20)
RECIPIENT_ADDED = date(2026, 12, 1)


def _sms_withdrawn(telco: DemoTelecom) -> None:
    """The customer turns off offers by text in the app."""
    [sms] = [p for p in telco.privacy_profiles if p["id"] == "PPP-0002"]
    moment = local(at(SMS_WITHDRAWN, 21, 12))
    sms["status"] = "withdrawn"
    sms["lastUpdate"] = moment
    sms["validFor"] = {**sms["validFor"], "endDateTime": moment}
    sms["partyPrivacyProfileCharacteristic"][0]["value"] = "withdrawn"


def _switch_inferred(telco: DemoTelecom) -> None:
    """The monthly churn model puts the customer in a new segment."""
    telco.inferences.append(
        {
            "id": "switchSegment",
            "name": "Switching segment",
            "kind": "segment",
            "value": "Likely to switch",
            "derivedAt": local(at(SWITCH_INFERRED, 3)),
            "explanation": "Customers whose contract ends within 3 months and who turned off"
            " offers are grouped together for retention offers.",
            "usedFor": ["marketing"],
        }
    )


def _recipient_added(telco: DemoTelecom) -> None:
    """The marketing purpose gains a processor that measures the campaigns."""
    [marketing] = [p for p in telco.processing if p["id"] == "marketing"]
    marketing["recipients"].append(
        {
            "name": "Brightloop Analytics Ltd (measures our campaigns)",
            "role": "processor",
            "country": "GB",
        }
    )
    marketing["lastUpdated"] = local(at(RECIPIENT_ADDED, 9))


EVENTS: tuple[tuple[date, Callable[[DemoTelecom], None]], ...] = (
    (SMS_WITHDRAWN, _sms_withdrawn),
    (SWITCH_INFERRED, _switch_inferred),
    (RECIPIENT_ADDED, _recipient_added),
)
"""Every event after the demo's first day, by its day, in order."""


def live_until(telco: DemoTelecom, day: date) -> None:
    """Play the events dated up to ``day`` that ``telco`` has not played yet."""
    with telco.lock:
        for when, event in EVENTS:
            if when <= day and when not in telco.played:
                event(telco)
                telco.played.add(when)
