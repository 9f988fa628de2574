"""Bills checked against the usage they charge for and the tariff that applied.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bill_checks",
        sa.Column("bill_id", sa.String(), nullable=False),
        sa.Column("checked_at", sa.String(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("unit", sa.String(), nullable=True),
        sa.Column("usage_quantity", sa.Numeric(), nullable=True),
        sa.Column("billed_quantity", sa.Numeric(), nullable=True),
        sa.Column("expected_amount", sa.Numeric(), nullable=True),
        sa.Column("billed_amount", sa.Numeric(), nullable=True),
        sa.Column("difference", sa.Numeric(), nullable=True),
        sa.Column("currency", sa.String(), nullable=True),
        sa.Column("message", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("bill_id"),
    )
    op.create_index("ix_bill_checks_outcome", "bill_checks", ["outcome"])


def downgrade() -> None:
    op.drop_index("ix_bill_checks_outcome", table_name="bill_checks")
    op.drop_table("bill_checks")
