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
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

CASH_ACCOUNT_TYPES = {
    # CACC: "used to post debits and credits when no specific account has been nominated"
    "CACC": "Current account",
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
    "ACCESS_DENIED",
    "ACCOUNT_DOES_NOT_EXIST",
    "ALREADY_AUTHORIZED",
    "ASPSP_ACCOUNT_NOT_ACCESSIBLE",
    "ASPSP_ERROR",
    "ASPSP_TIMEOUT",
    "ASPSP_RATE_LIMIT_EXCEEDED",
    "AUTHORIZATION_NOT_PROVIDED",
    "CLOSED_SESSION",
    "DATE_TO_WITHOUT_DATE_FROM",
    "DATE_FROM_IN_FUTURE",
    "EXPIRED_AUTHORIZATION_CODE",
    "EXPIRED_SESSION",
    "INVALID_ACCOUNT_ID",
    "INVALID_HOST",
    "UNAUTHORIZED_IP",
    "NO_ACCOUNTS_ADDED",
    "PAYMENT_NOT_FOUND",
    "PSU_HEADER_NOT_PROVIDED",
    "PSU_HEADER_INVALID",
    "REDIRECT_URI_NOT_ALLOWED",
    "REVOKED_SESSION",
    "SESSION_DOES_NOT_EXIST",
    "UNAUTHORIZED_ACCESS",
    "UNTRUSTED_PAYMENT_PARTY",
    "WEBHOOK_URI_NOT_ALLOWED",
    "WRONG_ASPSP_PROVIDED",
    "WRONG_AUTHORIZATION_CODE",
    "WRONG_DATE_INTERVAL",
    "WRONG_CREDENTIALS_PROVIDED",
    "WRONG_REQUEST_PARAMETERS",
    "WRONG_SESSION_STATUS",
    "WRONG_TRANSACTIONS_PERIOD",
    "WRONG_CONTINUATION_KEY",
    "TRANSACTION_DOES_NOT_EXIST",
    "PAYMENT_LIMIT_EXCEEDED",
    "ASPSP_PAYMENT_NOT_ACCESSIBLE",
    "INVALID_PAYMENT",
    "ASPSP_PSU_ACTION_REQUIRED",
    "PAYMENT_NOT_FINALIZED",
)

AMOUNT = re.compile(r"^-?\d+(\.\d+)?$")
"""AmountType.amount: a decimal string with a dot, signed."""
CURRENCY = re.compile(r"^[A-Z]{3}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")

# A field's rule: a type name, or ("enum", codes), ("obj", schema), ("list", rule).
Rule = Any
REQ, OPT = True, False

