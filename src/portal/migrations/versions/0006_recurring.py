"""Recurring payments portal finds in the history: the series, their payments, their changes
of amount, and the payee names each account's payments are grouped by.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recurring_series",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("payee_key", sa.String(), nullable=False),
        sa.Column("payee", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("declared_id", sa.String(), nullable=True),
        sa.Column("cadence", sa.String(), nullable=True),
        sa.Column("amount", sa.Numeric(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("cost_per_year", sa.Numeric(), nullable=True),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.Date(), nullable=False),
        sa.Column("last_seen", sa.Date(), nullable=False),
        sa.Column("next_expected", sa.Date(), nullable=True),
        sa.Column("lapses_after", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_recurring_series_account_id", "recurring_series", ["account_id"])
    op.create_index("ix_recurring_series_declared_id", "recurring_series", ["declared_id"])
    op.create_table(
        "recurring_members",
        sa.Column("series_id", sa.String(), nullable=False),
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "transaction_id"),
    )
    op.create_index("ix_recurring_members_transaction_id", "recurring_members", ["transaction_id"])
    op.create_table(
        "recurring_changes",
        sa.Column("series_id", sa.String(), nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=False),
        sa.Column("from_amount", sa.Numeric(), nullable=False),
        sa.Column("to_amount", sa.Numeric(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "changed_on"),
    )
    op.create_table(
        "recurring_payees",
        sa.Column("account_id", sa.String(), nullable=False),
        sa.Column("currency", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("from_description", sa.Boolean(), nullable=False),
        sa.Column("payee_key", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "currency", "text"),
    )
    op.create_index("ix_recurring_payees_payee_key", "recurring_payees", ["payee_key"])


def downgrade() -> None:
    op.drop_table("recurring_payees")
    op.drop_table("recurring_changes")
    op.drop_table("recurring_members")
    op.drop_table("recurring_series")
