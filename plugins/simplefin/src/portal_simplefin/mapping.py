"""SimpleFIN's accounts and transactions mapped to the customer record, one function per stream.

Every attribute is mapped to a column or kept in ``extra`` as served (the account's
``org``, ``conn_id``, the server's own ``extra``, and whatever a server adds, such as the
Bridge's ``holdings``, ``payee`` and ``memo``), so nothing the Bridge released is dropped.
Amounts are handed to the record as served (numeric strings: a JSON number is refused,
naming the field); moments are UNIX epoch seconds, read as UTC.

A custom currency (the protocol names it by a URL: air miles, points) is not money in
ISO 4217: the account keeps the URL in ``extra`` and no currency, its balances are points,
and its transactions are refused with the reason (a transaction records money, in an ISO
4217 currency). Portal never fetches the currency's URL: it is on a host portal has not
been told it may contact.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import Account, Balance, Entity, Transaction, Unit
from portal_simplefin import labels
from portal_simplefin.rules import is_custom_currency, valid

Ref = Callable[[type[Entity], str], str]

ACCOUNT_OF = "portal_account"
"""The key portal adds to each transaction it fetches: the id of the account it belongs to."""
CURRENCY_OF = "portal_currency"
"""The key portal adds to each transaction: its account's currency (the protocol states it
once, on the account)."""

BALANCE_KINDS = ("balance", "available-balance")
_ACCOUNT_USED = ("id", "name", "currency", "balance", "available-balance", "balance-date")
_TRANSACTION_USED = (
    "id", "posted", "amount", "description", "transacted_at", "pending", "mcc",
    ACCOUNT_OF, CURRENCY_OF,
)  # fmt: skip


def _rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    used = set(used)
    return {k: v for k, v in item.items() if k not in used}


def moment(value: Any, what: str) -> datetime:
    """A UNIX epoch timestamp (whole seconds) as an aware UTC datetime."""
    if not valid("epoch", value):
        raise SkippableError(f"{what} is {value!r}, not a UNIX epoch timestamp")
    return datetime.fromtimestamp(value, UTC)


def _numeric(value: Any, what: str) -> Decimal:
    """A numeric string as the exact Decimal it writes (a JSON number is refused, not rounded)."""
    if not valid("numeric", value):
        raise SkippableError(f'{what} is {value!r}, not a numeric string such as "-33.43"')
    return Decimal(value)


def account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One account (without its transactions) to an Account."""
    currency = item["currency"]
    custom = isinstance(currency, str) and is_custom_currency(currency)
    extra = _rest(item, _ACCOUNT_USED)
    if custom:
        extra["currency"] = currency  # the URL naming it: kept, never fetched
    return [
        Account(
            provider_id=item["id"],
            name=item["name"],
            account_type=labels.ACCOUNT_TYPE,
            account_type_label=labels.ACCOUNT_TYPE_LABEL,
            currency=None if custom else currency,
            extra=extra,
        )
    ]


def balance_items(account: dict[str, Any]) -> list[dict[str, Any]]:
    """An account's ``balance`` and ``available-balance`` as items of their own, each with the
    account's ids, its ``balance-date`` and (added by portal) its currency.

    An absent ``available-balance`` is the balance: the protocol lets a server leave it out
    "if it is the same as balance", so the person still reads what they can spend.
    """
    ids = {k: v for k, v in account.items() if "id" in k.lower() and isinstance(v, str)}
    return [
        {
            **ids,
            kind: account[kind] if kind in account else account.get("balance"),
            "balance-date": account.get("balance-date"),
            CURRENCY_OF: account.get("currency"),
        }
        for kind in BALANCE_KINDS
    ]


def balance(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One of an account's balances to a Balance (points for a custom currency)."""
    kind = next(k for k in BALANCE_KINDS if k in item)
    currency = item[CURRENCY_OF]
    custom = is_custom_currency(currency)
    return [
        Balance(
            provider_id=f"{item['id']}:{kind}",
            account_id=ref(Account, item["id"]),
            amount=_numeric(item[kind], kind),
            currency=None if custom else currency,
            unit=Unit.point if custom else None,
            balance_type=kind,
            balance_type_label=labels.BALANCE_TYPES[kind],
            as_of=moment(item["balance-date"], "balance-date"),
            extra=_rest(item, ["id", kind, "balance-date", CURRENCY_OF]),
        )
    ]


def transaction(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One transaction (with the account portal added to it) to a Transaction."""
    account_id, currency = item[ACCOUNT_OF], item[CURRENCY_OF]
    if is_custom_currency(currency):
        raise SkippableError(
            "the account's currency is a custom currency (a URL), not an ISO 4217 code;"
            " portal records transactions of money only (the account's balance is kept,"
            " as points)"
        )
    pending = item.get("pending") is True
    happened = item.get("transacted_at")
    posted = item["posted"]
    # "If the transaction is pending, this may be 0": then it is dated by when it happened.
    when = posted if posted else happened
    if not when:
        raise SkippableError("the transaction has no date: posted is 0 and transacted_at is absent")
    status = "pending" if pending else "posted"
    mcc = item.get("mcc")
    return [
        Transaction(
            provider_id=f"{account_id}/{item['id']}",
            account_id=ref(Account, account_id),
            booked_at=moment(when, "posted" if posted else "transacted_at"),
            value_at=moment(happened, "transacted_at") if happened is not None else None,
            amount=_numeric(item["amount"], "amount"),
            currency=currency,
            status=status,
            status_label=labels.STATUSES[status],
            state=labels.TRANSACTION_STATES[status],
            description=item["description"],
            merchant_category_code=mcc,
            merchant_category_label=labels.merchant_category(mcc) if mcc else None,
            extra=_rest(item, _TRANSACTION_USED),
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "accounts": account,
    "balances": balance,
    "transactions": transaction,
}
"""The normalise function of each stream."""
