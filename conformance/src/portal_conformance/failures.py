"""How a check says it failed or does not apply: what is wrong, where, and how to fix it.

Checks are plain functions that raise ``CheckFailed`` or ``NotApplicable``; the pytest layer
turns them into a failure (no traceback: the message is the report) or a skip with the
declared reason. Nothing is ever skipped without a reason.
"""

from __future__ import annotations

from collections.abc import Iterable

from portal.shown import shown as _shown

LIMIT = 20_000
"""Characters of a failure's message kept at most (``portal.shown`` cuts the rest)."""

MAX_EXAMPLES = 5
"""How many offending values a failure message shows; the count says how many there are."""


class CheckFailed(AssertionError):
    """A check found the plugin wrong: ``what`` is wrong, ``where`` it is, ``fix`` what to do."""

    def __init__(
        self, what: str, *, where: str, fix: str, stats: dict[str, float] | None = None
    ) -> None:
        # They quote the plugin's and the provider's values (ids, errors, field names): each
        # part is one inert line, whatever those values hold (portal.shown).
        what, where, fix = (_shown(part, limit=LIMIT) for part in (what, where, fix))
        self.what, self.where, self.fix = what, where, fix
        self.stats = stats or {}
        """Figures for the report (e.g. how many values were checked and how many failed)."""
        super().__init__(f"{what}\n  where: {where}\n  fix: {fix}")


class SetupFailed(CheckFailed):
    """The check could not even start: connecting or syncing against the sandbox failed.

    Still a failure of the plugin (and shown as one), but not evidence about the property the
    check is for; the suite's self-test tells the two apart.
    """


class NotApplicable(Exception):
    """The check could not run here, for the reason given (shown as a skip).

    It blocks the check's tier: a check that did not run is no evidence. Only a check the
    plugin declared unsupported (``DeclaredUnsupported``) leaves the tier open; a check
    that can never apply to a provider is not generated for it at all (``registry``).
    """

    def __init__(self, reason: str) -> None:
        reason = _shown(reason, limit=LIMIT)  # may quote the plugin's declaration
        super().__init__(reason)
        self.reason = reason


class NotExercised(NotApplicable):
    """The check applies, but this run could not exercise it (the fault it needs never struck).

    Shown as a skip with the reason, and it blocks the check's tier like every skip but a
    declared one.
    """


class DeclaredUnsupported(NotApplicable):
    """The plugin declared the check unsupported in ``PORTAL_CONFORMANCE``, with its reason
    (or its provider's declaration leaves nothing to check: no published specification).

    The one skip that does not block a tier: the report shows the reason to whoever reads
    it, so the plugin's author answers for it.
    """


class NotForCredential(DeclaredUnsupported):
    """The provider's kind of credential has nothing of this to check: an API key or an
    access URL has no refresh, rotation or revocation endpoint, and no scopes to narrow.

    Shown as a skip naming the kind, and, like a declared one, it leaves the tier open: the
    check is not missing evidence, there is no such thing to test.
    """


def examples(values: Iterable[object], limit: int = MAX_EXAMPLES) -> str:
    """A short list of offending values for a failure message: the first few, and how many."""
    items = list(values)
    shown = "; ".join(str(v) for v in items[:limit])
    more = f" (and {len(items) - limit} more)" if len(items) > limit else ""
    return shown + more


def require(condition: bool, what: str, *, where: str, fix: str) -> None:
    """Raise ``CheckFailed`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(what, where=where, fix=fix)
