"""The Demo Bank sandbox: the UK Open Banking Account and Transaction API v3.1 on 127.0.0.1.

It serves ``DemoBank``'s customer behind the shared sandbox machinery (a real OAuth server,
faults, a request log). Every authorization creates an account-access consent, whose id
comes back in the token response as ``consent_id``, as Open Banking intent ids do. The bank
is an OpenID provider: a request for scope ``openid`` also gets an ID token whose subject is
the customer's party id.
"""

from __future__ import annotations

import copy
import http
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import flask

from portal.sandbox import Require, Sandbox
from portal.sandbox.moves import unknown_move
from portal_bank import moves, resources
from portal_bank.bulk import BulkBank
from portal_bank.customer import LONDON, stamp
from portal_bank.dataset import DemoBank
from portal_bank.variants import FORBIDDEN, VARIANTS, Variant

API_PATH = "/open-banking/v3.1/aisp"
SCOPE = "accounts"
SCOPES = ("openid", SCOPE)
CLIENT_ID = "portal-demo"

_ERROR_CODES = {
    400: "UK.OBIE.Field.Invalid",
    401: "UK.OBIE.Unauthorized",
    403: "UK.OBIE.Resource.ConsentMismatch",
    404: "UK.OBIE.Resource.NotFound",
    405: "UK.OBIE.UnsupportedMethod",
    429: "UK.OBIE.Rules.ResourceOverLimit",
}


