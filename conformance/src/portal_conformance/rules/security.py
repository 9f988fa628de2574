"""OAuth and egress: the plugin's login is safe, and nothing phones home.

The OAuth checks drive the plugin's ``authenticate`` hook (portal's built-in one unless the
plugin brings its own) against its sandbox's authorization server, and read back what that
server saw. The secrets check (``secrets``, from ``rules.canary``, kept here for the
registry) searches every run for every secret. The egress check lists every host the sync
resolved or connected to, by an audit hook on the socket layer, so a plugin that goes
around portal's HTTP client is seen too.
"""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from portal.provider import Provider
from portal_conformance.failures import CheckFailed, NotApplicable, examples, require
from portal_conformance.harness import Harness, Run
from portal_conformance.rules import device
from portal_conformance.rules.canary import SECRET_PLACES, encodings, probe, secrets

__all__ = ["SECRET_PLACES", "encodings", "secrets"]

OAUTH_CHECKS = (
    "pkce_s256",
    "state",
    "loopback_redirect",
    "scopes_not_widened",
    "refresh_rotation",
    "single_refresh",
    "reactive_refresh",
    "revocation",
    *device.CHECKS,
)


def oauth_checks(provider: Provider) -> list[str]:
    """The OAuth checks ``provider``'s declaration makes meaningful: the device-flow ones only
    for a provider that declares a device authorization endpoint."""
    offered = bool(provider.oauth.device_authorization_url)
    return [c for c in OAUTH_CHECKS if offered or c not in device.CHECKS]


def _authorize_queries(run: Run) -> list[dict[str, str]]:
    return [
        {k: v[0] for k, v in parse_qs(r.query).items()}
        for r in run.sandbox.requests
        if r.path == "/oauth/authorize"
    ]


def _where(h: Harness) -> str:
    return f"the authenticate hook of {h.name!r} (portal's built-in flow unless overridden)"


def oauth(h: Harness, which: str) -> dict[str, float] | None:
    """One OAuth property, checked against the sandbox's authorization server."""
    h.unsupported("oauth", f"oauth.{which}")
    h.requires_oauth(f"OAuth {which.replace('_', ' ')}")
    if which in device.CHECKS:
        return device.device_flow(h, which)
    {
        "pkce_s256": _pkce,
        "state": _state,
        "loopback_redirect": _loopback,
        "scopes_not_widened": _widened,
        "refresh_rotation": _rotation,
        "single_refresh": _single_refresh,
        "reactive_refresh": _reactive,
        "revocation": _revocation,
    }[which](h)
    return None


def _login_run(h: Harness) -> Run:
    # A login of its own, kept even when it fails, so the authorization request can be read.
    run = h.login
    if not _authorize_queries(run):
        raise CheckFailed(
            "The login never reached the sandbox's authorization endpoint.",
            where=_where(h),
            fix="Use portal's OAuth helpers: return oauth.run() (or oauth.authorization_code()).",
        )
    return run


def _pkce(h: Harness) -> None:
    run = _login_run(h)
    bad = [
        q
        for q in _authorize_queries(run)
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge")
    ]
    require(
        not bad,
        f"{len(bad)} authorization requests went without PKCE S256"
        f" (code_challenge_method={bad[0].get('code_challenge_method') if bad else ''!r}).",
        where=_where(h),
        fix="Send code_challenge with code_challenge_method=S256 (as portal's"
        " oauth.authorization_code() does).",
    )
    require(
        run.connection is not None,
        f"The login did not complete: {run.login_error}",
        where=_where(h),
        fix="Exchange the code with its code_verifier.",
    )


def _state(h: Harness) -> None:
    first = _authorize_queries(_login_run(h))
    again = h.run("oauth-state", sync=False, tolerate_login_failure=True)
    states = [q.get("state", "") for q in first + _authorize_queries(again)]
    require(
        all(len(s) >= 22 for s in states) and len(set(states)) == len(states),
        f"The state parameter must be fresh and unguessable for every login; saw {len(states)}"
        f" logins with states of lengths {[len(s) for s in states]}, {len(set(states))} distinct.",
        where=_where(h),
        fix="Use secrets.token_urlsafe(32) for each attempt, and compare it in constant time.",
    )


