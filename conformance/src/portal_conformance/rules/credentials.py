"""Credentials over time: syncs in processes of their own keep every rotated refresh token.

One portal home is connected once; then ``portal sync <provider>`` runs in a fresh process
for each scenario of ``SYNCS``, in that order, against the same home and its file vault,
as a person's scheduled syncs would: the first starts with an access token just outside
portal's refresh margin (``portal.auth.refresh.refresh_margin``), the second with one
inside it, and in the third the provider revokes the access token partway through, so the
refresh happens inside the plugin's fetch. The sandbox's authorization server rotates the
refresh token on every refresh and judges each refresh it is asked for
(``Sandbox.refresh_uses``). Time is not waited for: both sides are told the token is
older than it is (the sandbox's ``expire_tokens(within=...)``, the vault's ``expires_at``).

A sync passes when its process completes, no refresh token was presented after it had
been rotated, the vault holds the refresh token the server issued last once the process
has ended, and the refreshes are what the expiries explain. A plugin that refreshes by
itself and never persists the rotated token fails at its first sync.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from portal.auth.refresh import refresh_margin
from portal.auth.tokens import TokenSet
from portal.provider import NO_OAUTH
from portal.sandbox.refreshes import RefreshUse
from portal_conformance.failures import CheckFailed, NotApplicable, SetupFailed, examples
from portal_conformance.harness import Harness, Run

SYNCS = ("outside_margin", "near_expiry", "revoked_mid_sync")
"""The scenarios, each one sync in a process of its own, run in this order in one home."""
HEADROOM = 10.0
"""How far outside the refresh margin (seconds) the first sync's access token starts."""
SLACK = 2.0
"""Seconds past the margin a refresh still counts as explained: the vault keeps whole
seconds, and the two sides read the clock at slightly different moments."""
SYNC_SECONDS = 300
"""How long one sync's process may take before it counts as not completing."""
_AUTH = ("/oauth/", "/.well-known/", "/device")
"""The sandbox's authorization server routes: not API requests."""
EXPECTED_REFRESHES = {"outside_margin": 0, "near_expiry": 1, "revoked_mid_sync": 1}

_FIX = (
    "Let portal's client refresh the tokens: it refreshes before expiry and after a 401,"
    " once however many requests or processes meet the expiry, and writes the rotated"
    " refresh token back to the vault. Where the provider says a token is no longer good in"
    " its own way, call client.refresh(); never call the token endpoint yourself."
)


@dataclass(frozen=True)
class Seen:
    """One sync's process and what the authorization server saw while it ran."""

    scenario: str
    number: int
    setting: str
    returncode: int
    output: str
    refreshes: list[RefreshUse]
    """What the authorization server saw of each refresh during this sync."""
    margin: float
    vault_state: str
    """What the refresh token in the vault was, at the server, once the process ended."""
    refused: int
    """API requests answered 401 (a revoked or expired access token)."""


def credentials(h: Harness, scenario: str) -> None:
    """One sync of ``SYNCS`` in its own process: completed, rotation persisted, refreshes
    as the expiries explain."""
    h.unsupported("oauth", "credentials", f"credentials.{scenario}")
    h.requires_oauth("token that expires, refreshes or rotates")
    if h.provider.oauth == NO_OAUTH or not h.provider.oauth.token_url:
        raise NotApplicable(
            f"{h.name!r} declares no OAuth token endpoint (it signs in with a key, or only"
            " imports files): it holds no tokens that expire or rotate"
        )
    _judge(h, _syncs(h)[scenario])


def _syncs(h: Harness) -> dict[str, Seen]:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "credentials" not in cache:
        try:
            cache["credentials"] = _run_syncs(h)
        except (NotApplicable, CheckFailed) as error:
            cache["credentials"] = error  # the same answer for every scenario, found once
    found = cache["credentials"]
    if isinstance(found, Exception):
        raise found
    return found  # type: ignore[no-any-return]


def _run_syncs(h: Harness) -> dict[str, Seen]:
    """Connect one home, then sync it once per scenario, each in a process of its own."""
    run = h.run("credentials", sync=False)
    tokens = _tokens(run)
    if tokens.refresh_token is None and tokens.expires_at is None:
        raise NotApplicable(
            f"the login of {h.name!r} gave a credential that neither expires nor comes"
            " with a refresh token (an API key): nothing to refresh or rotate"
        )
    rule = run.sandbox.settings.refresh_tokens
    if rule != "rotating":
        raise SetupFailed(
            f"The sandbox's authorization server does not rotate refresh tokens"
            f" (refresh_tokens={rule!r}), so this check cannot tell a kept rotation from"
            " a lost one.",
            where=f"the sandbox of {h.name!r}",
            fix="Leave Sandbox(refresh_tokens='rotating') (the default) for the suite, or"
            " declare 'credentials' unsupported with the provider's reason.",
        )
    seen: dict[str, Seen] = {}
    made = 0  # API requests of the sync before, to revoke the token partway through one
    for number, scenario in enumerate(SYNCS, 1):
        seen[scenario], made = _sync_in_process(h, run, scenario, number, made)
    return seen


