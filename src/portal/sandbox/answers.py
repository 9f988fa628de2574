"""What a sandbox's authorization server answers: tokens, and the switches that bend it.

The token generator issues the tokens (with the refresh-token rule of the settings:
rotating, first grant only, or none); ``with_iss`` adds RFC 9207's ``iss`` to an
authorization response (or a forged one, or none); ``shaped`` adds an ID token to a
refresh answer (OIDC Core §12.2) and applies ``OAuthStore.token_patch``, so a test can
meet the nonsense a server nobody here wrote might answer.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import flask

from portal.sandbox.oauth import OMIT, Authorization, Client, OAuthStore
from portal.sandbox.oidc import IdTokens


def token_generator(store: OAuthStore) -> Callable[..., dict[str, Any]]:
    """authlib's token generator for the sandbox: random tokens, the settings' lifetimes."""
    settings = store.settings

    def generate(
        grant_type: str,
        client: Client,
        user: Authorization | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        granted = (scope or "").split()
        with store.lock:
            widen = store.widen
        if widen and widen not in granted:
            granted.append(widen)  # a misbehaving provider grants more than was asked for
        token: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": expires_in or settings.access_token_ttl,
            "scope": " ".join(granted),
        }
        rule = settings.refresh_tokens
        if rule == "none" or (rule == "first" and grant_type == "refresh_token"):
            include_refresh_token = False
        if include_refresh_token:
            token["refresh_token"] = secrets.token_urlsafe(32)
            # Not in RFC 6749, but common: it lets a client say when the grant runs out.
            token["refresh_token_expires_in"] = settings.refresh_token_ttl
        if user is not None:
            token.update(user.extra)
        return token

    return generate


def with_iss(response: flask.Response, issuer: str, store: OAuthStore) -> flask.Response:
    """Add ``iss`` to an authorization response's redirect (RFC 9207 §2), if switched on."""
    location = response.headers.get("Location")
    with store.lock:
        forged = store.forged_iss
    if location is None or (forged is None and not store.settings.authorization_response_iss):
        return response
    iss = issuer if forged is None else forged[0]
    if iss is not None:
        joiner = "&" if urlsplit(location).query else "?"
        response.headers["Location"] = location + joiner + urlencode({"iss": iss})
    return response


def shaped(
    grant_type: str,
    response: flask.Response,
    store: OAuthStore,
    id_tokens: IdTokens,
    remember: Callable[[flask.Response], object],
) -> flask.Response:
    """A token response with the switches applied (refresh ID token, patches), remembered."""
    body = response.get_json(silent=True)
    if response.status_code != 200 or not isinstance(body, dict):
        remember(response)
        return response
    scopes = str(body.get("scope", "")).split()
    if grant_type == "refresh_token" and store.settings.id_token_on_refresh and "openid" in scopes:
        issued = store.by_access_token(str(body.get("access_token", "")))
        if issued is not None:
            body["id_token"] = id_tokens.on_refresh(issued.client.client_id)
    response.set_data(json.dumps(body))
    remember(response)  # the real tokens, before any patch hides them
    return patched(response, store.token_patch, store)


def patched(response: flask.Response, patch: dict[str, Any], store: OAuthStore) -> flask.Response:
    """``response`` with ``patch`` applied to its JSON body (``OMIT``: leave a field out)."""
    body = response.get_json(silent=True)
    with store.lock:
        changes = dict(patch)
    if not changes or response.status_code != 200 or not isinstance(body, dict):
        return response
    for name, value in changes.items():
        if value is OMIT:
            body.pop(name, None)
        else:
            body[name] = value
    # json.dumps writes NaN and Infinity as JavaScript does, as a sloppy server might.
    response.set_data(json.dumps(body))
    return response


def oauth_error(error: str, status: int) -> flask.Response:
    """An OAuth error response (RFC 6749 §5.2) the sandbox was told to answer."""
    description = f"The sandbox was told to answer {error}."
    response = flask.jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
