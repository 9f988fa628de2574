"""The bank's write side: withdrawing an account-access consent (Open Banking AIS v3.1).

Open Banking gives an AISP one write on the customer's data-sharing: ``DELETE
/account-access-consents/{ConsentId}``, answered 204 No Content, after which the consent's
Status is ``Revoked`` and the access tokens issued under it stop working. The consent the
bank releases to portal is portal's own grant (kind ``data_access``): an AISP sees only its
own consents. Withdrawing it ends portal's access; the next sync finds the connection
needs reconnecting, and keeps everything already synced.

Marketing permissions and profiling are the bank's own business, outside Open Banking: its
marketing-preferences resource is read-only, so those changes are "not supported", with the
bank's own words of where to make them (``WRITE_INSTEAD``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from portal.control.changes import CONSENT, Change, ChangeResult, Outcome
from portal.errors import ProviderError
from portal.jsonbody import decode_json

WRITE_INSTEAD = (
    "Demo Bank: change your marketing choices in the app (Profile > Marketing preferences)"
    " or in online banking (Settings > Contact preferences); to object to profiling, write"
    " to our Data Protection Officer, Demo Bank, PO Box 1066, London EC2P 2AA."
)
"""Where Demo Bank says a customer changes what Open Banking cannot."""

FINAL_STATUSES = {"Revoked", "Rejected", "Expired"}
"""OBExternalRequestStatus1Code values of a consent no longer in force (Expired: v3.1.10)."""

REFUSALS = {400, 403, 404, 405}
"""Answers in which the bank refuses the request, with the Open Banking error body."""


def apply_change(client: httpx.Client, change: Change) -> ChangeResult | None:
    """Withdraw the account-access consent ``change.consent``; None for any other change
    (the engine answers "not supported" with ``Provider.write_instead``)."""
    if change.key != CONSENT or not change.consent or change.consent.startswith("marketing:"):
        return None
    path = f"account-access-consents/{quote(change.consent, safe='')}"
    shown = client.get(path)
    if shown.status_code == 200:
        status = _status(shown)
        if status in FINAL_STATUSES:
            return ChangeResult(
                Outcome.already, detail=f"Demo Bank shows consent {change.consent} as {status}."
            )
    elif shown.status_code in REFUSALS:
        return ChangeResult(Outcome.refused, detail=reason(shown))
    else:
        raise _unexpected(shown)
    answer = client.delete(path)
    if answer.status_code in (200, 204):
        return ChangeResult(
            Outcome.applied,
            detail=f"Demo Bank revoked consent {change.consent}: portal can no longer read"
            " your accounts there (everything already synced is kept).",
        )
    if answer.status_code in REFUSALS:
        return ChangeResult(Outcome.refused, detail=reason(answer))
    raise _unexpected(answer)


def _status(response: httpx.Response) -> str:
    try:
        body: Any = decode_json(response.content)
        return str(body["Data"]["Status"])
    except (ValueError, KeyError, TypeError):
        return ""


def reason(response: httpx.Response) -> str:
    """The bank's reason for refusing, from the Open Banking error body (OBErrorResponse1:
    each error's Message, else the top-level Message), or its status line."""
    try:
        body: Any = decode_json(response.content)
    except ValueError:
        body = None
    messages: list[str] = []
    if isinstance(body, dict):
        for error in body.get("Errors") or []:
            if isinstance(error, dict) and isinstance(error.get("Message"), str):
                code = error.get("ErrorCode")
                text = error["Message"]
                messages.append(f"{text} ({code})" if isinstance(code, str) else text)
        if not messages and isinstance(body.get("Message"), str):
            messages.append(body["Message"])
    return "; ".join(messages) or f"Demo Bank answered {response.status_code}."


def _unexpected(response: httpx.Response) -> ProviderError:
    return ProviderError(
        f"Demo Bank answered {response.status_code} to the withdrawal of a consent.",
        hint="Nothing is known to have changed: run portal apply again later.",
    )
