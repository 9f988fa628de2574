"""Payment arrangements, payees, products, offers and the processing notice, as records.

Direct debits, standing orders and scheduled payments become ``RecurringPayment``s;
beneficiaries become ``Payee``s; the product behind an account and the bank's offers
become ``Product``s (an offer is a product proposed to this customer, with its price,
term and window, so it is marked ``inferred``: the bank chose it from her data); the
processing notice becomes one ``Processing`` per purpose. Whatever is not mapped stays in
``extra``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from portal.record import (
    Account,
    AccountIdentifier,
    Entity,
    Origin,
    Payee,
    Price,
    Processing,
    Product,
    Recipient,
    RecurringPayment,
    State,
)
from portal.record.vocab import state_of
from portal_bank import identity, labels
from portal_bank.mapping import Ref, _rest
from portal_bank.mapping import day as _day

NOT_STATED = "Not stated by the bank"
"""The label of an optional status the bank left out."""


def _money(value: dict[str, Any] | None) -> tuple[Decimal | None, str | None]:
    return (Decimal(value["Amount"]), value["Currency"]) if value else (None, None)


def _identifier(account: dict[str, Any]) -> AccountIdentifier:
    scheme = account["SchemeName"]
    return AccountIdentifier(
        scheme=scheme,
        scheme_label=labels.label(labels.SCHEMES, scheme, "account scheme"),
        identification=account["Identification"],
        name=account.get("Name"),
    )


def direct_debit(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBDirectDebit1; the amount varies, so the last one is kept in ``extra`` only."""
    status = item.get("DirectDebitStatusCode") or ""
    return [
        RecurringPayment(
            provider_id=f"direct-debit:{identity.own_or_derived('direct_debits', item)}",
            account_id=ref(Account, item["AccountId"]),
            kind="direct_debit",
            kind_label="Direct debit",
            payee=item["Name"],
            reference=item.get("MandateIdentification"),
            status=status,
            status_label=labels.label(labels.DIRECT_DEBIT_STATUSES, status, "status")
            if status
            else NOT_STATED,
            state=state_of(labels.ARRANGEMENT_STATES, status),
            last_payment_on=_day(item.get("PreviousPaymentDateTime")),
            extra=_rest(
                item,
                [
                    "DirectDebitId",
                    "AccountId",
                    "Name",
                    "MandateIdentification",
                    "DirectDebitStatusCode",
                    "PreviousPaymentDateTime",
                    identity.OCCURRENCE,
                ],
            ),
        )
    ]


