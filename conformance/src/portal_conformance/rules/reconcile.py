"""Reconciliation, per sector: the record adds up the way the provider's own books do.

- balances against transactions: every balance of an account equals one opening amount
  plus the account's transactions up to the balance's moment (booked ones, or all of them
  for an "available" balance), and so does every running balance a transaction carries;
- bill totals against their lines;
- usage summaries (bill lines with a quantity, a unit and a period) against the readings;
- points balances against points movements (points earned and spent on purchases).

A reconciliation is generated only for a provider that declares every category it compares
(``applicable``); a declared category that arrives empty fails it, and one with nothing to
compare (no points balance at all) is a skip that blocks the tier, saying why.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from portal.provider import Provider
from portal_conformance.failures import CheckFailed, DeclaredUnsupported, NotApplicable, examples
from portal_conformance.harness import Harness
from portal_conformance.rules.stored import entity_by_name

RECONCILIATIONS = ("balances~transactions", "bills~lines", "usage~readings", "points~movements")
NEEDS: dict[str, tuple[str, ...]] = {
    "balances~transactions": ("balances", "transactions"),
    "bills~lines": ("bills",),
    "usage~readings": ("bills", "usage"),
    "points~movements": ("balances", "purchases"),
}
"""The categories each reconciliation compares: it is generated only for a provider that
declares them all (a bank holds no meter readings, so it gets no usage~readings at all)."""


NONE_APPLICABLE = "(none applicable)"
"""The parameter of the one, skipped, reconciliation of a provider whose declared categories
hold no figures that add up to others (a supplier's meter points, tariffs and readings
without bills): the group then says so instead of being missing from the report."""


def applicable(provider: Provider) -> list[str]:
    """The reconciliations ``provider``'s declared categories make meaningful, or one
    placeholder when there are none."""
    declared = {c.value for c in provider.categories}
    return [r for r in RECONCILIATIONS if set(NEEDS[r]) <= declared] or [NONE_APPLICABLE]


def _needs(h: Harness, *names: str) -> list[list[dict[str, Any]]]:
    rows = []
    for name in names:
        entity = entity_by_name(name)
        if entity is None:
            raise NotApplicable(f"the record model has no {name} entity yet")
        found = h.rows(entity)
        if not found:
            category = entity.category.value
            raise CheckFailed(
                f"{h.name!r} declares {category} but delivered none, so nothing could be"
                " reconciled.",
                where=f"the {category} of provider {h.name!r}",
                fix=f"Deliver the {category} the sandbox serves, or stop declaring {category}"
                " in the provider's inventory.",
            )
        rows.append(found)
    return rows


def _pending(row: dict[str, Any]) -> bool:
    # Portal's common state says it in one word; a row from before states, in its words.
    if row.get("state"):
        return bool(row["state"] == "pending")
    return "pend" in f"{row.get('status', '')} {row.get('status_label', '')}".lower()


def _money_of(row: dict[str, Any]) -> bool:
    return row.get("currency") is not None and row.get("unit") in (None, "")


def _residuals(
    at: datetime, amount: Decimal, movements: list[tuple[datetime, Decimal, bool]]
) -> tuple[Decimal, ...]:
    # A balance may be stated just before or just after movements at its own instant, and
    # an available balance counts every pending movement (their dates are provisional).
    pending = sum((a for _, a, p in movements if p), Decimal(0))
    upto = sum((a for t, a, p in movements if t <= at and not p), Decimal(0))
    before = sum((a for t, a, p in movements if t < at and not p), Decimal(0))
    return (amount - upto, amount - before, amount - upto - pending, amount - before - pending)


def _reconcile_series(
    label: str,
    states: list[tuple[str, datetime, Decimal]],
    movements: list[tuple[datetime, Decimal, bool]],
) -> list[str]:
    """Problems with ``states`` (name, moment, amount) against ``movements`` (moment, amount)."""
    residuals = [(n, t, a, _residuals(t, a, movements)) for n, t, a in states]
    votes = Counter(r for *_, pair in residuals for r in set(pair))
    if not votes:
        return []
    opening, _ = votes.most_common(1)[0]
    return [
        f"{label}: {name} at {at.isoformat()} is {amount}, but the opening {opening} plus the"
        f" movements up to then make {opening + amount - pair[0]} (booked) or"
        f" {opening + amount - pair[2]} (with pending)"
        for name, at, amount, pair in residuals
        if opening not in pair
    ]


def balances_transactions(h: Harness) -> list[str]:
    """Money balances and running balances against transactions, per account."""
    balances, transactions = _needs(h, "Balance", "Transaction")
    problems: list[str] = []
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # An account may hold several currencies (a multi-currency wallet): each currency's
    # balances add up from that currency's transactions alone, never summed across them.
    for t in transactions:
        by_account[f"{t['account_id']} in {t['currency']}"].append(t)
    compared = 0
    for account, txs in sorted(by_account.items()):
        states = [
            b
            for b in balances
            if f"{b['account_id']} in {b['currency']}" == account and _money_of(b)
        ]
        movements = [(t["booked_at"], t["amount"], _pending(t)) for t in txs]
        series = [(f"balance {b['balance_type']}", b["as_of"], b["amount"]) for b in states]
        times = Counter(t["booked_at"] for t in txs)
        series += [
            (f"running balance of {t['provider_id']}", t["booked_at"], t["balance_after"])
            for t in txs
            if t.get("balance_after") is not None and not _pending(t) and times[t["booked_at"]] == 1
        ]
        compared += len(series)
        problems += _reconcile_series(f"account {account}", series, movements)
    if not compared:
        raise NotApplicable("no account has both balances (or running balances) and transactions")
    return problems


def bills_lines(h: Harness) -> list[str]:
    """Every bill's total equals the sum of its lines, in its currency."""
    (bills,) = _needs(h, "Bill")
    problems = []
    for bill in bills:
        lines = bill.get("lines") or []
        if not lines:
            problems.append(f"bill {bill['provider_id']} has no lines")
            continue
        total = sum((Decimal(str(line["amount"])) for line in lines), Decimal(0))
        if total != Decimal(str(bill["total"])):
            problems.append(
                f"bill {bill['provider_id']}: total {bill['total']} but its lines add up to {total}"
            )
    return problems


