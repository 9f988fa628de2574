"""Being billed for a supply: bills with their lines, and metered usage.

No ``from __future__ import annotations`` here: SQLModel needs the real annotations.
"""

from datetime import date

from pydantic import BaseModel, ConfigDict

from portal.record.base import Entity, code, exact, field, mapping, moment, money
from portal.record.types import Country, Currency, Money, Quantity, Text, Timestamp
from portal.record.vocab import Category, State, Unit


class BillLine(BaseModel):
    """One line of a bill: a charge, a credit, a tax."""

    model_config = ConfigDict(frozen=True)

    description: Text = field("Description", "The line as the bill shows it.")
    amount: Money = field(
        "Amount", "The line's amount: positive a charge to the customer, negative a credit."
    )
    category_code: str | None = field(
        "Category code", "Provider's code for the kind of charge.", default=None
    )
    category_label: Text | None = field("Category", "The kind of charge in words.", default=None)
    quantity: Quantity | None = field("Quantity", "How much was charged for.", default=None)
    unit: Unit | None = field("Unit", "What the quantity measures.", default=None)
    period_start: date | None = field("From", "First day the line covers.", default=None)
    period_end: date | None = field("To", "Last day the line covers.", default=None)


class Bill(Entity):
    """A bill or statement: period, issue and due dates, amount, line items, status."""

    category = Category.bills

    account_id: str = field("Account", "Portal id of the account billed.", index=True)
    bill_number: str = field("Bill number", "The provider's number for the bill.")
    issued_on: date = field("Issued on", "Date the bill was issued.")
    due_on: date | None = field("Due on", "Date payment is due.", default=None)
    period_start: date = field("Period from", "First day the bill covers.")
    period_end: date = field("Period to", "Last day the bill covers.")
    total: Money = money(
        "Total",
        "The amount billed, positive when the customer owes it (negative: a credit to them);"
        " the sum of the lines.",
    )
    currency: Currency = field("Currency", "ISO 4217 currency of the amounts.")
    status: str = field("Status", "Provider's status code (issued, paid, overdue).")
    status_label: Text = field("Status (label)", "The status in words.")
    state: State | None = code(
        "State",
        "What the status means in portal's common vocabulary (portal.record.vocab.State),"
        " the same words for every provider.",
        default=None,
    )
    lines: list[BillLine] = mapping("Lines", "The bill's lines.", default_factory=list)


class Usage(Entity):
    """Metered use: an energy interval reading, a call, a message, a data session."""

    category = Category.usage

    account_id: str = field(
        "Account", "Portal id of the account (supply point, contract).", index=True
    )
    kind: str = field("Kind", "energy, gas, water, call, message or data.")
    kind_label: Text = field("Kind (label)", "The kind of usage in words.")
    started_at: Timestamp = moment("Started at", "When the interval or session began.", index=True)
    duration_seconds: int | None = field(
        "Duration (seconds)", "How long the interval, call or session lasted.", default=None
    )
    quantity: Quantity = exact("Quantity", "How much was used, in the unit beside it.")
    unit: Unit = code("Unit", "What the quantity measures (kWh, m3, minute, message, MB).")
    quality: str | None = field(
        "Quality",
        "Provider's code for how the value was obtained (actual, estimated).",
        default=None,
    )
    quality_label: Text | None = field("Quality (label)", "The quality in words.", default=None)
    meter_id: str | None = field("Meter", "The meter that measured it.", default=None)
    direction: str | None = field(
        "Direction", "outgoing or incoming, for calls and messages.", default=None
    )
    counterparty: Text | None = field(
        "Other party", "The number called or messaged, if the provider gives it.", default=None
    )
    roaming: bool | None = field(
        "Roaming", "Whether it happened abroad on another network.", default=None
    )
    country: Country | None = field(
        "Country", "ISO 3166 alpha-2 country where it happened, if stated.", default=None
    )
    charge: Money | None = money("Charge", "What it cost, if charged separately.", default=None)
    currency: Currency | None = field("Currency", "ISO 4217 currency of the charge.", default=None)
