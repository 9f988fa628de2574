"""Monzo's objects mapped to the customer record, one function per stream.

Every field of an item is either mapped to a column or kept in ``extra`` (``_rest``), so
nothing Monzo released is dropped; the expanded merchant (its address, category, emoji) and
the counterparty are kept whole in ``extra`` besides the columns made from them. Amounts
arrive in minor units (pence, cents, yen) and become Decimals of their currency; times are
RFC 3339 with their offset. An item the mapping cannot read is checked against the
reference's rules (``portal_monzo.rules``) and rejected naming the rules it breaks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from portal.errors import SkippableError
from portal.record import Account, AccountIdentifier, Balance, Entity, Transaction
from portal.record.types import from_minor_units
from portal.record.vocab import state_of
from portal_monzo import labels, rules

Ref = Callable[[type[Entity], str], str]
LONDON = ZoneInfo("Europe/London")
"""Monzo's calendar: an account opened at 23:30 UTC on 31 March was opened on 1 April."""


def _rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    used = set(used)
    return {k: v for k, v in item.items() if k not in used}


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))


def _day(value: str) -> date:
    return _time(value).astimezone(LONDON).date()


def account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A current or joint account (``GET /accounts``)."""
    kind = item.get("type") or "account"  # the reference's example states no type
    what = labels.label(labels.ACCOUNT_TYPES, kind, "account type")
    owners = [o.get("preferred_name") for o in item.get("owners") or [] if isinstance(o, dict)]
    names = " and ".join(n for n in owners if n)
    status = "closed" if item.get("closed") else "open"
    identifiers = []
    if item.get("sort_code") and item.get("account_number"):
        code = item["sort_code"]
        identifiers.append(
            AccountIdentifier(
                scheme="sort_code_account_number",
                scheme_label=labels.IDENTIFIER_SCHEMES["sort_code_account_number"],
                identification=f"{code[:2]}-{code[2:4]}-{code[4:]} {item['account_number']}",
                name=names or None,
            )
        )
    return [
        Account(
            provider_id=item["id"],
            name=f"{what} ({names})" if names else what,
            account_type=kind,
            account_type_label=what,
            status=status,
            status_label=labels.ACCOUNT_STATUSES[status],
            state=state_of(labels.ACCOUNT_STATES, status),
            currency=item.get("currency"),
            opened_on=_day(item["created"]),
            identifiers=identifiers,
            extra=_rest(item, ["id", "type", "closed", "currency", "created"]),
        )
    ]


def pot(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A pot (``GET /pots``): an account of its own holding savings, and its balance."""
    status = "deleted" if item.get("deleted") else "open"
    currency = item["currency"]
    return [
        Account(
            provider_id=item["id"],
            name=item["name"],
            account_type="pot",
            account_type_label=labels.ACCOUNT_TYPES["pot"],
            status=status,
            status_label=labels.ACCOUNT_STATUSES[status],
            state=state_of(labels.ACCOUNT_STATES, status),
            currency=currency,
            opened_on=_day(item["created"]),
            extra=_rest(
                item, ["id", "name", "deleted", "currency", "created", "balance", "updated"]
            ),
        ),
        Balance(
            provider_id=f"{item['id']}:balance",
            account_id=ref(Account, item["id"]),
            amount=from_minor_units(item["balance"], currency),
            currency=currency,
            balance_type="pot",
            balance_type_label=labels.BALANCE_TYPES["pot"],
            as_of=item["updated"],
        ),
    ]


def balance(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An account's ``GET /balance``, as fetch hands it: ``{"account_id", "as_of", "balance"}``.

    Monzo's balance carries neither its account nor a moment: fetch adds the account it
    asked for and, as the moment, the creation time of the newest transaction it has seen
    on the account (the balance has not moved since), or the account's opening.
    """
    served = item["balance"]
    currency = served["currency"]
    return [
        Balance(
            provider_id=f"{item['account_id']}:balance",
            account_id=ref(Account, item["account_id"]),
            amount=from_minor_units(served["balance"], currency),
            currency=currency,
            balance_type="balance",
            balance_type_label=labels.BALANCE_TYPES["balance"],
            as_of=item["as_of"],
            extra=_rest(served, ["balance", "currency"]),
        )
    ]


def status_of(item: dict[str, Any]) -> str:
    """``declined`` (a decline reason), ``pending`` (not settled yet) or ``settled``."""
    if item.get("decline_reason"):
        return "declined"
    return "settled" if item.get("settled") else "pending"


def transaction(item: dict[str, Any], ref: Ref, account_id: str = "") -> list[Entity]:
    """A transaction (``GET /transactions?expand[]=merchant``)."""
    currency = item["currency"]
    status = status_of(item)
    reason = item.get("decline_reason")
    if reason:
        words = labels.label(labels.DECLINE_REASONS, reason, "decline reason")
    else:
        words = labels.TRANSACTION_STATUSES[status]
    shop = item.get("merchant")
    shop = shop if isinstance(shop, dict) else {}
    mcc = (item.get("metadata") or {}).get("mcc") or None
    category = item.get("category") or None
    party = item.get("counterparty") or {}
    description = item["description"] or shop.get("name") or party.get("name") or words
    return [
        Transaction(
            provider_id=item["id"],
            account_id=ref(Account, item.get("account_id") or account_id),
            booked_at=item["created"],
            value_at=item["settled"] or None,
            amount=from_minor_units(item["amount"], currency),
            currency=currency,
            status=status,
            status_label=words,
            state=state_of(labels.TRANSACTION_STATES, status),
            description=description,
            counterparty=party.get("name") or None,
            merchant_name=shop.get("name") or None,
            merchant_category_code=mcc,
            merchant_category_label=(
                labels.label(labels.MERCHANT_CATEGORIES, mcc, "merchant category") if mcc else None
            ),
            category_code=category,
            category_label=labels.label(labels.CATEGORIES, category, "category")
            if category
            else None,
            extra=_rest(item, ["id", "created", "settled", "amount", "currency", "description"]),
        )
    ]


def _checked(kind: str, make: Callable[..., list[Entity]]) -> Callable[..., list[Entity]]:
    def normalise(item: dict[str, Any], ref: Ref, *args: Any) -> list[Entity]:
        try:
            return make(item, ref, *args)
        except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError):
            found = rules.problems(kind, item.get("balance", item) if kind == "balance" else item)
            if not found:
                raise
            raise SkippableError(f"Not a valid Monzo {kind}: {'; '.join(found)}") from None

    return normalise


NORMALISERS: dict[str, Callable[..., list[Entity]]] = {
    "accounts": _checked("account", account),
    "pots": _checked("pot", pot),
    "balances": _checked("balance", balance),
    "transactions": _checked("transaction", transaction),
}
