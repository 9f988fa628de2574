"""The write hook: a change the person asks for is made, seen in the next fetch, and only once.

For a plugin that declares ``Provider.writes`` (the keys of ``portal.control.changes`` its
``apply_change`` hook can make), one home connected to a fresh sandbox and synced asks for
each declared change in turn, as ``portal apply`` does (``portal.control.apply.ask``: the
engine's authorised client, its retries, the change recorded in ``asked_changes``):

- **each declared key** (``test_writes[marketing.email]``): the change is the opposite of
  what the provider releases (a marketing permission, profiling, sharing with third
  parties; for ``consent``, the withdrawal of a consent in force that is about none of
  those, another company's access before portal's own grant). The answer is "applied" (or
  "already so"); the next sync's store equals the sandbox's new truth exactly (the
  comparison ``test_changes`` makes after a step, and every changed record field by field
  against ``expected_records()``); what the provider now releases is what was asked
  (portal's own check after a sync, ``Portal.unheld``, holds the change). Asked again, it
  changes nothing: "already so", or "applied" with the sandbox's truth and the store as
  they were. A provider may refuse to *grant* a permission (with its reason: partners are
  chosen in its app); withdrawing it must then answer "already so" and change nothing. A
  withdrawal refused fails (GDPR Art. 7(3) and 21(3): it must be as easy as consenting).
  Where the only consent to withdraw is portal's own grant (the connection's
  ``consent_id``), the next sync must find its access ended (an authorisation error), and
  it is not asked twice;
- **an unknown change** (``test_writes[unknown]``): every key the plugin does not declare,
  and (if it declares ``consent``) the withdrawal of a consent that does not exist, asked of
  the hook directly: it answers nothing (portal then says "not supported"), "not supported"
  with what to do instead, or "refused" with the provider's reason; never "applied" or
  "already so", never an exception, and the provider's data stays as it was;
- **no secret** (``test_writes[secrets]``): none of the secrets that crossed the sandbox
  appears in the logs of the asks and syncs, in the errors, or in the answers' texts (the
  reason of a refusal, what to do instead), in any of the canary search's encodings.
  The answers' texts are kept as the run's printed output, so the suite's last search
  (``secrets_every_run``) reads them too.

A plugin that declares no writes gets none of these checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from portal.control.apply import ask
from portal.control.changes import CONSENT, PREFERENCES, WORDS, Change, ChangeResult, Outcome
from portal.control.preferences import preference_of, released
from portal.control.tables import AskedChange
from portal.errors import AuthError
from portal.provider import Provider
from portal.record.ids import canonical_json
from portal.record.model import Consent
from portal_conformance.failures import CheckFailed, SetupFailed, examples, require
from portal_conformance.harness import Harness, Run
from portal_conformance.observe import capture_logs
from portal_conformance.rules.canary import encodings
from portal_conformance.rules.changes import _compare
from portal_conformance.rules.values import compare, delivered_values, matched, read_expected
from portal_conformance.truth import GroundTruth, read_truth

UNKNOWN, SECRETS = "unknown", "secrets"
NO_SUCH_CONSENT = "portal-conformance-no-such-consent"
"""The id of a consent no provider has: its withdrawal must be refused, not applied."""
WITHDRAWN = {"withdrawn", "expired", "declined"}
"""The states of a consent no longer in force (``portal.control.apply.verify``)."""


def names(provider: Provider) -> list[str]:
    """The parameters of ``test_writes``: each declared key, then the unknown change and
    the secret search; none for a plugin that declares no writes."""
    return [*provider.writes, UNKNOWN, SECRETS] if provider.writes else []


@dataclass
class Asked:
    """What asking one change (or the unknown ones) showed."""

    problems: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    setup: str | None = None
    answers: list[str] = field(default_factory=list)
    """Each answer in words (``applied: perm-email is now opted_out``), for the figures."""

    def fail(self, problem: str, fix: str) -> None:
        self.problems.append(problem)
        if fix not in self.fixes:
            self.fixes.append(fix)


def writes(h: Harness, param: str) -> dict[str, float]:
    """The write hook makes each declared change, once, seen in the next fetch; refuses an
    unknown one clearly; and leaks no secret."""
    played = _played(h)
    run: Run = played["run"]
    if param == SECRETS:
        return _secrets(h, played)
    asked: Asked | None = played["asked"].get(param)
    if asked is None:
        raise CheckFailed(
            f"{h.provider.display_name} does not declare the change {param!r}.",
            where=f"Provider(name={h.name!r}).writes",
            fix="Run the checks the registry generates for the declared keys.",
        )
    if asked.setup is not None:
        raise SetupFailed(
            asked.setup,
            where=f"portal sync {h.name} after asking {param!r}",
            fix="Make the sync complete whatever the person changed at the provider.",
        )
    what = "unknown changes" if param == UNKNOWN else f"the change {param!r}"
    if asked.problems:
        raise CheckFailed(
            f"Asking {what} through the apply_change hook: {'; '.join(asked.problems)}.",
            where=f"the apply_change hook of {h.name!r} against its sandbox, then portal sync",
            fix=" ".join(asked.fixes),
        )
    return {"answers": float(len(asked.answers)), "syncs": float(len(run.results))}


# -- playing the changes, once per harness ------------------------------------------------


def _played(h: Harness) -> dict[str, Any]:
    cache: dict[str, Any] = h.__dict__.setdefault("_cache", {})
    if "writes" in cache:
        return cache["writes"]  # type: ignore[no-any-return]
    require(
        bool(h.provider.writes),
        f"{h.provider.display_name} declares no writes, so there is no change to ask.",
        where=f"Provider(name={h.name!r}).writes",
        fix="Declare the keys the apply_change hook can make in Provider(writes=...).",
    )
    run = h.run("writes")
    if not run.result.ok:
        raise SetupFailed(
            f"The sync before any change failed: {run.result.error}",
            where=f"portal sync {h.name} against its sandbox",
            fix="Fix the error above; the write checks start from a sync that completes.",
        )
    played: dict[str, Any] = {"run": run, "asked": {}, "texts": {}}
    # The unknown changes first (they must change nothing), and a consent's withdrawal
    # last: it may be portal's own grant, after which nothing more can be asked.
    played["asked"][UNKNOWN] = _unknown(h, run, played["texts"])
    for key in sorted(h.provider.writes, key=lambda k: k == CONSENT):
        played["asked"][key] = _declared(h, run, key, played["texts"])
    # What portal apply would print of the answers: searched by the last secret check too.
    run.outputs.extend(played["texts"].values())
    cache["writes"] = played
    return played


def _consents(run: Run) -> list[dict[str, Any]]:
    return list(run.portal.store.rows(Consent, run.provider))


def _change(run: Run, key: str, asked: Asked) -> Change | None:
    """The change that makes a difference: the opposite of what the provider releases; for
    ``consent``, the withdrawal of a consent in force that is about no preference."""
    consents = _consents(run)
    if key == CONSENT:
        candidates = sorted(
            str(c["provider_id"])
            for c in consents
            if c.get("state") == "active" and preference_of(c) is None
        )
        if not candidates:
            asked.fail(
                "the sandbox releases no consent in force (other than a marketing, profiling"
                " or sharing permission) to withdraw, so the withdrawal cannot be seen in the"
                " next fetch",
                "Make the sandbox release a data-sharing consent in force (a Consent record,"
                " state active) that the hook can withdraw, and keep releasing it, withdrawn,"
                " afterwards.",
            )
            return None
        # Another company's access first: withdrawing portal's own grant (the connection's
        # consent) ends the access the next sync needs, which is judged on its own.
        own = run.connection.consent_id if run.connection is not None else None
        others = [c for c in candidates if not _is_own(c, own)]
        return Change(CONSENT, False, consent=(others or candidates)[0])
    now = released(consents).get(key)
    if now is None or now.allowed is None:
        asked.fail(
            f"the sandbox releases no permission for {WORDS[key]} in force or refused, so a"
            " change to it cannot be seen in the next fetch",
            f"Make the sandbox release {WORDS[key]} as a Consent record (portal.control."
            "preferences.preference_of says which kind and channel) with an active or a"
            " declined state.",
        )
        return None
    return Change(key, not now.allowed)


def _ask(h: Harness, run: Run, change: Change, texts: dict[str, str], asked: Asked) -> Any:
    """Ask ``change`` as portal apply does; None (and a problem) if the plugin raised."""
    with capture_logs() as logs:
        try:
            result = ask(run.portal, h.provider, change)
        except Exception as error:  # the hook's own bug: the person would see a crash
            text = f"{type(error).__name__}: {error}"
            texts[f"the error asking {change.describe()}"] = text
            asked.fail(
                f"asking {change.describe()} raised {text}",
                "Answer every change with a ChangeResult (Outcome.refused with the"
                " provider's reason for an error answer); never let an exception out.",
            )
            return None
        finally:
            run.logs.extend(logs.lines)
    n = len(texts)
    texts[f"answer {n} to {change.describe()} (detail)"] = result.detail
    texts[f"answer {n} to {change.describe()} (instead)"] = result.instead
    asked.answers.append(f"{result.outcome.value}: {result.detail or result.instead}")
    return result


def _said(result: ChangeResult) -> str:
    words = result.detail or result.instead
    return f"{result.outcome.value}" + (f" ({words})" if words else "")


def _holds(run: Run, change: Change) -> bool:
    consents = _consents(run)
    if change.key == CONSENT:
        states = {str(c["state"]) for c in consents if c["provider_id"] == change.consent}
        return bool(states) and states <= WITHDRAWN
    now = released(consents).get(change.key)
    return now is not None and now.allowed is change.allow


def _synced(h: Harness, run: Run, asked: Asked, when: str) -> GroundTruth | None:
    result = h.sync(run)
    if not result.ok:
        asked.setup = f"The sync {when} failed: {result.error}"
        return None
    return read_truth(run.sandbox)


def _declared(h: Harness, run: Run, key: str, texts: dict[str, str]) -> Asked:
    asked = Asked()
    change = _change(run, key, asked)
    if change is None:
        return asked
    before = read_truth(run.sandbox)
    since = _last_asked(run)
    first = _ask(h, run, change, texts, asked)
    if first is None:
        return asked
    if first.outcome is Outcome.refused and change.allow and first.detail.strip():
        # A provider may refuse to *grant* a permission through the API (named partners
        # chosen in its app); a withdrawal it must make (GDPR Art. 7(3), 21(3)). The
        # permission is then already withdrawn: asking for that changes nothing.
        return _refused_grant(h, run, change, before, texts, asked)
    if first.outcome not in (Outcome.applied, Outcome.already):
        asked.fail(
            f"asked to make {change.describe()}, it answered {_said(first)}",
            "Declare in Provider.writes only the changes the provider's API makes, and make"
            " the sandbox accept them as the provider's published API does.",
        )
        return asked
    own = run.connection.consent_id if run.connection is not None else None
    if change.consent is not None and _is_own(change.consent, own):
        return _own_grant(h, run, change, first, asked)
    after = _synced(h, run, asked, f"after asking {change.describe()}")
    if after is None:
        return asked
    _against_truth(h, run, after, before, asked, "after the change")
    unheld = _unheld(run, since)
    if not _holds(run, change) or unheld:
        said = "; ".join(unheld) or "it still releases the earlier state"
        asked.fail(
            f"it answered {_said(first)}, but the next sync does not release"
            f" {change.describe()} ({said})",
            "Answer applied only once the provider accepted the change (its success status),"
            " change exactly the permission asked for, and make the sandbox's ground_truth()"
            " and expected_records() follow the change.",
        )
        return asked
    again = _ask(h, run, change, texts, asked)
    if again is None:
        return asked
    if again.outcome not in (Outcome.applied, Outcome.already):
        asked.fail(
            f"asked again for {change.describe()}, it answered {_said(again)}",
            "Make the hook idempotent: a change already made answers Outcome.already.",
        )
        return asked
    still = _synced(h, run, asked, f"after asking {change.describe()} again")
    if still is None:
        return asked
    if _canonical(still) != _canonical(after) or not _holds(run, change):
        asked.fail(
            f"asking again for {change.describe()} (answered {_said(again)}) changed what the"
            " provider serves",
            "Set the state asked for (never toggle it, never add a second permission): the"
            " same change twice leaves the same state, and answers Outcome.already the"
            " second time when the provider shows it already was so.",
        )
    _against_truth(h, run, still, after, asked, "after asking again")
    return asked


def _refused_grant(
    h: Harness, run: Run, change: Change, before: GroundTruth, texts: dict[str, str], asked: Asked
) -> Asked:
    """Granting ``change`` was refused with the provider's reason: withdrawing it (what it
    releases now) must answer already so, and change nothing."""
    withdraw = Change(change.key, False)
    again = _ask(h, run, withdraw, texts, asked)
    if again is None:
        return asked
    if again.outcome not in (Outcome.applied, Outcome.already):
        asked.fail(
            f"granting it was refused, and asked for {withdraw.describe()} (what it"
            f" releases) it answered {_said(again)}",
            "Answer Outcome.already for a permission already withdrawn.",
        )
        return asked
    still = _synced(h, run, asked, f"after asking {withdraw.describe()}")
    if still is None:
        return asked
    if _canonical(still) != _canonical(before) or not _holds(run, withdraw):
        asked.fail(
            f"asking for {withdraw.describe()}, already so, changed what the provider serves",
            "Set the state asked for: a permission already withdrawn stays as it is.",
        )
    _against_truth(h, run, still, before, asked, f"after asking {withdraw.describe()}")
    return asked


def _is_own(consent: str, own: str | None) -> bool:
    """Whether the Consent record ``consent`` (a provider id) is portal's own grant, the
    connection's ``own`` consent: the same id, or it behind the plugin's namespace
    (``authorization:1`` for the Green Button Authorization 1), as ``values.matched`` reads
    ids."""
    return own is not None and (consent == own or consent.endswith(f":{own}"))


def _own_grant(h: Harness, run: Run, change: Change, first: ChangeResult, asked: Asked) -> Asked:
    """portal's own grant withdrawn (the only consent the provider releases): the next sync
    must find its access ended (an authorisation error, said to the person), not carry on
    as if the provider still granted it. Asking again cannot reach the provider then, so
    it is not asked."""
    result = h.sync(run)
    if result.ok and not _holds(run, change):
        asked.fail(
            f"it answered {_said(first)} to {change.describe()}, portal's own grant, but the"
            " next sync still had access and the consent is still released in force",
            "Answer applied only once the provider deleted the consent (its success status),"
            " and make the sandbox revoke the grant's tokens (Sandbox.withdraw_consent).",
        )
    elif not result.ok and not isinstance(result.error, AuthError):
        asked.setup = (
            f"The sync after withdrawing portal's own grant failed otherwise than for the"
            f" access withdrawn: {result.error}"
        )
    return asked


def _last_asked(run: Run) -> int:
    """The id of the last change recorded in ``asked_changes`` (0: none yet)."""
    table = AskedChange.__table__  # type: ignore[attr-defined]
    with run.portal.store.engine.connect() as db:
        return int(db.execute(select(func.max(table.c.id))).scalar() or 0)


def _unheld(run: Run, since: int) -> list[str]:
    """portal's own check after the sync (``Portal.unheld``), for the changes asked after
    ``since`` only: each one the provider said it applied and does not release."""
    table = AskedChange.__table__  # type: ignore[attr-defined]
    query = select(table).where(
        table.c.id > since,
        table.c.provider == run.provider,
        table.c.outcome == Outcome.applied.value,
        table.c.held.is_not(True),
    )
    with run.portal.store.engine.connect() as db:
        rows = list(db.execute(query))
    return [f"portal's check after the sync: {row.key} not held" for row in rows]


def _canonical(truth: GroundTruth) -> dict[str, list[str]]:
    return {c: sorted(canonical_json(i) for i in items) for c, items in truth.items.items()}


def _against_truth(
    h: Harness, run: Run, truth: GroundTruth, before: GroundTruth, asked: Asked, when: str
) -> None:
    """The store equals ``truth`` as ``test_changes`` judges a step, and every record of a
    changed item says what ``expected_records()`` states, field by field."""
    for problem in _compare(run, truth, before):
        asked.fail(
            f"{when}, {problem}",
            "Fetch the permissions again on every sync and store them as served (the record"
            " of a changed item updated, none lost).",
        )
    old = _canonical(before)
    changed = {
        category: {
            str(i.get("id", "")) for i in items if canonical_json(i) not in old.get(category, [])
        }
        for category, items in truth.items.items()
    }
    expected = read_expected(run.sandbox)
    for category, ids in changed.items():
        if not ids or category not in expected:
            continue
        entity = h.entity(category)
        stated: Mapping[str, Mapping[str, Any]] = expected[category]
        for row in run.rows(entity):
            key = matched(str(row["provider_id"]), stated)
            if key is None or key not in ids:
                continue
            unstated, wrong = compare(stated[key], delivered_values(entity, row))
            wrong = [w for w in wrong if not w[0].endswith("_id")]  # references: values'
            for name, value, got, why in wrong:
                asked.fail(
                    f"{when}, the {category} record {key} holds {name}={got!r} where the"
                    f" sandbox states {value!r} ({why})",
                    "Normalise the changed item as any other: the record says what the"
                    " provider now serves.",
                )
            if unstated:
                asked.fail(
                    f"{when}, the {category} record {key} fills fields the sandbox does not"
                    f" state: {examples(unstated)}",
                    "State every field of a changed item in expected_records().",
                )


def _unknown(h: Harness, run: Run, texts: dict[str, str]) -> Asked:
    """Every change the plugin does not declare, and a consent that does not exist."""
    asked = Asked()
    cases = [
        Change(key, False, consent=NO_SUCH_CONSENT if key == CONSENT else None)
        for key in (*PREFERENCES, CONSENT)
        if key not in h.provider.writes
    ]
    if CONSENT in h.provider.writes:
        cases.append(Change(CONSENT, False, consent=NO_SUCH_CONSENT))
    before = _canonical(read_truth(run.sandbox))
    hook = run.portal.plugins.caller(h.name, "apply_change")
    for change in cases:
        what = (
            f"the withdrawal of a consent that does not exist ({NO_SUCH_CONSENT})"
            if change.key in h.provider.writes
            else f"{change.describe()} (not declared)"
        )
        with capture_logs() as logs, run.portal.client(h.name) as client:
            try:
                result = hook(provider=h.provider, client=client, change=change)
            except Exception as error:
                text = f"{type(error).__name__}: {error}"
                texts[f"the error asking {what}"] = text
                asked.fail(
                    f"asked for {what}, it raised {text}",
                    "Answer a change the provider cannot make with None (portal says 'not"
                    " supported'), Outcome.not_supported with what to do instead, or"
                    " Outcome.refused with the provider's reason (its error body); never"
                    " let an exception out.",
                )
                continue
            finally:
                run.logs.extend(logs.lines)
        if result is None:
            asked.answers.append(f"{what}: none (not supported)")
            continue
        if not isinstance(result, ChangeResult):
            asked.fail(
                f"asked for {what}, it answered {type(result).__name__}, not a ChangeResult",
                "Return a portal.control.changes.ChangeResult, or None.",
            )
            continue
        n = len(texts)
        texts[f"answer {n} to {what} (detail)"] = result.detail
        texts[f"answer {n} to {what} (instead)"] = result.instead
        asked.answers.append(f"{what}: {_said(result)}")
        if result.outcome in (Outcome.applied, Outcome.already, Outcome.failed):
            asked.fail(
                f"asked for {what}, it answered {_said(result)}",
                "Make only the changes the provider's API makes, and check the provider's"
                " answer: a change it cannot make, or of something it does not have, is"
                " Outcome.not_supported (with what to do instead) or Outcome.refused (with"
                " its reason), never applied or already so.",
            )
        elif result.outcome is Outcome.not_supported and not result.instead.strip():
            asked.fail(
                f"asked for {what}, it answered not supported without saying what the person"
                " can do instead",
                "Fill ChangeResult.instead (the provider's data protection contact, the"
                " settings page), or return None and declare Provider.write_instead.",
            )
        elif result.outcome is Outcome.refused and not result.detail.strip():
            asked.fail(
                f"asked for {what}, it answered refused without the provider's reason",
                "Put the provider's reason (its error body's words) in ChangeResult.detail.",
            )
    if _canonical(read_truth(run.sandbox)) != before:
        asked.fail(
            "after the unknown changes, the provider serves other data than before",
            "Change nothing at the provider for a change the plugin does not make.",
        )
    return asked


def _secrets(h: Harness, played: dict[str, Any]) -> dict[str, float]:
    run: Run = played["run"]
    secrets: dict[str, str] = dict(run.sandbox.secret_kinds())
    require(
        bool(secrets),
        "The sandbox saw no secret, so the search means nothing.",
        where="the write run",
        fix="Connect through the sandbox's authorization server (or note the keys it"
        " accepts with Sandbox.note_secret).",
    )
    places = {f"log line {i}": line for i, line in enumerate(run.logs)}
    errors = [r.error for r in run.results if r.error is not None]
    for i, error in enumerate(errors):
        places[f"sync error {i}"] = f"{error!s} {error!r} {getattr(error, 'hint', '')}"
    places |= played["texts"]
    leaks = sorted(
        {
            f"{where} ({kind.replace('_', ' ')})"
            for secret, kind in secrets.items()
            for form in encodings(secret)
            for where, text in places.items()
            if form in text
        }
    )
    require(
        not leaks,
        f"Secrets leaked through the write hook: {examples(leaks)}.",
        where=f"the logs, errors and answers of the changes asked of {h.name!r}",
        fix="Never put a token in a ChangeResult, a log line or an error: give the"
        " provider's reason (its error body) and names only.",
    )
    return {"places searched": float(len(places))}
