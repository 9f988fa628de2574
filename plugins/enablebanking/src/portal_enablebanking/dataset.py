"""The sandbox's demo person: Aino Mäkinen, two accounts at the Mock ASPSP in Finland.

Shaped as Enable Banking's API reference gives its answers (``AccountResource``,
``BalanceResource``, ``Transaction``): an everyday EUR account with running balances, a
card, salary, direct debits, a card payment abroad in USD and a few pending payments; and
a SEK savings account. Seeded, so every run serves exactly the same.

The awkward cases, each where the reference allows it: pending payments with no
``entry_reference`` and no ``booking_date``; an account hold (``HOLD``); a payment with an
exchange rate and the instructed amount in another currency; a structured creditor
reference (``reference_number`` with its scheme); a note the person wrote; remittance
information over several lines; Finnish and Swedish text.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

ASPSP = {"name": "Mock ASPSP", "country": "FI"}
START = date(2026, 5, 4)
"""The first day of the demo's history."""
TODAY = date(2026, 11, 27)
"""The sandbox's today: the last booking day."""

MERCHANTS = [
    ("K-Market Kallio", "5411", "CCRD", "POSD", "Card payment"),
    ("HSL Mobiili", "4111", "CCRD", "POSD", "Card payment"),
    ("Café Regatta", "5814", "CCRD", "POSD", "Card payment"),
    ("Alko Hakaniemi", "5921", "CCRD", "POSD", "Card payment"),
    ("Apteekki Sörnäinen", "5912", "CCRD", "POSD", "Card payment"),
    ("Otto automaatti", "6011", "CCRD", "CWDL", "Cash withdrawal"),
]


def identification_hash(iban: str) -> str:
    """A stable hash of an account's number, in the reference's shape (two dotted parts)."""
    digest = hashlib.sha256(iban.encode()).digest()
    return "WwpbImFjY291bnQiLCJpYmFuIl1dCg." + base64.b64encode(digest).decode()


def _account(iban: str, bban: str, **fields: Any) -> dict[str, Any]:
    hashed = identification_hash(iban)
    return {
        "account_id": {"iban": iban},
        "all_account_ids": [
            {"identification": iban, "scheme_name": "IBAN"},
            {"identification": bban, "scheme_name": "BBAN", "issuer": "FI"},
        ],
        "account_servicer": {"bic_fi": "MOCKFIHH", "name": "Mock ASPSP"},
        "name": "Aino Mäkinen",
        **fields,
        "identification_hash": hashed,
        "identification_hashes": [hashed],
    }


def accounts() -> list[dict[str, Any]]:
    """The two accounts' details (``GET /accounts/{uid}/details``), without their uid."""
    return [
        _account(
            "FI2112345600000785",
            "12345600000785",
            details="Käyttötili",
            usage="PRIV",
            cash_account_type="CACC",
            product="Everyday account",
            currency="EUR",
            psu_status="Account Holder",
            credit_limit={"currency": "EUR", "amount": "500.00"},
            postal_address={
                "street_name": "Fleminginkatu",
                "building_number": "12 B 7",
                "post_code": "00530",
                "town_name": "Helsinki",
                "country": "FI",
            },
        ),
        _account(
            "SE4550000000058398257466",
            "50000000058398257466",
            details="Sparkonto",
            usage="PRIV",
            cash_account_type="SVGS",
            product="Savings account",
            currency="SEK",
        ),
    ]


UIDS = uuid.UUID("6f1d2a4e-9b7c-4e3f-8a21-5c0d9e8f7a6b")


def uid_of(account: dict[str, Any]) -> str:
    """The account's uid: valid only while a session holding it is authorised.

    Enable Banking gives an account a new uid in each session; the sandbox keeps one per
    account, so that what two connections stored can be compared payload for payload.
    """
    return str(uuid.uuid5(UIDS, account["identification_hash"]))


def _day(d: date) -> str:
    return d.isoformat()


def _money(amount: Decimal, currency: str) -> dict[str, str]:
    return {"currency": currency, "amount": f"{amount:.2f}"}


