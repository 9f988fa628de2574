"""Monthly statements (OBStatement2) made from the ledger, and each one's PDF file.

One statement per account for every calendar month that has ended by the bank's clock
and holds booked transactions. Its amounts are the ledger's own: the starting balance,
the credits and debits booked in the month, and the closing balance, so a statement
always reconciles with the transactions of its month. A credit card statement also asks
for a payment: the minimum due, and the date it is due (the 20th of the next month, or
the Monday after), as the card is paid off in ``DemoBank._pay_card_statements``.
"""

from __future__ import annotations

import copy
import weakref
from calendar import monthrange
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portal_bank.customer import CARD_LIMIT, LONDON, at, money, signed, stamp, weekday_on_or_after

if TYPE_CHECKING:
    from portal_bank.dataset import DemoBank


def _amount(kind: str, value: Decimal) -> dict[str, Any]:
    return {
        "Amount": money(value),
        "CreditDebitIndicator": "Credit" if value >= 0 else "Debit",
        "Type": f"UK.OBIE.{kind}",
    }


def _months(first: date, now: datetime) -> list[date]:
    """The first day of each month from ``first``'s to the one before ``now``'s."""
    months, year, month = [], first.year, first.month
    current = now.astimezone(LONDON)
    while (year, month) < (current.year, current.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def statements(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """The account's statements, oldest first, as the bank serves them."""
    with bank.lock:
        booked = [t for t in bank.ledger.get(account_id, []) if t["Status"] == "Booked"]
        if not booked:
            return []  # a bank made on demand (benchmarks) keeps no ledger to state from
        key = (account_id, len(booked), bank.now)
        cache = _CACHE.setdefault(bank, {})
        cached = cache.get(account_id)
        if cached is not None and cached[0] == key:
            return copy.deepcopy(cached[1])
        card = account_id == bank.card_id
        running = bank.opening[account_id]
        first = datetime.fromisoformat(booked[0]["BookingDateTime"]).astimezone(LONDON).date()
        by_month: dict[date, list[Decimal]] = {}
        for t in booked:
            by_month.setdefault(_local_day(t).replace(day=1), []).append(signed(t))
        result = []
        for number, start in enumerate(_months(first, bank.now), 1):
            end = date(start.year, start.month, monthrange(start.year, start.month)[1])
            month = by_month.get(start, [])
            credits = sum((a for a in month if a > 0), Decimal(0))
            debits = -sum((a for a in month if a < 0), Decimal(0))
            closing = running + credits - debits
            item: dict[str, Any] = {
                "AccountId": account_id,
                "StatementId": f"{account_id[:8]}-{start:%Y%m}",
                "StatementReference": f"{number:03d}",
                "Type": "RegularPeriodic",
                "StartDateTime": stamp(at(start, 0)),
                "EndDateTime": stamp(at(end, 23, 59)),
                "CreationDateTime": stamp(at(_next_month(start), 6)),
                "StatementDescription": [
                    f"{'Rewards Mastercard' if card else 'Everyday Account'} statement"
                    f" for {start:%B %Y}"
                ],
                "StatementAmount": [
                    _amount("StartingBalance", running),
                    _amount("TotalCredits", credits),
                    _amount("TotalDebits", -debits),
                    _amount("ClosingBalance", closing),
                ],
            }
            if card:
                owed = max(-closing, Decimal(0))
                minimum = min(owed, max(Decimal(25), (owed / 100 * 3).quantize(Decimal("0.01"))))
                item["StatementAmount"] += [
                    _amount("CreditLimit", CARD_LIMIT),
                    _amount("MinimumPaymentDue", -minimum),
                ]
                due = weekday_on_or_after(_next_month(start).replace(day=20))
                item["StatementDateTime"] = [
                    {"DateTime": stamp(at(due, 0)), "Type": "UK.OBIE.PaymentDue"}
                ]
            result.append(item)
            running = closing
        # Every request for a statement or its file needs the list; the ledger only changes
        # when the bank's clock moves or transactions are added, which changes the key.
        cache[account_id] = (key, copy.deepcopy(result))
        return result


_CACHE: weakref.WeakKeyDictionary[
    DemoBank, dict[str, tuple[tuple[str, int, datetime], list[dict[str, Any]]]]
] = weakref.WeakKeyDictionary()


def _local_day(item: dict[str, Any]) -> date:
    return datetime.fromisoformat(item["BookingDateTime"]).astimezone(LONDON).date()


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def statement_pdf(statement: dict[str, Any]) -> bytes:
    """The statement as a one-page PDF, made the same way every time (so its digest holds)."""
    lines = [*statement["StatementDescription"], f"Reference {statement['StatementReference']}"]
    for amount in statement["StatementAmount"]:
        sign = "-" if amount["CreditDebitIndicator"] == "Debit" else ""
        name = amount["Type"].removeprefix("UK.OBIE.")
        lines.append(f"{name}: {sign}{amount['Amount']['Amount']} {amount['Amount']['Currency']}")
    text = "BT /F1 11 Tf 56 780 Td 14 TL " + " ".join(
        "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '"
        for line in lines
    )
    stream = text.encode("latin-1", errors="replace") + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
