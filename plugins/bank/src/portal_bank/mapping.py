"""Open Banking v3.1 items mapped to the customer record, one function per stream.

Every field of an item is either mapped to a column or kept in ``extra``: ``_rest``
collects what a function did not use, so nothing the bank released is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.errors import SkippableError
from portal.record import (
    Account,
    AccountIdentifier,
    Address,
    Balance,
    Consent,
    Entity,
    Origin,
    Party,
    Transaction,
)
from portal.record.vocab import state_of
from portal_bank import identity, labels
from portal_bank.spec import ENTRY_STATUSES
from portal_bank.spec_rules import AMOUNT_PATTERN

Ref = Callable[[type[Entity], str], str]


def _rest(item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    if not isinstance(used, frozenset):
        used = frozenset(used)
    # Codes kept aside get their words too (labels.labelled), as the record's fields do.
    return labels.labelled({k: v for k, v in item.items() if k not in used})


def _rest_of_each(key: str, item: dict[str, Any], used: Iterable[str]) -> dict[str, Any]:
    """``{key: [what each object of item[key] kept beyond used]}``, or {} if nothing is left.

    For an array only partly mapped (an account's identifiers, a party's addresses), so a
    field the record has no column for is kept in ``extra`` under the same path.
    """
    left = [_rest(element, used) for element in item.get(key) or []]
    return {key: left} if any(left) else {}


def day(value: str | None) -> date | None:
    """The date of an ISODateTime, in the zone it was written in (the bank's local day).

    A bare date is read too: the specification asks for a date-time, but a date says the
    same day.
    """
    return datetime.fromisoformat(value).date() if value else None


def _signed(amount: dict[str, Any], indicator: str) -> Decimal:
    text = amount["Amount"]
    # The specification's amounts are unsigned decimals of up to 13 digits and 5 decimals;
    # Decimal() alone would also take "-5", "1e3" or " 5", which a bank must not send.
    if not isinstance(text, str) or not AMOUNT_PATTERN.fullmatch(text):
        raise SkippableError(
            f"Amount {text!r} is not an amount as Open Banking writes them"
            " (up to 13 digits and 5 decimals, unsigned: the sign is CreditDebitIndicator)"
        )
    if indicator not in ("Credit", "Debit"):
        raise SkippableError(f"CreditDebitIndicator {indicator!r} is neither Credit nor Debit")
    value = Decimal(text)
    return value if indicator == "Credit" else -value


def account(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBAccount6 to an Account (its type, status and currency may be absent)."""
    kind = item.get("AccountSubType") or ""
    kind_label = labels.label(labels.ACCOUNT_TYPES, kind, "account type") if kind else "Account"
    status = item.get("Status")
    identifiers = [
        AccountIdentifier(
            scheme=i["SchemeName"],
            scheme_label=labels.label(labels.SCHEMES, i["SchemeName"], "account scheme"),
            identification=i["Identification"],
            name=i.get("Name"),
        )
        for i in item.get("Account", [])
    ]
    return [
        Account(
            provider_id=item["AccountId"],
            origin=Origin.observed,
            name=item.get("Nickname") or kind_label,
            account_type=kind,
            account_type_label=kind_label,
            status=status,
            status_label=labels.label(labels.ACCOUNT_STATUSES, status, "account status")
            if status
            else None,
            state=state_of(labels.ACCOUNT_STATES, status) if status else None,
            currency=item.get("Currency"),
            opened_on=day(item.get("OpeningDate")),
            identifiers=identifiers,
            extra=_rest(
                item,
                [
                    "AccountId",
                    "AccountSubType",
                    "Nickname",
                    "Status",
                    "Currency",
                    "OpeningDate",
                    "Account",
                ],
            )
            | _rest_of_each("Account", item, ["SchemeName", "Identification", "Name"]),
        )
    ]


def balance(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBReadBalance1 balance to a Balance."""
    lines = item.get("CreditLine") or []
    limit = next((Decimal(c["Amount"]["Amount"]) for c in lines if c.get("Amount")), None)
    return [
        Balance(
            provider_id=f"{item['AccountId']}:{item['Type']}:{item['DateTime']}",
            account_id=ref(Account, item["AccountId"]),
            amount=_signed(item["Amount"], item["CreditDebitIndicator"]),
            currency=item["Amount"]["Currency"],
            balance_type=item["Type"],
            balance_type_label=labels.label(labels.BALANCE_TYPES, item["Type"], "balance type"),
            as_of=item["DateTime"],
            credit_limit=limit,
            extra=_rest(
                item,
                # CreditLine stays whole: only the first line's amount has a column.
                ["AccountId", "Amount", "CreditDebitIndicator", "Type", "DateTime"],
            ),
        )
    ]


def transaction(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBTransaction6 to a Transaction; one without a TransactionId gets a derived id."""
    status = item["Status"]
    if status not in ENTRY_STATUSES:
        raise SkippableError(
            f"Status {status!r} is not a transaction status of Open Banking (Booked, Pending)"
        )
    code = item.get("BankTransactionCode") or {}
    category = f"{code['Code']}.{code['SubCode']}" if code else None
    merchant = item.get("MerchantDetails") or {}
    mcc = merchant.get("MerchantCategoryCode")
    party = item.get("CreditorAccount") or item.get("DebtorAccount") or {}
    balance_after = item.get("Balance")
    return [
        Transaction(
            provider_id=item.get("TransactionId") or identity.derived("transactions", item),
            account_id=ref(Account, item["AccountId"]),
            booked_at=item["BookingDateTime"],
            value_at=item.get("ValueDateTime"),
            amount=_signed(item["Amount"], item["CreditDebitIndicator"]),
            currency=item["Amount"]["Currency"],
            status=status,
            status_label=labels.TRANSACTION_STATUSES[status],
            state=state_of(labels.TRANSACTION_STATES, status),
            description=item.get("TransactionInformation")
            or merchant.get("MerchantName")
            or "(no description)",
            reference=item.get("TransactionReference"),
            counterparty=party.get("Name") or merchant.get("MerchantName"),
            merchant_name=merchant.get("MerchantName"),
            merchant_category_code=mcc,
            merchant_category_label=labels.label(
                labels.MERCHANT_CATEGORIES, mcc, "merchant category"
            )
            if mcc
            else None,
            category_code=category,
            category_label=labels.label(labels.TRANSACTION_CODES, category, "transaction code")
            if category
            else None,
            balance_after=_signed(balance_after["Amount"], balance_after["CreditDebitIndicator"])
            if balance_after
            else None,
            extra=_rest(item, _TRANSACTION_MAPPED),
        )
    ]


# Built once: a transaction's fields with a column of their own (or portal's own mark).
_TRANSACTION_MAPPED = frozenset(
    [
        "TransactionId",
        "AccountId",
        "BookingDateTime",
        "ValueDateTime",
        "Amount",
        "CreditDebitIndicator",
        "Status",
        "TransactionInformation",
        "TransactionReference",
        "MerchantDetails",
        "BankTransactionCode",
        "Balance",
        identity.OCCURRENCE,
    ]
)


def party(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBParty2 to a Party; only its PartyId is required, so even its name may be absent."""
    kind = item.get("PartyType")
    addresses = [
        Address(
            kind=a.get("AddressType"),
            lines=a.get("AddressLine")
            or [" ".join(p for p in (a.get("BuildingNumber"), a.get("StreetName")) if p)],
            town=a.get("TownName"),
            postcode=a.get("PostCode"),
            country=a.get("Country"),
        )
        for a in item.get("Address", [])
    ]
    return [
        Party(
            provider_id=item["PartyId"],
            origin=Origin.provided,
            full_name=item.get("Name") or item.get("FullLegalName") or "(name not given)",
            legal_name=item.get("FullLegalName"),
            party_type=kind,
            party_type_label=labels.label(labels.PARTY_TYPES, kind, "party type") if kind else None,
            customer_number=item.get("PartyNumber"),
            email=item.get("EmailAddress"),
            phone=item.get("Phone"),
            mobile=item.get("Mobile"),
            addresses=addresses,
            extra=_rest(
                item,
                [
                    "PartyId",
                    "Name",
                    "FullLegalName",
                    "PartyType",
                    "PartyNumber",
                    "EmailAddress",
                    "Phone",
                    "Mobile",
                    "Address",
                ],
            )
            | _rest_of_each(
                "Address", item, ["AddressType", "AddressLine", "TownName", "PostCode", "Country"]
            ),
        )
    ]


def access_consent(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """The OBReadConsentResponse1 this connection was granted under, as a Consent."""
    return [
        Consent(
            provider_id=item["ConsentId"],
            origin=Origin.provided,
            kind="data_access",
            kind_label="Account information access (Open Banking)",
            purpose="Let portal read your accounts, balances, transactions and details.",
            status=item["Status"],
            status_label=labels.label(labels.CONSENT_STATUSES, item["Status"], "consent status"),
            state=state_of(labels.CONSENT_STATES, item["Status"]),
            permissions=item.get("Permissions", []),
            granted_at=item.get("CreationDateTime"),
            status_updated_at=item.get("StatusUpdateDateTime"),
            expires_at=item.get("ExpirationDateTime"),
            grantee="portal",
            extra=_rest(
                item,
                [
                    "ConsentId",
                    "Status",
                    "Permissions",
                    "CreationDateTime",
                    "StatusUpdateDateTime",
                    "ExpirationDateTime",
                ],
            ),
        )
    ]


def marketing(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """A marketing preference (the bank's own API, not Open Banking) as a Consent."""
    return [
        Consent(
            provider_id=f"marketing:{item['PreferenceId']}",
            origin=Origin.provided,
            kind="marketing",
            kind_label="Marketing permission",
            purpose=item["Purpose"],
            channel=item["Channel"],
            channel_label=labels.label(labels.CHANNELS, item["Channel"], "channel"),
            status=item["Status"],
            status_label=labels.label(
                labels.PREFERENCE_STATUSES, item["Status"], "preference status"
            ),
            state=state_of(labels.PREFERENCE_STATES, item["Status"]),
            status_updated_at=item.get("UpdatedDateTime"),
            grantee="Demo Bank",
            extra=_rest(item, ["PreferenceId", "Purpose", "Channel", "Status", "UpdatedDateTime"]),
        )
    ]


NORMALISERS: dict[str, Callable[[dict[str, Any], Ref], list[Entity]]] = {
    "accounts": account,
    "balances": balance,
    "transactions": transaction,
    "party": party,
    "consents": access_consent,
    "marketing": marketing,
}
