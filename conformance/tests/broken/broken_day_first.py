"""Broken on purpose: it reads an account's opening date day first.

``OpeningDate`` is an ISO 8601 date-time; this plugin parses its date part as year-day-month
(its fields taken in the order of a European CSV importer's), so 12 September becomes 9 December.
Every date is still a valid date. The conformance suite must fail it with
test_values[accounts].
"""

import dataclasses
from datetime import date
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank

EXPECTED_FAILURE = ("values", "accounts")
EXPECTED_IN_MESSAGE = (
    "AccountId=881d183f-a9ab-43dd-90a0-ca19d195452f",
    "opened_on served as 2016-09-12, delivered as 2016-12-09",
)
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_day_first", display_name="Broken bank (dates day first)"
)


@hookimpl
def register_providers(register: Any) -> None:
    register(PROVIDER)


@hookimpl
def fetch(client: Any, cursors: Any) -> Any:
    return bank.fetch(client=client, cursors=cursors)


@hookimpl
def normalise(stream: str, item: dict[str, Any], ref: Any) -> Any:
    records = bank.normalise(stream=stream, item=item, ref=ref)
    if stream == "accounts" and item.get("OpeningDate"):
        for record in records:
            year, day, month = item["OpeningDate"][:10].split("-")
            record.opened_on = date(int(year), int(month), int(day))
    return records
