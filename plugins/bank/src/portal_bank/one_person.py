"""One person across the demo sandboxes: the bank pays the other demo providers' bills.

The Demo Bank's customer is Demo Energy's, Demo Telecom's and Demo Mart's too. Her energy
and phone bills are collected from her current account by direct debit, each for the bill's
exact total on the first weekday on or after it falls due; her Demo Mart orders are paid
with her Rewards Mastercard (the card Demo Mart's orders name, ending 4821) on the day she
placed them, and its refunds come back to the same card. So portal can link each bill to
the payment that settled it and each order to its card payment (``portal.understand.links``).

The schedule is read from the other plugins' own datasets, when they are installed: the
bank plugin must stay installable on its own (a third party may install only it), so each
biller whose plugin is missing is replaced by the stand-in the bank paid before (Octopus
Energy, EE), and without the retailer there are no Demo Mart card payments. The schedule is
a pure function of the seed, worked out once per seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

from portal_bank.customer import END, START, at, seeded, weekday_on_or_after

if TYPE_CHECKING:
    from portal_bank.dataset import DemoBank

ENERGY = "Demo Energy"
TELECOM = "Demo Telecom"
MART = "Demo Mart"
"""The billers' names as the bank shows them: their display names in portal."""
MART_MCC = {"in_store": "5411", "online": "5311"}
"""Demo Mart is a supermarket in its stores (5411) and a department store online (5311)."""
UTILITY_DUE_DAYS = 14
"""Demo Energy's bills state no due date; its direct debits collect two weeks after issue."""
STAND_INS = [
    (12, "EE Limited", "EE 07700900123", 1800, "telco"),
    (15, "Octopus Energy", "OCTOPUS A-1F3C9D20", 9800, "utility"),
]
"""The monthly direct debits (day, payee, reference, pence, plugin) the bank pays instead
of a demo biller whose plugin is not installed."""


@dataclass(frozen=True)
class Collection:
    """One direct debit collection of a bill: when, to whom, under which mandate, how much."""

    day: date
    payee: str
    reference: str
    """The mandate's reference: the biller's account number for the customer."""
    pence: int
    bill: str
    """The biller's number for the bill it pays."""


@dataclass(frozen=True)
class CardPayment:
    """A Demo Mart order paid (or a return refunded, ``refund``) on the Rewards Mastercard."""

    when: datetime
    pence: int
    mcc: str
    where: str
    order: str
    refund: bool


@cache
def collections(seed: int) -> tuple[Collection, ...]:
    """Every direct debit collection of a demo bill due by the bank's cut-off, by day."""
    found = [*_energy(seed), *_telecom(seed)]
    return tuple(sorted(found, key=lambda c: (c.day, c.payee, c.reference, c.bill)))


@cache
def card_payments(seed: int) -> tuple[CardPayment, ...]:
    """Every Demo Mart order's card payment and every return's refund, oldest first."""
    try:
        from portal_retailer.dataset import DemoRetailer
    except ImportError:
        return ()
    shop = DemoRetailer(seed)
    out = []
    for order in shop.orders:
        pence = _pence(Decimal(order["total"]))
        when = datetime.fromisoformat(order["placed_at"])
        if pence > 0 and START <= when.date() <= END:
            where = order["store"]["name"] if order["store"] else f"{MART} online"
            mcc = MART_MCC["in_store" if order["type"] == "in_store" else "online"]
            out.append(CardPayment(when, pence, mcc, where, order["number"], refund=False))
    for back in shop.returns:
        pence = -_pence(Decimal(back["total"]))
        when = datetime.fromisoformat(back["returned_at"])
        if pence > 0 and START <= when.date() <= END:
            where = back["store"]["name"] if back["store"] else f"{MART} online"
            out.append(CardPayment(when, pence, MART_MCC["in_store"], where, back["number"], True))
    return tuple(sorted(out, key=lambda p: (p.when, p.order)))


def stand_ins() -> list[tuple[int, str, str, int]]:
    """The stand-in direct debits (day, payee, reference, pence) for the missing billers."""
    return [(day, payee, ref, pence) for day, payee, ref, pence, name in STAND_INS if _gone(name)]


def mandates(seed: int) -> list[tuple[str, str]]:
    """(payee, reference) of each biller's direct debit mandate, in the order first paid."""
    seen: dict[tuple[str, str], None] = {}
    for c in collections(seed):
        seen.setdefault((c.payee, c.reference), None)
    return [*seen, *((payee, ref) for _, payee, ref, _ in stand_ins())]


def _gone(plugin: str) -> bool:
    try:
        __import__(f"portal_{plugin}.dataset")
    except ImportError:
        return True
    return False


def _energy(seed: int) -> list[Collection]:
    try:
        from portal_utility.customer import CUSTOMER_ACCOUNT, METERS, billing_periods
        from portal_utility.dataset import DemoUtility
    except ImportError:
        return []

    utility = DemoUtility(seed)
    out = []
    for first, last in billing_periods(END):
        issued = last + timedelta(days=4)  # DemoUtility.summary: three days after the 15th
        day = weekday_on_or_after(issued + timedelta(days=UTILITY_DUE_DAYS))
        if day > END:
            break
        for meter in METERS:
            summary = utility.summary(meter, first, last)
            total = Decimal(summary["content"]["billLastPeriod"]).scaleb(-5)
            bill = summary["id"]
            out.append(Collection(day, ENERGY, CUSTOMER_ACCOUNT, _pence(total), bill))
    return out


def _telecom(seed: int) -> list[Collection]:
    try:
        from portal_telco.dataset import DemoTelecom
    except ImportError:
        return []
    out = []
    for bill in DemoTelecom(seed).bills:
        due = datetime.fromisoformat(bill["paymentDueDate"]).date()
        day = weekday_on_or_after(due)
        if bill["state"] != "settled" or day > END:
            continue  # not yet due at the bank's cut-off: the telco says so too
        total = Decimal(str(bill["amountDue"]["value"]))
        account = bill["billingAccount"]["id"]
        out.append(Collection(day, TELECOM, account, _pence(total), bill["billNo"]))
    return out


def _pence(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


def collected_at(collection: Collection) -> datetime:
    """The moment the bank books a collection: the start of its day, as other debits."""
    return at(collection.day, 0)


def book(bank: DemoBank) -> None:
    """Book the collections on the current account and the Demo Mart payments and refunds on
    the card, with ids of their own (the bank's other ids stay as they were)."""
    ids = seeded(bank.seed, "ids:one-person")
    for c in collections(bank.seed):
        info = f"{c.payee.upper()} {c.reference}"
        bank._entry(bank.current_id, collected_at(c), c.pence, "DD", info,
                    party=bank._payee(c.payee), reference=c.reference,
                    transaction_id=f"{ids.getrandbits(128):032x}")  # fmt: skip
    for p in card_payments(bank.seed):
        code, info = ("REF", f"REFUND {p.where.upper()}") if p.refund else ("POS", p.where.upper())
        bank._entry(bank.card_id, p.when, p.pence, code, info, merchant=(MART, p.mcc),
                    transaction_id=f"{ids.getrandbits(128):032x}")  # fmt: skip