def _loopback(h: Harness) -> None:
    queries = _authorize_queries(_login_run(h))
    for q in queries:
        uri = urlsplit(q.get("redirect_uri", ""))
        require(
            uri.scheme == "http" and uri.hostname == "127.0.0.1" and bool(uri.port),
            f"The redirect URI {q.get('redirect_uri')!r} is not a loopback address with a port.",
            where=_where(h),
            fix="Redirect to http://127.0.0.1:<random port>/callback (RFC 8252 §7.3).",
        )
        try:
            httpx.get(q["redirect_uri"] + "?code=replayed&state=x", timeout=2)
        except httpx.TransportError:
            continue
        raise CheckFailed(
            "The loopback listener still answers after the login finished.",
            where=q["redirect_uri"],
            fix="Serve one redirect, then close the listener.",
        )


def _widened(h: Harness) -> None:
    sandbox = h.sandbox()
    portal = h.portal("oauth-widened")
    sandbox.widen_scopes("payments")  # type: ignore[attr-defined]
    try:
        h.connect(portal, sandbox)
    except Exception:
        revoked = [kind for _, kind in sandbox.revocations]  # type: ignore[attr-defined]
        require(
            bool(revoked),
            "Tokens with a widened scope were refused but not revoked.",
            where=_where(h),
            fix="Revoke tokens you refuse (RFC 7009), as portal's helpers do.",
        )
        return
    raise CheckFailed(
        "The provider granted more scopes than asked for ('payments') and the login accepted it.",
        where=_where(h),
        fix="Refuse and revoke tokens whose scope exceeds the request"
        " (portal.auth.refresh.check_scopes).",
    )


def _logged_in(h: Harness, label: str) -> Run:
    run = h.run(label, sync=False)
    return run


def _refreshes(run: Run) -> int:
    return int(run.sandbox.token_requests.get("refresh_token", 0))  # type: ignore[attr-defined]


def _rotation(h: Harness) -> None:
    run = _logged_in(h, "oauth-rotation")
    assert run.connection is not None
    before = run.portal.vault.get(run.connection.id)
    statuses = []
    for _ in range(2):
        run.sandbox.expire_tokens()  # type: ignore[attr-defined]
        statuses += probe(h, run)
    after = run.portal.vault.get(run.connection.id)
    rotated = before is not None and after is not None
    rotated = rotated and before.refresh_token != after.refresh_token  # type: ignore[union-attr]
    require(
        statuses == [200, 200] and _refreshes(run) == 2 and rotated,
        f"Two expiries should make exactly two refreshes, each rotation persisted in the vault;"
        f" saw {_refreshes(run)} refreshes and answers {statuses}.",
        where="the vault after two refreshes",
        fix="Refresh through portal's client so the rotated refresh token is written back.",
    )


def _single_refresh(h: Harness) -> None:
    run = _logged_in(h, "oauth-single")
    run.sandbox.expire_tokens()  # type: ignore[attr-defined]
    path = next(r.path for r in h.main.sandbox.requests if r.authorised)
    errors: list[Exception] = []
    with run.portal.client(h.name) as client:

        def hit() -> None:
            try:
                client.get(run.sandbox.base_url + path, timeout=10)  # type: ignore[attr-defined]
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=hit) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    require(
        _refreshes(run) == 1 and not errors,
        f"8 requests meeting one expired token made {_refreshes(run)} refreshes"
        f" (errors: {errors[:2]}).",
        where="portal's client for the provider",
        fix="Refresh once under a lock; let the others use the fresh token.",
    )


def _reactive(h: Harness) -> None:
    run = _logged_in(h, "oauth-401")
    assert run.connection is not None
    tokens = run.portal.vault.get(run.connection.id)
    assert tokens is not None and tokens.access_token
    httpx.post(
        run.sandbox.revocation_url,  # type: ignore[attr-defined]
        data={
            "token": tokens.access_token,
            "token_type_hint": "access_token",
            "client_id": h.provider.oauth.client_id,
        },
        timeout=10,
    )
    statuses = probe(h, run)
    require(
        statuses == [200] and _refreshes(run) == 1,
        f"One 401 should make one refresh and the request go through; it answered {statuses}"
        f" after {_refreshes(run)} refreshes.",
        where=f"portal's client for {h.name!r} after the access token was revoked",
        fix="Let portal's client answer a 401 with one refresh.",
    )


