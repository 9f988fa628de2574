"""Spending categories: each transaction's category with the rule that decided it, and the
person's own rules.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transaction_categories",
        sa.Column("transaction_id", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("rule", sa.String(), nullable=False),
        sa.Column("paired_with", sa.String(), nullable=True),
        sa.Column("decided_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("transaction_id"),
    )
    op.create_index("ix_transaction_categories_category", "transaction_categories", ["category"])
    op.create_table(
        "category_rules",
        sa.Column("pattern", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("created_at", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("pattern"),
    )


def downgrade() -> None:
    op.drop_table("category_rules")
    op.drop_index("ix_transaction_categories_category", "transaction_categories")
    op.drop_table("transaction_categories")
