"""What the records of the rest of Demo Bank's API must say, and ``expected_records`` whole.

Payment arrangements, payees, products and offers, statements (a ``Document`` each, and a
``Bill`` for a card statement that asks for a payment), and the processing notice; the
readings are ``portal_bank.expected``'s (signs from ``CreditDebitIndicator``, days in the
zone they were written in, unmapped fields under ``extra.<key>``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.record.vocab import State
from portal_bank import labels as words
from portal_bank.expected import (
    CORE,
    Expected,
    Fields,
    Reader,
    digest,
    identifier,
    local_day,
    rest,
    signed,
    state,
)
from portal_bank.statements import statement_pdf

NOT_STATED = "Not stated by the bank"
"""The words for an optional status the bank left out."""


def _money(value: dict[str, Any] | None) -> tuple[Decimal | None, str | None]:
    return (Decimal(value["Amount"]), value["Currency"]) if value else (None, None)


def direct_debit(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBDirectDebit1: the payee is Name; its amount varies, so no amount is fixed."""
    status = item.get("DirectDebitStatusCode") or ""
    columns = ["DirectDebitId", "AccountId", "Name", "MandateIdentification"]
    return item["DirectDebitId"], {
        "account_id": item["AccountId"],
        "kind": "direct_debit",
        "kind_label": "Direct debit",
        "payee": item["Name"],
        "reference": item.get("MandateIdentification"),
        "status": status,
        "status_label": words.DIRECT_DEBIT_STATUSES[status] if status else NOT_STATED,
        "state": state("arrangement", status),  # none served: unknown
        "last_payment_on": local_day(item.get("PreviousPaymentDateTime")),
        **rest(item, [*columns, "DirectDebitStatusCode", "PreviousPaymentDateTime"]),
    }


