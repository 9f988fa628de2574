"""The few HTML pages a person sees at a sandbox: consent, and the device-login page.

They are deliberately bare: a scripted user agent (or a test) reads them, not a person.
Everything shown is escaped, since client ids and scopes come from the request.
"""

from __future__ import annotations

import html

import flask

_HEAD = "<!doctype html><meta charset=utf-8><title>{}</title>"


def consent(client_id: str, scope: str) -> str:
    """The authorization endpoint's Approve/Deny page."""
    # Posting back to the same URL keeps the authorization request's parameters in the query.
    action = "?" + flask.request.query_string.decode("ascii", "replace")
    return (
        _HEAD.format("Approve access")
        + f"<p><b>{html.escape(client_id)}</b> asks to read: {html.escape(scope)}."
        f'<form method=post action="{html.escape(action)}">'
        "<button name=decision value=approve>Approve</button> "
        "<button name=decision value=deny>Deny</button></form>"
    )


def device_code_form() -> str:
    """The verification URI without a code: ask for the one the device shows."""
    return (
        _HEAD.format("Connect a device")
        + "<form method=get action=/device><label>Code shown on your device: "
        "<input name=user_code autocomplete=off></label> <button>Continue</button></form>"
    )


def device_consent(client_id: str, scope: str, user_code: str) -> str:
    """Approve or deny the device authorization shown as ``user_code``."""
    return (
        _HEAD.format("Approve device") + f"<p>A device using <b>{html.escape(client_id)}</b> (code "
        f"<code>{html.escape(user_code)}</code>) asks to read: {html.escape(scope)}."
        "<form method=post action=/device>"
        f'<input type=hidden name=user_code value="{html.escape(user_code)}">'
        "<button name=decision value=approve>Approve</button> "
        "<button name=decision value=deny>Deny</button></form>"
    )


def device_done(approved: bool) -> str:
    """The page after the decision: the person can go back to the device."""
    if approved:
        return _HEAD.format("Device approved") + "<p>Approved. You can return to your device."
    return _HEAD.format("Device denied") + "<p>Denied. The device will not get access."


def device_unknown() -> str:
    """A code that is unknown, expired or already decided."""
    return (
        _HEAD.format("Unknown code")
        + "<p>That code is unknown, has expired or has already been used."
    )
