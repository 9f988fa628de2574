"""Which rule each answer of the bank follows: by path under the API base, and by stream.

The resources' rules are ``portal_bank.spec``; ``Links`` and ``Meta`` are the envelope's.
The bank's marketing preferences and processing notice are its own resources beside the
API (no Open Banking API carries them): their shapes are written down here too, so that
every answer the sandbox serves is checked against something.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal_bank.spec import (
    ACCOUNT,
    BALANCE,
    BENEFICIARY,
    CONSENT,
    DIRECT_DEBIT,
    ID,
    OFFER,
    PARTY,
    PRODUCT,
    SCHEDULED_PAYMENT,
    STANDING_ORDER,
    STATEMENT,
    TRANSACTION,
)
from portal_bank.spec_rules import DATETIME, Rule, code, obj, required, text

LINKS = obj(
    {"Self": required(text()), "First": text(), "Prev": text(), "Next": text(), "Last": text()},
    closed=True,
)
META = obj(
    {
        "TotalPages": Rule("integer"),
        "FirstAvailableDateTime": DATETIME,
        "LastAvailableDateTime": DATETIME,
    },
    closed=True,
)

# The bank's own resources beside the API.
PREFERENCE = obj(
    {
        "PreferenceId": required(ID),
        "Channel": required(text(35)),
        "Purpose": required(text(500)),
        "Status": required(code("OptedIn OptedOut Withdrawn")),
        "UpdatedDateTime": DATETIME,
    }
)
PURPOSE = obj(
    {
        "PurposeId": required(ID),
        "Purpose": required(text()),
        "LegalBasis": required(text()),
        "Retention": required(text()),
        "Source": required(text()),
    }
)


@dataclass(frozen=True)
class Endpoint:
    """One response: where its items are in ``Data`` and what each item is.

    ``key`` is the array (or, with ``single``, the object) under ``Data``; ``None`` when
    ``Data`` is the item itself. ``min_items`` is 1 where the array is required.
    """

    item: Rule
    key: str | None
    single: bool = False
    min_items: int = 0
    open_banking: bool = True


ENDPOINTS: dict[str, Endpoint] = {
    "/accounts": Endpoint(ACCOUNT, "Account"),
    "/accounts/{AccountId}": Endpoint(ACCOUNT, "Account"),
    "/accounts/{AccountId}/balances": Endpoint(BALANCE, "Balance", min_items=1),
    "/accounts/{AccountId}/transactions": Endpoint(TRANSACTION, "Transaction"),
    "/accounts/{AccountId}/direct-debits": Endpoint(DIRECT_DEBIT, "DirectDebit"),
    "/accounts/{AccountId}/standing-orders": Endpoint(STANDING_ORDER, "StandingOrder"),
    "/accounts/{AccountId}/scheduled-payments": Endpoint(SCHEDULED_PAYMENT, "ScheduledPayment"),
    "/accounts/{AccountId}/beneficiaries": Endpoint(BENEFICIARY, "Beneficiary"),
    "/accounts/{AccountId}/product": Endpoint(PRODUCT, "Product"),
    "/accounts/{AccountId}/offers": Endpoint(OFFER, "Offer"),
    "/accounts/{AccountId}/statements": Endpoint(STATEMENT, "Statement"),
    "/accounts/{AccountId}/statements/{StatementId}": Endpoint(STATEMENT, "Statement"),
    "/party": Endpoint(PARTY, "Party", single=True),
    "/account-access-consents/{ConsentId}": Endpoint(CONSENT, None),
    "/marketing-preferences": Endpoint(PREFERENCE, "Preference", open_banking=False),
    "/processing-notice": Endpoint(PURPOSE, "Purpose", open_banking=False),
}
"""Every JSON resource the plugin reads, by its path under the API base.

The statement file (``.../statements/{StatementId}/file``) is a document, not JSON.
"""

STREAMS: dict[str, Rule] = {
    "accounts": ACCOUNT,
    "balances": BALANCE,
    "transactions": TRANSACTION,
    "party": PARTY,
    "consents": CONSENT,
    "marketing": PREFERENCE,
    "processing": PURPOSE,
    "direct_debits": DIRECT_DEBIT,
    "standing_orders": STANDING_ORDER,
    "scheduled_payments": SCHEDULED_PAYMENT,
    "beneficiaries": BENEFICIARY,
    "product": PRODUCT,
    "offers": OFFER,
    "statements": STATEMENT,
}
"""The rule each of the plugin's streams' items follows (the stream's kind, before ``:``)."""
