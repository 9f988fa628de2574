"""Enable Banking's published rules, written down: the answers' fields, types and code lists.

From the API reference's OpenAPI document (version 1.0.0, https://enablebanking.com/docs/api/reference/,
as mirrored in api-evangelist/enable-banking ``openapi/_original/enable-banking-api-openapi.yml``):
for each answer the plugin reads, which fields are required and which optional, their
types and formats, and the code lists with the words the reference gives each code.

The reference's ``x-enum-descriptions`` are listed in alphabetical order of the words, not
in the order of the codes (CashAccountType's first code is CACC, its first description
"Account used to post debits and credits..."; its second code CASH, its second description
"Account used for card payments only"). Each code's words below are matched to it by
meaning, not by position.

``check(schema, value)`` returns every way ``value`` breaks the rules of ``schema``; the
tests run it over everything the sandbox serves. Unknown fields are allowed (the API adds
fields), and so are codes outside a list where the plugin must cope with them.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

CASH_ACCOUNT_TYPES = {
    "CACC": "Current account",  # "used to post debits and credits when no specific account has been nominated"
    "CARD": "Card account",  # "used for card payments only"
    "CASH": "Cash payments account",  # "used for the payment of cash"
    "LOAN": "Loan account",
    "SVGS": "Savings account",
    "OTHR": "Other account",  # "not otherwise specified"
}
"""CashAccountType: what an account is for."""

USAGES = {"PRIV": "Private personal account", "ORGA": "Professional account"}
"""Usage (the reference's descriptions are swapped; these follow ISO 20022 ``AccountUsage``)."""

BALANCE_TYPES = {
    "CLAV": "Closing available balance",
    "CLBD": "Closing booked balance",
    "FWAV": "Forward available balance",
    "INFO": "Balance for information",
    "ITAV": "Interim available balance",
    "ITBD": "Interim booked balance",
    "OPAV": "Opening available balance",
    "OPBD": "Opening booked balance",
    "PRCD": "Previously closed booked balance",
    "OTHR": "Other balance",
    "VALU": "Value-date balance",
    "XPCD": "Expected (instant) balance",
}
"""BalanceStatus: the kind of a balance (ISO 20022 balance types)."""

AVAILABLE_BALANCES = frozenset({"CLAV", "FWAV", "ITAV", "OPAV", "XPCD"})
"""Balances that count what is still pending as well as what is booked."""

TRANSACTION_STATUSES = {
    "BOOK": "Booked",
    "CNCL": "Cancelled",
    "HOLD": "Account hold",
    "OTHR": "Other status",
    "PDNG": "Pending",
    "RJCT": "Rejected",
    "SCHD": "Scheduled",
}
"""TransactionStatus."""

CREDIT_DEBIT = {"CRDT": "Credit (money in)", "DBIT": "Debit (money out)"}
"""CreditDebitIndicator: which way the money moved, from the account holder's side."""

SCHEME_NAMES = {
    "ARNU": "Alien registration number",
    "BANK": "Bank party identification",
    "BBAN": "Basic bank account number",
    "BGNR": "Swedish Bankgiro number",
    "CCPT": "Passport number",
    "CHID": "Clearing identification number",
    "COID": "Country identification code",
    "CPAN": "Card number (PAN)",
    "CUSI": "Customer identification number",
    "CUST": "Corporate customer number",
    "DRLC": "Driver's licence number",
    "DUNS": "D-U-N-S number",
    "EMPL": "Employer identification number",
    "GS1G": "GS1 GLN identifier",
    "IBAN": "International bank account number (IBAN)",
    "MIBN": "Masked IBAN",
    "NIDN": "National identity number",
    "OAUT": "OAuth access token",
    "OTHC": "Other corporate identification",
    "OTHI": "Other individual identification",
    "PGNR": "Swedish PlusGiro number",
    "SOSE": "Social security number",
    "SREN": "SIREN number",
    "SRET": "SIRET number",
    "TXID": "Tax identification number",
}
"""SchemeName: the kind of an account or party identification."""

REFERENCE_SCHEMES = {
    "BERF": "Belgian reference number",
    "FIRF": "Finnish reference number",
    "INTL": "International reference number (RF)",
    "NORF": "Norwegian KID",
    "SDDM": "SEPA Direct Debit mandate id",
    "SEBG": "Swedish Bankgiro OCR",
}
"""ReferenceNumberScheme."""

MERCHANT_CATEGORIES = {
    "4111": "Commuter transport",
    "5411": "Grocery stores and supermarkets",
    "5814": "Fast food and cafés",
    "5912": "Pharmacies",
    "5921": "Off-licences (alcohol)",
    "5942": "Book shops",
    "6011": "Cash machine withdrawals",
    "7011": "Hotels and lodging",
}
"""ISO 18245 merchant category codes the plugin has words for."""

SESSION_STATUSES = (
    "INVALID",
    "PENDING_AUTHORIZATION",
    "RETURNED_FROM_BANK",
    "AUTHORIZED",
    "EXPIRED",
    "CLOSED",
    "REVOKED",
    "CANCELLED",
)
PSU_TYPES = ("business", "personal")
ERROR_CODES = (
    "ACCESS_DENIED ACCOUNT_DOES_NOT_EXIST ALREADY_AUTHORIZED ASPSP_ACCOUNT_NOT_ACCESSIBLE"
    " ASPSP_ERROR ASPSP_TIMEOUT ASPSP_RATE_LIMIT_EXCEEDED AUTHORIZATION_NOT_PROVIDED"
    " CLOSED_SESSION DATE_TO_WITHOUT_DATE_FROM DATE_FROM_IN_FUTURE EXPIRED_AUTHORIZATION_CODE"
    " EXPIRED_SESSION INVALID_ACCOUNT_ID INVALID_HOST UNAUTHORIZED_IP NO_ACCOUNTS_ADDED"
    " PAYMENT_NOT_FOUND PSU_HEADER_NOT_PROVIDED PSU_HEADER_INVALID REDIRECT_URI_NOT_ALLOWED"
    " REVOKED_SESSION SESSION_DOES_NOT_EXIST UNAUTHORIZED_ACCESS UNTRUSTED_PAYMENT_PARTY"
    " WEBHOOK_URI_NOT_ALLOWED WRONG_ASPSP_PROVIDED WRONG_AUTHORIZATION_CODE WRONG_DATE_INTERVAL"
    " WRONG_CREDENTIALS_PROVIDED WRONG_REQUEST_PARAMETERS WRONG_SESSION_STATUS"
    " WRONG_TRANSACTIONS_PERIOD WRONG_CONTINUATION_KEY TRANSACTION_DOES_NOT_EXIST"
    " PAYMENT_LIMIT_EXCEEDED ASPSP_PAYMENT_NOT_ACCESSIBLE INVALID_PAYMENT"
    " ASPSP_PSU_ACTION_REQUIRED PAYMENT_NOT_FINALIZED"
).split()

AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")
"""AmountType.amount: a decimal string with a dot, signed."""
CURRENCY = re.compile(r"^[A-Z]{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")

# A field's rule: a type name, or ("enum", codes), ("obj", schema), ("list", rule).
Rule = Any
R, O = True, False  # required, optional

SCHEMAS: dict[str, dict[str, tuple[Rule, bool]]] = {
    "AmountType": {"currency": ("currency", R), "amount": ("amount", R)},
    "GenericIdentification": {
        "identification": ("str", R),
        "scheme_name": (("enum", SCHEME_NAMES), R),
        "issuer": ("str", O),
    },
    "AccountIdentification": {
        "iban": ("str", O),
        "other": (("obj", "GenericIdentification"), O),
    },
    "PostalAddress": {
        "address_type": ("str", O),
        "department": ("str", O),
        "sub_department": ("str", O),
        "street_name": ("str", O),
        "building_number": ("str", O),
        "post_code": ("str", O),
        "town_name": ("str", O),
        "country_sub_division": ("str", O),
        "country": ("str", O),
        "address_line": (("list", "str"), O),
    },
    "ContactDetails": {"email_address": ("str", O), "phone_number": ("str", O)},
    "PartyIdentification": {
        "name": ("str", O),
        "postal_address": (("obj", "PostalAddress"), O),
        "organisation_id": (("obj", "GenericIdentification"), O),
        "private_id": (("obj", "GenericIdentification"), O),
        "contact_details": (("obj", "ContactDetails"), O),
    },
    "ClearingSystemMemberIdentification": {
        "clearing_system_id": ("str", O),
        "member_id": ("str", O),
    },
    "FinancialInstitutionIdentification": {
        "bic_fi": ("str", O),
        "clearing_system_member_id": (("obj", "ClearingSystemMemberIdentification"), O),
        "name": ("str", O),
    },
    "BankTransactionCode": {"description": ("str", O), "code": ("str", O), "sub_code": ("str", O)},
    "ExchangeRate": {
        "unit_currency": ("currency", O),
        "exchange_rate": ("str", O),
        "rate_type": (("enum", {"SPOT": "", "SALE": "", "AGRD": ""}), O),
        "contract_identification": ("str", O),
        "instructed_amount": (("obj", "AmountType"), O),
    },
    "AccountResource": {
        "account_id": (("obj", "AccountIdentification"), O),
        "all_account_ids": (("list", ("obj", "GenericIdentification")), O),
        "account_servicer": (("obj", "FinancialInstitutionIdentification"), O),
        "name": ("str", O),
        "details": ("str", O),
        "usage": (("enum", USAGES), O),
        "cash_account_type": (("enum", CASH_ACCOUNT_TYPES), R),
        "product": ("str", O),
        "currency": ("currency", R),
        "psu_status": ("str", O),
        "credit_limit": (("obj", "AmountType"), O),
        "legal_age": ("bool", O),
        "postal_address": (("obj", "PostalAddress"), O),
        "uid": ("uuid", O),
        "identification_hash": ("str", R),
        "identification_hashes": (("list", "str"), R),
    },
    "BalanceResource": {
        "name": ("str", R),
        "balance_amount": (("obj", "AmountType"), R),
        "balance_type": (("enum", BALANCE_TYPES), R),
        "last_change_date_time": ("date-time", O),
        "reference_date": ("date", O),
        "last_committed_transaction": ("str", O),
    },
    "Transaction": {
        "entry_reference": ("str", O),
        "merchant_category_code": ("str", O),
        "transaction_amount": (("obj", "AmountType"), R),
        "creditor": (("obj", "PartyIdentification"), O),
        "creditor_account": (("obj", "AccountIdentification"), O),
        "creditor_agent": (("obj", "FinancialInstitutionIdentification"), O),
        "debtor": (("obj", "PartyIdentification"), O),
        "debtor_account": (("obj", "AccountIdentification"), O),
        "debtor_agent": (("obj", "FinancialInstitutionIdentification"), O),
        "bank_transaction_code": (("obj", "BankTransactionCode"), O),
        "credit_debit_indicator": (("enum", CREDIT_DEBIT), R),
        "status": (("enum", TRANSACTION_STATUSES), R),
        "booking_date": ("date", O),
        "value_date": ("date", O),
        "transaction_date": ("date", O),
        "balance_after_transaction": (("obj", "AmountType"), O),
        "reference_number": ("str", O),
        "reference_number_schema": (("enum", REFERENCE_SCHEMES), O),
        "remittance_information": (("list", "str"), O),
        "debtor_account_additional_identification": (
            ("list", ("obj", "GenericIdentification")),
            O,
        ),
        "creditor_account_additional_identification": (
            ("list", ("obj", "GenericIdentification")),
            O,
        ),
        "exchange_rate": (("obj", "ExchangeRate"), O),
        "note": ("str", O),
        "transaction_id": ("str", O),
    },
    "HalBalances": {"balances": (("list", ("obj", "BalanceResource")), R)},
    "HalTransactions": {
        "transactions": (("list", ("obj", "Transaction")), R),
        "continuation_key": ("str", O),
    },
    "ASPSP": {"name": ("str", R), "country": ("country", R)},
    "Access": {
        "valid_until": ("date-time", R),
        "accounts": (("list", ("obj", "AccountIdentification")), O),
        "balances": ("bool", O),
        "transactions": ("bool", O),
    },
    "StartAuthorizationResponse": {
        "url": ("str", R),
        "authorization_id": ("uuid", R),
        "psu_id_hash": ("str", R),
    },
    "AuthorizeSessionResponse": {
        "session_id": ("uuid", R),
        "accounts": (("list", ("obj", "AccountResource")), R),
        "aspsp": (("obj", "ASPSP"), R),
        "psu_type": (("enum", dict.fromkeys(PSU_TYPES, "")), R),
        "access": (("obj", "Access"), R),
    },
    "ErrorResponse": {
        "message": ("str", R),
        "code": ("int", O),
        "error": (("enum", dict.fromkeys(ERROR_CODES, "")), O),
        "detail": ("any", O),
    },
    "SuccessResponse": {"message": ("str", O)},
}
"""Every answer the plugin reads, field by field: (rule, required)."""


def check(schema: str, value: Any, where: str = "") -> list[str]:
    """Every way ``value`` breaks the rules of ``schema`` (empty when it obeys them)."""
    where = where or schema
    if not isinstance(value, dict):
        return [f"{where} is not an object"]
    problems: list[str] = []
    for name, (rule, required) in SCHEMAS[schema].items():
        if name not in value or value[name] is None:
            if required:
                problems.append(f"{where}.{name} is required but missing")
            continue
        problems += _check_value(rule, value[name], f"{where}.{name}")
    return problems


def _check_value(rule: Rule, value: Any, where: str) -> list[str]:
    if isinstance(rule, tuple):
        kind, inner = rule
        if kind == "obj":
            return check(inner, value, where)
        if kind == "list":
            if not isinstance(value, list):
                return [f"{where} is not a list"]
            return [p for i, v in enumerate(value) for p in _check_value(inner, v, f"{where}[{i}]")]
        if kind == "enum":
            return [] if value in inner else [f"{where} {value!r} is not one of its codes"]
    return [] if _scalar_ok(rule, value) else [f"{where} {value!r} is not a valid {rule}"]


def _scalar_ok(rule: str, value: Any) -> bool:
    if rule == "any":
        return True
    if rule == "bool":
        return isinstance(value, bool)
    if rule == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, str):
        return False
    tests = {
        "str": lambda v: True,
        "amount": AMOUNT.fullmatch,
        "currency": CURRENCY.fullmatch,
        "country": COUNTRY.fullmatch,
        "date": _is_date,
        "date-time": _is_datetime,
        "uuid": _is_uuid,
    }
    return bool(tests[rule](value))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    # RFC 3339: a date, a time and an offset (or Z).
    try:
        return datetime.fromisoformat(value).tzinfo is not None and "T" in value.upper()
    except ValueError:
        return False


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
