"""What a person can ask a provider to change, and what the provider answered.

A ``Change`` names one permission and the state the person wants it in: marketing on one
channel (``marketing.email``, ``marketing.sms``, ``marketing.phone``, ``marketing.post``),
``profiling`` (personalised offers and profiling), ``third_party_marketing`` (sharing the
person's data with other companies for their marketing), or the withdrawal of one
data-sharing ``consent`` the provider released (its provider id in ``Change.consent``).
A plugin's ``apply_change`` hook answers with a ``ChangeResult``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

CHANNELS = ("email", "sms", "phone", "post")
"""The marketing channels a person states a preference for (GDPR recital 70, PECR reg. 22:
each channel asked separately)."""

PREFERENCES = (*(f"marketing.{c}" for c in CHANNELS), "profiling", "third_party_marketing")
"""Every preference a person states once for every provider, by its key."""

CONSENT = "consent"
"""The key of a change withdrawing one data-sharing consent (``Change.consent`` names it)."""

WORDS = {
    "marketing.email": "marketing by email",
    "marketing.sms": "marketing by text message",
    "marketing.phone": "marketing by phone",
    "marketing.post": "marketing by post",
    "profiling": "personalised offers and profiling",
    "third_party_marketing": "sharing your data with other companies for their marketing",
    CONSENT: "a data-sharing consent",
}
"""Each key in words, for the terminal and the receipts."""


class Outcome(StrEnum):
    """What the provider answered."""

    applied = "applied"
    """The provider made the change (the next sync checks that it releases the new state)."""
    already = "already"
    """It was already so: nothing to change."""
    not_supported = "not_supported"
    """The provider offers no way to make this change through its API; ``instead`` says
    what the person can do (its contact, a settings page)."""
    refused = "refused"
    """The provider refused; ``detail`` carries its reason."""
    failed = "failed"
    """portal could not ask (the provider unreachable, the connection's access lapsed, an
    error in the plugin); ``detail`` says what happened. Nothing is known to have changed:
    run ``portal apply`` again."""


OUTCOME_WORDS = {
    Outcome.applied: "applied",
    Outcome.already: "already so",
    Outcome.not_supported: "not supported",
    Outcome.refused: "refused",
    Outcome.failed: "could not ask",
}


@dataclass(frozen=True)
class Change:
    """One change the person asked of one provider: ``key`` (a preference of
    ``PREFERENCES``, or ``CONSENT``) to be allowed (``allow``) or not."""

    key: str
    allow: bool
    consent: str | None = None
    """The provider's id of the Consent this change is about, when it released one."""

    def __post_init__(self) -> None:
        if self.key not in PREFERENCES and self.key != CONSENT:
            known = ", ".join((*PREFERENCES, CONSENT))
            raise ValueError(f"unknown change {self.key!r} (known: {known})")
        if self.key == CONSENT and (self.allow or not self.consent):
            raise ValueError("a consent change withdraws one consent, named by its id")

    @property
    def channel(self) -> str | None:
        """The marketing channel (``email``...), for a marketing change."""
        return self.key.partition(".")[2] or None if self.key.startswith("marketing.") else None

    def describe(self) -> str:
        """The change in words: "marketing by email: no"."""
        if self.key == CONSENT:
            return f"withdraw the data-sharing consent {self.consent}"
        return f"{WORDS[self.key]}: {'yes' if self.allow else 'no'}"


@dataclass(frozen=True)
class ChangeResult:
    """What the provider answered to one ``Change``."""

    outcome: Outcome
    detail: str = ""
    """The provider's own words: its reason for a refusal, what it did for a change."""
    instead: str = ""
    """For ``not_supported``: what the person can do instead (write to the provider's data
    protection contact from its processing notice, change it in the app's settings)."""
