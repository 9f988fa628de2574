"""Broken on purpose: it fetches every account's whole transaction history on every sync.

The store ends up right, but each re-sync asks for two years of pages to learn of a few
new payments. The conformance suite must fail it with test_changes[arrive], counting the
requests against the declared resync_budget.
"""

import dataclasses
from typing import Any

from portal import Cursors, hookimpl
from portal_bank import plugin as bank
from portal_bank.sandbox import BankSandbox

EXPECTED_FAILURE = ("changes", "arrive")
EXPECTED_IN_MESSAGE = ("'arrive'", "API requests where", "asked again for what it already had")
PROVIDER = dataclasses.replace(
    bank.PROVIDER,
    name="broken_refetches_all",
    display_name="Broken bank (broken_refetches_all)",
    sandbox=BankSandbox,
)
PORTAL_CONFORMANCE = {"broken_refetches_all": bank.PORTAL_CONFORMANCE["bank"]}


class _FromTheStart(Cursors):
    """The saved cursors, except that every transactions stream starts from the beginning."""

    def get(self, stream: str, kind: Any) -> Any:
        return None if stream.startswith("transactions") else super().get(stream, kind)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=_FromTheStart(dict(cursors._saved)))


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    return bank.normalise(stream=stream, item=item, ref=ref)