class History:
    """One account's transactions, built a day at a time with its running balance."""

    def __init__(self, account: dict[str, Any], opening: Decimal, seed: str) -> None:
        self.account = account
        self.currency = account["currency"]
        self.balance = opening
        self.opening = opening
        self.items: list[dict[str, Any]] = []
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
        self.running = account["cash_account_type"] == "CACC"

    def add(self, day: date, amount: Decimal, cdi: str, **fields: Any) -> dict[str, Any]:
        """A booked transaction of ``amount`` (positive) in the direction ``cdi``."""
        n = len(self.items)
        self.balance += amount if cdi == "CRDT" else -amount
        item: dict[str, Any] = {
            "entry_reference": f"{self.account['account_id']['iban'][-6:]}{day:%Y%m%d}{n:04d}",
            "transaction_id": f"{day:%Y%m%d}-{n:04d}",
            "transaction_amount": _money(amount, self.currency),
            "credit_debit_indicator": cdi,
            "status": "BOOK",
            "booking_date": _day(day),
            "value_date": _day(day),
            "transaction_date": _day(day - timedelta(days=self.rng.choice((0, 0, 1)))),
            **fields,
        }
        if self.running:
            item["balance_after_transaction"] = _money(self.balance, self.currency)
        self.items.append(item)
        return item

    def card(self, day: date) -> None:
        name, mcc, code, sub, words = self.rng.choice(MERCHANTS)
        amount = Decimal(self.rng.randint(250, 8900)) / 100
        self.add(
            day, amount, "DBIT",
            creditor={"name": name},
            merchant_category_code=mcc,
            bank_transaction_code={"description": words, "code": code, "sub_code": sub},
            remittance_information=[f"{name} {day:%d.%m}", "Kortti 4921 **** **** 0385"],
        )  # fmt: skip


def _eur_history() -> History:
    account = accounts()[0]
    h = History(account, Decimal("1843.27"), "eur")
    day = START
    while day <= TODAY:
        if day.day == 25 or (day == START):
            h.add(
                day, Decimal("3412.55"), "CRDT",
                debtor={"name": "Vaisala Oyj"},
                debtor_account={"iban": "FI5840550010228373"},
                bank_transaction_code={"description": "Salary", "code": "RCDT", "sub_code": "SALA"},
                remittance_information=[f"PALKKA {day:%m/%Y}"],
            )  # fmt: skip
        if day.day == 2:
            h.add(
                day, Decimal("925.00"), "DBIT",
                creditor={"name": "Kiinteistö Oy Fleminginkatu 12"},
                creditor_account={"iban": "FI4950009420028730"},
                bank_transaction_code={"description": "Direct debit", "code": "RDDT",
                                       "sub_code": "ESDD"},
                reference_number="RF18539007547034",
                reference_number_schema="INTL",
                remittance_information=["RF18539007547034", "Vuokra / rent"],
            )  # fmt: skip
        if day.day == 15:
            h.add(
                day, Decimal("200.00"), "DBIT",
                creditor={"name": "Aino Mäkinen"},
                creditor_account={"iban": "SE4550000000058398257466"},
                bank_transaction_code={"description": "Transfer", "code": "ICDT",
                                       "sub_code": "ESCT"},
                remittance_information=["Säästöön"],
                note="Own savings",
            )  # fmt: skip
        for _ in range(h.rng.choice((0, 0, 1, 1, 2))):
            h.card(day)
        if day == date(2026, 9, 12):
            h.add(
                day, Decimal("54.31"), "DBIT",
                creditor={"name": "Powell's Books"},
                merchant_category_code="5942",
                bank_transaction_code={"description": "Card payment", "code": "CCRD",
                                       "sub_code": "POSD"},
                exchange_rate={"unit_currency": "USD", "exchange_rate": "0.9215",
                               "rate_type": "SALE",
                               "instructed_amount": {"currency": "USD", "amount": "58.94"}},
                remittance_information=["POWELLS BOOKS PORTLAND US"],
            )  # fmt: skip
        day += timedelta(days=1)
    return h