def standing_order(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBStandingOrder6. Its last payment is the most recent one made (or the final one)."""
    status = item.get("StandingOrderStatusCode") or ""
    amount, currency = _money(item.get("NextPaymentAmount") or item.get("FirstPaymentAmount"))
    creditor = item.get("CreditorAccount") or {}
    frequency = item["Frequency"]
    return [
        RecurringPayment(
            provider_id=f"standing-order:{identity.own_or_derived('standing_orders', item)}",
            account_id=ref(Account, item["AccountId"]),
            kind="standing_order",
            kind_label="Standing order",
            payee=creditor.get("Name") or item.get("Reference") or "(payee not given)",
            reference=item.get("Reference"),
            amount=amount,
            currency=currency,
            frequency=frequency,
            frequency_label=labels.frequency_label(frequency),
            status=status,
            status_label=labels.label(labels.STANDING_ORDER_STATUSES, status, "status")
            if status
            else NOT_STATED,
            state=state_of(labels.ARRANGEMENT_STATES, status),
            first_payment_on=_day(item.get("FirstPaymentDateTime")),
            next_payment_on=_day(item.get("NextPaymentDateTime")),
            # LastPaymentDateTime is the most recent payment made; FinalPaymentDateTime
            # the last one due, which may still be ahead (OBStandingOrder6).
            last_payment_on=_day(
                item.get("LastPaymentDateTime") or item.get("FinalPaymentDateTime")
            ),
            extra=_rest(
                item,
                [
                    "StandingOrderId",
                    "AccountId",
                    "Reference",
                    "NextPaymentAmount",
                    "Frequency",
                    "StandingOrderStatusCode",
                    "FirstPaymentDateTime",
                    "NextPaymentDateTime",
                    identity.OCCURRENCE,
                ],
            ),
        )
    ]


def scheduled_payment(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBScheduledPayment3: one payment set up for a future date."""
    amount, currency = _money(item["InstructedAmount"])
    creditor = item.get("CreditorAccount") or {}
    on = _day(item["ScheduledPaymentDateTime"])
    kind = item.get("ScheduledType", "Execution")
    return [
        RecurringPayment(
            provider_id=f"scheduled-payment:{identity.own_or_derived('scheduled_payments', item)}",
            account_id=ref(Account, item["AccountId"]),
            kind="scheduled_payment",
            kind_label="Scheduled payment (once)",
            payee=creditor.get("Name") or item.get("Reference") or "(payee not given)",
            reference=item.get("Reference"),
            amount=amount,
            currency=currency,
            status="scheduled",
            status_label=labels.label(labels.SCHEDULED_TYPES, kind, "scheduled payment"),
            state=State.active,  # in force until it is paid, then it leaves the list
            first_payment_on=on,
            next_payment_on=on,
            extra=_rest(
                item,
                [
                    "ScheduledPaymentId",
                    "AccountId",
                    "Reference",
                    "InstructedAmount",
                    "ScheduledPaymentDateTime",
                    identity.OCCURRENCE,
                ],
            ),
        )
    ]


def beneficiary(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBBeneficiary5: a payee saved on the account."""
    creditor = item.get("CreditorAccount") or {}
    kind = item.get("BeneficiaryType")
    return [
        Payee(
            provider_id=f"beneficiary:{identity.own_or_derived('beneficiaries', item)}",
            origin=Origin.provided,
            account_id=ref(Account, item["AccountId"]),
            name=creditor.get("Name") or item.get("Reference") or "(name not given)",
            kind=kind,
            kind_label=labels.label(labels.BENEFICIARY_TYPES, kind, "payee type") if kind else None,
            reference=item.get("Reference"),
            identifiers=[_identifier(creditor)] if creditor.get("Identification") else [],
            extra=_rest(
                item,
                ["BeneficiaryId", "AccountId", "BeneficiaryType", "Reference", identity.OCCURRENCE],
            ),
        )
    ]


def _fees(fees: list[dict[str, Any]]) -> tuple[list[Price], list[str]]:
    """Fees with an amount become prices; those stated as a rate become words in the terms."""
    prices, terms = [], []
    for fee in fees:
        name = (fee.get("OtherFeeType") or {}).get("Name") or fee["FeeType"]
        period = labels.FEE_FREQUENCIES.get(fee.get("ApplicationFrequency", ""))
        if "FeeAmount" in fee:
            prices.append(Price(label=name, amount=fee["FeeAmount"], currency="GBP", period=period))
        if "FeeRate" in fee:
            least = f" (at least £{fee['FeeMinimum']})" if "FeeMinimum" in fee else ""
            terms.append(f"{name}: {fee['FeeRate']}% of the amount{least}")
    return prices, terms


def _rates(item: dict[str, Any]) -> list[str]:
    terms = []
    pca = item.get("PCA") or {}
    for band_set in (pca.get("CreditInterest") or {}).get("TierBandSet", []):
        for band in band_set.get("TierBand", []):
            terms.append(f"Credit interest {band['AER']}% AER")
    for band_set in (pca.get("Overdraft") or {}).get("OverdraftTierBandSet", []):
        for band in band_set.get("OverdraftTierBand", []):
            terms.append(f"Arranged overdraft {band['EAR']}% EAR up to £{band['TierValueMax']}")
    cap = (pca.get("ProductDetails") or {}).get("MonthlyMaximumCharge")
    if cap:
        terms.append(f"Overdraft charges capped at £{cap} a month")
    rates = (item.get("OtherProductDetails") or {}).get("Rates") or {}
    terms += [f"{name.removesuffix('APR')} APR {value}%" for name, value in rates.items()]
    return terms


def product(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBReadProduct2 product: money fees as prices, rates in words in ``terms``."""
    kind = item["ProductType"]
    other = item.get("OtherProductType") or {}
    kind_label = other.get("Name") or labels.label(labels.PRODUCT_TYPES, kind, "product type")
    fees = ((item.get("PCA") or {}).get("OtherFeesCharges") or {}).get("FeeChargeDetail", [])
    fees = fees + (item.get("OtherProductDetails") or {}).get("Fees", [])
    prices, fee_terms = _fees(fees)
    return [
        Product(
            provider_id=f"product:{item['AccountId']}:{identity.own_or_derived('product', item)}",
            account_id=ref(Account, item["AccountId"]),
            name=item.get("ProductName") or kind_label,
            product_type=kind,
            product_type_label=kind_label,
            description=other.get("Description"),
            prices=prices,
            terms="; ".join(_rates(item) + fee_terms) or None,
            extra=_rest(
                item, ["ProductId", "AccountId", "ProductName", "ProductType", identity.OCCURRENCE]
            ),
        )
    ]


def offer(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """An OBOffer1: a product the bank proposes to this customer, for a window of time."""
    kind = item.get("OfferType") or ""
    kind_label = labels.label(labels.OFFER_TYPES, kind, "offer type") if kind else "Offer"
    prices = []
    amount, currency = _money(item.get("Amount"))
    if amount is not None and currency:
        what = "New credit limit" if kind == "LimitIncrease" else "Amount"
        prices.append(Price(label=what, amount=amount, currency=currency))
    fee, currency = _money(item.get("Fee"))
    if fee is not None and currency:
        prices.append(Price(label="Fee", amount=fee, currency=currency))
    terms = [f"Rate {item['Rate']}%" if "Rate" in item else "", item.get("Term", "")]
    return [
        Product(
            provider_id=f"offer:{identity.own_or_derived('offers', item)}",
            origin=Origin.inferred,
            account_id=ref(Account, item["AccountId"]),
            name=kind_label.removeprefix("Offer: "),
            product_type=kind,
            product_type_label=kind_label,
            description=item.get("Description"),
            prices=prices,
            terms="; ".join(t for t in terms if t) or None,
            valid_from=_day(item.get("StartDateTime")),
            valid_to=_day(item.get("EndDateTime")),
            extra=_rest(
                item,
                [
                    "OfferId",
                    "AccountId",
                    "OfferType",
                    "Description",
                    "Amount",
                    "Fee",
                    "Rate",
                    "Term",
                    "StartDateTime",
                    "EndDateTime",
                    identity.OCCURRENCE,
                ],
            ),
        )
    ]


def processing(item: dict[str, Any], ref: Ref) -> list[Entity]:
    """One purpose of the bank's processing notice (GDPR article 15(1)(a)-(h))."""
    decision = item.get("AutomatedDecision") or {}
    basis = item["LegalBasis"]
    return [
        Processing(
            provider_id=f"processing:{item['PurposeId']}",
            purpose=item["Purpose"],
            purpose_code=item["PurposeId"],
            legal_basis=basis,
            legal_basis_label=labels.label(labels.LEGAL_BASES, basis, "legal basis"),
            data_categories=item.get("DataCategories", []),
            recipients=[
                Recipient(
                    name=r["Name"],
                    kind=r.get("Kind"),
                    country=r.get("Country"),
                    safeguard=r.get("Safeguard"),
                )
                for r in item.get("Recipients", [])
            ],
            third_country_safeguards=item.get("ThirdCountrySafeguards"),
            retention=item["Retention"],
            source=item["Source"],
            automated_decision=bool(decision.get("Used")),
            automated_logic=decision.get("Logic"),
            automated_consequences=decision.get("Consequences"),
            extra=_rest(
                item,
                [
                    "PurposeId",
                    "Purpose",
                    "LegalBasis",
                    "DataCategories",
                    "Recipients",
                    "ThirdCountrySafeguards",
                    "Retention",
                    "Source",
                    "AutomatedDecision",
                ],
            ),
        )
    ]
