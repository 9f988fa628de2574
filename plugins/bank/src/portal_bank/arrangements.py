"""The customer's payment arrangements, products and offers.

Served as Open Banking v3.1 resources (OBDirectDebit1, OBStandingOrder6,
OBScheduledPayment3, OBBeneficiary5, OBReadProduct2, OBOffer1). Direct debits and
standing orders are the ones that pay the demo customer's bills (``customer.BILLS``, and
the other demo providers' in ``one_person``),
so each one's last payment is a transaction in the ledger. Two more have a history of
their own, booked by ``book_arrangements``: a direct debit cancelled in May 2025, and a
standing order to the customer's sister that ends with a final payment in December 2026.
Schedules are stated as of the data's cut-off (``customer.END``), so later activity does
not restate them.
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portal_bank import one_person
from portal_bank.customer import BILLS, END, at, money, seeded, stamp, weekday_on_or_after

if TYPE_CHECKING:
    from portal_bank.dataset import DemoBank

# A direct debit the customer cancelled: (day, payee, reference, pence, first, last payment).
CANCELLED_DD = (22, "NOW TV", "NOWTV 7781204", 999, date(2024, 11, 22), date(2025, 5, 22))
# A standing order to her sister with a final payment date after the data's cut-off.
SISTER_SO = (28, "C ASHWORTH", "LOAN REPAYMENT", 7500, date(2025, 3, 28), date(2026, 12, 28))
RENT_SINCE = date(2021, 9, 1)
# Future one-off payments: (date, payee, reference, pence).
SCHEDULED = [
    (date(2026, 11, 13), "ELMWOOD RD RESIDENTS ASSOC", "SERVICE CHARGE 2027", 12000),
    (date(2027, 1, 29), "HMRC SELF ASSESSMENT", "8134552177K", 128460),
]
# Saved payees: (name, type, reference).
PAYEES = [
    ("Harbour Lettings Ltd", "Trusted", "RENT FLAT 3 27 ELMWOOD RD"),
    ("C ASHWORTH", "Trusted", "LOAN REPAYMENT"),
    ("ELMWOOD RD RESIDENTS ASSOC", "Ordinary", "SERVICE CHARGE 2027"),
    ("HMRC SELF ASSESSMENT", "Ordinary", "8134552177K"),
    ("DEMOBANK MASTERCARD", "Trusted", "CARD 4821"),
    ("T OYELARAN", "Ordinary", "DINNER"),
]


def _monthly(day: int, first: date, last: date) -> list[date]:
    """Each month's payment day from ``first`` to ``last``, moved off weekends."""
    result, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        due = weekday_on_or_after(date(year, month, min(day, monthrange(year, month)[1])))
        if first <= due <= weekday_on_or_after(last):
            result.append(due)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _next_monthly(day: int, after: date) -> date:
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return _monthly(day, date(year, month, 1), date(year, month, 28))[0]


def book_arrangements(bank: DemoBank) -> None:
    """Book the cancelled direct debit's and the sister's standing order's payments."""
    ids = seeded(bank.seed, "ids:arrangements")  # its own ids: the others' stay as they were

    def book(day: date, code: str, payee: str, reference: str, pence: int) -> None:
        bank._entry(
            bank.current_id,
            at(day, 0),
            pence,
            code,
            f"{payee} {reference}",
            party=bank._payee(payee),
            reference=reference,
            transaction_id=f"{ids.getrandbits(128):032x}",
        )

    day, payee, reference, pence, first, last = CANCELLED_DD
    for due in _monthly(day, first, last):
        book(due, "DD", payee, reference, pence)
    day, payee, reference, pence, first, last = SISTER_SO
    for due in _monthly(day, first, min(last, END)):
        book(due, "SO", payee, reference, pence)


def _last_paid(bank: DemoBank, code: str, reference: str) -> dict[str, Any] | None:
    paid = [
        t
        for t in bank.ledger.get(bank.current_id, [])
        if t["ProprietaryBankTransactionCode"]["Code"] == code
        and t.get("TransactionReference") == reference
        and t["Status"] == "Booked"
    ]
    return paid[-1] if paid else None


