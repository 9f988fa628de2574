"""Broken on purpose: it files the customer's mobile number under ``phone``.

Open Banking's party has ``Phone`` (the landline) and ``Mobile``; this plugin reads the
mobile into the record's phone, and the landline is lost. Every field is still valid and
legible. The conformance suite must fail it with test_values[party].
"""

import dataclasses
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank

EXPECTED_FAILURE = ("values", "party")
EXPECTED_IN_MESSAGE = ("PartyId=PTY-7Q2K9X", "phone served as '+44-2079460123'")
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_mobile_as_phone", display_name="Broken bank (mobile as phone)"
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
    if stream == "party":
        for record in records:
            record.phone = item.get("Mobile")
    return records