def _sek_history() -> History:
    account = accounts()[1]
    h = History(account, Decimal("12500.00"), "sek")
    day = START
    while day <= TODAY:
        if day.day == 16:
            h.add(
                day, Decimal("2284.20"), "CRDT",
                debtor={"name": "Aino Mäkinen"},
                debtor_account={"iban": "FI2112345600000785"},
                bank_transaction_code={"description": "Transfer", "code": "RCDT",
                                       "sub_code": "ESCT"},
                remittance_information=["Säästöön"],
            )  # fmt: skip
        if day.day == 28 and day.month % 3 == 0:
            h.add(
                day, Decimal("31.45"), "CRDT",
                bank_transaction_code={"description": "Interest", "code": "INTR",
                                       "sub_code": "INTR"},
                remittance_information=["Ränta"],
            )  # fmt: skip
        day += timedelta(days=1)
    return h


def pending(history: History) -> list[dict[str, Any]]:
    """Payments not booked yet: no entry reference, no booking date (an account hold too)."""
    currency = history.currency
    return [
        {
            "transaction_id": "pending-0001",
            "transaction_amount": _money(Decimal("23.90"), currency),
            "credit_debit_indicator": "DBIT",
            "status": "PDNG",
            "transaction_date": _day(TODAY),
            "creditor": {"name": "K-Market Kallio"},
            "merchant_category_code": "5411",
            "remittance_information": ["K-Market Kallio", "Kortti 4921 **** **** 0385"],
        },
        {
            "transaction_id": "pending-0002",
            "transaction_amount": _money(Decimal("120.00"), currency),
            "credit_debit_indicator": "DBIT",
            "status": "HOLD",
            "transaction_date": _day(TODAY - timedelta(days=1)),
            "creditor": {"name": "Scandic Hotels"},
            "merchant_category_code": "7011",
            "remittance_information": ["Hotel deposit"],
        },
    ]


def balances(
    history: History, pending_items: list[dict[str, Any]], today: date
) -> list[dict[str, Any]]:
    """The account's closing booked balance and, counting what is pending, its available one.

    The available balance of the everyday account is an interim one (the day is not over
    while payments are pending); the savings account's is its closing available balance.
    """
    held = sum((Decimal(p["transaction_amount"]["amount"]) for p in pending_items), Decimal(0))
    booked = history.balance
    last = max(date.fromisoformat(t["booking_date"]) for t in history.items)
    moment = datetime.combine(today, datetime.min.time(), UTC) + timedelta(hours=18)
    return [
        {
            "name": "Booked balance",
            "balance_amount": _money(booked, history.currency),
            "balance_type": "CLBD",
            "reference_date": _day(last),
            "last_committed_transaction": history.items[-1]["entry_reference"],
        },
        {
            "name": "Available balance",
            "balance_amount": _money(booked - held, history.currency),
            "balance_type": "ITAV" if history.running else "CLAV",
            "last_change_date_time": moment.isoformat(),
        },
    ]


def dataset(variant: str = "standard") -> dict[str, Any]:
    """The person's accounts, and each one's history and pending payments, by hash, in the
    shape of ``variant`` (``portal_enablebanking.variants``)."""
    from portal_enablebanking.variants import reshape

    eur, sek = _eur_history(), _sek_history()
    data: dict[str, Any] = {
        "variant": variant,
        "accounts": [eur.account, sek.account],
        "today": TODAY,
        "histories": {h.account["identification_hash"]: h for h in (eur, sek)},
        "pending": {
            eur.account["identification_hash"]: pending(eur),
            sek.account["identification_hash"]: [],
        },
    }
    reshape(data, variant)
    serve(data)
    return data


def serve(data: dict[str, Any]) -> None:
    """Restate what the API serves (``balances``, ``transactions``) from the histories."""
    from portal_enablebanking.variants import held, shape_balances

    data["balances"] = {
        key: balances(h, held(data["pending"][key], data), data["today"])
        for key, h in data["histories"].items()
    }
    data["transactions"] = {
        key: h.items + data["pending"][key] for key, h in data["histories"].items()
    }
    shape_balances(data, data.get("variant", "standard"))
