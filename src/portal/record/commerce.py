"""Buying things: products and their prices, purchases with their lines, recurring payments.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict

from portal.record.base import Entity, code, exact, field, mapping, moment, money
from portal.record.types import Currency, Money, Quantity, Text, Timestamp
from portal.record.vocab import Category, State, Unit


class Price(BaseModel):
    """One price of a product: a standing charge, a unit rate, a monthly fee."""

    model_config = ConfigDict(frozen=True)

    label: Text = field("Label", "What the price is for, in words (e.g. Unit rate).")
    amount: Money = field("Amount", "The price, exact.")
    currency: Currency = field("Currency", "ISO 4217 currency of the price.")
    unit: Unit | None = field(
        "Per", "The unit the price is per (kWh, GB, month), if it is per something.", default=None
    )
    period: str | None = field(
        "Period", "How often the price is charged (e.g. monthly), if it recurs.", default=None
    )


class PurchaseLine(BaseModel):
    """One line of an order, receipt or return."""

    model_config = ConfigDict(frozen=True)

    description: Text = field("Description", "What was bought, as the receipt shows it.")
    sku: str | None = field("SKU", "The retailer's stock-keeping unit code.", default=None)
    quantity: Quantity = field("Quantity", "How many (or how much) of it.")
    unit: Unit = field("Unit", "What the quantity counts (item, or a measure).")
    unit_price: Money | None = field("Unit price", "Price of one unit, if stated.", default=None)
    amount: Money = field("Amount", "The line's total; negative on a return.")
    points_earned: Quantity | None = field(
        "Points earned", "Loyalty points this line earned, if stated per line.", default=None
    )
    category_code: str | None = field(
        "Category code", "Retailer's code for the product category.", default=None
    )
    category_label: Text | None = field("Category", "The product category in words.", default=None)


class Product(Entity):
    """The product, tariff or plan behind an account, with its prices and terms."""

    category = Category.products

    account_id: str | None = field(
        "Account", "Portal id of the account this product is for, if any.", default=None
    )
    name: Text = field("Name", "The product's name.")
    product_type: str = field("Product type", "Provider's code for the kind of product.")
    product_type_label: Text = field("Product type (label)", "The kind of product in words.")
    description: Text | None = field("Description", "The product in words.", default=None)
    prices: list[Price] = mapping("Prices", "Its prices and rates.", default_factory=list)
    terms: Text | None = field("Terms", "Its terms, or where to find them.", default=None)
    valid_from: date | None = field("Valid from", "First day it applies.", default=None)
    valid_to: date | None = field("Valid to", "Last day it applies, if it ends.", default=None)


class Purchase(Entity):
    """An order, an in-store receipt or a return, with its line items."""

    category = Category.purchases

    account_id: str | None = field(
        "Account", "Portal id of the account it was made under (e.g. loyalty).", default=None
    )
    kind: str = field("Kind", "order, receipt or return.")
    kind_label: Text = field("Kind (label)", "The kind of purchase in words.")
    # Indexed: the Shopping page lists purchases newest first a page at a time, and finds
    # the order a return gives back from, and the returns of an order, by their numbers.
    order_number: str = field("Order number", "The retailer's order or receipt number.", index=True)
    purchased_at: Timestamp = moment("Purchased at", "When it was bought or returned.", index=True)
    channel: str = field("Channel", "Provider's code for where it was bought (online, store).")
    channel_label: Text = field("Channel (label)", "Where it was bought, in words.")
    store: Text | None = field("Store", "The store, for an in-store purchase.", default=None)
    status: str = field("Status", "Provider's status code.")
    status_label: Text = field("Status (label)", "The status in words.")
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    total: Money = money("Total", "What was paid; negative for a refund. The sum of the lines.")
    currency: Currency = field("Currency", "ISO 4217 currency of the amounts.")
    lines: list[PurchaseLine] = mapping("Lines", "The line items.", default_factory=list)
    points_earned: Quantity | None = exact(
        "Points earned",
        "Loyalty points earned (negative if a return took them back).",
        default=None,
    )
    points_spent: Quantity | None = exact(
        "Points spent", "Loyalty points spent on it.", default=None
    )
    original_order_number: str | None = field(
        "Original order", "For a return, the order it returns items from.", default=None, index=True
    )


class RecurringPayment(Entity):
    """A direct debit, standing order, scheduled payment or subscription."""

    category = Category.recurring_payments

    account_id: str = field("Account", "Portal id of the account it is paid from.", index=True)
    kind: str = field("Kind", "direct_debit, standing_order, scheduled_payment or subscription.")
    kind_label: Text = field("Kind (label)", "The kind of recurring payment in words.")
    payee: Text = field("Payee", "Who is paid.")
    reference: Text | None = field("Reference", "The payment reference.", default=None)
    amount: Money | None = money(
        "Amount", "What the customer pays each time (positive), if fixed.", default=None
    )
    currency: Currency | None = field("Currency", "ISO 4217 currency of the amount.", default=None)
    frequency: str | None = field("Frequency", "Provider's code for how often.", default=None)
    frequency_label: Text | None = field("Frequency (label)", "How often, in words.", default=None)
    status: str = field("Status", "Provider's status code.")
    status_label: Text = field("Status (label)", "The status in words.")
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    first_payment_on: date | None = field(
        "First payment", "Date of the first payment.", default=None
    )
    next_payment_on: date | None = field("Next payment", "Date of the next payment.", default=None)
    last_payment_on: date | None = field(
        "Last payment", "Date of the most recent (or final) payment.", default=None
    )
