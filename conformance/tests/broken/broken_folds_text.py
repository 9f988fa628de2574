"""Broken on purpose: it folds product and offer descriptions to ASCII.

Written for a system that only takes ASCII, it drops every accent and symbol: "up to £200
a month" becomes "up to 200 a month". The text is still clean and legible. The conformance
suite must fail it with test_values[products].
"""

import dataclasses
import unicodedata
from typing import Any

from portal import hookimpl
from portal_bank import plugin as bank

EXPECTED_FAILURE = ("values", "products")
EXPECTED_IN_MESSAGE = ("OfferId=OFR-REGSAVER-26", "description", "folded to ASCII")
PROVIDER = dataclasses.replace(
    bank.PROVIDER, name="broken_folds_text", display_name="Broken bank (ASCII only)"
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
    if stream.startswith(("product", "offers")):
        for record in records:
            if record.description:
                folded = unicodedata.normalize("NFKD", record.description)
                record.description = folded.encode("ascii", "ignore").decode()
    return records
