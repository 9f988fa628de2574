"""A small write-capable provider, and broken variants of it, for the suite's write checks.

*Quill & Co* releases the customer's permissions (marketing by email, text and post,
profiling, and a data-sharing consent given to a budgeting app) and lets them be changed:
a permission by a JSON Merge Patch of its status (RFC 7396: ``PATCH
/v1/permissions/{id}`` with ``application/merge-patch+json``), a consent withdrawn by
``DELETE /v1/consents/{id}`` (it stays listed, its status ``revoked``). Errors are problem
details (RFC 9457: ``application/problem+json``, ``title``, ``status``, ``detail``): 404
for an id the API does not know, 422 for a change it refuses.

The plugin is sound under its own name, ``writable``. Each other provider this module
registers is the same plugin with one defect (``BROKEN``: name to the check that must
catch it and the defect in words), as ``conformance/tests/broken`` holds broken banks:
``tests/test_conformance_writes.py`` proves each fails its check.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from portal import InventoryItem, OAuthClient, Page, Provider, hookimpl
from portal.control.changes import CONSENT, Change, ChangeResult, Outcome
from portal.record import Category, Consent, Entity, Origin, Sector, State
from portal.sandbox import Require, Sandbox

if TYPE_CHECKING:
    import flask

API = "https://api.quill.example/v1"
AUTH = "https://login.quill.example/oauth"
KINDS = {
    "marketing": "Marketing permission",
    "profiling": "Personalised offers and profiling",
    "data_access": "Access given to another company",
}
CHANNELS = {"email": "Email", "sms": "Text message", "post": "Post"}
STATUSES = {"opted_in": "Opted in", "opted_out": "Opted out", "active": "Active",
            "revoked": "Revoked"}  # fmt: skip
STATES = {"opted_in": State.active, "opted_out": State.declined, "active": State.active,
          "revoked": State.withdrawn}  # fmt: skip
MERGE_PATCH = "application/merge-patch+json"
PROBLEM = "application/problem+json"
INSTEAD = "Write to privacy@quill.example (the contact in Quill & Co's privacy notice)."

BROKEN = {
    "writable_not_held": ("marketing.email", "answers applied without asking the provider"),
    "writable_toggles": ("marketing.sms", "flips the permission instead of setting it"),
    "writable_wrong_item": ("profiling", "patches the first permission, whatever was asked"),
    "writable_applies_anything": ("unknown", "answers applied to a change it cannot make"),
    "writable_raises": ("unknown", "lets the HTTP error of a 404 out as an exception"),
    "writable_leaks": ("secrets", "puts its access token in a refusal's reason"),
}
"""Each broken variant: its provider name, the ``test_writes`` parameter that must fail it,
and its defect."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def dataset() -> list[dict[str, Any]]:
    """The customer's permissions as the API lists them."""
    since = "2025-11-02T09:30:00+00:00"
    return [
        {"id": "perm-email", "kind": "marketing", "channel": "email", "status": "opted_in",
         "purpose": "News and offers", "updated": since},
        {"id": "perm-sms", "kind": "marketing", "channel": "sms", "status": "opted_out",
         "purpose": "News and offers", "updated": since},
        {"id": "perm-post", "kind": "marketing", "channel": "post", "status": "opted_in",
         "purpose": "Catalogues", "updated": since},
        {"id": "perm-profiling", "kind": "profiling", "channel": None, "status": "opted_in",
         "purpose": "Offers chosen from what you buy", "updated": since},
        {"id": "consent-ledgerly", "kind": "data_access", "channel": None, "status": "active",
         "purpose": "Ledgerly reads your orders to budget", "updated": since},
    ]  # fmt: skip


