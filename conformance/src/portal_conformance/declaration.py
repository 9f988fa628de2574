"""What a plugin declares to the conformance suite: waivers and what it does not support.

A plugin declares it as plain data in the module that registers its provider, so the plugin
needs no import of this package at run time::

    PORTAL_CONFORMANCE = {
        "acme": {
            "waivers": [
                {
                    "check": "test_legible[transactions.description]",
                    "reason": "Acme's API truncates descriptions mid-character (ticket 42).",
                    "link": "https://github.com/acme/portal-acme/issues/42",
                    "expires": "2027-03-31",
                }
            ],
            "unsupported": {"permissions": "Acme grants every category under one scope."},
            "ignored_fields": {"transactions": {"internal_ref": "Acme's own row number."}},
            "resync_budget": {"per_sync": 3, "per_account": 2, "items_per_request": 100},
        }
    }

A waiver is structured, never free text: which check, why, where it is tracked, and until
when. A waived check that fails is reported as waived; an expired waiver fails the check.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

ATTRIBUTE = "PORTAL_CONFORMANCE"
"""The module attribute the suite reads the declaration from."""


class Waiver(BaseModel):
    """Permission for one check (or a glob of them) to fail, for a reason and a while."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check: str = Field(
        description="A test name as the report shows it, e.g. test_legible[transactions.amount];"
        " * and ? match like a shell glob."
    )
    reason: str = Field(min_length=10, description="Why the check fails and what is being done.")
    link: HttpUrl = Field(description="Where the problem is tracked (an issue, a ticket).")
    expires: date = Field(description="The last day the waiver holds.")

    @field_validator("check")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.startswith("test_"):
            raise ValueError("name a check as the report does, e.g. test_legible[x.y]")
        return value

    def covers(self, test_name: str) -> bool:
        """Whether this waiver is about ``test_name`` (``test_legible[transactions.amount]``)."""
        # Only * and ? are wildcards: the brackets of a test id are literal.
        pattern = re.escape(self.check).replace(r"\*", ".*").replace(r"\?", ".")
        return re.fullmatch(pattern, test_name) is not None

    def expired(self, today: date | None = None) -> bool:
        """Whether the waiver no longer holds."""
        return (today or datetime.now(UTC).date()) > self.expires


class ResyncBudget(BaseModel):
    """How many API requests a re-sync may make: what it always asks, and what is new.

    A re-sync with nothing new still asks each stream for its first page and each resource
    served whole for its list; beyond that, one request per ``items_per_request`` items
    that are new or changed. A plugin that fetches all its history again exceeds it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    per_sync: int = Field(ge=0, description="Requests every re-sync makes once (the lists).")
    per_account: int = Field(
        ge=0, description="Requests every re-sync makes for each account the sandbox serves."
    )
    items_per_request: int = Field(
        ge=1, description="New or changed items one more request brings (the page size)."
    )

    def allowed(self, *, accounts: int, changed: int) -> int:
        """The requests a re-sync may make with ``accounts`` accounts and ``changed`` items."""
        more = math.ceil(changed / self.items_per_request)
        return self.per_sync + self.per_account * accounts + more


class Declaration(BaseModel):
    """Everything a plugin tells the suite about one provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    waivers: tuple[Waiver, ...] = ()
    unsupported: dict[str, str] = Field(
        default_factory=dict,
        description="Check family (e.g. 'permissions', 'oauth.device_flow') to the reason it"
        " does not apply; the check is skipped with that reason, the only skip that leaves"
        " the tier open.",
    )
    ignored_fields: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="Category to raw field to the reason the plugin deliberately drops it."
        " A field is named by its path in the raw item: 'Amount.Currency' in an object,"
        " 'Account[].SecondaryIdentification' in each object of an array; a path covers"
        " everything beneath it.",
    )
    resync_budget: ResyncBudget | None = Field(
        default=None,
        description="The API requests a re-sync may make (test_changes); required there.",
    )
    category_scopes: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Category to the OAuth scope that grants it, or to a list of the scopes"
        " that each grant it, for the permissions check (which withholds all of them).",
    )

    @field_validator("category_scopes", mode="before")
    @classmethod
    def _scope_lists(cls, value: Any) -> Any:
        # One scope is the common case and stays a plain string in declarations.
        if isinstance(value, dict):
            return {k: (v,) if isinstance(v, str) else v for k, v in value.items()}
        return value

    def waiver_for(self, test_name: str) -> Waiver | None:
        """The first waiver covering ``test_name``."""
        return next((w for w in self.waivers if w.covers(test_name)), None)

    def unsupported_reason(self, *names: str) -> str | None:
        """The declared reason one of ``names`` (a family, or family.param) does not apply."""
        return next((self.unsupported[n] for n in names if n in self.unsupported), None)


class DeclarationError(ValueError):
    """A plugin's conformance declaration is malformed."""


def load_declaration(owner: object, provider: str) -> Declaration:
    """The declaration for ``provider`` in the plugin module ``owner`` (empty if none)."""
    raw: Any = getattr(owner, ATTRIBUTE, None)
    if raw is None:
        return Declaration()
    if not isinstance(raw, dict):
        raise DeclarationError(
            f"{ATTRIBUTE} in {getattr(owner, '__name__', owner)!r} must be a dict keyed by"
            f" provider name, not {type(raw).__name__}."
        )
    entry = raw.get(provider, {})
    if isinstance(entry, Declaration):
        return entry
    try:
        return Declaration.model_validate(entry)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise DeclarationError(
            f"{ATTRIBUTE}[{provider!r}] in {getattr(owner, '__name__', owner)!r} is not a valid"
            f" declaration: {problems}."
        ) from None
