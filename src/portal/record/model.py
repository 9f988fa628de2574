"""The customer record: one model for every provider's data, whatever the sector.

Plugins build these entities in ``normalise``; they validate on construction, so a float
amount, a naive timestamp or a bad currency code fails right there with the field's name.
The engine then fills in the provenance (``id``, ``provider``, ``connection_id``,
``consent_id``, ``fetched_at``, ``raw_id``) and the store writes them to the tables in
``portal.record.tables``.

Every amount is signed from the customer's side (``docs/amount-signs.md`` states the rule
once, with a table for every kind of account): a balance or a movement of money is positive
when it is to their good (money in, held, a debt paid off) and negative when it is against
them (money out, owed); a bill, a price or an order states what they pay as positive and
what they get back as negative.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, model_validator

from portal.record.base import (
    Entity,
    code,
    field,
    mapping,
    moment,
    money,
    nested_titles,
    titles,
)
from portal.record.commerce import Price, Product, Purchase, PurchaseLine, RecurringPayment
from portal.record.documents import Document
from portal.record.metering import Bill, BillLine, Usage
from portal.record.privacy import Inference, Processing, Recipient
from portal.record.types import Currency, Money, Text, Timestamp
from portal.record.vocab import Category, State, Unit


class Address(BaseModel):
    """A postal address as the provider holds it."""

    model_config = ConfigDict(frozen=True)

    kind: Text | None = field("Kind", "What the address is for, e.g. Residential.", default=None)
    lines: list[Text] = field("Lines", "Address lines, first to last.", default_factory=list)
    town: Text | None = field("Town", "Town or city.", default=None)
    postcode: Text | None = field("Postcode", "Postal code.", default=None)
    country: Text | None = field("Country", "ISO 3166 alpha-2 country code.", default=None)


class Party(Entity):
    """The customer as the provider knows them."""

    category = Category.party

    full_name: Text = field("Full name", "The customer's name as the provider holds it.")
    legal_name: Text | None = field("Legal name", "Full legal name, if different.", default=None)
    party_type: str | None = field("Party type", "Provider's code for the party.", default=None)
    party_type_label: Text | None = field(
        "Party type (label)", "The party type in words.", default=None
    )
    customer_number: str | None = field(
        "Customer number", "The number the provider knows the customer by.", default=None
    )
    birth_date: date | None = field("Birth date", "Date of birth.", default=None)
    email: Text | None = field("Email", "Email address.", default=None)
    phone: Text | None = field("Phone", "Landline phone number.", default=None)
    mobile: Text | None = field("Mobile", "Mobile phone number.", default=None)
    addresses: list[Address] = mapping(
        "Addresses", "Postal addresses the provider holds.", default_factory=list
    )


class AccountIdentifier(BaseModel):
    """One way of identifying an account: sort code and number, card number, IBAN, meter point."""

    model_config = ConfigDict(frozen=True)

    scheme: str = field("Scheme", "Provider's code for the identification scheme.")
    scheme_label: Text = field("Scheme (label)", "The scheme in words.")
    identification: Text = field(
        "Identification", "The identifier itself (masked if the provider masks it)."
    )
    name: Text | None = field("Name", "Name on the account.", default=None)


class Account(Entity):
    """One relationship or contract: a bank account, a card, a supply point, a phone contract."""

    category = Category.accounts

    name: Text = field("Name", "What the customer or provider calls the account.")
    account_type: str = field("Account type", "Provider's code for the kind of account.")
    account_type_label: Text = field("Account type (label)", "The kind of account in words.")
    status: str | None = field("Status", "Provider's status code.", default=None)
    status_label: Text | None = field("Status (label)", "The status in words.", default=None)
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    currency: Currency | None = field("Currency", "ISO 4217 currency of the account.", default=None)
    opened_on: date | None = field("Opened on", "Date the account was opened.", default=None)
    identifiers: list[AccountIdentifier] = mapping(
        "Identifiers", "Account numbers and other identifiers.", default_factory=list
    )


class Balance(Entity):
    """A balance of an account at a moment (money, or loyalty points)."""

    category = Category.balances

    account_id: str = field("Account", "Portal id of the account.", index=True)
    amount: Money = money(
        "Amount",
        "The balance from the customer's side (money, or points): positive what they hold or"
        " can spend, negative what they owe (an overdraft, a card balance, a loan).",
    )
    currency: Currency | None = field(
        "Currency", "ISO 4217 currency of a money balance; empty for points.", default=None
    )
    unit: Unit | None = code(
        "Unit", "What a non-money balance counts (point); empty for money.", default=None
    )
    balance_type: str = field("Balance type", "Provider's code for the kind of balance.")
    balance_type_label: Text = field("Balance type (label)", "The kind of balance in words.")
    as_of: Timestamp = moment("As of", "The moment the balance refers to.")
    credit_limit: Money | None = money(
        "Credit limit", "Credit available on top of the balance, if any.", default=None
    )

    @model_validator(mode="after")
    def _money_or_units(self) -> Self:
        # A balance of 120 means nothing until you know whether it is pounds or points.
        if (self.currency is None) == (self.unit is None):
            raise ValueError(
                "a balance needs exactly one of currency (for money) or unit (e.g. point)"
            )
        return self


class Transaction(Entity):
    """Money moving in or out of an account."""

    category = Category.transactions

    account_id: str = field("Account", "Portal id of the account.", index=True)
    booked_at: Timestamp = moment(
        "Booked at", "When the provider booked the transaction.", index=True
    )
    value_at: Timestamp | None = moment(
        "Value date", "When the money actually moved, if known.", default=None
    )
    amount: Money = money(
        "Amount",
        "From the customer's side: positive is money in or debt paid off, negative money out"
        " or debt taken on (a card purchase is negative, a payment to the card positive).",
    )
    currency: Currency = field("Currency", "ISO 4217 currency of the amount.")
    status: str = field("Status", "Provider's status code (booked, pending).")
    status_label: Text = field("Status (label)", "The status in words.")
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    description: Text = field("Description", "The description the provider shows.")
    reference: Text | None = field("Reference", "Payment reference, if any.", default=None)
    counterparty: Text | None = field(
        "Counterparty", "Who paid or was paid, when known.", default=None
    )
    merchant_name: Text | None = field("Merchant", "Merchant name for card payments.", default=None)
    merchant_category_code: str | None = field(
        "Merchant category code", "ISO 18245 merchant category code.", default=None
    )
    merchant_category_label: Text | None = field(
        "Merchant category", "The merchant category in words.", default=None
    )
    category_code: str | None = field(
        "Transaction code",
        "Provider's or ISO 20022 code for the kind of transaction.",
        default=None,
    )
    category_label: Text | None = field(
        "Kind of transaction", "The kind of transaction in words.", default=None
    )
    balance_after: Money | None = money(
        "Balance after",
        "Running balance after this transaction, signed as a balance, if the provider gives it.",
        default=None,
    )


class Consent(Entity):
    """A permission: a marketing opt-in, a data-sharing grant, or portal's own access grant."""

    category = Category.consents

    kind: str = field(
        "Kind",
        "marketing, data_access, data_sharing, third_party, or other (a purpose portal does"
        " not know, whose label keeps the provider's words).",
    )
    kind_label: Text = field("Kind (label)", "The kind of permission in words.")
    purpose: Text = field("Purpose", "What the permission is for, in words.")
    channel: str | None = field("Channel", "Contact channel code for marketing.", default=None)
    channel_label: Text | None = field("Channel (label)", "The channel in words.", default=None)
    status: str = field("Status", "Provider's status code.")
    status_label: Text = field("Status (label)", "The status in words.")
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    permissions: list[str] = mapping(
        "Permissions", "Fine-grained permission codes granted.", default_factory=list
    )
    granted_at: Timestamp | None = moment("Granted at", "When it was granted.", default=None)
    status_updated_at: Timestamp | None = moment(
        "Status updated at", "When its status last changed.", default=None
    )
    expires_at: Timestamp | None = moment("Expires at", "When it lapses, if ever.", default=None)
    grantee: Text | None = field("Grantee", "Who the permission is granted to.", default=None)


