"""Enable Banking's answers to the customer record: accounts, balances, transactions.

Streams are named ``accounts``, ``balances:<hash>`` and ``transactions:<hash>``, where
``<hash>`` is the account's ``identification_hash``: the reference's id of an account that
stays the same across sessions (its ``uid`` is only valid within one), so an account keeps
its record when the person connects again.

What the reference leaves open, and what portal does:

- an amount is signed by ``credit_debit_indicator`` (DBIT is money out, negative), whatever
  sign ``transaction_amount.amount`` carries; an indicator outside CRDT/DBIT is rejected;
- a transaction's moment is its ``booking_date``, else its ``transaction_date``, else its
  ``value_date`` (midnight UTC: the API assumes UTC for dates); one with none is rejected;
- a transaction without ``entry_reference`` (pending ones, usually) gets an id derived from
  its content (never from ``transaction_id``, which the reference says may change);
- a balance is as of its ``last_change_date_time``, else the end of its ``reference_date``;
  one with neither is rejected, since it cannot be placed in time;
- codes outside the reference's lists are kept, labelled "(no label known)"; a status
  outside them is in state unknown.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import Account, Balance, Entity, State, Transaction
from portal.record.model import AccountIdentifier
from portal_enablebanking import rules

Ref = Callable[[type[Entity], str], str]

NO_LABEL = "(no label known)"
STATES = {
    "BOOK": State.booked,
    "PDNG": State.pending,
    "HOLD": State.pending,  # money held, not moved yet
    "SCHD": State.pending,  # to be executed later
    "CNCL": State.cancelled,
    "RJCT": State.rejected,
    "OTHR": State.unknown,
}
"""What each TransactionStatus means in portal's common states."""

BANK_TRANSACTION_CODES = {
    "CCRD": "Card payment",
    "CCRD-POSD": "Card payment at a point of sale",
    "CCRD-CWDL": "Cash withdrawal by card",
    "RCDT": "Credit transfer received",
    "RCDT-SALA": "Salary received",
    "RCDT-ESCT": "SEPA credit transfer received",
    "ICDT": "Credit transfer sent",
    "ICDT-ESCT": "SEPA credit transfer sent",
    "RDDT": "Direct debit",
    "RDDT-ESDD": "SEPA direct debit",
    "INTR": "Interest",
    "INTR-INTR": "Interest",
}
"""ISO 20022 bank transaction code families and sub-families, in words, for when the bank
sends a code without its own ``description``."""


def label(table: dict[str, str], code: str) -> str:
    """The words for ``code``, or a label saying portal has none."""
    return table.get(code) or f"{code} {NO_LABEL}"


def account_key(stream: str) -> str:
    """The identification hash a ``balances:`` or ``transactions:`` stream is for."""
    return stream.split(":", 1)[1]


def _rest(item: dict[str, Any], used: set[str]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in used}


def _identifier(scheme: str, identification: str) -> AccountIdentifier:
    return AccountIdentifier(
        scheme=scheme, scheme_label=label(rules.SCHEME_NAMES, scheme), identification=identification
    )


def _identifiers(item: dict[str, Any]) -> list[AccountIdentifier]:
    found: list[AccountIdentifier] = []
    primary = item.get("account_id") or {}
    if primary.get("iban"):
        found.append(_identifier("IBAN", primary["iban"]))
    if primary.get("other"):
        found.append(
            _identifier(primary["other"]["scheme_name"], primary["other"]["identification"])
        )
    for other in item.get("all_account_ids") or []:
        ident = _identifier(other["scheme_name"], other["identification"])
        if (ident.scheme, ident.identification) not in {
            (f.scheme, f.identification) for f in found
        }:
            found.append(ident)
    return found


def account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An account's details (``AccountResource``)."""
    kind = item["cash_account_type"]
    words = label(rules.CASH_ACCOUNT_TYPES, kind)
    # details, product and all_account_ids stay in extra too: the name is one or the other,
    # and an identifier has no room for the issuer of an identification.
    used = {"identification_hash", "cash_account_type", "currency", "account_id"}
    return [
        Account(
            provider_id=item["identification_hash"],
            name=item.get("details") or item.get("product") or f"{words} in {item['currency']}",
            account_type=kind,
            account_type_label=words,
            currency=item["currency"],
            identifiers=_identifiers(item),
            extra=_rest(item, used | {"uid"}),
        )
    ]


def _midnight(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(), UTC)


