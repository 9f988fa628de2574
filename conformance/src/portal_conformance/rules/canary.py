"""The canary search: no secret that crossed the sandbox shows up anywhere, on any path.

It collects every secret that crossed the sandbox (issued or received: tokens, codes,
verifiers, client secrets, state) and searches for it, as is and URL-, JSON- and
base64-encoded, in every log line at DEBUG, every repr, every error (message and hint),
the store file and every exported file, of every run: the main sync, a refresh and a
refused sync, the chaos and Retry-After syncs, and syncs where a fault outlasts the retries
(a final 5xx, a final timeout, a refused refresh), since failure paths are where a token
slips into a log line or an error. A leak is named by scenario, place and kind of secret,
never by any part of the secret.

``every_run`` is the suite's last check: it searches the logs, errors and printed output of
every run any check made (the harness keeps a trace of each, variants' included), and what
``portal sync`` prints in a process of its own.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from portal.export import export
from portal.http import RetryPolicy
from portal.sandbox import Fault
from portal_conformance.failures import examples, require
from portal_conformance.harness import Harness, Run
from portal_conformance.observe import capture_logs
from portal_conformance.rules.resilience import chaos_run, paged_path, retry_after_run

SECRET_PLACES = ("logs", "errors", "reprs", "store", "exports")


def probe(h: Harness, run: Run, attempts: int = 1) -> list[int]:
    """Make authorised API requests through portal's client; return their statuses."""
    path = next(r.path for r in h.main.sandbox.requests if r.authorised)
    with run.portal.client(h.name) as client:
        return [
            client.get(run.sandbox.base_url + path, timeout=10).status_code for _ in range(attempts)
        ]


def encodings(secret: str) -> set[str]:
    """The forms a secret can take in text: as is, URL-, JSON- and base64-encoded."""
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        forms.add(encode(raw).decode())
        forms.add(encode(raw).decode().rstrip("="))
    return {f for f in forms if len(f) >= 8}


SHORT_READ = 0.3
"""Seconds a canary run waits for an answer, so a stalled answer times out for real, fast."""
GIVING_UP = RetryPolicy(attempts=3, initial_wait=0.05, max_wait=0.1)
"""Retries for the runs where a fault outlasts them: a retry and the final failure are both
logged, which is all the secret search needs; six attempts only cost time."""


