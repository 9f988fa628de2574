"""The utility's write side: revoking a Green Button Connect My Data authorization.

In Connect My Data (NAESB REQ.21 ESPI) the token response names the ``authorizationURI``,
"the URI to update or delete this authorization": the Third Party revokes the customer's
grant with ``DELETE`` on it, after which the Authorization's ``status`` is 0 (Revoked) and
the tokens issued under it stop working. The Authorization released to portal is portal's
own grant (kind ``data_access``): withdrawing it ends portal's access; the next sync finds
the connection needs reconnecting, and keeps everything already synced.

Connect My Data has no resource for marketing or profiling, so those changes are "not
supported", with Demo Energy's own words of where to make them (``WRITE_INSTEAD``).
"""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import quote

import httpx

from portal.control.changes import CONSENT, Change, ChangeResult, Outcome
from portal.errors import ProviderError
from portal.jsonbody import decode_json
from portal_utility import espi

WRITE_INSTEAD = (
    "Demo Energy: change your marketing choices in your online account (My details >"
    " Marketing) or write to privacy@demo-energy.example, the contact its privacy notice"
    " names, to object to profiling."
)
"""Where Demo Energy says a customer changes what Connect My Data cannot."""

PREFIX = "authorization:"
"""How the plugin names an Authorization's Consent (``mapping.authorization``)."""

NOT_IN_FORCE = {"0": "Revoked", "2": "Denied"}
"""AuthorizationStatus values of a grant no longer in force."""

REFUSALS = {400, 403, 404, 405}


def authorization_url(client: httpx.Client, consent: str) -> str | None:
    """The URI of the Authorization ``consent`` names, beside the one the token names."""
    mine = (getattr(client, "token", None) or {}).get("authorizationURI")
    if not isinstance(mine, str) or "/" not in mine or not consent.startswith(PREFIX):
        return None
    return f"{mine.rsplit('/', 1)[0]}/{quote(consent.removeprefix(PREFIX), safe='')}"


def apply_change(client: httpx.Client, change: Change) -> ChangeResult | None:
    """Revoke the Authorization ``change.consent``; None for any other change (the engine
    answers "not supported" with ``Provider.write_instead``)."""
    if change.key != CONSENT or not change.consent:
        return None
    url = authorization_url(client, change.consent)
    if url is None:
        return None
    shown = client.get(url)
    if shown.status_code == 200:
        status = _status(shown)
        if status in NOT_IN_FORCE:
            return ChangeResult(
                Outcome.already,
                detail=f"Demo Energy shows {change.consent} as {NOT_IN_FORCE[status]}.",
            )
    elif shown.status_code in REFUSALS:
        return ChangeResult(Outcome.refused, detail=reason(shown))
    else:
        raise _unexpected(shown)
    answer = client.delete(url)
    if answer.status_code in (200, 204):
        return ChangeResult(
            Outcome.applied,
            detail=f"Demo Energy revoked {change.consent}: portal can no longer read your"
            " energy data there (everything already synced is kept).",
        )
    if answer.status_code in REFUSALS:
        return ChangeResult(Outcome.refused, detail=reason(answer))
    raise _unexpected(answer)


def _status(response: httpx.Response) -> str:
    try:
        [entry] = list(espi.entries(io.BytesIO(response.content), "Demo Energy's Authorization"))
        return str(entry["content"].get("status", ""))
    except (ValueError, KeyError, TypeError, espi.FeedError, ProviderError):
        return ""


def reason(response: httpx.Response) -> str:
    """Demo Energy's reason for refusing (its error body's message), or its status."""
    try:
        body: Any = decode_json(response.content)
    except ValueError:
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    return (
        message
        if isinstance(message, str) and message
        else f"Demo Energy answered {response.status_code}."
    )


def _unexpected(response: httpx.Response) -> ProviderError:
    return ProviderError(
        f"Demo Energy answered {response.status_code} to the revocation of an authorization.",
        hint="Nothing is known to have changed: run portal apply again later.",
    )
