"""The ``bills`` step: each bill checked against the usage it charges for and its tariff.

Which bills are checked on a run: those fetched since the step last ran, those whose period
covers usage fetched since (a late or corrected reading changes what the bill should say),
and those of a provider whose products (tariffs) were fetched since. Only bills that charge
for something measured are checked: a bill with a line in a unit (kWh, minutes, days...)
or of an account that has usage; a card statement is not a bill for a supply.

Each check replaces the bill's row in ``bill_checks`` (``portal.understand.bill_check`` says
how a bill is checked); ``portal bills`` prints them. A bill's days are those of its
provider's calendar (``Provider.timezone``), read from the installed plugins; a provider no
installed plugin declares is taken to bill in UTC, except for a supply whose own local time
says otherwise (a Green Button file's LocalTimeParameters): its bills cannot be checked.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection

from portal.record.types import UTCDateTime
from portal.understand import Finding
from portal.understand.bill_check import AGREES, CANNOT, DIFFERS, Bill, check, lines_of
from portal.understand.tables import BillCheck

_BILLS = (
    "SELECT b.id, b.provider, b.account_id, coalesce(a.name, b.account_id), b.bill_number,"
    " b.period_start, b.period_end, b.total, b.currency, b.lines, b.fetched_at, a.extra"
    " FROM bills b LEFT JOIN accounts a ON a.id = b.account_id"
)
"""Every bill with its account's name (a person's bills number hundreds, not millions)."""

_SINCE = (
    " WHERE b.fetched_at > :since OR b.account_id IN :accounts"
    " OR b.provider IN (SELECT provider FROM products WHERE fetched_at > :since)"
)
"""Bills fetched since, of an account with usage fetched since, or of a provider whose
products (tariffs) were fetched since."""

_USAGE_SINCE = (
    "SELECT account_id || '', min(started_at), max(started_at) FROM usage"
    " WHERE fetched_at > :since GROUP BY account_id || ''"
)
"""Each account's usage fetched since, by the span of time it covers. Grouped by an
expression, not the column: SQLite would otherwise walk the whole table in the order of
the account index to group it (24 s for a million readings with nothing new, against 1 s
for a plain scan that keeps only the rows fetched since)."""

_MEASURED = "SELECT DISTINCT account_id FROM usage WHERE account_id IN :accounts"


class BillsStep:
    """Check bills against usage and tariff (``portal.understand.Step``)."""

    name = "bills"

    def __init__(self, zones: Mapping[str, str] | None = None) -> None:
        self._zones = zones

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Check the bills fetched since ``since``, or touched by what was (all when None)."""
        bills = _touched(db, since)
        if not bills:
            return Finding(self.name, "")
        zones = self._zones if self._zones is not None else provider_zones()
        now = datetime.now(UTC)
        outcomes = {AGREES: 0, DIFFERS: 0, CANNOT: 0}
        table = BillCheck.__table__  # type: ignore[attr-defined]
        dialect = postgresql if db.dialect.name == "postgresql" else sqlite
        for bill in bills:
            name = zones.get(bill.provider, "UTC")
            # A provider that declares no zone (UTC, the default) for a supply whose own
            # local time is not UTC: which instants its billing days start at is unknown.
            unknown = name == "UTC" and bill.local_time_not_utc
            found = check(db, bill, None if unknown else ZoneInfo(name))
            outcomes[found.outcome] += 1
            values = found.row(bill, now)
            insert = dialect.insert(table).values(**values)
            db.execute(
                insert.on_conflict_do_update(
                    index_elements=["bill_id"],
                    set_={k: v for k, v in values.items() if k != "bill_id"},
                )
            )
        return Finding(self.name, summary(len(bills), outcomes))


