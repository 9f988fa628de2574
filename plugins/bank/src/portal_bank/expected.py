"""What each record must say of what Demo Bank serves: the sandbox's side of ``values``.

Written from the meaning Open Banking v3.1 gives each field (``portal_bank.spec`` and the
specification it summarises), never from the plugin's mapping: the sandbox is the bank's
double and states what its own data means, so a plugin that reads a field wrongly fails.
The words for codes come from the code lists in ``portal_bank.labels`` (tables only).

The readings the specification fixes:

- an ``Amount`` is unsigned; ``CreditDebitIndicator`` gives the sign: ``Credit`` is money
  in (positive), ``Debit`` money out (negative);
- an ``ISODateTime`` is an instant; a record's *date* field (opening date, payment days,
  statement days) is its day in the zone it was written in, the bank's local day;
- ``TransactionInformation`` is the description the bank shows, up to 500 characters,
  kept whole; ``Phone`` is the landline, ``Mobile`` the mobile number;
- a consent's ``Permissions`` are exactly those granted (a set: their order means nothing);
- each status code means one of portal's common states (``STATES`` below, this double's
  own reading of the code lists, never the plugin's table).

Items are keyed by the bank's own id (``TransactionId``, ``StatementId`` ...); a balance,
which has none, by ``AccountId:Type:DateTime``. Fields with no column of the record are
stated as ``extra.<key>``, as served.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portal.record.vocab import State
from portal_bank import labels as words

Fields = dict[str, Any]
Expected = dict[str, dict[str, Fields]]

STATES: dict[str, dict[str, State]] = {
    # OBAccountStatus1Code, ISO 20022's AccountStatus: Enabled can be used; Disabled cannot,
    # "temporarily or permanently", so it is paused (Deleted is the end); ProForma is being
    # opened, awaiting the customer's documents or funds; Pending, a change awaiting approval.
    "account": {
        "Enabled": State.active,
        "Disabled": State.suspended,
        "Deleted": State.closed,
        "ProForma": State.pending,
        "Pending": State.pending,
    },
    # OBEntryStatus1Code: Booked is final; Pending may still change or vanish; Rejected failed.
    "transaction": {"Booked": State.booked, "Pending": State.pending, "Rejected": State.rejected},
    # OBExternalRequestStatus1Code (an account-access consent's life).
    "consent": {
        "AwaitingAuthorisation": State.pending,
        "Authorised": State.active,
        "Rejected": State.rejected,
        "Revoked": State.withdrawn,
        "Expired": State.expired,
    },
    # The bank's own marketing preferences: opted out was never given, withdrawn was taken back.
    "preference": {
        "OptedIn": State.active,
        "OptedOut": State.declined,
        "Withdrawn": State.withdrawn,
    },
    # OBExternalDirectDebitStatus1Code and OBExternalStandingOrderStatus1Code: an Inactive
    # mandate or order is no longer paid: called off.
    "arrangement": {"Active": State.active, "Inactive": State.cancelled},
}
"""What each Open Banking status code means in portal's common states, by code list."""


def state(code_list: str, code: str | None) -> State | None:
    """The state a served status ``code`` means (None if none was served); a code outside the
    published list has no meaning, so ``unknown``."""
    if code is None:
        return None
    return STATES[code_list].get(code, State.unknown)


def signed(amount: dict[str, Any], indicator: str) -> Decimal:
    """An OB amount with its sign: Credit is money in (positive), Debit money out."""
    value = Decimal(amount["Amount"])
    return value if indicator == "Credit" else -value


def instant(text: str | None) -> datetime | None:
    """An ISODateTime as the instant it names."""
    return datetime.fromisoformat(text) if text else None


def local_day(text: str | None) -> date | None:
    """The day of an ISODateTime in the zone it was written in (the bank's local day)."""
    return datetime.fromisoformat(text).date() if text else None