class QuillSandbox(Sandbox):
    """Quill & Co's API on 127.0.0.1: read (scope ``read``) and change (scope ``write``)."""

    def __init__(self, *, own_grant: bool = False, refusal: str = "", **kw: Any) -> None:
        kw.setdefault("scopes", ("read", "write"))
        super().__init__(**kw)
        self.permissions = dataset()
        self.own_grant = own_grant
        self.refusal = refusal
        """If set, every patch is refused (422) with this as the problem's detail."""
        """Whether the data-sharing consent is portal's own grant (``consent_id`` in the
        token response, as an Open Banking account-access consent is)."""
        self.register_client("portal", scope="read write")

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        return {"consent_id": "consent-ledgerly"} if self.own_grant else {}

    @property
    def api_base(self) -> str:
        return self.base_url + "/v1"

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        return {"consents": self.permissions}

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        return {
            "consents": {
                p["id"]: {
                    "kind": p["kind"], "kind_label": KINDS[p["kind"]], "purpose": p["purpose"],
                    "channel": p["channel"],
                    "channel_label": CHANNELS[p["channel"]] if p["channel"] else None,
                    "status": p["status"], "status_label": STATUSES[p["status"]],
                    "state": STATES[p["status"]],
                    "status_updated_at": datetime.fromisoformat(p["updated"]),
                    "grantee": "Quill & Co",
                }
                for p in self.permissions
            }
        }  # fmt: skip

    def _problem(self, status: int, title: str, detail: str) -> Any:
        import flask

        body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
        return flask.Response(flask.json.dumps(body), status=status, mimetype=PROBLEM)

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        import flask

        by_id = {p["id"]: p for p in self.permissions}

        @app.get("/v1/permissions")
        @require("read")
        def permissions() -> Any:
            return {"permissions": self.permissions}

        @app.patch("/v1/permissions/<pid>")
        @require("write")
        def patch(pid: str) -> Any:
            item = by_id.get(pid)
            if item is None or item["kind"] == "data_access":
                return self._problem(404, "Not Found", f"No permission {pid}.")
            if flask.request.mimetype != MERGE_PATCH:
                return self._problem(415, "Unsupported Media Type", f"Send {MERGE_PATCH}.")
            if self.refusal:
                return self._problem(422, "Unprocessable Content", self.refusal)
            status = (flask.request.get_json(silent=True) or {}).get("status")
            if status not in ("opted_in", "opted_out"):
                return self._problem(422, "Unprocessable Content", "status: opted_in or opted_out.")
            if item["status"] != status:  # the same patch twice leaves the same state
                item.update(status=status, updated=_now())
            return item

        @app.delete("/v1/consents/<cid>")
        @require("write")
        def withdraw(cid: str) -> Any:
            item = by_id.get(cid)
            if item is None or item["kind"] != "data_access":
                return self._problem(404, "Not Found", f"No consent {cid}.")
            if item["status"] != "revoked":
                item.update(status="revoked", updated=_now())
            if self.own_grant:
                self.withdraw_consent()  # the grant's tokens revoked with it
            return flask.Response(status=204)


def _sandbox() -> Sandbox:
    return QuillSandbox()


PROVIDER = Provider(
    name="writable",
    display_name="Quill & Co",
    sector=Sector.retailer,
    description="Quill & Co: your marketing permissions and the access you gave others.",
    api_base=API,
    oauth=OAuthClient(
        authorize_url=f"{AUTH}/authorize",
        token_url=f"{AUTH}/token",
        revocation_url=f"{AUTH}/revoke",
        client_id="portal",
        scopes=("read", "write"),
    ),
    inventory=(InventoryItem(Category.consents, "Your permissions and consents."),),
    sandbox=_sandbox,
    sandbox_only=True,
    writes=("marketing.email", "marketing.sms", "marketing.post", "profiling", CONSENT),
    write_instead=INSTEAD,
)
OWN_GRANT = dataclasses.replace(
    PROVIDER,
    name="writable_own_grant",
    display_name="Quill & Co (its consent portal's own grant)",
    sandbox=lambda: QuillSandbox(own_grant=True),
)
"""Sound as well: the consent it can withdraw is the one portal connected with."""
HOSTILE = "Locked\x1b]8;;https://evil.example\x07 click\x1b]8;;\x07\x1b[2J\u202e"
REFUSING = dataclasses.replace(
    PROVIDER,
    name="writable_refused",
    display_name="Quill & Co (refusing every change, in hostile words)",
    sandbox=lambda: QuillSandbox(refusal=HOSTILE),
)
"""Its provider refuses every permission change, with terminal escapes in its reason."""
PROVIDERS = [PROVIDER, OWN_GRANT, REFUSING] + [
    dataclasses.replace(PROVIDER, name=name, display_name=f"Quill & Co ({name})") for name in BROKEN
]

