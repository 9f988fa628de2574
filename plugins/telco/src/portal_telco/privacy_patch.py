"""TMF644's write side, as Demo Telecom's sandbox serves it: ``PATCH partyPrivacyProfile/{id}``.

TMF644 Privacy Management v4 (swagger 4.0.0, release 19.0) updates a PartyPrivacyProfile
partially with ``PATCH /partyPrivacyProfile/{id}``: the body is a ``PartyPrivacyProfile_Update``
(every attribute but ``id``, ``href`` and ``creationDate``), the answer ``200 Updated`` with
the whole updated profile, or a TMF630 ``Error`` (400, 401, 403, 404, 405, 409, 500). TMF630
makes JSON Merge Patch (RFC 7386, ``application/merge-patch+json``) the PATCH every API must
take; an array in it replaces the array whole, so a client sends every characteristic.

Demo Telecom's own rules, on top of the document's: a customer changes only what she agreed
to (the profile's ``status`` and each characteristic's ``value``, which say the same: granted,
refused or withdrawn); the telco stamps ``lastUpdate`` and the validity itself (a withdrawal
ends it, a grant starts a new one); and it refuses, with 422 and its reason, a permission it
takes only elsewhere (``REFUSALS``).
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from portal_telco.customer import local

MERGE_PATCH = "application/merge-patch+json"
UNPATCHABLE = ("id", "href", "creationDate", "lastUpdate")
"""What PartyPrivacyProfile_Update leaves out (id, href, creationDate), and the telco's own
``lastUpdate``, which it sets itself."""
PATCHABLE = (
    "description", "name", "status", "agreedByParty", "agreement", "applicableForParty",
    "partyPrivacyProfileCharacteristic", "partyPrivacyProfileSpecification", "validFor",
    "@baseType", "@type", "@schemaLocation",
)  # fmt: skip
"""PartyPrivacyProfile_Update's attributes."""
CUSTOMER_MAY = ("status", "partyPrivacyProfileCharacteristic")
"""What Demo Telecom lets the customer herself change: her choice, not its wording."""
STATUSES = ("granted", "refused", "withdrawn")
REFUSALS = {
    "THIRD_PARTY_SHARING": "Sharing your details with our partners can only be agreed in the"
    " Demo Telecom app, where each partner is named before you choose. Turning it off works"
    " everywhere.",
}
"""Purposes the telco will not have granted through the API, with its reason (422)."""


class PatchRefused(Exception):
    """A PATCH the telco answers with a TMF630 error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 section 2: ``patch`` applied to ``target`` (neither is changed)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = merge_patch(out.get(name), value)
    return out


def patched(
    profile: dict[str, Any], body: Any, refusals: dict[str, str], now: datetime | None = None
) -> dict[str, Any]:
    """The profile after ``body`` (a merge patch), or ``PatchRefused`` saying why not."""
    if not isinstance(body, dict):
        raise PatchRefused(400, "21", "A merge patch of a PartyPrivacyProfile is a JSON object.")
    if fixed := [name for name in body if name in UNPATCHABLE]:
        raise PatchRefused(400, "22", f"{', '.join(fixed)} cannot be patched (TMF644).")
    if unknown := [name for name in body if name not in PATCHABLE]:
        raise PatchRefused(400, "23", f"PartyPrivacyProfile has no {', '.join(unknown)}.")
    if theirs := [name for name in body if name not in CUSTOMER_MAY]:
        raise PatchRefused(
            422,
            "61",
            f"You can change what you agreed to (status and each characteristic's value), not"
            f" {', '.join(theirs)}.",
        )
    after: dict[str, Any] = merge_patch(profile, body)
    traits = after.get("partyPrivacyProfileCharacteristic")
    if not isinstance(traits, list) or not all(isinstance(t, dict) for t in traits):
        raise PatchRefused(400, "24", "partyPrivacyProfileCharacteristic is an array of objects.")
    before = profile.get("partyPrivacyProfileCharacteristic") or []
    if _keys(traits) != _keys(before):
        raise PatchRefused(
            422,
            "62",
            "The characteristics of a profile (its channels and purposes) are the telco's: send"
            " every one, changing only its value.",
        )
    status = after.get("status")
    if status not in STATUSES or any(t.get("value") != status for t in traits):
        raise PatchRefused(
            400,
            "25",
            f"status and every characteristic's value must say the same, one of"
            f" {', '.join(STATUSES)}.",
        )
    if status == profile.get("status"):
        return profile  # nothing changes: the same PATCH twice leaves the same profile
    if status == "granted":
        for trait in traits:
            if reason := refusals.get(str(trait.get("privacyUsagePurpose"))):
                raise PatchRefused(422, "63", reason)
    moment = local(now or datetime.now(UTC))
    after["lastUpdate"] = moment
    valid = dict(profile.get("validFor") or {})
    if status == "granted":
        after["validFor"] = {"startDateTime": moment}
    elif status == "withdrawn":
        after["validFor"] = {**valid, "endDateTime": moment}
    return after


def _keys(traits: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return sorted((str(t.get("name")), str(t.get("privacyUsagePurpose"))) for t in traits)