class _Refused(Exception):
    """An API request the bank refuses, answered with the OB error envelope."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


class BankSandbox(Sandbox):
    """Demo Bank: a current account and a credit card over Open Banking AIS v3.1.

    ``page_size`` is how many transactions a page holds; ``seed`` picks the demo customer
    (the same seed always serves the same data). ``transactions``, if given, replaces the
    demo's two years of history with that many transactions made on demand
    (``portal_bank.bulk``), for benchmarks: a million cost a second to set up and no memory
    to speak of. ``variant`` serves the same customer in another shape the specification
    allows (``portal_bank.variants``: ``sparse``, ``spec-edge``), or with a few items it
    forbids (``forbidden``). The client ``portal-demo`` is registered as a public client
    (PKCE, no secret) with the loopback redirect and the scopes ``openid accounts``; the API
    needs ``accounts``.
    """

    truth_categories: ClassVar[dict[str, str | None]] = {"marketing_preferences": "consents"}
    """Ground-truth keys that are not record categories, and the category their items become."""
    variants: ClassVar[tuple[str, ...]] = VARIANTS
    """The shapes this sandbox can serve its truth in (``BankSandbox(variant=...)``)."""

    def __init__(
        self,
        *,
        page_size: int = 100,
        seed: int = 2026,
        transactions: int | None = None,
        variant: str = "standard",
        **kw: Any,
    ) -> None:
        kw.setdefault("scopes", SCOPES)
        kw.setdefault("openid", True)
        super().__init__(**kw)
        if page_size < 1:
            raise ValueError("page_size must be at least 1.")
        self.variant = Variant(variant)
        self.page_size = page_size
        self.bank = (
            DemoBank(seed) if transactions is None else BulkBank(seed, transactions=transactions)
        )
        self.register_client(CLIENT_ID, scope=" ".join(SCOPES))
        self.ignore_withdrawals = False
        """A switch for tests: answer a consent's DELETE 204 and change nothing (a bank that
        says it revoked a consent and did not)."""
        self.refuse_withdrawals: str | None = None
        """A switch for tests: refuse every consent's DELETE with this message (400
        ``UK.OBIE.Resource.InvalidConsentStatus``), as a bank may."""

    @property
    def api_base(self) -> str:
        """Where the AIS API lives: ``base_url + "/open-banking/v3.1/aisp"``."""
        return self.base_url + API_PATH

    def add_activity(self, n: int = 25) -> None:
        """A new day at the bank: book every pending item, then add ``n`` booked card payments.

        The new transactions come after the latest one on the current account, a few a day,
        and are the same for every sandbox with the same seed and history of calls.
        """
        self.bank.add_activity(n)

    @property
    def moves(self) -> tuple[str, ...]:  # type: ignore[override]
        """The steps the demo customer's life can take (none for a bank made on demand,
        which has no pending items to book)."""
        return (
            moves.BANK_MOVES
            if isinstance(self.bank, DemoBank) and not isinstance(self.bank, BulkBank)
            else ()
        )

    def move_on(self, step: str) -> None:
        """Play one step of ``moves`` (``portal_bank.moves``)."""
        if step not in self.moves:
            raise unknown_move(self, step, self.moves)
        if step == "full_page" and any(r.authorised for r in self.requests):
            raise ValueError("full_page is played before the first sync, which reads it whole.")
        moves.play(self.bank, step, self.page_size)

    def extra_token_fields(self, client_id: str, scope: str) -> dict[str, Any]:
        """Create the account-access consent this authorization stands for; return its id."""
        return {"consent_id": self.bank.new_consent()["ConsentId"]}

    def subject(self, client_id: str) -> str:
        """The customer's party id: the same person whichever client asks."""
        return str(self.bank.party["PartyId"])

    def withdraw_consent(self) -> None:
        """The customer revokes every account-access consent; every token stops working."""
        super().withdraw_consent()
        bank = self.bank
        with bank.lock:
            now = stamp(bank.now)
            for consent in bank.consents:
                if consent["Status"] != "Revoked":
                    consent["Status"], consent["StatusUpdateDateTime"] = "Revoked", now

    def revoke_tokens(self) -> None:
        """Every token stops working (the demo's one grant is the consent just revoked)."""
        super().withdraw_consent()

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """The Open Banking error envelope."""
        return _ob_error(status, _ERROR_CODES.get(status, "UK.OBIE.UnexpectedError"), message)

    def ground_truth(self) -> dict[str, list[dict[str, Any]]]:
        """What the bank serves, as served: accounts, balances, transactions, party and so on.

        ``transactions`` is the current state of both accounts. ``balances`` is every
        balance the bank has stated: the current ones plus those of earlier states (before
        each ``add_activity``), since a balance as at a moment stays true. Items are as the
        sandbox's variant serves them.
        """
        return {
            key: [{k: v for k, v in item.items() if k != FORBIDDEN} for item in items]
            for key, items in self.planted_truth().items()
        }

    def expected_records(self) -> dict[str, dict[str, dict[str, Any]]]:
        """What each record must say of what is served now, per Open Banking's meaning
        (``portal_bank.expected``); items the ``forbidden`` variant broke are not expected."""
        from portal_bank.expected_more import expected_records

        with self.bank.lock:  # read, never changed: no copy needed
            served = {
                key: [item for item in items if FORBIDDEN not in item]
                for key, items in self._served().items()
            }
            return expected_records(served)

    def planted_truth(self) -> dict[str, list[dict[str, Any]]]:
        """``ground_truth``, with each item the ``forbidden`` variant broke noting how.

        Such an item carries ``"portal:forbidden"``: what it breaks, in words.
        """
        with self.bank.lock:
            return copy.deepcopy(self._served())

    def _served(self) -> dict[str, list[dict[str, Any]]]:
        """What is served now, by ground-truth key: the bank's own objects (copy to keep)."""
        bank, serve = self.bank, self.variant.truth
        with bank.lock:
            return {
                "accounts": serve("accounts", bank.accounts),
                "balances": serve("balances", bank.published_balances()),
                "transactions": serve(
                    "transactions",
                    [t for a in bank.accounts for t in bank.transactions(a["AccountId"])],
                ),
                "party": serve("party", [bank.party]),
                "consents": serve("consents", bank.consents),
                "marketing_preferences": serve("marketing", bank.preferences),
                **resources.truth(bank, serve),
            }

    @property
    def truth_rejections(self) -> dict[str, int]:
        """How many served items a correct plugin rejects, by category (``forbidden`` only)."""
        if self.variant.name != "forbidden":
            return {}
        counts: dict[str, int] = {}
        for key, items in self.planted_truth().items():
            category = self.truth_categories.get(key) or key
            for item in items:
                if FORBIDDEN in item:
                    counts[category] = counts.get(category, 0) + 1
        return counts

    def register_routes(self, app: flask.Flask, require: Require) -> None:
        """The AIS v3.1 resources, plus the bank's own marketing preferences and notice."""
        bank = self.bank
        resources.register_routes(self, app, require, API_PATH)

        @app.errorhandler(_Refused)
        def refused(error: _Refused) -> tuple[dict[str, Any], int]:
            return _ob_error(error.status, error.error_code, error.message), error.status

        @app.get(f"{API_PATH}/accounts")
        @require(SCOPE)
        def accounts() -> dict[str, Any]:
            return self._listing("accounts", "Account", copy.deepcopy(bank.accounts))

        @app.get(f"{API_PATH}/accounts/<account_id>")
        @require(SCOPE)
        def account(account_id: str) -> dict[str, Any]:
            found = [copy.deepcopy(self._account(account_id))]
            return self._listing("accounts", "Account", found)

        @app.get(f"{API_PATH}/accounts/<account_id>/balances")
        @require(SCOPE)
        def balances(account_id: str) -> dict[str, Any]:
            self._account(account_id)
            # Data.Balance is required, with at least one item: no variant leaves it out.
            return self._envelope(
                {"Balance": self.variant.serve("balances", bank.balances(account_id))}
            )

        @app.get(f"{API_PATH}/accounts/<account_id>/transactions")
        @require(SCOPE)
        def transactions(account_id: str) -> dict[str, Any]:
            return self._transactions(account_id)

        @app.get(f"{API_PATH}/party")
        @require(SCOPE)
        def party() -> dict[str, Any]:
            [served] = self.variant.serve("party", [copy.deepcopy(bank.party)])
            return self._envelope({"Party": served})

        @app.get(f"{API_PATH}/account-access-consents/<consent_id>")
        @require(SCOPE)
        def consent(consent_id: str) -> dict[str, Any]:
            with bank.lock:
                found = next((c for c in bank.consents if c["ConsentId"] == consent_id), None)
                if found is None:
                    raise _Refused(
                        404, "UK.OBIE.Resource.NotFound", f"No consent with id {consent_id}."
                    )
                [served] = self.variant.serve("consents", [copy.deepcopy(found)])
                return self._envelope(served)

        @app.delete(f"{API_PATH}/account-access-consents/<consent_id>")
        @require(SCOPE)
        def delete_consent(consent_id: str) -> tuple[str, int]:
            # Account Access Consents v3.1: 204 No Content; the Status becomes Revoked and
            # the tokens issued under it stop working. A consent already Revoked stays so.
            with bank.lock:
                found = next((c for c in bank.consents if c["ConsentId"] == consent_id), None)
                if found is None:
                    raise _Refused(
                        404, "UK.OBIE.Resource.NotFound", f"No consent with id {consent_id}."
                    )
                if self.refuse_withdrawals is not None:
                    raise _Refused(
                        400, "UK.OBIE.Resource.InvalidConsentStatus", self.refuse_withdrawals
                    )
                if self.ignore_withdrawals or found["Status"] == "Revoked":
                    return "", 204
                found["Status"], found["StatusUpdateDateTime"] = "Revoked", stamp(bank.now)
            self.revoke_tokens()
            return "", 204

        @app.get(f"{API_PATH}/marketing-preferences")
        @require(SCOPE)
        def marketing() -> dict[str, Any]:
            return self._listing("marketing", "Preference", copy.deepcopy(bank.preferences))

    def _account(self, account_id: str) -> dict[str, Any]:
        found = next((a for a in self.bank.accounts if a["AccountId"] == account_id), None)
        if found is None:
            raise _Refused(404, "UK.OBIE.Resource.NotFound", f"No account with id {account_id}.")
        return found

    def _transactions(self, account_id: str) -> dict[str, Any]:
        self._account(account_id)
        args = flask.request.args
        raw_since = args.get("fromBookingDateTime")
        since = _parse_datetime(raw_since) if raw_since else None
        try:
            number = int(args.get("page", "1"))
        except ValueError:
            number = 0
        if number < 1:
            raise _Refused(400, "UK.OBIE.Field.Invalid", "page must be a whole number from 1.")
        items, pages = self.bank.page(account_id, since, number, self.page_size)
        items = self.variant.serve("transactions", items)
        base = f"{self.api_base}/accounts/{account_id}/transactions"
        query = {"fromBookingDateTime": raw_since.strip().replace(" ", "+")} if raw_since else {}
        links = {"Self": f"{base}?{urlencode({**query, 'page': number})}"}
        if number < pages:
            links["Next"] = f"{base}?{urlencode({**query, 'page': number + 1})}"
        data = self.variant.data("Transaction", items)
        return {"Data": data, "Links": links, "Meta": {"TotalPages": pages}}

    def _envelope(self, data: dict[str, Any]) -> dict[str, Any]:
        return {"Data": data, "Links": {"Self": flask.request.url}, "Meta": {"TotalPages": 1}}

    def _listing(self, kind: str, key: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        """A list of ``kind`` items (copies) as the variant serves them, in the envelope."""
        return self._envelope(self.variant.data(key, self.variant.serve(kind, items)))


def _parse_datetime(value: str) -> datetime:
    # A "+" left unescaped in a query string arrives as a space; take it back.
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise _Refused(
            400,
            "UK.OBIE.Field.InvalidDate",
            f"fromBookingDateTime {value!r} is not an ISO 8601 date-time.",
        ) from None
    # Open Banking's query date-times carry no zone; read those as the bank's local time.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LONDON)


def _ob_error(status: int, error_code: str, message: str) -> dict[str, Any]:
    try:
        phrase = http.HTTPStatus(status).phrase.replace(" ", "")
    except ValueError:
        phrase = "Error"
    return {
        "Code": f"{status} {phrase}",
        "Message": message,
        "Errors": [{"ErrorCode": error_code, "Message": message}],
    }