def standing_order(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBStandingOrder6. ``LastPaymentDateTime`` is the most recent payment made;
    ``FinalPaymentDateTime`` the last one due (the last payment only once none was made)."""
    status = item.get("StandingOrderStatusCode") or ""
    amount, currency = _money(item.get("NextPaymentAmount") or item.get("FirstPaymentAmount"))
    creditor = item.get("CreditorAccount") or {}
    columns = ["StandingOrderId", "AccountId", "Reference", "NextPaymentAmount", "Frequency"]
    dates = ["StandingOrderStatusCode", "FirstPaymentDateTime", "NextPaymentDateTime"]
    return item["StandingOrderId"], {
        "account_id": item["AccountId"],
        "kind": "standing_order",
        "kind_label": "Standing order",
        "payee": creditor.get("Name") or item.get("Reference") or "(payee not given)",
        "reference": item.get("Reference"),
        "amount": amount,
        "currency": currency,
        "frequency": item["Frequency"],
        "frequency_label": words.frequency_label(item["Frequency"]),
        "status": status,
        "status_label": words.STANDING_ORDER_STATUSES[status] if status else NOT_STATED,
        "state": state("arrangement", status),  # none served: unknown
        "first_payment_on": local_day(item.get("FirstPaymentDateTime")),
        "next_payment_on": local_day(item.get("NextPaymentDateTime")),
        "last_payment_on": local_day(
            item.get("LastPaymentDateTime") or item.get("FinalPaymentDateTime")
        ),
        **rest(item, [*columns, *dates]),
    }


def scheduled_payment(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBScheduledPayment3: one payment of InstructedAmount on a day."""
    amount, currency = _money(item["InstructedAmount"])
    creditor = item.get("CreditorAccount") or {}
    on = local_day(item["ScheduledPaymentDateTime"])
    columns = ["ScheduledPaymentId", "AccountId", "Reference", "InstructedAmount"]
    return item["ScheduledPaymentId"], {
        "account_id": item["AccountId"],
        "kind": "scheduled_payment",
        "kind_label": "Scheduled payment (once)",
        "payee": creditor.get("Name") or item.get("Reference") or "(payee not given)",
        "reference": item.get("Reference"),
        "amount": amount,
        "currency": currency,
        "status": "scheduled",
        "status_label": words.SCHEDULED_TYPES[item.get("ScheduledType", "Execution")],
        # OBScheduledPayment3 has no status: the bank lists a payment until it is made, so
        # every one listed is an instruction in force.
        "state": State.active,
        "first_payment_on": on,
        "next_payment_on": on,
        **rest(item, [*columns, "ScheduledPaymentDateTime"]),
    }


def beneficiary(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBBeneficiary5: the payee's name and account are its CreditorAccount's."""
    creditor = item.get("CreditorAccount") or {}
    kind = item.get("BeneficiaryType")
    return item["BeneficiaryId"], {
        "account_id": item["AccountId"],
        "name": creditor.get("Name") or item.get("Reference") or "(name not given)",
        "kind": kind,
        "kind_label": words.BENEFICIARY_TYPES[kind] if kind else None,
        "reference": item.get("Reference"),
        "identifiers": [identifier(creditor)] if creditor.get("Identification") else [],
        **rest(item, ["BeneficiaryId", "AccountId", "BeneficiaryType", "Reference"]),
    }


def _product_terms(item: dict[str, Any], fees: list[dict[str, Any]]) -> tuple[list[Fields], str]:
    """A product's fees in money as prices; its rates, and fees stated as rates, in words."""
    pca = item.get("PCA") or {}
    terms = [
        f"Credit interest {band['AER']}% AER"
        for band_set in (pca.get("CreditInterest") or {}).get("TierBandSet", [])
        for band in band_set.get("TierBand", [])
    ]
    terms += [
        f"Arranged overdraft {band['EAR']}% EAR up to £{band['TierValueMax']}"
        for band_set in (pca.get("Overdraft") or {}).get("OverdraftTierBandSet", [])
        for band in band_set.get("OverdraftTierBand", [])
    ]
    cap = (pca.get("ProductDetails") or {}).get("MonthlyMaximumCharge")
    if cap:
        terms.append(f"Overdraft charges capped at £{cap} a month")
    rates = (item.get("OtherProductDetails") or {}).get("Rates") or {}
    terms += [f"{name.removesuffix('APR')} APR {value}%" for name, value in rates.items()]
    prices: list[Fields] = []
    for fee in fees:
        name = (fee.get("OtherFeeType") or {}).get("Name") or fee["FeeType"]
        if "FeeAmount" in fee:
            period = words.FEE_FREQUENCIES.get(fee.get("ApplicationFrequency", ""))
            # Open Banking's product data states UK products' fees in pounds.
            prices.append(
                {
                    "label": name,
                    "amount": Decimal(fee["FeeAmount"]),
                    "currency": "GBP",
                    "period": period,
                }
            )
        if "FeeRate" in fee:
            least = f" (at least £{fee['FeeMinimum']})" if "FeeMinimum" in fee else ""
            terms.append(f"{name}: {fee['FeeRate']}% of the amount{least}")
    return prices, "; ".join(terms)


def product(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBReadProduct2: an ``Other`` product type is named by OtherProductType."""
    other = item.get("OtherProductType") or {}
    kind = item["ProductType"]
    kind_label = other.get("Name") or words.PRODUCT_TYPES[kind]
    fees = ((item.get("PCA") or {}).get("OtherFeesCharges") or {}).get("FeeChargeDetail", [])
    prices, terms = _product_terms(
        item, fees + (item.get("OtherProductDetails") or {}).get("Fees", [])
    )
    return f"{item['AccountId']}:{item['ProductId']}", {
        "account_id": item["AccountId"],
        "name": item.get("ProductName") or kind_label,
        "product_type": kind,
        "product_type_label": kind_label,
        "description": other.get("Description"),
        "prices": prices,
        "terms": terms or None,
        **rest(item, ["ProductId", "AccountId", "ProductName", "ProductType"]),
    }


def offer(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBOffer1: an amount (a new limit for a limit increase) and a fee, for a window."""
    kind = item.get("OfferType") or ""
    kind_label = words.OFFER_TYPES[kind] if kind else "Offer"
    prices: list[Fields] = []
    amount, currency = _money(item.get("Amount"))
    if amount is not None:
        what = "New credit limit" if kind == "LimitIncrease" else "Amount"
        prices.append({"label": what, "amount": amount, "currency": currency})
    fee, currency = _money(item.get("Fee"))
    if fee is not None:
        prices.append({"label": "Fee", "amount": fee, "currency": currency})
    terms = [f"Rate {item['Rate']}%" if "Rate" in item else "", item.get("Term", "")]
    columns = ["OfferId", "AccountId", "OfferType", "Description", "Amount", "Fee", "Rate"]
    return item["OfferId"], {
        "account_id": item["AccountId"],
        "name": kind_label.removeprefix("Offer: "),
        "product_type": kind,
        "product_type_label": kind_label,
        "description": item.get("Description"),
        "prices": prices,
        "terms": "; ".join(t for t in terms if t) or None,
        "valid_from": local_day(item.get("StartDateTime")),
        "valid_to": local_day(item.get("EndDateTime")),
        **rest(item, [*columns, "Term", "StartDateTime", "EndDateTime"]),
    }


def document(item: dict[str, Any]) -> tuple[str, Fields]:
    """OBStatement2 as a Document: its PDF (digest and size), issued on CreationDateTime."""
    pdf = statement_pdf(item)
    descriptions = item.get("StatementDescription") or []
    start, end = local_day(item["StartDateTime"]), local_day(item["EndDateTime"])
    columns = ["StatementId", "AccountId", "Type", "StatementDescription", "CreationDateTime"]
    return item["StatementId"], {
        "account_id": item["AccountId"],
        "kind": "statement",
        "kind_label": words.STATEMENT_TYPES[item.get("Type", "RegularPeriodic")],
        "title": descriptions[0] if descriptions else f"Statement {start} to {end}",
        "issued_on": local_day(item["CreationDateTime"]),
        "content_type": "application/pdf",
        "digest": digest(pdf),
        "size_bytes": len(pdf),
        **rest(item, columns),
    }


def bill(item: dict[str, Any]) -> tuple[str, Fields]:
    """A card statement as a Bill: what is owed (the closing debit balance) and by when."""
    amounts = {a["Type"].removeprefix("UK.OBIE."): a for a in item.get("StatementAmount", [])}
    due = next(m for m in item["StatementDateTime"] if m["Type"] == "UK.OBIE.PaymentDue")

    def owed(kind: str) -> Decimal:
        # What the customer owes is money out of her pocket: a debit balance, positive.
        a = amounts[kind]
        return -signed(a["Amount"], a["CreditDebitIndicator"])

    return item["StatementId"], {
        "account_id": item["AccountId"],
        "bill_number": item.get("StatementReference") or item["StatementId"],
        "issued_on": local_day(item["CreationDateTime"]),
        "due_on": local_day(due["DateTime"]),
        "period_start": local_day(item["StartDateTime"]),
        "period_end": local_day(item["EndDateTime"]),
        "total": owed("ClosingBalance"),
        "currency": amounts["ClosingBalance"]["Amount"]["Currency"],
        "status": "issued",
        "status_label": "Issued: pay by the due date",
        # OBStatement2 says what was owed and by when, never whether it was then paid (that is
        # a later transaction): a bill whose payment the provider does not state.
        "state": State.issued,
        "lines": [
            {"description": "Balance from last statement", "amount": owed("StartingBalance")},
            {"description": "Payments and refunds", "amount": owed("TotalCredits")},
            {"description": "Purchases and charges", "amount": owed("TotalDebits")},
        ],
        **rest(item, ["StatementId", "AccountId", "StatementReference"]),
    }


def processing(item: dict[str, Any]) -> tuple[str, Fields]:
    """One purpose of the bank's processing notice (GDPR article 15(1))."""
    decision = item.get("AutomatedDecision") or {}
    columns = ["PurposeId", "Purpose", "LegalBasis", "DataCategories", "Recipients"]
    more = ["ThirdCountrySafeguards", "Retention", "Source", "AutomatedDecision"]
    return item["PurposeId"], {
        "purpose": item["Purpose"],
        "purpose_code": item["PurposeId"],
        "legal_basis": item["LegalBasis"],
        "legal_basis_label": words.LEGAL_BASES[item["LegalBasis"]],
        "data_categories": frozenset(item.get("DataCategories", [])),
        "recipients": [
            {
                "name": r["Name"],
                "kind": r.get("Kind"),
                "country": r.get("Country"),
                "safeguard": r.get("Safeguard"),
            }
            for r in item.get("Recipients", [])
        ],
        "third_country_safeguards": item.get("ThirdCountrySafeguards"),
        "retention": item["Retention"],
        "source": item["Source"],
        "automated_decision": bool(decision.get("Used")),
        "automated_logic": decision.get("Logic"),
        "automated_consequences": decision.get("Consequences"),
        **rest(item, [*columns, *more]),
    }


def _recurring(item: dict[str, Any]) -> tuple[str, Fields]:
    if "DirectDebitId" in item:
        return direct_debit(item)
    return standing_order(item) if "StandingOrderId" in item else scheduled_payment(item)


def _product_or_offer(item: dict[str, Any]) -> tuple[str, Fields]:
    return offer(item) if "OfferId" in item else product(item)


READERS: dict[str, Reader] = {
    **CORE,
    "recurring_payments": _recurring,
    "payees": beneficiary,
    "products": _product_or_offer,
    "documents": document,
    "bills": bill,
    "processing": processing,
}
"""The reader of each ground-truth key."""

TRUTH_CATEGORIES = {"marketing_preferences": "consents"}


def expected_records(truth: dict[str, list[dict[str, Any]]]) -> Expected:
    """What each record must say, for every item of ``truth`` (as the sandbox serves it)."""
    out: Expected = {}
    for key, items in truth.items():
        reader = READERS.get(key)
        if reader is None:
            continue
        found = out.setdefault(TRUTH_CATEGORIES.get(key, key), {})
        for item in items:
            item_key, fields = reader(item)
            found[item_key] = fields
    return out
