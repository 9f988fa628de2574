"""Reconciliation keeps its findings when an account holds several currencies.

A Demo Bank whose oldest transactions and opening balance (before 1 June 2025) are
delivered in US dollars, the transactions without running balances: the pounds still add up
on their own (only the opening moves),
and so must be reconciled, not set aside as "mixes currencies". Through the real harness:
real sandboxes on sockets, real OAuth, real SQLite stores.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest

from portal_conformance.failures import CheckFailed
from portal_conformance.harness import Harness
from portal_conformance.registry import run_check

WALLET_BANK = """
import dataclasses
from datetime import UTC, datetime
from decimal import Decimal
from portal import hookimpl
from portal_bank import plugin as bank


def _sandbox():
    from portal_bank.sandbox import BankSandbox

    return BankSandbox(transactions=300)


PROVIDER = dataclasses.replace(bank.PROVIDER, name="wallet", sandbox=_sandbox)
BEFORE = datetime(2025, 6, 1, tzinfo=UTC)


@hookimpl
def register_providers(register):
    register(PROVIDER)


@hookimpl
def fetch(client, cursors):
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream, item, ref):
    records = bank.normalise(stream=stream, item=item, ref=ref)
    for record in records:
        if stream.startswith("transactions") and record.booked_at < BEFORE:
            record.currency, record.balance_after = "USD", None
        elif stream.startswith("transactions"):
            record.amount += Decimal({extra!r})  # a defect in pounds, when not "0"
        if stream == "balances" and record.as_of < BEFORE:  # the opening balance, in dollars
            record.currency = "USD"
    return records
"""


def wallet(tmp_path: Path, extra: str) -> Iterator[Harness]:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "wallet.py").write_text(WALLET_BANK.format(extra=extra))
    with Harness("wallet", tmp_path / "work", plugins_dir=plugins) as h:
        yield h


@pytest.mark.slow
def test_an_account_in_two_currencies_reconciles_each_currency_on_its_own(
    tmp_path: Path,
) -> None:
    for h in wallet(tmp_path, "0"):
        usd = [r for r in h.rows(h.entity("transactions")) if r["currency"] == "USD"]
        assert usd, "the wallet delivered no dollars: the scenario did not happen"
        run_check(h, "reconcile", "balances~transactions")  # raises nothing


@pytest.mark.slow
def test_a_defect_in_one_currency_of_an_account_is_named_with_its_currency(
    tmp_path: Path,
) -> None:
    for h in wallet(tmp_path, "0.01"):
        with pytest.raises(CheckFailed) as failed:
            run_check(h, "reconcile", "balances~transactions")
        assert " in GBP: running balance of " in str(failed.value)
        assert "mixes currencies" not in str(failed.value)


def test_only_the_checks_a_providers_declaration_makes_meaningful_are_generated() -> None:
    # A bank holds no meter readings and no loyalty points, and one without a device
    # endpoint offers no sign-in from another device: those checks are not generated at
    # all, rather than skipped (a skip blocks the tier).
    import dataclasses

    from portal.plugins import Plugins
    from portal_conformance.registry import BY_NAME

    plugins = Plugins.load()
    bank, utility, retailer = (plugins.provider(n) for n in ("bank", "utility", "retailer"))
    reconciliations = BY_NAME["reconcile"].params
    assert reconciliations(bank) == ["balances~transactions", "bills~lines"]
    assert reconciliations(utility) == ["bills~lines", "usage~readings"]
    assert reconciliations(retailer) == ["points~movements"]
    oauth = BY_NAME["oauth"].params
    assert "device_interval" in oauth(bank)
    no_device = dataclasses.replace(
        bank, oauth=dataclasses.replace(bank.oauth, device_authorization_url=None)
    )
    assert [c for c in oauth(no_device) if c.startswith("device_")] == []
    assert "pkce_s256" in oauth(no_device)