def rest(item: dict[str, Any], columns: Iterable[str]) -> Fields:
    """The served fields without a column of the record, as ``extra.<key>``."""
    used = set(columns)
    # Copies: the statement must not change when the bank's objects do (add_activity).
    return {f"extra.{k}": copy.deepcopy(v) for k, v in item.items() if k not in used}


def rest_of_each(item: dict[str, Any], key: str, columns: Iterable[str]) -> Fields:
    """For an array only partly mapped: what each element keeps beyond ``columns``."""
    used = set(columns)
    left = [
        {k: copy.deepcopy(v) for k, v in e.items() if k not in used} for e in item.get(key) or []
    ]
    return {f"extra.{key}": left} if any(left) else {}


def identifier(account: dict[str, Any]) -> Fields:
    """An OBCashAccount as the record's AccountIdentifier."""
    scheme = account["SchemeName"]
    return {
        "scheme": scheme,
        "scheme_label": words.SCHEMES[scheme],
        "identification": account["Identification"],
        "name": account.get("Name"),
    }


def account(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBAccount6: Nickname is what the customer calls it; OpeningDate is a day."""
    kind = item.get("AccountSubType") or ""
    kind_label = words.ACCOUNT_TYPES[kind] if kind else "Account"
    status = item.get("Status")
    columns = ["AccountId", "AccountSubType", "Nickname", "Status", "Currency", "OpeningDate"]
    return item["AccountId"], {
        "name": item.get("Nickname") or kind_label,
        "account_type": kind,
        "account_type_label": kind_label,
        "status": status,
        "status_label": words.ACCOUNT_STATUSES[status] if status else None,
        "state": state("account", status),
        "currency": item.get("Currency"),
        "opened_on": local_day(item.get("OpeningDate")),
        "identifiers": [identifier(a) for a in item.get("Account", [])],
        **rest(item, [*columns, "Account"]),
        **rest_of_each(item, "Account", ["SchemeName", "Identification", "Name"]),
    }


def balance(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBReadBalance1: a signed amount at an instant; a credit line's amount is the limit."""
    lines = [c for c in item.get("CreditLine") or [] if c.get("Amount")]
    columns = ["AccountId", "Amount", "CreditDebitIndicator", "Type", "DateTime"]
    return f"{item['AccountId']}:{item['Type']}:{item['DateTime']}", {
        "account_id": item["AccountId"],
        "amount": signed(item["Amount"], item["CreditDebitIndicator"]),
        "currency": item["Amount"]["Currency"],
        "balance_type": item["Type"],
        "balance_type_label": words.BALANCE_TYPES[item["Type"]],
        "as_of": instant(item["DateTime"]),
        "credit_limit": Decimal(lines[0]["Amount"]["Amount"]) if lines else None,
        **rest(item, columns),
    }


_TRANSACTION_COLUMNS = (
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
)


def transaction(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBTransaction6: the description whole, the counterparty the other side's name."""
    merchant = item.get("MerchantDetails") or {}
    mcc = merchant.get("MerchantCategoryCode")
    code = item.get("BankTransactionCode")
    category = f"{code['Code']}.{code['SubCode']}" if code else None
    other = item.get("CreditorAccount") or item.get("DebtorAccount") or {}
    after = item.get("Balance")
    return item["TransactionId"], {
        "account_id": item["AccountId"],
        "booked_at": instant(item["BookingDateTime"]),
        "value_at": instant(item.get("ValueDateTime")),
        "amount": signed(item["Amount"], item["CreditDebitIndicator"]),
        "currency": item["Amount"]["Currency"],
        "status": item["Status"],
        "status_label": words.TRANSACTION_STATUSES[item["Status"]],
        "state": state("transaction", item["Status"]),
        "description": item.get("TransactionInformation")
        or merchant.get("MerchantName")
        or "(no description)",
        "reference": item.get("TransactionReference"),
        "counterparty": other.get("Name") or merchant.get("MerchantName"),
        "merchant_name": merchant.get("MerchantName"),
        "merchant_category_code": mcc,
        "merchant_category_label": words.MERCHANT_CATEGORIES[mcc] if mcc else None,
        "category_code": category,
        "category_label": words.TRANSACTION_CODES[category] if category else None,
        "balance_after": signed(after["Amount"], after["CreditDebitIndicator"]) if after else None,
        **rest(item, _TRANSACTION_COLUMNS),
    }


def address(a: dict[str, Any]) -> Fields:
    """OBPostalAddress6: its lines, or the building number and street when it has none."""
    street = " ".join(p for p in (a.get("BuildingNumber"), a.get("StreetName")) if p)
    return {
        "kind": a.get("AddressType"),
        "lines": list(a.get("AddressLine") or [street]),
        "town": a.get("TownName"),
        "postcode": a.get("PostCode"),
        "country": a.get("Country"),
    }


def party(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBParty2: Phone is the landline and Mobile the mobile, each under its own type."""
    kind = item.get("PartyType")
    columns = ["PartyId", "Name", "FullLegalName", "PartyType", "PartyNumber"]
    contact = ["EmailAddress", "Phone", "Mobile", "Address"]
    return item["PartyId"], {
        "full_name": item.get("Name") or item.get("FullLegalName") or "(name not given)",
        "legal_name": item.get("FullLegalName"),
        "party_type": kind,
        "party_type_label": words.PARTY_TYPES[kind] if kind else None,
        "customer_number": item.get("PartyNumber"),
        "birth_date": None,
        "email": item.get("EmailAddress"),
        "phone": item.get("Phone"),
        "mobile": item.get("Mobile"),
        "addresses": [address(a) for a in item.get("Address", [])],
        **rest(item, [*columns, *contact]),
        **rest_of_each(
            item, "Address", ["AddressType", "AddressLine", "TownName", "PostCode", "Country"]
        ),
    }


def access_consent(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBReadConsentResponse1: exactly the permissions granted, as a set."""
    columns = ["ConsentId", "Status", "Permissions", "CreationDateTime", "StatusUpdateDateTime"]
    return item["ConsentId"], {
        "kind": "data_access",
        "kind_label": "Account information access (Open Banking)",
        "purpose": "Let portal read your accounts, balances, transactions and details.",
        "channel": None,
        "status": item["Status"],
        "status_label": words.CONSENT_STATUSES[item["Status"]],
        "state": state("consent", item["Status"]),
        "permissions": frozenset(item.get("Permissions", [])),
        "granted_at": instant(item.get("CreationDateTime")),
        "status_updated_at": instant(item.get("StatusUpdateDateTime")),
        "expires_at": instant(item.get("ExpirationDateTime")),
        "grantee": "portal",
        **rest(item, [*columns, "ExpirationDateTime"]),
    }


def marketing(item: dict[str, Any]) -> tuple[str, Fields]:
    """A marketing preference (the bank's own API): a channel and whether it is opted in."""
    columns = ["PreferenceId", "Purpose", "Channel", "Status", "UpdatedDateTime"]
    return item["PreferenceId"], {
        "kind": "marketing",
        "kind_label": "Marketing permission",
        "purpose": item["Purpose"],
        "channel": item["Channel"],
        "channel_label": words.CHANNELS[item["Channel"]],
        "status": item["Status"],
        "status_label": words.PREFERENCE_STATUSES[item["Status"]],
        "state": state("preference", item["Status"]),
        "permissions": frozenset(),
        "granted_at": None,
        "status_updated_at": instant(item.get("UpdatedDateTime")),
        "expires_at": None,
        "grantee": "Demo Bank",
        **rest(item, columns),
    }


Reader = Callable[[dict[str, Any]], tuple[str, Fields]]
"""One served item to (its key, what its record must say)."""

CORE: dict[str, Reader] = {
    "accounts": account,
    "balances": balance,
    "transactions": transaction,
    "party": party,
    "consents": access_consent,
    "marketing_preferences": marketing,
}
"""The reader of each ground-truth key of the core resources."""


def digest(content: bytes) -> str:
    """The SHA-256 of a file, as 64 hex digits."""
    return hashlib.sha256(content).hexdigest()
