"""The SimpleFIN protocol's rules for what ``GET /accounts`` answers, as data, and a checker.

Written down from the published protocol (https://www.simplefin.org/protocol.html, the
1.0 draft, and its 2.0 revision in ``protocol-v2.md`` of github.com/simplefin/
simplefin.github.com with its CHANGELOG): each object's attributes, whether each is
required, and what its value is. What the protocol says, in our words:

- An **Account Set** holds ``accounts`` (required) and the errors: in 1.0 ``errors``, an
  array of strings for the user (required); in 2.0 ``errlist``, an array of Error objects
  (required), with ``errors`` kept but deprecated, and ``connections`` (required).
- An **Account** has ``id``, ``name``, ``currency``, ``balance`` and ``balance-date``
  (required); 1.0 also requires ``org``, 2.0 requires ``conn_id`` instead. Optional:
  ``available-balance`` (absent when it is the balance), ``transactions`` (absent with
  ``balances-only=1``), ``extra`` (the server's own data).
- A **Transaction** has ``id``, ``posted``, ``amount`` and ``description`` (required);
  ``transacted_at``, ``pending`` and ``extra`` are optional. ``posted`` may be 0 for a
  pending transaction; ``pending`` absent means posted. The 2026 changes add ``mcc``,
  the ISO 18245 merchant category code (optional).
- Numbers are *numeric strings* (``"-33293.43"``), never JSON numbers; moments are UNIX
  epoch timestamps (whole seconds); ``currency`` is an ISO 4217 code or, for a custom
  currency (air miles, points), the URL that describes it.
- An **Error** (2.0) has ``code`` and ``msg`` (required; the protocol's own example writes
  ``message`` once, so a reader takes either), ``conn_id`` and ``account_id`` (optional).
  Codes are ``prefix.subcode`` with the prefixes ``gen``, ``con`` and ``act``; an unknown
  subcode is read as its bare prefix.

The protocol leaves every object open: servers add attributes (the Bridge sends
``holdings`` on accounts, ``payee`` and ``memo`` on transactions), so unknown attributes
are allowed everywhere and a reader keeps them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import pycountry

SOURCE = "SimpleFIN Protocol 1.0 draft and 2.0 (https://www.simplefin.org/protocol.html)"

Rule = tuple[bool, str]
"""Whether the attribute is required, and what its value is."""

ACCOUNT_SET: dict[str, Rule] = {
    "errors": (False, "strings"),  # required in 1.0, deprecated in 2.0: see problems()
    "errlist": (False, "errors"),  # required in 2.0
    "connections": (False, "connections"),  # required in 2.0
    "accounts": (True, "accounts"),
}
ORGANIZATION: dict[str, Rule] = {
    "domain": (False, "text"),  # "either domain or name is required"
    "sfin-url": (True, "url"),
    "name": (False, "text"),
    "url": (False, "url"),
    "id": (False, "text"),
}
CONNECTION: dict[str, Rule] = {
    "conn_id": (True, "text"),
    "name": (True, "text"),
    "org_id": (True, "text"),
    "org_url": (False, "text"),
    "org_name": (False, "text"),  # in the protocol's GET /accounts example
    "sfin_url": (True, "url"),
}
ACCOUNT: dict[str, Rule] = {
    "org": (False, "organization"),  # required in 1.0
    "conn_id": (False, "text"),  # required in 2.0
    "conn_name": (False, "text"),  # in the protocol's 2.0 quickstart example
    "id": (True, "text"),
    "name": (True, "text"),
    "currency": (True, "currency"),
    "balance": (True, "numeric"),
    "available-balance": (False, "numeric"),
    "balance-date": (True, "epoch"),
    "transactions": (False, "transactions"),
    "extra": (False, "object"),
}
TRANSACTION: dict[str, Rule] = {
    "id": (True, "text"),
    "posted": (True, "epoch"),
    "amount": (True, "numeric"),
    "description": (True, "text"),
    "transacted_at": (False, "epoch"),
    "pending": (False, "boolean"),
    "mcc": (False, "mcc"),
    "extra": (False, "object"),
}
ERROR: dict[str, Rule] = {
    "code": (True, "error code"),
    "msg": (False, "text"),  # required; the protocol's example says "message": one of them
    "message": (False, "text"),
    "conn_id": (False, "text"),
    "account_id": (False, "text"),
}
ERROR_PREFIXES = {
    "gen": "General error",
    "con": "Connection error",
    "act": "Account error",
}
"""The error code prefixes the protocol defines: an unknown subcode reads as its prefix."""
ERROR_CODES = {
    "gen.api": "Error in how the API is being used (for the developer, not the user)",
    "gen.auth": "Authentication error at the SimpleFIN server",
    "con.auth": "The bank connection needs you to sign in again",
    "act.failed": "Failed to get the account's information; try again later",
    "act.missingdata": "The transaction listing is incomplete; try again later",
}
"""The error codes the protocol lists, in words."""

MAX_RANGE_DAYS = 90
"""The Bridge's longest date range per request: ``end-date`` minus ``start-date``
(https://beta-bridge.simplefin.org/info/developers, Limits)."""
REQUESTS_PER_DAY = 24
"""The requests a day the Bridge expects of one access URL (the same page)."""

_NUMERIC = re.compile(r"-?\d+(\.\d+)?")
_ERROR_CODE = re.compile(r"[a-z]+\.[a-z0-9_]*")


def is_custom_currency(code: str) -> bool:
    """Whether ``code`` names a custom currency (its URL) rather than an ISO 4217 code."""
    return code.startswith(("https://", "http://"))


def problems(body: Any) -> list[str]:
    """Every way an answer of ``GET /accounts`` breaks the protocol (none: it is valid)."""
    if not isinstance(body, Mapping):
        return ["the answer is not a JSON object"]
    found = _object(body, ACCOUNT_SET, "account set")
    if "errlist" not in body and "errors" not in body:
        found.append("account set has neither errlist (2.0) nor errors (1.0)")
    v2 = "errlist" in body
    if v2 and "connections" not in body:
        found.append("account set has errlist (2.0) but no connections")
    for n, account in enumerate(body.get("accounts") or []):
        found += _account(account, f"accounts[{n}]", v2)
    for n, error in enumerate(body.get("errlist") or []):
        found += _object(error, ERROR, f"errlist[{n}]")
        if isinstance(error, Mapping) and "msg" not in error and "message" not in error:
            found.append(f"errlist[{n}] has no msg")
    for n, conn in enumerate(body.get("connections") or []):
        found += _object(conn, CONNECTION, f"connections[{n}]")
    return found


def _account(account: Any, where: str, v2: bool) -> list[str]:
    found = _object(account, ACCOUNT, where)
    if not isinstance(account, Mapping):
        return found
    if v2 and "conn_id" not in account:
        found.append(f"{where}.conn_id is required in 2.0")
    if not v2 and "org" not in account:
        found.append(f"{where}.org is required in 1.0")
    org = account.get("org")
    if isinstance(org, Mapping):
        found += _object(org, ORGANIZATION, f"{where}.org")
        if "domain" not in org and "name" not in org:
            found.append(f"{where}.org has neither domain nor name")
    for n, txn in enumerate(account.get("transactions") or []):
        found += _object(txn, TRANSACTION, f"{where}.transactions[{n}]")
    return found


def _object(value: Any, rules: Mapping[str, Rule], where: str) -> list[str]:
    if not isinstance(value, Mapping):
        return [f"{where} is not an object"]
    found = [
        f"{where}.{name} is required"
        for name, (req, _) in rules.items()
        if req and name not in value
    ]
    found += [
        f"{where}.{name} is {value[name]!r}, not {what}"
        for name, (_, what) in rules.items()
        if name in value and not valid(what, value[name])
    ]
    return found


def valid(what: str, value: Any) -> bool:
    """Whether ``value`` is a ``what`` as the protocol means it."""
    if what in ("accounts", "transactions", "errors", "connections", "strings"):
        if not isinstance(value, list):
            return False
        return what != "strings" or all(isinstance(v, str) for v in value)
    if what in ("object", "organization"):
        return isinstance(value, Mapping)
    if what == "boolean":
        return isinstance(value, bool)
    if what == "epoch":
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0
    if not isinstance(value, str):
        return False
    if what == "numeric":
        return _NUMERIC.fullmatch(value) is not None and _finite(value)
    if what == "currency":
        if is_custom_currency(value):
            return valid("url", value)
        return pycountry.currencies.get(alpha_3=value) is not None
    if what == "url":
        parts = urlsplit(value)
        return parts.scheme in ("https", "http") and bool(parts.netloc)
    if what == "mcc":
        return re.fullmatch(r"\d{4}", value) is not None
    if what == "error code":
        return _ERROR_CODE.fullmatch(value) is not None
    return True


def _finite(text: str) -> bool:
    try:
        return Decimal(text).is_finite()
    except InvalidOperation:
        return False


def error_words(error: Any) -> str:
    """One error of the answer as the person reads it: the server's message, and its kind.

    ``error`` is a 1.0 string or a 2.0 Error object. The message is the server's own text,
    meant for the user (the caller still neutralises it before it reaches a terminal); an
    unknown subcode is described by its prefix, as the protocol says.
    """
    if isinstance(error, str):
        return error
    if not isinstance(error, Mapping):
        return repr(error)
    code = str(error.get("code") or "")
    message = str(error.get("msg") or error.get("message") or "").strip()
    kind = ERROR_CODES.get(code) or ERROR_PREFIXES.get(code.split(".", 1)[0], "Error")
    about = [f"{key} {error[key]}" for key in ("conn_id", "account_id") if error.get(key)]
    parts = "; ".join([kind, *about])
    return f"{message} ({parts})" if message else parts