def usage_readings(h: Harness) -> list[str]:
    """Bill lines stating a quantity for a period equal the readings of that period."""
    bills, usage = _needs(h, "Bill", "Usage")
    zone = ZoneInfo(h.provider.timezone)  # periods are dates on the provider's calendar
    problems, compared = [], 0
    for bill in bills:
        for line in bill.get("lines") or []:
            unit, quantity = line.get("unit"), line.get("quantity")
            start, end = line.get("period_start"), line.get("period_end")
            if not (unit and quantity is not None and start and end):
                continue
            readings = [
                u
                for u in usage
                if u["account_id"] == bill["account_id"]
                and u["unit"] == unit
                and str(start) <= u["started_at"].astimezone(zone).date().isoformat() <= str(end)
            ]
            if not readings:
                continue
            compared += 1
            total = sum((Decimal(str(u["quantity"])) for u in readings), Decimal(0))
            if total != Decimal(str(quantity)):
                problems.append(
                    f"bill {bill['provider_id']} line {line.get('description')!r}: {quantity}"
                    f" {unit} billed, readings add up to {total} {unit}"
                )
    if not compared:
        raise NotApplicable("no bill line states a quantity for a period that has readings")
    return problems


def points_movements(h: Harness) -> list[str]:
    """Points balances against the points earned and spent on purchases, per account."""
    balances, purchases = _needs(h, "Balance", "Purchase")
    problems, compared = [], 0
    for account in sorted({b["account_id"] for b in balances if b.get("unit") == "point"}):
        states = [
            (f"points balance {b['balance_type']}", b["as_of"], Decimal(str(b["amount"])))
            for b in balances
            if b["account_id"] == account and b.get("unit") == "point"
        ]
        movements = [
            (
                p["purchased_at"],
                Decimal(str(p.get("points_earned") or 0))
                - Decimal(str(p.get("points_spent") or 0)),
                False,
            )
            for p in purchases
            if p.get("account_id") == account
        ]
        compared += len(states)
        problems += _reconcile_series(f"loyalty account {account}", states, movements)
    if not compared:
        raise NotApplicable("no points balance to reconcile")
    return problems


def reconcile(h: Harness, which: str) -> None:
    """Run one reconciliation and fail with every line that does not add up."""
    if which == NONE_APPLICABLE:
        pairs = "; ".join(f"{r}: {', '.join(NEEDS[r])}" for r in RECONCILIATIONS)
        raise DeclaredUnsupported(
            f"{h.provider.display_name} declares no categories that reconcile with one"
            f" another (each reconciliation needs: {pairs})"
        )
    h.require_main_ok()
    check = {
        "balances~transactions": balances_transactions,
        "bills~lines": bills_lines,
        "usage~readings": usage_readings,
        "points~movements": points_movements,
    }[which]
    problems = check(h)
    if problems:
        raise CheckFailed(
            f"{len(problems)} figures do not reconcile ({which}): {examples(problems, 3)}.",
            where=f"{which.replace('~', ' against ')} of provider {h.name!r}",
            fix="Keep each amount's sign (money out is negative), its currency and its moment"
            " exactly as the provider states them; deliver every movement between two balances.",
        )
