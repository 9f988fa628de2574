"""OFX and midata raw items mapped to the customer record, one function per stream.

What a function does not map is kept in ``extra`` (``_rest``), so nothing in the file is
dropped. Provider ids come from the file's own ids (OFX ``FITID``, unique within an
account) or, where a file has none (midata), from a digest of the row, so importing the
same file, or an overlapping one, again finds the same records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from portal.record import Account, AccountIdentifier, Balance, Entity, Origin, State, Transaction
from portal_files import labels, midata
from portal_files.statements import ofx_amount, ofx_datetime

Ref = Callable[[type[Entity], str], str]
LONDON = ZoneInfo("Europe/London")  # midata is a UK scheme: its dates are UK dates


def _rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    used = set(used)
    return {k: v for k, v in item.items() if k not in used}


def ofx_account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A BANKACCTFROM or CCACCTFROM, with the institution that sent it, as an Account."""
    kind = item.get("ACCTTYPE") or "CREDITCARD"
    kind_label = labels.label(labels.OFX_ACCOUNT_TYPES, kind, "account type")
    institution = (item.get("FI") or {}).get("ORG") or "Bank"
    number = item["ACCTID"]
    bank_id = item.get("BANKID")
    identification = f"{bank_id} {number}" if bank_id else number
    return [
        Account(
            provider_id=item["account"],
            origin=Origin.observed,
            name=f"{institution} {kind_label.lower()} ending {number[-4:]}",
            account_type=kind,
            account_type_label=kind_label,
            currency=item["CURDEF"],
            identifiers=[
                AccountIdentifier(
                    scheme="OFX.BANKACCTFROM" if bank_id else "OFX.CCACCTFROM",
                    scheme_label="Bank id and account number" if bank_id else "Card number",
                    identification=identification,
                )
            ],
            extra=_rest(item, ["account", "kind", "ACCTTYPE", "ACCTID", "BANKID", "CURDEF"]),
        )
    ]


def ofx_balance(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A LEDGERBAL or AVAILBAL as a Balance."""
    kind = item["Type"]
    return [
        Balance(
            provider_id=f"{item['account']}:{kind}:{item['DTASOF']}",
            account_id=ref(Account, item["account"]),
            amount=ofx_amount(item["BALAMT"]),
            currency=item["CURDEF"],
            balance_type=kind,
            balance_type_label=labels.label(labels.OFX_BALANCE_TYPES, kind, "balance type"),
            as_of=ofx_datetime(item["DTASOF"]),
            extra=_rest(item, ["account", "Type", "BALAMT", "CURDEF", "DTASOF"]),
        )
    ]


def ofx_transaction(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An STMTTRN as a Transaction: NAME (or PAYEE) is who, MEMO the bank's note."""
    payee: dict[str, Any] = item["PAYEE"] if isinstance(item.get("PAYEE"), dict) else {}
    name = item.get("NAME") or payee.get("NAME")
    memo = item.get("MEMO")
    kind = item["TRNTYPE"]
    # CURRENCY means the amount is in another currency than the statement's; ORIGCURRENCY
    # only says what it was converted from (OFX 2.2 §5.2).
    currency = (item.get("CURRENCY") or {}).get("CURSYM") or item["CURDEF"]
    return [
        Transaction(
            provider_id=f"{item['account']}:{item['FITID']}",
            account_id=ref(Account, item["account"]),
            booked_at=ofx_datetime(item["DTPOSTED"]),
            value_at=ofx_datetime(item["DTAVAIL"]) if item.get("DTAVAIL") else None,
            amount=ofx_amount(item["TRNAMT"]),
            currency=currency,
            status="posted",
            status_label="Posted",
            state=State.booked,
            description=name or memo or labels.label(labels.OFX_TRANSACTION_TYPES, kind, "type"),
            reference=memo if name else None,
            counterparty=name,
            category_code=kind,
            category_label=labels.label(labels.OFX_TRANSACTION_TYPES, kind, "transaction type"),
            # CURDEF stays beside a CURRENCY: CURRATE is the rate into it (OFX 2.2 §5.2).
            extra=_rest(
                item,
                ["account", "FITID", "DTPOSTED", "DTAVAIL", "TRNAMT", "TRNTYPE"]
                + ([] if item.get("CURRENCY") else ["CURDEF"])
                + (["NAME", "MEMO"] if name else ["MEMO"]),
            ),
        )
    ]


def midata_account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """The account a midata file is for (named with --account), as an Account."""
    return [
        Account(
            provider_id=item["account"],
            origin=Origin.observed,
            name=item.get("name") or "Current account (midata file)",
            account_type="CurrentAccount",
            account_type_label="Current account",
            # The currency the balances are written in (a file without them does not say).
            currency=item.get("currency"),
            extra=_rest(item, ["account", "name", "currency"]),
        )
    ]


def midata_transaction(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One midata row as a Transaction, with the running balance the bank printed."""
    amount, currency = midata.parse_amount(item["Debit/Credit"])
    balance = midata.parse_amount(item["Balance"])[0] if item.get("Balance") else None
    day = midata.parse_date(item["Date"])
    code = item["Type"]
    # A midata row has no id of its own: the row's values (and which of several equal rows
    # it is) are its identity, so an overlapping download finds the same transaction.
    identity = json.dumps(
        [item["account"], *(item[c] for c in midata.REQUIRED), item["occurrence"]]
    )
    return [
        Transaction(
            provider_id="row:" + hashlib.sha256(identity.encode()).hexdigest()[:32],
            account_id=ref(Account, item["account"]),
            booked_at=datetime.combine(day, time(0), tzinfo=LONDON),
            amount=amount,
            currency=currency or "GBP",
            status="booked",
            status_label="Booked",
            state=State.booked,
            description=item["Merchant/Description"].strip() or "(none)",
            category_code=code,
            category_label=labels.label(labels.MIDATA_TYPES, code, "transaction type"),
            balance_after=balance,
            extra=_rest(item, ["account", "occurrence", *midata.REQUIRED]),
        )
    ]


NORMALISERS: dict[tuple[str, str], Callable[[dict[str, Any], Ref], list[Entity]]] = {
    ("ofx", "accounts"): ofx_account,
    ("ofx", "balances"): ofx_balance,
    ("ofx", "transactions"): ofx_transaction,
    ("midata", "accounts"): midata_account,
    ("midata", "transactions"): midata_transaction,
}