def summary(checked: int, outcomes: Mapping[str, int]) -> str:
    """The step's line: "23 bills checked: 22 agree, 1 differs (see portal bills --problems)"."""
    parts = []
    if outcomes.get(AGREES):
        parts.append(f"{outcomes[AGREES]} agree" if outcomes[AGREES] != 1 else "1 agrees")
    if outcomes.get(DIFFERS):
        parts.append(f"{outcomes[DIFFERS]} differ" if outcomes[DIFFERS] != 1 else "1 differs")
    if outcomes.get(CANNOT):
        parts.append(f"{outcomes[CANNOT]} cannot be checked")
    said = f"{checked} bill{'s' if checked != 1 else ''} checked: {', '.join(parts)}"
    if outcomes.get(DIFFERS):
        said += " (see portal bills --problems)"
    elif outcomes.get(CANNOT):
        said += " (see portal bills)"
    return said


@functools.cache
def provider_zones() -> dict[str, str]:
    """Each installed provider's calendar zone (``Provider.timezone``), by provider name."""
    from portal.plugins import Plugins

    return {name: p.timezone for name, p in Plugins.load().providers.items()}


def _touched(db: DBConnection, since: datetime | None) -> list[Bill]:
    """The bills to check: all (``since`` None), else those touched by what was fetched
    since; of those, the ones that charge for something measured."""
    moment = bindparam("since", type_=UTCDateTime)
    if since is None:
        rows = db.execute(text(_BILLS + " ORDER BY b.period_start, b.id")).all()
        spans: dict[str, tuple[datetime, datetime]] = {}
    else:
        found = db.execute(text(_USAGE_SINCE).bindparams(moment), {"since": since}).all()
        spans = {account: (_moment(first), _moment(last)) for account, first, last in found}
        query = text(_BILLS + _SINCE + " ORDER BY b.period_start, b.id").bindparams(
            moment, bindparam("accounts", expanding=True)
        )
        rows = db.execute(query, {"since": since, "accounts": list(spans) or [""]}).all()
    bills = []
    for row in rows:
        bill = _bill(row)
        fetched = row[10]
        fresh = since is None or (fetched is not None and _moment(fetched) > since)
        if not fresh and bill.account_id in spans:
            # Only usage of its account was fetched since: checked if its period covers some
            # (a day either side of its dates: its bounds in any zone are within a day).
            first, last = spans[bill.account_id]
            if first.date() > bill.period_end + timedelta(days=1):
                continue
            if last.date() < bill.period_start - timedelta(days=1):
                continue
        bills.append(bill)
    return _measured(db, bills)


def _measured(db: DBConnection, bills: list[Bill]) -> list[Bill]:
    """The bills that charge for something measured: with a line in a unit, or of an
    account that has usage (a card statement is neither)."""
    accounts = {b.account_id for b in bills if not any(ln.get("quantity") for ln in b.lines)}
    metered: set[str] = set()
    if accounts:
        query = text(_MEASURED).bindparams(bindparam("accounts", expanding=True))
        metered = set(db.execute(query, {"accounts": sorted(accounts)}).scalars())
    return [b for b in bills if b.account_id not in accounts or b.account_id in metered]


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value))


def _bill(row: Any) -> Bill:
    (id_, provider, account, name, number, start, end, total, currency, lines, _, extra) = row
    return Bill(
        id=id_,
        provider=provider,
        account_id=account,
        account_name=name,
        bill_number=number,
        period_start=_date(start),
        period_end=_date(end),
        total=_decimal(total),
        currency=currency,
        lines=lines_of(lines),
        local_time_not_utc=_not_utc(extra),
    )


def _not_utc(extra: Any) -> bool:
    """Whether an account's Green Button LocalTimeParameters put it off UTC."""
    found = json.loads(extra) if isinstance(extra, str) else extra
    local = (found or {}).get("LocalTimeParameters") if isinstance(found, dict) else None
    if not isinstance(local, dict):
        return False
    return any(str(local.get(k) or "0").strip() not in ("0", "") for k in ("tzOffset", "dstOffset"))


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value))
