"""Statements as records: each one a ``Document``, and a card statement also a ``Bill``.

A statement is a document the bank issued, identified by the SHA-256 of its file (which
``fetch`` downloads and measures into ``portal:file``). A statement that asks for a
payment by a date (a credit card's) is also a bill: its lines are the balance brought
forward, the payments and refunds, and the spending, and they add up to the amount owed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import Account, Bill, BillLine, Document, Entity
from portal_bank import labels
from portal_bank.mapping import Ref, _rest, _signed

FILE = "portal:file"
"""The key ``fetch`` adds to a statement: what portal measured of its file."""


def _amounts(item: dict[str, Any]) -> dict[str, Decimal]:
    return {
        a["Type"].removeprefix("UK.OBIE."): _signed(a["Amount"], a["CreditDebitIndicator"])
        for a in item.get("StatementAmount", [])
    }


def _due(item: dict[str, Any]) -> datetime | None:
    for moment in item.get("StatementDateTime", []):
        if moment.get("Type") == "UK.OBIE.PaymentDue":
            return datetime.fromisoformat(moment["DateTime"])
    return None


def statement(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBStatement2 (with its file's digest) as a Document, and as a Bill if payment is due."""
    file = item.get(FILE)
    if not file:
        raise SkippableError("the statement's file was not fetched, so it has no digest")
    start = datetime.fromisoformat(item["StartDateTime"]).date()
    end = datetime.fromisoformat(item["EndDateTime"]).date()
    issued = datetime.fromisoformat(item["CreationDateTime"]).date()
    kind = item.get("Type", "RegularPeriodic")
    descriptions = item.get("StatementDescription") or []
    account_id = ref(Account, item["AccountId"])
    records: list[Entity] = [
        Document(
            provider_id=f"statement:{item['StatementId']}",
            kind="statement",
            kind_label=labels.label(labels.STATEMENT_TYPES, kind, "statement type"),
            title=descriptions[0] if descriptions else f"Statement {start} to {end}",
            issued_on=issued,
            content_type=file["content_type"],
            digest=file["sha256"],
            size_bytes=file["size"],
            account_id=account_id,
            extra=_rest(
                item,
                [
                    "StatementId",
                    "AccountId",
                    "Type",
                    "StatementDescription",
                    "CreationDateTime",
                    FILE,
                ],
            ),
        )
    ]
    due = _due(item)
    if due is not None:
        records.append(_bill(item, account_id, issued, due, start, end))
    return records


def _bill(
    item: dict[str, Any], account_id: str, issued: Any, due: datetime, start: Any, end: Any
) -> Bill:
    amounts = _amounts(item)
    currency = item["StatementAmount"][0]["Amount"]["Currency"]
    # A card balance is negative while the customer owes it: a bill shows what is owed.
    lines = [
        BillLine(description="Balance from last statement", amount=-amounts["StartingBalance"]),
        BillLine(description="Payments and refunds", amount=-amounts["TotalCredits"]),
        BillLine(description="Purchases and charges", amount=-amounts["TotalDebits"]),
    ]
    return Bill(
        provider_id=f"statement:{item['StatementId']}",
        account_id=account_id,
        bill_number=item.get("StatementReference") or item["StatementId"],
        issued_on=issued,
        due_on=due.date(),
        period_start=start,
        period_end=end,
        total=-amounts["ClosingBalance"],
        currency=currency,
        status="issued",
        status_label="Issued: pay by the due date",
        lines=lines,
        extra=_rest(item, ["StatementId", "AccountId", "StatementReference", FILE]),
    )
