"""The same customer, served in the other shapes Open Banking v3.1 allows (a sandbox switch).

``BankSandbox(variant=...)`` serves the Demo Bank's truth through one of these:

- ``standard``: the shape the sandbox always served.
- ``sparse``: every optional field a client might rely on left out, as the specification
  allows: no ``TransactionId``, ``StatementId``, ``DirectDebitId``, ``StandingOrderId``,
  ``ScheduledPaymentId``, ``BeneficiaryId``, ``ProductId``, ``OfferId``; a party without
  ``Name``; statements without ``StatementAmount`` (so no bills); transactions without
  references, codes, counterparties or running balance; ``"Data": {}`` for an empty list;
  and twins, transactions identical in every field (two coffees at the same minute).
- ``spec-edge``: every field present and valid, in the less common forms: amounts in EUR,
  USD and JPY (no decimals), amounts with one decimal or none, date-times in UTC with ``Z``
  and milliseconds, an account ``Pending`` (the rarest status), codes the plugin has no
  label for (ISO 20022 families and merchant codes it does not know, a bank's own
  namespaced codes) and fields it does not map (``TransactionMutability``,
  ``SupplementaryData``, ``StatementBenefit``).
- ``forbidden``: the standard shape plus a few transactions and a statement that break the
  specification (each in one way: a sign in the amount, six decimals, a currency that is not
  ISO 4217, an unknown ``CreditDebitIndicator`` or ``Status``, a missing or date-only
  ``BookingDateTime``, a statement without ``EndDateTime``): a correct plugin rejects exactly
  those, each with a reason, and stores the rest.

Every choice is a function of the item alone (a digest of its own id), so the pages served
and the ground truth agree, and two syncs see the same thing. Each variant's responses are
checked against ``portal_bank.spec`` in the tests, so a variant never serves what the
specification forbids (except ``forbidden``'s planted items, which the tests count).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

VARIANTS = ("standard", "sparse", "spec-edge", "forbidden")

FORBIDDEN = "portal:forbidden"
"""Not served: the key under which ``forbidden`` notes, in the truth only, what it broke."""

Item = dict[str, Any]


def _digest(item: Item, salt: str) -> int:
    own = next(
        (item[k] for k in _OWN_IDS if isinstance(item.get(k), str)),
        repr(sorted(item.items())),
    )
    return int.from_bytes(hashlib.sha256(f"{salt}:{own}".encode()).digest()[:4], "big")


_OWN_IDS = (
    "TransactionId",
    "StatementId",
    "DirectDebitId",
    "StandingOrderId",
    "ScheduledPaymentId",
    "BeneficiaryId",
    "OfferId",
    "ProductId",
    "PartyId",
    "ConsentId",
    "PreferenceId",
    "PurposeId",
)


def _one_in(item: Item, salt: str, n: int) -> bool:
    return _digest(item, salt) % n == 0


def _drop(item: Item, *names: str) -> Item:
    return {k: v for k, v in item.items() if k not in names}


# -- sparse: what the specification lets a bank leave out -----------------------------------


def _sparse(kind: str, item: Item) -> list[Item]:
    if kind == "accounts":
        kept = _drop(item, "Nickname", "OpeningDate", "Status", "StatusUpdateDateTime")
        kept["Account"] = [_drop(a, "Name", "SecondaryIdentification") for a in item["Account"]]
        return [kept]
    if kind == "balances":
        return [_drop(item, "CreditLine")]
    if kind == "transactions":
        kept = _drop(
            item,
            "TransactionId",
            "TransactionReference",
            "ValueDateTime",
            "Balance",
            "BankTransactionCode",
            "ProprietaryBankTransactionCode",
            "CreditorAccount",
            "DebtorAccount",
        )
        if _one_in(item, "no-information", 2):
            kept.pop("TransactionInformation", None)
        if _one_in(item, "no-merchant", 2):
            kept.pop("MerchantDetails", None)
        # A card payment now and then has a twin: same shop, amount and minute.
        twin = "MerchantDetails" in item and _one_in(item, "twin", 40)
        return [kept, copy.deepcopy(kept)] if twin else [kept]
    drops = _SPARSE_DROPS.get(kind)
    return [item if drops is None else _drop(item, *drops)]


_SPARSE_DROPS: dict[str, tuple[str, ...]] = {
    "party": ("Name", "PartyType", "PartyNumber", "Phone", "Address"),
    "consents": ("ExpirationDateTime", "TransactionFromDateTime", "TransactionToDateTime"),
    "direct_debits": (
        "DirectDebitId",
        "DirectDebitStatusCode",
        "PreviousPaymentDateTime",
        "PreviousPaymentAmount",
    ),
    "standing_orders": (
        "StandingOrderId",
        "StandingOrderStatusCode",
        "Reference",
        "CreditorAccount",
        "FirstPaymentDateTime",
        "FirstPaymentAmount",
        "NextPaymentDateTime",
        "NextPaymentAmount",
        "LastPaymentDateTime",
        "LastPaymentAmount",
        "FinalPaymentDateTime",
        "FinalPaymentAmount",
        "NumberOfPayments",
    ),
    "scheduled_payments": ("ScheduledPaymentId", "Reference", "CreditorAccount"),
    "beneficiaries": ("BeneficiaryId", "AccountId", "BeneficiaryType", "CreditorAccount"),
    "product": ("ProductId", "ProductName", "PCA", "MarketingStateId", "OtherProductType"),
    "offers": (
        "OfferId",
        "OfferType",
        "Description",
        "Amount",
        "Fee",
        "Rate",
        "Term",
        "EndDateTime",
    ),
    "statements": ("StatementId", "StatementReference", "StatementDescription", "StatementAmount"),
}


# -- spec-edge: valid, in the forms a client meets less often --------------------------------


def _utc(value: str) -> str:
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _short(amount: str) -> str:
    """``12.50`` as ``12.5`` and ``12.00`` as ``12``: the same amount, as the pattern allows."""
    text = amount.rstrip("0").rstrip(".") if "." in amount else amount
    return text or "0"


def _edge_transaction(item: Item) -> Item:
    item = copy.deepcopy(item)
    item["TransactionMutability"] = "Immutable" if item["Status"] == "Booked" else "Mutable"
    amount = item["Amount"]
    if _one_in(item, "jpy", 30):
        yen = (Decimal(amount["Amount"]) * 187).quantize(Decimal(1))
        item["Amount"] = {"Amount": str(yen), "Currency": "JPY"}
    elif _one_in(item, "eur", 25):
        item["Amount"] = {"Amount": amount["Amount"], "Currency": "EUR"}
    elif _one_in(item, "usd", 25):
        item["Amount"] = {"Amount": amount["Amount"], "Currency": "USD"}
    elif _one_in(item, "short", 4):
        item["Amount"] = {**amount, "Amount": _short(amount["Amount"])}
    if _one_in(item, "utc", 3):
        item["BookingDateTime"] = _utc(item["BookingDateTime"])
        if "ValueDateTime" in item:
            item["ValueDateTime"] = _utc(item["ValueDateTime"])
    if _one_in(item, "family", 20):
        item["BankTransactionCode"] = {"Code": "ExtendedFamilyX", "SubCode": "NotAvailable"}
        item["ProprietaryBankTransactionCode"] = {"Code": "ZX9"}  # no Issuer: optional
    if "MerchantDetails" in item and _one_in(item, "mcc", 15):
        item["MerchantDetails"]["MerchantCategoryCode"] = "999"
    if _one_in(item, "supplementary", 10):
        item["SupplementaryData"] = {"DemoBankCategory": "Everyday", "Points": 3}
    return item


def _edge(kind: str, item: Item) -> list[Item]:
    if kind == "transactions":
        return [_edge_transaction(item)]
    item = copy.deepcopy(item)
    if kind == "accounts":
        item["SwitchStatus"] = "UK.CASS.NotSwitched"
        # A date-time at opening hours: the day is the date part in the zone written.
        item["OpeningDate"] = item["OpeningDate"].replace("T00:00:00", "T09:30:00")
        if item["AccountSubType"] == "CreditCard":
            item["Status"] = "Pending"  # valid, and seldom served: a change awaiting approval
        else:
            item["Account"].append(
                {"SchemeName": "UK.DemoBank.CustomerNumber", "Identification": "0004217763"}
            )
    elif kind == "party":
        item |= {"AccountRole": "UK.OBIE.Principal", "BeneficialOwnership": True}
    elif kind == "statements":
        item["StatementBenefit"] = [
            {"Type": "UK.OBIE.Cashback", "Amount": {"Amount": "1.25", "Currency": "GBP"}}
        ]
        if "StatementAmount" in item:
            item["StatementAmount"].append(
                {
                    "Type": "UK.DemoBank.CashbackEarned",
                    "CreditDebitIndicator": "Credit",
                    "Amount": {"Amount": "1.25", "Currency": "GBP"},
                }
            )
        item.setdefault("StatementDateTime", []).append(
            {"DateTime": item["CreationDateTime"], "Type": "UK.OBIE.StatementAvailable"}
        )
    elif kind == "offers":
        item |= {"Value": 3, "URL": "https://demobank.example/offers"}
    elif kind in ("standing_orders", "beneficiaries"):
        item["SupplementaryData"] = {"DemoBankChannel": "App"}
    elif kind == "scheduled_payments":
        item["DebtorReference"] = "SET UP IN APP"
    return [item]


# -- forbidden: a few items the specification does not allow ---------------------------------

_BREAKS: list[tuple[str, Callable[[Item], None]]] = [
    ("a signed amount", lambda t: t["Amount"].update(Amount="-" + t["Amount"]["Amount"])),
    ("six decimals", lambda t: t["Amount"].update(Amount=t["Amount"]["Amount"] + "0001")),
    ("a currency outside ISO 4217", lambda t: t["Amount"].update(Currency="QQQ")),
    ("an unknown CreditDebitIndicator", lambda t: t.update(CreditDebitIndicator="Both")),
    ("an unknown Status", lambda t: t.update(Status="Settled")),
    ("no BookingDateTime", lambda t: t.pop("BookingDateTime")),
    ("a date for BookingDateTime", lambda t: t.update(BookingDateTime=t["BookingDateTime"][:10])),
]


def _forbidden(kind: str, item: Item) -> list[Item]:
    if kind == "transactions" and item.get("Status") == "Booked":
        # About one booked transaction in 200 breaks each rule: every rule, a few times over.
        n = _digest(item, "forbidden") % 200
        if n < len(_BREAKS):
            what, brk = _BREAKS[n]
            broken = copy.deepcopy(item)
            brk(broken)
            broken[FORBIDDEN] = what
            return [broken]
    if kind == "statements" and _one_in(item, "forbidden", 12):
        broken = _drop(item, "EndDateTime")
        broken[FORBIDDEN] = "no EndDateTime"
        return [broken]
    return [item]


_TRANSFORMS: dict[str, Callable[[str, Item], list[Item]]] = {
    "sparse": _sparse,
    "spec-edge": _edge,
    "forbidden": _forbidden,
}


class Variant:
    """One way of serving the bank's items: ``serve`` them, wrap them in ``Data``."""

    def __init__(self, name: str = "standard") -> None:
        if name not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {name!r}.")
        self.name = name
        self._transform = _TRANSFORMS.get(name)

    def truth(self, kind: str, items: list[Item]) -> list[Item]:
        """The items of ``kind`` as this variant serves them, each noted if forbidden."""
        if self._transform is None:
            return items
        return [out for item in items for out in self._transform(kind, item)]

    def serve(self, kind: str, items: list[Item]) -> list[Item]:
        """The items of ``kind`` as this variant serves them."""
        if self._transform is None:
            return items  # the standard shape: the benchmarks' million items pass untouched
        return [_drop(i, FORBIDDEN) if FORBIDDEN in i else i for i in self.truth(kind, items)]

    def data(self, key: str, items: list[Item]) -> dict[str, Any]:
        """``Data`` of a list: ``sparse`` leaves an empty list out (``"Data": {}``)."""
        return {} if not items and self.name == "sparse" else {key: items}