def direct_debits(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """The current account's direct debit mandates (OBDirectDebit1), the cancelled one too."""
    if account_id != bank.current_id:
        return []
    mandates = [(payee, reference, "Active") for _, code, payee, reference, _, _ in BILLS]
    mandates = [m for m, bill in zip(mandates, BILLS, strict=True) if bill[1] == "DD"]
    mandates += [
        (payee, reference, "Active") for payee, reference in one_person.mandates(bank.seed)
    ]
    mandates.append((CANCELLED_DD[1], CANCELLED_DD[2], "Inactive"))
    result = []
    for n, (payee, reference, status) in enumerate(mandates, 1):
        item: dict[str, Any] = {
            "AccountId": account_id,
            "DirectDebitId": f"DD-{n:04d}",
            "MandateIdentification": reference,
            "DirectDebitStatusCode": status,
            "Name": payee,
        }
        last = _last_paid(bank, "DD", reference)
        if last is not None:
            item["PreviousPaymentDateTime"] = last["BookingDateTime"]
            item["PreviousPaymentAmount"] = last["Amount"]
        result.append(item)
    return result


def _standing_order(
    bank: DemoBank, n: int, payee: str, reference: str, pence: int, day: int, first: date
) -> dict[str, Any]:
    amount = money(Decimal(pence) / 100)
    item: dict[str, Any] = {
        "AccountId": bank.current_id,
        "StandingOrderId": f"SO-{n:04d}",
        "Frequency": f"IntrvlMnthDay:01:{day:02d}",
        "Reference": reference,
        "FirstPaymentDateTime": stamp(at(first, 0)),
        "NextPaymentDateTime": stamp(at(_next_monthly(day, END), 0)),
        "StandingOrderStatusCode": "Active",
        "FirstPaymentAmount": amount,
        "NextPaymentAmount": amount,
    }
    last = _last_paid(bank, "SO", reference)
    if last is not None:
        item["LastPaymentDateTime"] = last["BookingDateTime"]
        item["LastPaymentAmount"] = last["Amount"]
    item["CreditorAccount"] = bank._payee(payee)
    return item


def standing_orders(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """The rent, and the sister's loan repayment with its final payment (OBStandingOrder6)."""
    if account_id != bank.current_id:
        return []
    day, _, payee, reference, pence, _ = next(b for b in BILLS if b[1] == "SO")
    rent = _standing_order(bank, 1, payee, reference, pence, day, RENT_SINCE)
    day, payee, reference, pence, first, final = SISTER_SO
    sister = _standing_order(bank, 2, payee, reference, pence, day, first)
    payments = _monthly(day, first, final)
    sister |= {
        "FinalPaymentDateTime": stamp(at(payments[-1], 0)),
        "FinalPaymentAmount": money(Decimal(pence) / 100),
        "NumberOfPayments": str(len(payments)),
    }
    return [rent, sister]


def scheduled_payments(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """One-off payments set up for later (OBScheduledPayment3)."""
    if account_id != bank.current_id:
        return []
    return [
        {
            "AccountId": account_id,
            "ScheduledPaymentId": f"SP-{n:04d}",
            "ScheduledPaymentDateTime": stamp(at(day, 0)),
            "ScheduledType": "Execution",
            "Reference": reference,
            "InstructedAmount": money(Decimal(pence) / 100),
            "CreditorAccount": bank._payee(payee),
        }
        for n, (day, payee, reference, pence) in enumerate(SCHEDULED, 1)
    ]


def beneficiaries(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """The payees saved on the current account (OBBeneficiary5)."""
    if account_id != bank.current_id:
        return []
    return [
        {
            "AccountId": account_id,
            "BeneficiaryId": f"BN-{n:04d}",
            "BeneficiaryType": kind,
            "Reference": reference,
            "CreditorAccount": bank._payee(name),
        }
        for n, (name, kind, reference) in enumerate(PAYEES, 1)
    ]


def _fee(category: str, kind: str, frequency: str, amount: str | None = None, **rest: Any) -> Any:
    fee: dict[str, Any] = {"FeeCategory": category, "FeeType": kind}
    if amount is not None:
        fee["FeeAmount"] = amount
    return fee | rest | {"ApplicationFrequency": frequency, "CalculationFrequency": frequency}


def products(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """The product behind each account (OBReadProduct2), with its fees and rates."""
    if account_id == bank.current_id:
        return [
            {
                "AccountId": account_id,
                "ProductId": "PCA-EVERYDAY-3",
                "ProductType": "PersonalCurrentAccount",
                "ProductName": "Everyday Account",
                "MarketingStateId": "EVERYDAY-2021-09",
                "PCA": {
                    "ProductDetails": {"MonthlyMaximumCharge": "35.00"},
                    "CreditInterest": {
                        "TierBandSet": [
                            {
                                "TierBandMethod": "Tiered",
                                "TierBand": [
                                    {
                                        "TierValueMinimum": "0.00",
                                        "AER": "0.00",
                                        "ApplicationFrequency": "Monthly",
                                    }
                                ],
                            }
                        ]
                    },
                    "Overdraft": {
                        "OverdraftTierBandSet": [
                            {
                                "TierBandMethod": "Whole",
                                "OverdraftTierBand": [
                                    {
                                        "TierValueMin": "0.00",
                                        "TierValueMax": "500.00",
                                        "EAR": "39.90",
                                    }
                                ],
                            }
                        ]
                    },
                    "OtherFeesCharges": {
                        "FeeChargeDetail": [
                            _fee("Servicing", "ServiceCAccountFeeMonthly", "Monthly", "0.00"),
                            _fee(
                                "Other",
                                "Other",
                                "PerTransaction",
                                FeeRate="2.99",
                                OtherFeeType={"Name": "Non-sterling card payment"},
                            ),
                            _fee(
                                "Other",
                                "Other",
                                "PerTransaction",
                                "1.50",
                                OtherFeeType={"Name": "Cash withdrawal abroad"},
                            ),
                        ]
                    },
                },
            }
        ]
    return [
        {
            "AccountId": account_id,
            "ProductId": "CC-REWARDS-2",
            "ProductType": "Other",
            "OtherProductType": {
                "Name": "Personal credit card",
                "Description": "Rewards Mastercard: 0.5% cashback on purchases.",
            },
            "ProductName": "Rewards Mastercard",
            "MarketingStateId": "REWARDS-2021-02",
            "OtherProductDetails": {
                "Rates": {"PurchaseAPR": "24.9", "CashAPR": "29.9"},
                "Fees": [
                    _fee("Servicing", "AnnualFee", "Yearly", "0.00"),
                    _fee("Other", "LatePayment", "PerOccurrence", "12.00"),
                    _fee(
                        "Other", "CashAdvance", "PerTransaction", FeeRate="3.00", FeeMinimum="3.00"
                    ),
                ],
            },
        }
    ]


def offers(bank: DemoBank, account_id: str) -> list[dict[str, Any]]:
    """What the bank offers the customer on each account now (OBOffer1)."""
    if bank.offers_lapsed:
        return []
    window = (stamp(at(date(2026, 10, 1), 0)), stamp(at(date(2026, 12, 31), 23, 59)))
    if account_id == bank.current_id:
        return [
            {
                "AccountId": account_id,
                "OfferId": "OFR-REGSAVER-26",
                "OfferType": "PromotionalRate",
                "Description": "Regular Saver: 6.00% AER fixed for 12 months, up to £200 a month.",
                "StartDateTime": window[0],
                "EndDateTime": window[1],
                "Rate": "6.00",
                "Term": "12 months",
                "Amount": money(Decimal(200)),
                "URL": "https://www.demobank.example/regular-saver",
            }
        ]
    return [
        {
            "AccountId": account_id,
            "OfferId": "OFR-LIMIT-8000",
            "OfferType": "LimitIncrease",
            "Description": "Raise your credit limit from £6,000 to £8,000.",
            "StartDateTime": window[0],
            "EndDateTime": window[1],
            "Amount": money(Decimal(8000)),
        },
        {
            "AccountId": account_id,
            "OfferId": "OFR-BT-18",
            "OfferType": "BalanceTransfer",
            "Description": "0% on balances transferred by 31 January 2027, for 18 months.",
            "StartDateTime": window[0],
            "EndDateTime": stamp(at(date(2027, 1, 31), 23, 59)),
            "Rate": "0.00",
            "Term": "18 months",
            "Fee": money(Decimal("3.00")),
            "Value": 3,
        },
    ]