class Payee(Entity):
    """Someone the customer has saved to pay from an account (an Open Banking beneficiary).

    Not a Party: a Party is the customer as the provider knows them, a payee is someone
    else. Not an Account: the payee's account is not the customer's relationship.
    """

    category = Category.payees

    account_id: str = field(
        "Account", "Portal id of the account the payee is saved on.", index=True
    )
    name: Text = field("Name", "Who the payee is, as saved.")
    kind: str | None = field(
        "Kind", "Provider's code for the kind of payee (e.g. Trusted, Ordinary).", default=None
    )
    kind_label: Text | None = field("Kind (label)", "The kind of payee in words.", default=None)
    reference: Text | None = field(
        "Reference", "The reference saved for payments to them.", default=None
    )
    identifiers: list[AccountIdentifier] = mapping(
        "Their account",
        "How the payee's account is identified (masked if the provider masks it).",
        default_factory=list,
    )


ENTITIES: tuple[type[Entity], ...] = (
    Party,
    Account,
    Product,
    Balance,
    Transaction,
    Purchase,
    Bill,
    Usage,
    RecurringPayment,
    Consent,
    Processing,
    Inference,
    Document,
    Payee,
)
"""Every entity of the record, parents before children."""


__all__ = [
    "ENTITIES",
    "Account",
    "AccountIdentifier",
    "Address",
    "Balance",
    "Bill",
    "BillLine",
    "Consent",
    "Document",
    "Entity",
    "Inference",
    "Party",
    "Payee",
    "Price",
    "Processing",
    "Product",
    "Purchase",
    "PurchaseLine",
    "Recipient",
    "RecurringPayment",
    "Transaction",
    "Usage",
    "field",
    "mapping",
    "moment",
    "money",
    "nested_titles",
    "titles",
]