SCHEMAS: dict[str, dict[str, tuple[Rule, bool]]] = {
    "AmountType": {"currency": ("currency", REQ), "amount": ("amount", REQ)},
    "GenericIdentification": {
        "identification": ("str", REQ),
        "scheme_name": (("enum", SCHEME_NAMES), REQ),
        "issuer": ("str", OPT),
    },
    "AccountIdentification": {
        "iban": ("str", OPT),
        "other": (("obj", "GenericIdentification"), OPT),
    },
    "PostalAddress": {
        "address_type": ("str", OPT),
        "department": ("str", OPT),
        "sub_department": ("str", OPT),
        "street_name": ("str", OPT),
        "building_number": ("str", OPT),
        "post_code": ("str", OPT),
        "town_name": ("str", OPT),
        "country_sub_division": ("str", OPT),
        "country": ("str", OPT),
        "address_line": (("list", "str"), OPT),
    },
    "ContactDetails": {"email_address": ("str", OPT), "phone_number": ("str", OPT)},
    "PartyIdentification": {
        "name": ("str", OPT),
        "postal_address": (("obj", "PostalAddress"), OPT),
        "organisation_id": (("obj", "GenericIdentification"), OPT),
        "private_id": (("obj", "GenericIdentification"), OPT),
        "contact_details": (("obj", "ContactDetails"), OPT),
    },
    "ClearingSystemMemberIdentification": {
        "clearing_system_id": ("str", OPT),
        "member_id": ("str", OPT),
    },
    "FinancialInstitutionIdentification": {
        "bic_fi": ("str", OPT),
        "clearing_system_member_id": (("obj", "ClearingSystemMemberIdentification"), OPT),
        "name": ("str", OPT),
    },
    "BankTransactionCode": {
        "description": ("str", OPT),
        "code": ("str", OPT),
        "sub_code": ("str", OPT),
    },
    "ExchangeRate": {
        "unit_currency": ("currency", OPT),
        "exchange_rate": ("str", OPT),
        "rate_type": (("enum", {"SPOT": "", "SALE": "", "AGRD": ""}), OPT),
        "contract_identification": ("str", OPT),
        "instructed_amount": (("obj", "AmountType"), OPT),
    },
    "AccountResource": {
        "account_id": (("obj", "AccountIdentification"), OPT),
        "all_account_ids": (("list", ("obj", "GenericIdentification")), OPT),
        "account_servicer": (("obj", "FinancialInstitutionIdentification"), OPT),
        "name": ("str", OPT),
        "details": ("str", OPT),
        "usage": (("enum", USAGES), OPT),
        "cash_account_type": (("enum", CASH_ACCOUNT_TYPES), REQ),
        "product": ("str", OPT),
        "currency": ("currency", REQ),
        "psu_status": ("str", OPT),
        "credit_limit": (("obj", "AmountType"), OPT),
        "legal_age": ("bool", OPT),
        "postal_address": (("obj", "PostalAddress"), OPT),
        "uid": ("uuid", OPT),
        "identification_hash": ("str", REQ),
        "identification_hashes": (("list", "str"), REQ),
    },
    "BalanceResource": {
        "name": ("str", REQ),
        "balance_amount": (("obj", "AmountType"), REQ),
        "balance_type": (("enum", BALANCE_TYPES), REQ),
        "last_change_date_time": ("date-time", OPT),
        "reference_date": ("date", OPT),
        "last_committed_transaction": ("str", OPT),
    },
    "Transaction": {
        "entry_reference": ("str", OPT),
        "merchant_category_code": ("str", OPT),
        "transaction_amount": (("obj", "AmountType"), REQ),
        "creditor": (("obj", "PartyIdentification"), OPT),
        "creditor_account": (("obj", "AccountIdentification"), OPT),
        "creditor_agent": (("obj", "FinancialInstitutionIdentification"), OPT),
        "debtor": (("obj", "PartyIdentification"), OPT),
        "debtor_account": (("obj", "AccountIdentification"), OPT),
        "debtor_agent": (("obj", "FinancialInstitutionIdentification"), OPT),
        "bank_transaction_code": (("obj", "BankTransactionCode"), OPT),
        "credit_debit_indicator": (("enum", CREDIT_DEBIT), REQ),
        "status": (("enum", TRANSACTION_STATUSES), REQ),
        "booking_date": ("date", OPT),
        "value_date": ("date", OPT),
        "transaction_date": ("date", OPT),
        "balance_after_transaction": (("obj", "AmountType"), OPT),
        "reference_number": ("str", OPT),
        "reference_number_schema": (("enum", REFERENCE_SCHEMES), OPT),
        "remittance_information": (("list", "str"), OPT),
        "debtor_account_additional_identification": (
            ("list", ("obj", "GenericIdentification")),
            OPT,
        ),
        "creditor_account_additional_identification": (
            ("list", ("obj", "GenericIdentification")),
            OPT,
        ),
        "exchange_rate": (("obj", "ExchangeRate"), OPT),
        "note": ("str", OPT),
        "transaction_id": ("str", OPT),
    },
    "HalBalances": {"balances": (("list", ("obj", "BalanceResource")), REQ)},
    "HalTransactions": {
        "transactions": (("list", ("obj", "Transaction")), REQ),
        "continuation_key": ("str", OPT),
    },
    "ASPSP": {"name": ("str", REQ), "country": ("country", REQ)},
    "Access": {
        "valid_until": ("date-time", REQ),
        "accounts": (("list", ("obj", "AccountIdentification")), OPT),
        "balances": ("bool", OPT),
        "transactions": ("bool", OPT),
    },
    "StartAuthorizationResponse": {
        "url": ("str", REQ),
        "authorization_id": ("uuid", REQ),
        "psu_id_hash": ("str", REQ),
    },
    "AuthorizeSessionResponse": {
        "session_id": ("uuid", REQ),
        "accounts": (("list", ("obj", "AccountResource")), REQ),
        "aspsp": (("obj", "ASPSP"), REQ),
        "psu_type": (("enum", dict.fromkeys(PSU_TYPES, "")), REQ),
        "access": (("obj", "Access"), REQ),
    },
    "ErrorResponse": {
        "message": ("str", REQ),
        "code": ("int", OPT),
        "error": (("enum", dict.fromkeys(ERROR_CODES, "")), OPT),
        "detail": ("any", OPT),
    },
    "SuccessResponse": {"message": ("str", OPT)},
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
    tests: dict[str, Callable[[str], Any]] = {
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
