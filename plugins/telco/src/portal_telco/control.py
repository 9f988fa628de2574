"""The person's preferences carried out at Demo Telecom: TMF644 PATCH of a privacy profile.

Each preference portal knows is one of Demo Telecom's privacy profiles, found by the
purpose and channel of its characteristic (``TARGETS``). The hook reads the profiles as the
telco serves them now: one already as the person wants is "already so", and nothing is
sent. Otherwise it sends the JSON merge patch TMF644 and TMF630 define
(``application/merge-patch+json``): the new status, and every characteristic with its new
value (a merge patch replaces an array whole). A grant is ``granted``, a refusal of what was
granted ``withdrawn``; a permission never granted (``refused``) is already off.

The telco answers 200 with the updated profile (applied, when it says the new status), or a
TMF630 error: 422 or 409 is its refusal, whose message is its reason; 429 and 5xx are worth
another try (the engine retries the hook); anything else is an error portal reports.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from portal import AuthError, ProviderError, RetryableError
from portal.control.changes import Change, ChangeResult, Outcome
from portal_telco.paging import collect

if TYPE_CHECKING:
    from portal.http import ProviderClient

PRIVACY = "tmf-api/privacyManagement/v4/partyPrivacyProfile"
MERGE_PATCH = "application/merge-patch+json"
TARGETS: dict[str, tuple[str, str | None]] = {
    "marketing.email": ("MARKETING", "email"),
    "marketing.sms": ("MARKETING", "sms"),
    "marketing.phone": ("MARKETING", "phone"),
    "marketing.post": ("MARKETING", "post"),
    "profiling": ("PROFILING", None),
    "third_party_marketing": ("THIRD_PARTY_SHARING", None),
}
"""Each preference as the purpose (and, for marketing, the channel) of a TMF644 characteristic."""
WRITES = tuple(TARGETS)
OFF = ("refused", "withdrawn")
INSTEAD = (
    "Change it in the Demo Telecom app (Account, then Privacy), or ask Demo Telecom's customer"
    " services: its API holds no permission for this."
)
"""What the person can do where the telco serves no profile for a preference."""
REFUSING = (409, 422)
RETRYABLE = (429, 500, 502, 503, 504)
REASON_LIMIT = 1000
"""The most characters of the telco's reason kept (the terminal shows it inert)."""


def apply_change(client: ProviderClient, change: Change) -> ChangeResult | None:
    """Make ``change`` at Demo Telecom through ``client``; None for a key it has no profile for."""
    if change.key not in TARGETS:
        return None
    purpose, channel = TARGETS[change.key]
    profiles = [p for p in collect(client, PRIVACY, {}) if _about(p, purpose, channel)]
    if not profiles:
        return ChangeResult(Outcome.not_supported, instead=INSTEAD)
    results = [_one(client, profile, change.allow) for profile in profiles]
    # A refusal outweighs an application, which outweighs a profile that cannot be changed.
    for outcome in (Outcome.refused, Outcome.applied, Outcome.not_supported):
        found = [r for r in results if r.outcome is outcome]
        if found:
            detail = "; ".join(r.detail for r in found if r.detail)
            return ChangeResult(outcome, detail=detail, instead=found[0].instead)
    return ChangeResult(Outcome.already, detail=results[0].detail)


def _about(profile: dict[str, Any], purpose: str, channel: str | None) -> bool:
    traits = profile.get("partyPrivacyProfileCharacteristic") or []
    return any(
        isinstance(t, dict)
        and t.get("privacyUsagePurpose") == purpose
        and (channel is None or t.get("name") == channel)
        for t in traits
    )


def _status(profile: dict[str, Any]) -> str:
    # TMF644 leaves status optional: the characteristic's value then says what was agreed.
    if profile.get("status"):
        return str(profile["status"])
    traits = profile.get("partyPrivacyProfileCharacteristic") or [{}]
    return str(traits[0].get("value") or "")


def _one(client: ProviderClient, profile: dict[str, Any], allow: bool) -> ChangeResult:
    now = _status(profile)
    name = str(profile.get("name") or profile.get("id") or "permission")
    if (now == "granted") if allow else (now in OFF):
        return ChangeResult(Outcome.already, detail=f"{name}: {now}")
    if not profile.get("id"):
        return ChangeResult(Outcome.not_supported, instead=INSTEAD)
    wanted = "granted" if allow else "withdrawn"
    body = {
        "status": wanted,
        "partyPrivacyProfileCharacteristic": [
            {**t, "value": wanted} for t in profile.get("partyPrivacyProfileCharacteristic") or []
        ],
    }
    response = client.patch(
        f"{PRIVACY}/{profile['id']}",
        content=json.dumps(body).encode(),
        headers={"Content-Type": MERGE_PATCH, "Accept": "application/json"},
    )
    where = f"PATCH of privacy profile {profile['id']}"
    status = response.status_code
    if status == 200:
        updated = _decoded(response)
        said = _status(updated) if isinstance(updated, dict) else ""
        if said != wanted:
            raise ProviderError(
                f"Demo Telecom answered the {where} with a profile that says {said!r},"
                f" not {wanted!r}."
            )
        return ChangeResult(Outcome.applied, detail=f"{name}: {wanted}")
    if status in REFUSING:
        return ChangeResult(Outcome.refused, detail=_reason(response))
    if status in RETRYABLE:
        raise RetryableError(
            f"Demo Telecom answered {status} to the {where}.",
            retry_after=_seconds(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        raise AuthError(
            f"Demo Telecom refused access to the {where} ({status}).",
            hint="Run portal connect telco again.",
        )
    raise ProviderError(
        f"Demo Telecom answered {status} to the {where}: {_reason(response)}",
        hint="Report it to the plugin's authors.",
    )


def _decoded(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(response: Any) -> str:
    """The TMF630 error's message (else its reason), as the telco wrote it."""
    body = _decoded(response)
    said = ""
    if isinstance(body, dict):
        said = str(body.get("message") or body.get("reason") or "")
    return (said or f"(no reason given; status {response.status_code})")[:REASON_LIMIT]


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