class _ShortReads(httpx.HTTPTransport):
    """A real socket whose reads give up after ``SHORT_READ`` seconds."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions["timeout"] = httpx.Timeout(10.0, read=SHORT_READ).as_dict()
        return super().handle_request(request)


def _outlasting(h: Harness) -> dict[str, Run]:
    """One run per fault that outlasts the client's retries: the sync fails, and says so.

    Failure paths are where tokens slip into a log line or an error message, so each of
    these runs is searched like the others.
    """
    path = f"^{re.escape(paged_path(h))}$"

    def final_5xx(run: Run) -> None:
        run.sandbox.add_fault(Fault(path=path, status=503, always=True))

    def final_timeout(run: Run) -> None:
        run.sandbox.add_fault(Fault(path=path, delay=SHORT_READ * 3, always=True))

    def refused_refresh(run: Run) -> None:
        run.sandbox.expire_tokens()
        run.sandbox.fail_refresh_with("invalid_grant")

    return {
        "a 5xx that outlasts the retries": h.run(
            "canary-5xx", before_sync=final_5xx, retry_policy=GIVING_UP
        ),
        "a timeout that outlasts the retries": h.run(
            "canary-timeout",
            before_sync=final_timeout,
            transport=_ShortReads(),
            retry_policy=GIVING_UP,
        ),
        "a refused refresh": h.run(
            "canary-refresh", before_sync=refused_refresh, retry_policy=GIVING_UP
        ),
    }


def _canary(h: Harness) -> dict[str, Any]:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "canary" in cache:
        return cache["canary"]  # type: ignore[no-any-return]
    main = h.require_main_ok()
    run = h.run("canary", sync=False)
    with capture_logs() as logs:
        run.sandbox.expire_tokens()
        probe(h, run)  # a refresh: rotated tokens are secrets too
    run.logs.extend(logs.lines)
    run.sandbox.withdraw_consent()
    h.sync(run)  # a sync refused: its error is shown to the person (h.sync keeps its logs)
    # Every fault scenario of the suite, the runs resilience checks share included.
    runs = {
        "the main sync": main,
        "a refresh, then withdrawn consent": run,
        "the chaos sync": chaos_run(h),
        "the Retry-After sync": retry_after_run(h),
        **_outlasting(h),
    }
    exports = main.portal.home / "canary-exports"
    for fmt in ("jsonl", "csv"):
        export(main.portal.store, exports / fmt, fmt, h.name)
    with main.portal.client(h.name) as client:
        reprs = [repr(main.portal), repr(main.portal.store), repr(main.portal.vault),
                 repr(h.provider), repr(client), repr(main.connection)]  # fmt: skip
    places: dict[str, dict[str, str]] = {
        "logs": {},
        "errors": {},
        "reprs": {f"main sync: repr {i}": text for i, text in enumerate(reprs)},
        "store": {},
        "exports": {},
    }
    kinds: dict[str, str] = {}
    for scenario, each in runs.items():
        for i, line in enumerate(each.logs):
            places["logs"][f"{scenario}: log line {i}"] = line
        errors = [r.error for r in each.results if r.error] + [each.login_error]
        for i, error in enumerate(e for e in errors if e is not None):
            hint = getattr(error, "hint", "")
            places["errors"][f"{scenario}: error {i}"] = f"{error!s} {error!r} {hint}"
        for path in each.portal.home.rglob("*"):
            if path.is_file() and "vault" not in path.name:
                kind = "exports" if exports in path.parents else "store"
                places[kind][f"{scenario}: {path}"] = path.read_bytes().decode("latin-1")
        kinds.update(each.sandbox.secret_kinds())
    cache["canary"] = {"places": places, "secrets": kinds}
    return cache["canary"]  # type: ignore[no-any-return]


def secrets(h: Harness, place: str) -> None:
    """No secret that crossed the sandbox appears in ``place``, in any scenario.

    A leak is named by scenario, place and kind of secret (access_token, code, ...),
    never by the secret itself.
    """
    canary = _canary(h)
    found: dict[str, str] = canary["secrets"]
    require(
        len(found) >= 4,
        "The sandbox saw too few secrets for the search to mean anything.",
        where="the canary run",
        fix="Connect and sync through the sandbox's authorization server.",
    )
    leaks = {
        f"{where} ({kind.replace('_', ' ')})"
        for secret, kind in found.items()
        for form in encodings(secret)
        for where, text in canary["places"][place].items()
        if form in text
    }
    require(
        not leaks,
        f"Secrets leaked into {place}: {examples(sorted(leaks))}.",
        where=place,
        fix="Never log, print or store a token (not even at DEBUG, not even in an error);"
        " log names and counts only.",
    )


def every_run(h: Harness, _: str) -> dict[str, int]:
    """No secret in the logs, errors or printed output of any run the suite made.

    The last check of a run of the suite: by then every other check has made its runs
    (crashes, cursor loops, variants, credentials in new processes, ...). Each run is
    searched for the secrets its own sandbox saw: no other sandbox could have told it any.
    """
    _canary(h)  # the fault scenarios happen even when this check runs alone
    # And what a person sees: portal sync in a process of its own (on the main home, last,
    # so no other check reads the store after it), its printed output kept.
    h.sync_in_process(h.main)
    traces = h.origin.every_run()
    leaks: set[str] = set()
    for trace in traces:
        texts = {f"log line {i}": line for i, line in enumerate(trace.logs)}
        for i, error in enumerate(trace.errors):
            texts[f"error {i}"] = f"{error!s} {error!r} {getattr(error, 'hint', '')}"
        texts |= {f"printed output {i}": text for i, text in enumerate(trace.outputs)}
        whole = "\n".join(texts.values())
        for secret, kind in trace.secrets.items():
            for form in encodings(secret):
                if form not in whole:
                    continue  # one search of the whole run; the place only when found
                leaks |= {
                    f"run {trace.name!r}: {where} ({kind.replace('_', ' ')})"
                    for where, text in texts.items()
                    if form in text
                }
    require(
        not leaks,
        f"Secrets leaked in {len(leaks)} place(s) of {len(traces)} runs:"
        f" {examples(sorted(leaks))}.",
        where="the logs, errors and printed output of every run of the suite",
        fix="Never log, print or raise a token (not even at DEBUG, not even on a path that"
        " gives up); log names and counts only.",
    )
    return {"runs searched": len(traces)}