PORTAL_CONFORMANCE: dict[str, dict[str, Any]] = {p.name: {} for p in PROVIDERS}


@hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    for provider in PROVIDERS:
        register(provider)


@hookimpl
def fetch(client: Any, cursors: Any) -> Iterator[Page]:
    yield Page("permissions", client.get_json("permissions")["permissions"])


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> list[Entity]:
    used = {"id", "kind", "channel", "status", "purpose", "updated"}
    return [
        Consent(
            provider_id=item["id"],
            origin=Origin.provided,
            kind=item["kind"],
            kind_label=KINDS[item["kind"]],
            purpose=item["purpose"],
            channel=item["channel"],
            channel_label=CHANNELS[item["channel"]] if item["channel"] else None,
            status=item["status"],
            status_label=STATUSES[item["status"]],
            state=STATES[item["status"]],
            status_updated_at=item["updated"],
            grantee="Quill & Co",
            extra={k: v for k, v in item.items() if k not in used},
        )
    ]


def _problem(response: Any) -> str:
    """The provider's own reason, from its problem details (RFC 9457)."""
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code}"
    return str(body.get("detail") or body.get("title") or response.status_code)


def _target(permissions: list[dict[str, Any]], change: Change) -> dict[str, Any] | None:
    for item in permissions:
        if change.key == "profiling" and item["kind"] == "profiling":
            return item
        if change.channel and item["kind"] == "marketing" and item["channel"] == change.channel:
            return item
    return None


@hookimpl
def apply_change(provider: Provider, client: Any, change: Change) -> ChangeResult | None:
    """A permission patched to the status asked for; a consent deleted (withdrawn)."""
    defect = provider.name
    if defect == "writable_applies_anything":
        return ChangeResult(Outcome.applied, detail="done")
    if change.key == CONSENT:
        response = client.delete(f"consents/{change.consent}")
        if defect == "writable_raises":
            response.raise_for_status()
        if response.status_code == 204:
            return ChangeResult(Outcome.applied, detail=f"consent {change.consent} revoked")
        reason = _problem(response)
        if defect == "writable_leaks":
            reason += f" (token {client.token['access_token']})"
        return ChangeResult(Outcome.refused, detail=reason)
    permissions = client.get_json("permissions")["permissions"]
    item = _target(permissions, change)
    if defect == "writable_wrong_item":
        item = permissions[0]
    if item is None:
        return None
    wanted = "opted_in" if change.allow else "opted_out"
    if defect == "writable_toggles":
        wanted = "opted_out" if item["status"] == "opted_in" else "opted_in"
    elif item["status"] == wanted:
        return ChangeResult(Outcome.already, detail=f"{item['id']} is {wanted}")
    if defect == "writable_not_held":
        return ChangeResult(Outcome.applied, detail=f"{item['id']} is now {wanted}")
    response = client.patch(
        f"permissions/{item['id']}",
        content=f'{{"status": "{wanted}"}}',
        headers={"Content-Type": MERGE_PATCH},
    )
    if response.status_code == 200:
        return ChangeResult(Outcome.applied, detail=f"{item['id']} is now {wanted}")
    return ChangeResult(Outcome.refused, detail=_problem(response))
