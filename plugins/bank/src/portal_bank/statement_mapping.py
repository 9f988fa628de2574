"""Statements as records: each one a ``Document``, and a card statement also a ``Bill``.

A statement is a document the bank issued, identified by the SHA-256 of its file (which
``fetch`` keeps in the portal home, and describes in ``portal:file``). A statement without a
``StatementId`` (the specification makes it optional) has no file to download: the
statement resource itself is the document then, measured as canonical JSON. A statement
that asks for a payment by a date (a credit card's) and states its balances is also a
bill: its lines are the balance brought forward, the payments and refunds, and the
spending, and they add up to the amount owed. One without its amounts (``StatementAmount``
is optional too) is a document only.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import Account, Bill, BillLine, Document, Entity, State
from portal_bank import identity, labels
from portal_bank.mapping import Ref, _rest, _signed

FILE = "portal:file"
"""The key ``fetch`` adds to a statement: what portal measured of its file."""
BILL_AMOUNTS = ("StartingBalance", "TotalCredits", "TotalDebits", "ClosingBalance")
"""The statement amounts (``UK.OBIE.*``) a bill's lines and total are made of."""


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


def is_bill(item: dict[str, Any]) -> bool:
    """Whether a statement is also a bill: it has a payment due date and its balances."""
    types = {a.get("Type") for a in item.get("StatementAmount", [])}
    due = any(m.get("Type") == "UK.OBIE.PaymentDue" for m in item.get("StatementDateTime", []))
    return due and all(f"UK.OBIE.{kind}" in types for kind in BILL_AMOUNTS)


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
    key = f"statement:{identity.own_or_derived('statements', item)}"
    records: list[Entity] = [
        Document(
            provider_id=key,
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
                    identity.OCCURRENCE,
                ],
            ),
        )
    ]
    due = _due(item)
    if due is not None and is_bill(item):
        records.append(_bill(item, key, account_id, issued, due, start, end))
    return records


def _bill(
    item: dict[str, Any],
    key: str,
    account_id: str,
    issued: Any,
    due: datetime,
    start: Any,
    end: Any,
) -> Bill:
    amounts = _amounts(item)
    closing = next(a for a in item["StatementAmount"] if a["Type"] == "UK.OBIE.ClosingBalance")
    currency = closing["Amount"]["Currency"]
    # A card balance is negative while the customer owes it: a bill shows what is owed.
    lines = [
        BillLine(description="Balance from last statement", amount=-amounts["StartingBalance"]),
        BillLine(description="Payments and refunds", amount=-amounts["TotalCredits"]),
        BillLine(description="Purchases and charges", amount=-amounts["TotalDebits"]),
    ]
    return Bill(
        provider_id=key,
        account_id=account_id,
        bill_number=item.get("StatementReference")
        or item.get("StatementId")
        or f"{start} to {end}",
        issued_on=issued,
        due_on=due.date(),
        period_start=start,
        period_end=end,
        total=-amounts["ClosingBalance"],
        currency=currency,
        status="issued",
        status_label="Issued: pay by the due date",
        # The statement says what is owed and by when, never whether it was paid then (that
        # is a later transaction): a bill whose payment the bank does not state.
        state=State.issued,
        lines=lines,
        extra=_rest(
            item, ["StatementId", "AccountId", "StatementReference", FILE, identity.OCCURRENCE]
        ),
    )
