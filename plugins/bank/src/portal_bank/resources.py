"""The sandbox's routes for the rest of Account and Transaction API v3.1, and their truth.

Direct debits, standing orders, scheduled payments, beneficiaries, statements (with each
statement's PDF file), the product and the offers of each account, plus the bank's own
processing notice (``/processing-notice``: no Open Banking API carries GDPR article 15's
information, so the bank publishes it beside the API, as it does marketing preferences).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import flask

from portal.sandbox import Require
from portal_bank import arrangements
from portal_bank.notice import processing_notice
from portal_bank.statement_mapping import is_bill
from portal_bank.statements import statement_pdf, statements

if TYPE_CHECKING:
    from portal_bank.dataset import DemoBank
    from portal_bank.sandbox import BankSandbox

# Path under the account: the OB resource's name in Data, the plugin's stream kind for it
# (what the sandbox's variants know it by), and what lists it.
Lister = Callable[["DemoBank", str], list[dict[str, Any]]]
Serve = Callable[[str, list[dict[str, Any]]], list[dict[str, Any]]]
PER_ACCOUNT: dict[str, tuple[str, str, Lister]] = {
    "direct-debits": ("DirectDebit", "direct_debits", arrangements.direct_debits),
    "standing-orders": ("StandingOrder", "standing_orders", arrangements.standing_orders),
    "scheduled-payments": (
        "ScheduledPayment",
        "scheduled_payments",
        arrangements.scheduled_payments,
    ),
    "beneficiaries": ("Beneficiary", "beneficiaries", arrangements.beneficiaries),
    "product": ("Product", "product", arrangements.products),
    "offers": ("Offer", "offers", arrangements.offers),
}


def register_routes(sandbox: BankSandbox, app: flask.Flask, require: Require, api: str) -> None:
    """Add the resources to the sandbox's Flask app, behind the ``accounts`` scope."""
    from portal_bank.sandbox import SCOPE, _parse_datetime, _Refused

    bank = sandbox.bank

    def listing(resource: str) -> Callable[[str], dict[str, Any]]:
        key, kind, lister = PER_ACCOUNT[resource]

        def view(account_id: str) -> dict[str, Any]:
            sandbox._account(account_id)
            with bank.lock:
                return sandbox._listing(kind, key, copy.deepcopy(lister(bank, account_id)))

        view.__name__ = f"resource_{resource.replace('-', '_')}"
        return view

    for resource in PER_ACCOUNT:
        app.get(f"{api}/accounts/<account_id>/{resource}")(require(SCOPE)(listing(resource)))

    def _statements(account_id: str) -> list[dict[str, Any]]:
        sandbox._account(account_id)
        return statements(bank, account_id)

    def _statement(account_id: str, statement_id: str) -> dict[str, Any]:
        found = [s for s in _statements(account_id) if s["StatementId"] == statement_id]
        if not found:
            raise _Refused(404, "UK.OBIE.Resource.NotFound", f"No statement {statement_id}.")
        return found[0]

    @app.get(f"{api}/accounts/<account_id>/statements")
    @require(SCOPE)
    def statement_list(account_id: str) -> dict[str, Any]:
        raw = flask.request.args.get("fromStatementDateTime")
        since = _parse_datetime(raw) if raw else None
        found = [
            s
            for s in _statements(account_id)
            if since is None or datetime.fromisoformat(s["EndDateTime"]) > since
        ]
        return sandbox._listing("statements", "Statement", found)

    @app.get(f"{api}/accounts/<account_id>/statements/<statement_id>")
    @require(SCOPE)
    def statement_one(account_id: str, statement_id: str) -> dict[str, Any]:
        return sandbox._listing("statements", "Statement", [_statement(account_id, statement_id)])

    @app.get(f"{api}/accounts/<account_id>/statements/<statement_id>/file")
    @require(SCOPE)
    def statement_file(account_id: str, statement_id: str) -> flask.Response:
        pdf = statement_pdf(_statement(account_id, statement_id))
        return flask.Response(pdf, mimetype="application/pdf")

    @app.get(f"{api}/processing-notice")
    @require(SCOPE)
    def notice() -> dict[str, Any]:
        return sandbox._listing("processing", "Purpose", processing_notice())


def truth(bank: DemoBank, serve: Serve) -> dict[str, list[dict[str, Any]]]:
    """What these resources serve now (through ``serve``, the sandbox's variant), keyed by
    the record category each item becomes.

    Every statement becomes a Document; a statement that asks for a payment (a credit
    card's) and states its balances also becomes a Bill, so it is counted under both.
    """
    with bank.lock:
        ids = [a["AccountId"] for a in bank.accounts]

        def every(kind: str, lister: Lister) -> list[dict[str, Any]]:
            return [
                item
                for account_id in ids
                for item in serve(kind, copy.deepcopy(lister(bank, account_id)))
            ]

        served = every("statements", statements)
        return copy.deepcopy(
            {
                "recurring_payments": every("direct_debits", arrangements.direct_debits)
                + every("standing_orders", arrangements.standing_orders)
                + every("scheduled_payments", arrangements.scheduled_payments),
                "payees": every("beneficiaries", arrangements.beneficiaries),
                "products": every("product", arrangements.products)
                + every("offers", arrangements.offers),
                "documents": served,
                "bills": [s for s in served if is_bill(s)],
                "processing": serve("processing", processing_notice()),
            }
        )
