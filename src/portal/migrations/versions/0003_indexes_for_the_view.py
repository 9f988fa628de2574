"""Indexes the view's pages read a million rows through without reading them all.

- transactions: the balance after the last transaction before a moment (a seek per day of
  the Money page's balance chart), money in and out per currency and month (a range that
  holds the amounts), the list sorted or bounded by amount as a number, and who was paid;
- usage: each meter's days and each phone line's months (ranges of one index that also
  holds what they sum);
- purchases: orders by date, and a return's original order.

The search index (``portal.search``) is not a revision: ``ensure_search_index`` builds it
when the store opens, and again after a revision that copies a table (which drops its
triggers).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES: tuple[tuple[str, str, list[str | sa.TextClause]], ...] = (
    (
        "ix_transactions_account_booked",
        "transactions",
        ["account_id", "booked_at", "balance_after"],
    ),
    (
        "ix_transactions_currency_booked",
        "transactions",
        ["currency", "booked_at", "state", "amount"],
    ),
    ("ix_transactions_amount_number", "transactions", [sa.text("CAST(amount AS REAL)")]),
    ("ix_transactions_paid_to", "transactions", [sa.text("coalesce(counterparty, merchant_name)")]),
    (
        "ix_usage_account_kind_unit",
        "usage",
        ["account_id", "kind", "unit", "started_at", "quantity", "quality", "roaming"],
    ),
    ("ix_purchases_purchased_at", "purchases", ["purchased_at"]),
    ("ix_purchases_order_number", "purchases", ["order_number"]),
    ("ix_purchases_original_order_number", "purchases", ["original_order_number"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)  # a store may have some


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table, if_exists=True)