def balance_moment(item: dict[str, Any]) -> datetime:
    """When a balance was true: its last change, else the end of its reference date."""
    if item.get("last_change_date_time"):
        return datetime.fromisoformat(item["last_change_date_time"])
    if item.get("reference_date"):
        return _midnight(item["reference_date"]) + timedelta(days=1)
    raise SkippableError(
        "An Enable Banking balance with neither last_change_date_time nor reference_date"
        " cannot be placed in time."
    )


def balance(stream: str, item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One balance of an account (``BalanceResource``)."""
    key = account_key(stream)
    kind, amount = item["balance_type"], item["balance_amount"]
    # Its name and dates stay in extra too: the id and the moment are made from them.
    used = {"balance_type", "balance_amount"}
    return [
        Balance(
            provider_id=f"{key}:{kind}:{item['name']}",
            account_id=ref(Account, key),
            amount=Decimal(amount["amount"]),
            currency=amount["currency"],
            balance_type=kind,
            balance_type_label=label(rules.BALANCE_TYPES, kind),
            as_of=balance_moment(item),
            extra=_rest(item, used),
        )
    ]


def signed(amount: str, indicator: str) -> Decimal:
    """An amount from the account holder's side: a debit is money out, negative."""
    if indicator not in rules.CREDIT_DEBIT:
        raise SkippableError(
            f"An Enable Banking transaction's credit_debit_indicator {indicator!r} is neither"
            " CRDT nor DBIT, so the direction of the money is unknown."
        )
    value = abs(Decimal(amount))
    return -value if indicator == "DBIT" else value


def transaction_id(key: str, item: dict[str, Any]) -> str:
    """The transaction's id: its entry reference on this account, or one from its content."""
    if item.get("entry_reference"):
        return f"{key}:{item['entry_reference']}"
    # transaction_id may change between two fetches of the same list: leave it out.
    content = {k: v for k, v in item.items() if k != "transaction_id"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"{key}:derived:{digest[:24]}"


def _moment(item: dict[str, Any]) -> datetime:
    for name in ("booking_date", "transaction_date", "value_date"):
        if item.get(name):
            return _midnight(item[name])
    raise SkippableError(
        "An Enable Banking transaction with no booking_date, transaction_date or value_date"
        " cannot be placed in time."
    )


def _category(item: dict[str, Any]) -> tuple[str | None, str | None]:
    code = item.get("bank_transaction_code") or {}
    if not code.get("code"):
        return None, None
    key = f"{code['code']}-{code['sub_code']}" if code.get("sub_code") else code["code"]
    return key, code.get("description") or label(BANK_TRANSACTION_CODES, key)


def transaction(stream: str, item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One transaction of an account (``Transaction``)."""
    key = account_key(stream)
    indicator = item["credit_debit_indicator"]
    amount = signed(item["transaction_amount"]["amount"], indicator)
    currency = item["transaction_amount"]["currency"]
    party = item.get("creditor" if indicator == "DBIT" else "debtor") or {}
    counterparty = party.get("name")
    remittance = " ".join(line for line in item.get("remittance_information") or [] if line)
    code, code_label = _category(item)
    mcc = item.get("merchant_category_code")
    after = item.get("balance_after_transaction") or {}
    after_mapped = after.get("currency") == currency
    status = item["status"]
    used = {
        "transaction_amount",
        "status",
        "booking_date",
        "value_date",
        "remittance_information",
        "reference_number",
        "merchant_category_code",
        "balance_after_transaction",
    }
    return [
        Transaction(
            provider_id=transaction_id(key, item),
            account_id=ref(Account, key),
            booked_at=_moment(item),
            value_at=_midnight(item["value_date"]) if item.get("value_date") else None,
            amount=amount,
            currency=currency,
            status=status,
            status_label=label(rules.TRANSACTION_STATUSES, status),
            state=STATES.get(status, State.unknown),
            description=remittance or counterparty or code_label or rules.CREDIT_DEBIT[indicator],
            reference=item.get("reference_number"),
            counterparty=counterparty,
            merchant_name=counterparty if mcc else None,
            merchant_category_code=mcc,
            merchant_category_label=label(rules.MERCHANT_CATEGORIES, mcc) if mcc else None,
            category_code=code,
            category_label=code_label,
            balance_after=Decimal(after["amount"]) if after_mapped else None,
            # Kept whole when in another currency than the transaction, so not mapped.
            extra=_rest(item, used if after_mapped else used - {"balance_after_transaction"}),
        )
    ]