def _tokens(run: Run) -> TokenSet:
    assert run.connection is not None
    tokens = run.portal.vault.get(run.connection.id)
    if tokens is None:
        raise SetupFailed(
            "After connecting, the vault holds no tokens for the connection.",
            where="portal connect against the sandbox",
            fix="Return the tokens from the authenticate hook.",
        )
    return tokens


def _expire_in(run: Run, seconds: float) -> None:
    """Make the access token expire ``seconds`` from now, for the server and the vault alike."""
    assert run.connection is not None
    run.sandbox.expire_tokens(within=seconds)
    tokens = _tokens(run)
    aged = {**tokens.as_dict(), "expires_at": int(time.time() + seconds)}
    run.portal.vault.put(run.connection.id, TokenSet(aged))


def _sync_in_process(
    h: Harness, run: Run, scenario: str, number: int, requests: int
) -> tuple[Seen, int]:
    """Set up ``scenario``, run one sync in a new process; what was seen, and API requests."""
    margin = refresh_margin(_tokens(run).values)
    if scenario == "outside_margin":
        _expire_in(run, margin + HEADROOM)
        setting = (
            f"it started with the access token {margin + HEADROOM:.0f} s from expiry, just"
            f" outside portal's {margin:.0f} s refresh margin"
        )
    elif scenario == "near_expiry":
        _expire_in(run, margin / 2)
        setting = (
            f"it started with the access token {margin / 2:.0f} s from expiry, inside"
            f" portal's {margin:.0f} s refresh margin"
        )
    else:
        partway = max(1, requests // 2)  # the sync before was a re-sync too
        run.sandbox.revoke_access_after(partway)
        setting = f"the provider revoked the access token after {partway} API requests"
    before_uses, before_requests = len(run.sandbox.refresh_uses), len(run.sandbox.requests)
    returncode, output = h.sync_in_process(run, timeout=SYNC_SECONDS)
    api = [r for r in run.sandbox.requests[before_requests:] if not r.path.startswith(_AUTH)]
    after = _tokens(run).refresh_token
    seen = Seen(
        scenario=scenario,
        number=number,
        setting=setting,
        returncode=returncode,
        output=output,
        refreshes=run.sandbox.refresh_uses[before_uses:],
        margin=margin,
        vault_state=run.sandbox.refresh_token_state(after) if after else "missing",
        refused=sum(1 for r in api if r.status == 401),
    )
    return seen, len(api)


def _judge(h: Harness, seen: Seen) -> None:
    struck = seen.scenario != "revoked_mid_sync" or seen.refused or seen.returncode != 0
    if not struck:
        raise CheckFailed(
            f"Sync {seen.number} of {len(SYNCS)} ({seen.setting}) never met the revoked token:"
            " it made too few API requests for the revocation to strike, so nothing was shown.",
            where=f"portal sync {h.name}, in a process of its own against the same home",
            fix="Make a re-sync ask at least two API requests, or declare"
            " 'credentials.revoked_mid_sync' unsupported with the provider's reason.",
        )
    problems = []
    if seen.returncode != 0:
        problems.append(f"the sync did not complete (exit {seen.returncode}: {seen.output})")
    reused = [u.state for u in seen.refreshes if u.state != "current"]
    if reused:
        problems.append(
            f"{_refreshes(len(reused))} presented a refresh token that was no longer current"
            f" at the server ({examples(reused)}; 'rotated' means it was used twice)"
        )
    if seen.vault_state != "current":
        problems.append(
            f"once the process ended, the vault held {_STATE_WORDS[seen.vault_state]}, not"
            " the refresh token the server issued last: the rotation was not persisted"
        )
    unexplained = [
        f"{u.access_left:.0f} s" if u.access_left is not None else "unknown"
        for u in seen.refreshes
        if not u.access_revoked and (u.access_left is None or u.access_left > seen.margin + SLACK)
    ]
    if unexplained:
        problems.append(
            f"{_refreshes(len(unexplained))} came while the access token was neither revoked nor"
            f" within the {seen.margin:.0f} s margin of its expiry (time left:"
            f" {examples(unexplained)})"
        )
    expected, count = EXPECTED_REFRESHES[seen.scenario], len(seen.refreshes)
    # Outside the margin, one refresh is right if the sync itself ran into the margin.
    tolerated = expected == 0 and count == 1 and not unexplained
    if count != expected and not tolerated:
        problems.append(f"it made {_refreshes(count)} where the expiries explain {expected}")
    if problems:
        raise CheckFailed(
            f"Sync {seen.number} of {len(SYNCS)} ({seen.setting}): {'; '.join(problems)}.",
            where=f"portal sync {h.name}, in a process of its own against the same home",
            fix=_FIX,
        )


_STATE_WORDS = {
    "rotated": "a refresh token the server had already rotated away",
    "revoked": "a refresh token the server had revoked",
    "expired": "a refresh token past its lifetime",
    "unknown": "a refresh token the server never issued",
    "missing": "no refresh token at all",
}


def _refreshes(count: int) -> str:
    return f"{count} refresh{'' if count == 1 else 'es'}"