def _revocation(h: Harness) -> None:
    """Disconnecting revokes the grant: the refresh token at the RFC 7009 endpoint, or, by
    the plugin's own ``revoke`` hook (a provider's logout), so that the access token the
    connection held is refused by the API afterwards."""
    run = _logged_in(h, "oauth-revoke")
    assert run.connection is not None
    held = run.portal.vault.get(run.connection.id)
    done = run.portal.disconnect(h.name)
    kinds = {kind for _, kind in run.sandbox.revocations}  # type: ignore[attr-defined]
    refused_after = False
    if done.revoked and held is not None and held.access_token:
        path = next(r.path for r in h.main.sandbox.requests if r.authorised)
        answer = httpx.get(
            run.sandbox.base_url + path,  # type: ignore[attr-defined]
            headers={"Authorization": f"Bearer {held.access_token}"},
            timeout=10,
        )
        refused_after = answer.status_code == 401
    require(
        not done.failures and ("refresh_token" in kinds or refused_after),
        f"Disconnecting should end the grant at the provider; revoked {sorted(kinds)}"
        f" ({'; '.join(done.failures) or 'no failure reported'}), and the access token"
        f" {'was refused' if refused_after else 'still worked or was not tried'} afterwards.",
        where=f"portal disconnect {h.name}",
        fix="Declare OAuthClient(revocation_url=...) for the provider's RFC 7009 endpoint, or"
        " implement the revoke hook with the provider's own way of ending access.",
    )


# -- quota ----------------------------------------------------------------------------


def quota(h: Harness, which: str) -> None:
    """The provider's declared quota holds: its syncs in a window run, one more is refused
    with a sentence saying when the next is possible, and sends nothing to the provider."""
    from portal.errors import QuotaReached

    declared = h.provider.quota
    assert declared is not None  # the family is generated only for a provider with a quota
    sandbox = h.sandbox()
    portal = h.portal("quota", quotas=True)
    h.connect(portal, sandbox)
    allowed = [portal.sync([h.name])[0] for _ in range(declared.syncs)]
    before = len(sandbox.requests)
    [refused] = portal.sync([h.name])
    said = str(refused.error or "")
    require(
        all(r.ok for r in allowed)
        and isinstance(refused.error, QuotaReached)
        and "the next is possible at" in said
        and len(sandbox.requests) == before,
        f"{declared.syncs} syncs should run and the next be refused before any request;"
        f" saw {sum(r.ok for r in allowed)} run, then {said or 'no refusal'!r} after"
        f" {len(sandbox.requests) - before} requests.",
        where=f"Provider(name={h.name!r}).quota",
        fix="Declare the service's quota as Provider(quota=Quota(...)) and let the engine"
        " enforce it; never count syncs in the plugin.",
    )


# -- egress ---------------------------------------------------------------------------


def egress(h: Harness, phase: str) -> None:
    """During the sync, only the declared hosts (here: the sandbox standing in for them)."""
    run = h.main
    allowed = {urlsplit(run.sandbox.base_url).netloc}  # type: ignore[attr-defined]
    host, port = next(iter(allowed)).split(":")
    allowed |= {f"{host}:{port}", f"localhost:{port}"}
    strays = sorted({target for target in run.egress if target not in allowed})
    refused = [str(r.error) for r in run.results if r.error and "did not declare" in str(r.error)]
    require(
        not strays and not refused,
        f"The sync tried to reach hosts the provider does not declare:"
        f" {examples(strays + refused)}.",
        where=f"the fetch hook of {h.name!r}",
        fix="Contact only the provider's declared endpoints, through the client portal hands"
        " you; declare every host the API uses in the Provider.",
    )
    del phase


def sandbox_path(h: Harness) -> Path:
    """Where the API lives on the sandbox (for requests made outside a plugin)."""
    return Path(urlsplit(h.provider.api_base).path)


def not_applicable_without(h: Harness, attribute: str) -> None:
    """Skip when the provider's declaration lacks ``attribute`` (e.g. a device endpoint)."""
    if not getattr(h.provider.oauth, attribute, None):
        raise NotApplicable(f"{h.name!r} declares no {attribute}")
