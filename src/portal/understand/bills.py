"""The ``bills`` step: each bill checked against the usage it charges for and its tariff.

Which bills are checked on a run: those fetched since the step last ran, those whose period
covers usage fetched since (a late or corrected reading changes what the bill should say),
and those of a provider whose products (tariffs) were fetched since. Only bills that charge
for something measured are checked: a bill with a line in a unit (kWh, minutes, days...)
or of an account that has usage; a card statement is not a bill for a supply.

Each check replaces the bill's row in ``bill_checks`` (``portal.understand.bill_check`` says
how a bill is checked); ``portal bills`` prints them. A bill's days are those of its
provider's calendar (``Provider.timezone``), read from the installed plugins; a provider no
installed plugin declares is taken to bill in UTC.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection as DBConnection

from portal.record.types import UTCDateTime
from portal.understand import Finding
from portal.understand.bill_check import AGREES, CANNOT, DIFFERS, Bill, check, lines_of
from portal.understand.tables import BillCheck

log = logging.getLogger(__name__)

_BILLS = (
    "SELECT b.id, b.provider, b.account_id, coalesce(a.name, b.account_id), b.bill_number,"
    " b.period_start, b.period_end, b.total, b.currency, b.lines"
    " FROM bills b LEFT JOIN accounts a ON a.id = b.account_id"
    " WHERE (EXISTS (SELECT 1 FROM json_each(b.lines) l"
    "  WHERE json_extract(l.value, '$.quantity') IS NOT NULL)"
    " OR EXISTS (SELECT 1 FROM usage u WHERE u.account_id = b.account_id))"
)
"""Bills that charge for something measured, with their account's name."""

_SINCE = (
    " AND (b.fetched_at > :since"
    # a bill whose period covers usage fetched since (the usage's day, a day either side
    # of the bill's local dates: a period's UTC bounds are within a day of its dates)
    " OR EXISTS (SELECT 1 FROM (SELECT account_id, min(started_at) AS first,"
    "   max(started_at) AS last FROM usage WHERE fetched_at > :since GROUP BY account_id) n"
    "  WHERE n.account_id = b.account_id AND n.first < date(b.period_end, '+2 day')"
    "   AND n.last >= date(b.period_start, '-1 day'))"
    " OR b.provider IN (SELECT provider FROM products WHERE fetched_at > :since))"
)


class BillsStep:
    """Check bills against usage and tariff (``portal.understand.Step``)."""

    name = "bills"

    def __init__(self, zones: Mapping[str, str] | None = None) -> None:
        self._zones = zones

    def run(self, db: DBConnection, since: datetime | None) -> Finding:
        """Check the bills fetched since ``since``, or touched by what was (all when None)."""
        query, params = _BILLS, {}
        if since is not None:
            query += _SINCE
            params["since"] = UTCDateTime.bind(since)
        rows = db.execute(text(query + " ORDER BY b.period_start, b.id"), params).all()
        if not rows:
            return Finding(self.name, "")
        zones = self._zones if self._zones is not None else provider_zones()
        now = datetime.now(UTC)
        outcomes = {AGREES: 0, DIFFERS: 0, CANNOT: 0}
        table = BillCheck.__table__  # type: ignore[attr-defined]
        dialect = postgresql if db.dialect.name == "postgresql" else sqlite
        for row in rows:
            bill = _bill(row)
            found = check(db, bill, ZoneInfo(zones.get(bill.provider, "UTC")))
            outcomes[found.outcome] += 1
            values = found.row(bill, now)
            insert = dialect.insert(table).values(**values)
            db.execute(
                insert.on_conflict_do_update(
                    index_elements=["bill_id"],
                    set_={k: v for k, v in values.items() if k != "bill_id"},
                )
            )
        return Finding(self.name, summary(len(rows), outcomes))


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


def _bill(row: Any) -> Bill:
    (id_, provider, account, name, number, start, end, total, currency, lines) = row
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
    )


def _date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value))
